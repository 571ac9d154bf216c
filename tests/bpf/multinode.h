/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What the multi-node packet tests share (test_multinode.c on one
 * segment, test_steerwrap.c in an outer header): a node table of three
 * with this node "node-a" (docs/multinode.md), the owners of a client's
 * tuple as the data plane computes them, and runs of a frame to a MAC,
 * marked as steered, or through the XDP program.
 */
#ifndef SNILB_TEST_MULTINODE_H
#define SNILB_TEST_MULTINODE_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include "harness.h"

#define BCAST_MAC "\xff\xff\xff\xff\xff\xff"
#define MCAST_MAC "\x01\0\x5e\0\0\x01"

/* Run @t sent to the MAC @dmac; the verdict. */
static inline int run_to_mac(const struct tpkt *t, const char *dmac)
{
	static uint8_t in[PKT_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, o);

	o.data_in = in;
	o.data_size_in = (__u32)tpkt_build(t, in);
	memcpy(in, dmac, 6);
	o.data_out = out;
	o.data_size_out = sizeof(out);
	assert_int_equal(bpf_prog_test_run_opts(dp_prog_fd(dp), &o), 0);
	outlen = o.data_size_out;
	return (int)o.retval;
}

/* Run @t as a peer steered it here: the IPv4 reserved flag set. */
static inline int run_marked(const struct tpkt *t)
{
	static uint8_t in[PKT_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, o);
	uint8_t *ip = in + 14;
	uint16_t c;

	o.data_in = in;
	o.data_size_in = (__u32)tpkt_build(t, in);
	ip[6] |= 0x80;
	ip[10] = ip[11] = 0;
	c = csum_fin(csum_add(0, ip, 20));
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
	o.data_out = out;
	o.data_size_out = sizeof(out);
	assert_int_equal(bpf_prog_test_run_opts(dp_prog_fd(dp), &o), 0);
	outlen = o.data_size_out;
	if (o.retval == TC_ACT_REDIRECT)
		assert_int_equal(tview_parse(out, outlen, &rv), 0);
	return (int)o.retval;
}

static inline struct tpkt syn_of(const struct conn *c)
{
	struct tpkt t = {
		.v6 = c->v6, .src = c->cli, .dst = c->vip,
		.sport = c->port, .dport = 443, .seq = c->isn,
		.flags = 0x02, .window = 64240,
		.opts = linux_syn_opts, .optlen = 20,
	};

	return t;
}

/* A SYN to a listener, not addressed to us: passed, not answered. */
/* --- steering ----------------------------------------------------------- */

#define SELF "198.18.3.1"
#define PEER_B BE1		/* neighbours of dummy0 (in-netns.sh) */
#define PEER_C BE2
#define MAC_B "\x02\0\0\0\x0b\x01"
#define MAC_C "\x02\0\0\0\x0b\x02"

static const struct dp_node three[] = {
	{ "node-a", SELF, 0 }, { "node-b", PEER_B, 0 }, { "node-c", PEER_C, 0 },
};

static inline void table_set(const struct dp_node *cur, size_t ncur,
		      const struct dp_node *prev, size_t nprev)
{
	struct dp_nodes t = { cur, prev, ncur, nprev, "node-a", 0 };
	char err[256];

	assert_int_equal(dp_nodes_set(dp, &t, err, sizeof(err)), 0);
}

static inline void table_off(void)
{
	struct snilb_cluster cl = { 0 };
	uint32_t zero = 0;

	assert_int_equal(bpf_map_update_elem(dp_map_fd(dp, SNILB_MAP_CLUSTER),
					     &zero, &cl, BPF_ANY), 0);
}

/* bpf/bind.h's flow_hash(), as the data plane computes it. */
static inline uint32_t hash_of(const struct conn *c)
{
	struct snilb_flow_key k;
	uint32_t w[sizeof(k) / 4], h = 2166136261u;
	size_t i;

	flow_key_of(c, &k);
	memcpy(w, &k, sizeof(w));
	for (i = 0; i < sizeof(k) / 4; i++)
		h = (h ^ w[i]) * 16777619u;
	return h ^ (h >> 16);
}

static inline struct snilb_node_slot slot_of(const struct conn *c)
{
	struct snilb_node_slot s;
	uint32_t i = hash_of(c) % SNILB_NODE_RING;

	assert_int_equal(bpf_map_lookup_elem(dp_map_fd(dp, SNILB_MAP_NODE_RING),
					     &i, &s), 0);
	return s;
}

static inline uint32_t ip4(const char *a)
{
	struct in_addr v;

	assert_int_equal(inet_pton(AF_INET, a, &v), 1);
	return v.s_addr;
}

/* A client port from @from whose owners are @cur and @prev (NULL: any). */
static inline void conn_owned(struct conn *c, uint16_t from, const char *cur,
		       const char *prev)
{
	struct snilb_node_slot s;

	for (c->port = from; c->port < from + 2000; c->port++) {
		s = slot_of(c);
		if (s.cur == ip4(cur) && (!prev || s.prev == ip4(prev)))
			return;
	}
	fail_msg("no port owned by %s (previously %s)", cur,
		 prev ? prev : "any");
}

/* The frame left for the peer at @mac: same packet, marked, TTL - 1. */

/* @t through the XDP program (bpf/xdp.h), marked as steered when
 * @marked; its verdict. */
static inline int xdp_run(const struct tpkt *t, int marked)
{
	static uint8_t in[PKT_MAX], xout[PKT_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, o);
	uint8_t *ip = in + 14;
	uint16_t c;

	o.data_in = in;
	o.data_size_in = (__u32)tpkt_build(t, in);
	if (marked) {
		ip[6] |= 0x80;
		ip[10] = ip[11] = 0;
		c = csum_fin(csum_add(0, ip, 20));
		ip[10] = (uint8_t)(c >> 8);
		ip[11] = (uint8_t)c;
	}
	o.data_out = xout;
	o.data_size_out = sizeof(xout);
	assert_int_equal(bpf_prog_test_run_opts(dp_xdp_prog_fd(dp), &o), 0);
	return (int)o.retval;
}

#endif /* SNILB_TEST_MULTINODE_H */

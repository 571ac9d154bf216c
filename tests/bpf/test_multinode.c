// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Several gateway nodes on one segment (docs/multinode.md), packet in ->
 * packet out with BPF_PROG_TEST_RUN: a frame addressed to another host's
 * MAC (PACKET_OTHERHOST, as a flooding segment delivers it), or to a
 * broadcast or multicast MAC, is passed on untouched: no SYN-ACK, no RST,
 * no flow (issue 17: every node answered the same SYN, and survivors
 * reset a dead node's flows).
 *
 * Steering (bpf/steer.h): with a node table of three, a packet with no
 * flow here goes to its owner's MAC, marked and one TTL lower; a SYN we
 * own is answered; a steered SYN is answered wherever it lands; after a
 * change, a packet that is no first ACK of ours goes to the previous
 * owner once; a local flow's packets never leave.
 *
 * In an outer header (include/snilb_nodes.h, SNILB_STEER_*): an IPv6
 * packet always goes to its owner in an IPv4 header (6in4), an IPv4 one
 * where the owner is behind a router or with --steer ipip (IPIP); the
 * owner strips the header of one from a peer to it and serves the inner
 * packet as a steered one; one from a node not in the table, or not to
 * us, is passed on untouched (the kernel's own tunnels).
 */
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
static int run_to_mac(const struct tpkt *t, const char *dmac)
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
static int run_marked(const struct tpkt *t)
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

static struct tpkt syn_of(const struct conn *c)
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
static void test_syn_other_host(void **state)
{
	static const char *const macs[] = { TEST_OTHER_MAC, BCAST_MAC,
					    MCAST_MAC };
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 41001,
			  .isn = 1000 };
	struct conn c6 = { .v6 = 1, .cli = CLI6, .vip = VIP6, .port = 41002,
			   .isn = 2000 };
	uint64_t syns = counter(SNILB_ST_SYN);
	struct tpkt t;
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++) {
		t = syn_of(&c);
		assert_int_equal(run_to_mac(&t, macs[i]), TC_ACT_OK);
		t = syn_of(&c6);
		assert_int_equal(run_to_mac(&t, macs[i]), TC_ACT_OK);
	}
	assert_int_equal(counter(SNILB_ST_SYN), syns);
	/* The same SYN to our MAC is answered. */
	t = syn_of(&c);
	assert_int_equal(run_to_mac(&t, TEST_HOST_MAC), TC_ACT_REDIRECT);
	assert_int_equal(counter(SNILB_ST_SYN), syns + 1);
}

/* Another node's flow seen flooded: no RST for a cookie we never gave,
 * no flow made from a cookie we did give. */
static void test_ack_other_host(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 41003,
			  .isn = 3000, .cookie = 12345 };
	uint64_t rsts = counter(SNILB_ST_RST_SENT);
	uint64_t bad = counter(SNILB_ST_COOKIE_BAD);
	struct tpkt t;

	(void)state;
	t = seg(&c, 0x10, 0, NULL, 0);
	assert_int_equal(run_to_mac(&t, TEST_OTHER_MAC), TC_ACT_OK);
	assert_int_equal(counter(SNILB_ST_RST_SENT), rsts);
	assert_int_equal(counter(SNILB_ST_COOKIE_BAD), bad);
	handshake(&c);
	t = seg(&c, 0x10, 0, NULL, 0);
	assert_int_equal(run_to_mac(&t, TEST_OTHER_MAC), TC_ACT_OK);
	assert_null(flow_get(&c));
	/* To us, the same ACK makes the flow. */
	assert_int_equal(run_to_mac(&t, TEST_HOST_MAC), TC_ACT_SHOT);
	assert_non_null(flow_get(&c));
}

/* TCP to a VIP port with no listener, not addressed to us: no RST. */
static void test_vip_other_host(void **state)
{
	struct tpkt t = {
		.src = CLI4, .dst = VIP4, .sport = 41004, .dport = 8080,
		.seq = 1, .flags = 0x02, .window = 1000,
	};
	uint64_t rst = counter(SNILB_ST_VIP_RST);

	(void)state;
	assert_int_equal(run_to_mac(&t, TEST_OTHER_MAC), TC_ACT_OK);
	assert_int_equal(counter(SNILB_ST_VIP_RST), rst);
	assert_int_equal(run_to_mac(&t, TEST_HOST_MAC), TC_ACT_REDIRECT);
	assert_int_equal(counter(SNILB_ST_VIP_RST), rst + 1);
}

/* --- steering ----------------------------------------------------------- */

#define SELF "198.18.3.1"
#define PEER_B BE1		/* neighbours of dummy0 (in-netns.sh) */
#define PEER_C BE2
#define MAC_B "\x02\0\0\0\x0b\x01"
#define MAC_C "\x02\0\0\0\x0b\x02"

static const struct dp_node three[] = {
	{ "node-a", SELF, 0 }, { "node-b", PEER_B, 0 }, { "node-c", PEER_C, 0 },
};

static void table_set(const struct dp_node *cur, size_t ncur,
		      const struct dp_node *prev, size_t nprev)
{
	struct dp_nodes t = { cur, prev, ncur, nprev, "node-a", 0 };
	char err[256];

	assert_int_equal(dp_nodes_set(dp, &t, err, sizeof(err)), 0);
}

static void table_off(void)
{
	struct snilb_cluster cl = { 0 };
	uint32_t zero = 0;

	assert_int_equal(bpf_map_update_elem(dp_map_fd(dp, SNILB_MAP_CLUSTER),
					     &zero, &cl, BPF_ANY), 0);
}

/* bpf/bind.h's flow_hash(), as the data plane computes it. */
static uint32_t hash_of(const struct conn *c)
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

static struct snilb_node_slot slot_of(const struct conn *c)
{
	struct snilb_node_slot s;
	uint32_t i = hash_of(c) % SNILB_NODE_RING;

	assert_int_equal(bpf_map_lookup_elem(dp_map_fd(dp, SNILB_MAP_NODE_RING),
					     &i, &s), 0);
	return s;
}

static uint32_t ip4(const char *a)
{
	struct in_addr v;

	assert_int_equal(inet_pton(AF_INET, a, &v), 1);
	return v.s_addr;
}

/* A client port from @from whose owners are @cur and @prev (NULL: any). */
static void conn_owned(struct conn *c, uint16_t from, const char *cur,
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
static void expect_steered(const char *mac, const struct conn *c)
{
	const uint8_t *ip = out + 14;

	assert_memory_equal(rv.dmac, mac, 6);
	assert_string_equal(rv.src, c->cli);
	assert_string_equal(rv.dst, c->vip);
	assert_int_equal(rv.sport, c->port);
	assert_int_equal(ip[6] & 0x80, 0x80);	/* the reserved flag */
	assert_int_equal(ip[6] & 0x40, 0x40);	/* DF kept */
	assert_int_equal(ip[8], 63);
}

static void test_steer_syn(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .isn = 5000 };
	uint64_t out0 = counter(SNILB_ST_STEER_OUT);
	uint64_t syns = counter(SNILB_ST_SYN);
	struct tpkt t;

	(void)state;
	table_set(three, 3, NULL, 0);
	conn_owned(&c, 42000, PEER_B, NULL);
	t = syn_of(&c);
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	expect_steered(MAC_B, &c);
	assert_int_equal(counter(SNILB_ST_STEER_OUT), out0 + 1);
	assert_int_equal(counter(SNILB_ST_SYN), syns);
	/* The same SYN steered here by a peer: answered, to the client. */
	assert_int_equal(run_marked(&t), TC_ACT_REDIRECT);
	assert_int_equal(rv.flags, 0x12);
	assert_string_equal(rv.dst, c.cli);
	assert_int_equal(counter(SNILB_ST_STEER_IN), 1);
	/* A SYN we own: answered. */
	conn_owned(&c, 43000, SELF, NULL);
	handshake(&c);
	assert_int_equal(counter(SNILB_ST_SYN), syns + 2);
	table_off();
}

/* @t through the XDP program (bpf/xdp.h), marked as steered when
 * @marked; its verdict. */
static int xdp_run(const struct tpkt *t, int marked)
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

/* SYNs answered in XDP (--xdp) answer only this node's: a SYN another
 * node owns, or one a peer steered here, is passed to TC, which sends
 * it on or answers it towards the client (steer_reply()). */
static void test_xdp_owner_only(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .isn = 6000 };
	uint64_t sx = counter(SNILB_ST_SYN_XDP);
	struct tpkt t;

	(void)state;
	table_set(three, 3, NULL, 0);
	conn_owned(&c, 44000, PEER_B, NULL);
	t = syn_of(&c);
	assert_int_equal(xdp_run(&t, 0), XDP_PASS);
	assert_int_equal(xdp_run(&t, 1), XDP_PASS);
	conn_owned(&c, 45000, SELF, NULL);
	t = syn_of(&c);
	assert_int_equal(xdp_run(&t, 1), XDP_PASS);
	assert_int_equal(counter(SNILB_ST_SYN_XDP), sx);
	assert_int_equal(xdp_run(&t, 0), XDP_TX);
	assert_int_equal(counter(SNILB_ST_SYN_XDP), sx + 1);
	table_off();
	conn_owned(&c, 44000, PEER_B, NULL);	/* no table: ours */
	t = syn_of(&c);
	assert_int_equal(xdp_run(&t, 0), XDP_TX);
}

/* A first ACK we own makes the flow here; its packets stay here even
 * when the table says another node owns them now. */
static void test_local_flow_stays(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .isn = 6000 };
	uint64_t out0;
	struct tpkt t;

	(void)state;
	table_set(three, 3, NULL, 0);
	conn_owned(&c, 44000, SELF, NULL);
	connect_to(&c);
	table_set(three + 1, 2, three, 3);	/* a left */
	out0 = counter(SNILB_ST_STEER_OUT);
	t = seg(&c, 0x10, 0, NULL, 0);
	assert_int_not_equal(run(&t), TC_ACT_REDIRECT);
	assert_int_equal(counter(SNILB_ST_STEER_OUT), out0);
	table_off();
}

/* After a change: no flow, no cookie of ours: to the previous owner,
 * once; a first ACK of ours stays. */
static void test_second_chance(void **state)
{
	static const struct dp_node two[] = {
		{ "node-a", SELF, 0 }, { "node-c", PEER_C, 0 },
	};
	struct conn c = { .cli = CLI4, .vip = VIP4, .isn = 7000,
			  .cookie = 4242 };
	uint64_t second = counter(SNILB_ST_STEER_SECOND);
	struct tpkt t;

	(void)state;
	table_set(two, 2, three, 3);		/* b left */
	conn_owned(&c, 45000, SELF, PEER_B);
	t = seg(&c, 0x10, 0, NULL, 0);
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	expect_steered(MAC_B, &c);
	assert_int_equal(counter(SNILB_ST_STEER_SECOND), second + 1);
	/* Steered here already (by the owner): ours, and no RST for it
	 * either side of the rule: the owner it came from is us. */
	c.port++;
	conn_owned(&c, c.port, SELF, PEER_B);
	handshake(&c);
	t = seg(&c, 0x10, 0, NULL, 0);
	assert_int_equal(run(&t), TC_ACT_SHOT);	/* our cookie: the flow */
	assert_non_null(flow_get(&c));
	assert_int_equal(counter(SNILB_ST_STEER_SECOND), second + 1);
	table_off();
}

/* Steered here, no flow, not our cookie's: we owned it before (a second
 * chance to us): an orphan, answered here; our table names another owner
 * and did not name us (the sender's table is newer or older): on to it. */
static void test_steered_no_flow(void **state)
{
	static const struct dp_node two[] = {
		{ "node-b", PEER_B, 0 }, { "node-c", PEER_C, 0 },
	};
	struct conn c = { .cli = CLI4, .vip = VIP4, .isn = 8000,
			  .cookie = 4343 };
	uint64_t orphans = counter(SNILB_ST_STEER_ORPHAN);
	uint64_t out0;
	struct tpkt t;

	(void)state;
	table_set(two, 2, three, 3);		/* a left */
	conn_owned(&c, 46000, PEER_B, SELF);
	t = seg(&c, 0x10, 0, NULL, 0);
	assert_int_equal(run_marked(&t), TC_ACT_REDIRECT);	/* the RST */
	assert_int_equal(rv.flags & 0x04, 0x04);
	assert_int_equal(counter(SNILB_ST_STEER_ORPHAN), orphans + 1);
	table_set(three, 3, NULL, 0);
	conn_owned(&c, 47000, PEER_C, NULL);
	out0 = counter(SNILB_ST_STEER_OUT);
	t = seg(&c, 0x10, 0, NULL, 0);
	assert_int_equal(run_marked(&t), TC_ACT_REDIRECT);
	expect_steered(MAC_C, &c);
	assert_int_equal(counter(SNILB_ST_STEER_OUT), out0 + 1);
	table_off();
}

/* An agent that starts (no previous table of its own) takes the pinned
 * table for the previous generation; the same table keeps its previous. */
static void test_restart_adopts(void **state)
{
	static const struct dp_node two[] = {
		{ "node-a", SELF, 0 }, { "node-c", PEER_C, 0 },
	};
	struct dp_nodes t3 = { three, NULL, 3, 0, "node-a", 0 };
	struct dp_nodes t2 = { two, NULL, 2, 0, "node-a", 1 };
	struct snilb_node_slot before[64], s;
	struct snilb_cluster c3, c2;
	char err[256];
	int fd = dp_map_fd(dp, SNILB_MAP_NODE_RING);
	uint32_t i;

	(void)state;
	assert_int_equal(dp_nodes_set(dp, &t3, err, sizeof(err)), 0);
	assert_int_equal(dp_nodes_get(dp, &c3), 0);
	for (i = 0; i < 64; i++)
		assert_int_equal(bpf_map_lookup_elem(fd, &i, &before[i]), 0);
	assert_int_equal(dp_nodes_set(dp, &t2, err, sizeof(err)), 0);
	assert_int_equal(dp_nodes_get(dp, &c2), 0);
	assert_int_equal(c2.prev_generation, c3.generation);
	assert_int_not_equal(c2.generation, c3.generation);
	for (i = 0; i < 64; i++) {
		assert_int_equal(bpf_map_lookup_elem(fd, &i, &s), 0);
		assert_int_equal(s.prev, before[i].cur);
		assert_true(s.cur == ip4(SELF) || s.cur == ip4(PEER_C));
	}
	/* Restarted again on the same table: its previous stays. */
	assert_int_equal(dp_nodes_set(dp, &t2, err, sizeof(err)), 0);
	assert_int_equal(dp_nodes_get(dp, &c2), 0);
	assert_int_equal(c2.prev_generation, c3.generation);
	for (i = 0; i < 64; i++) {
		assert_int_equal(bpf_map_lookup_elem(fd, &i, &s), 0);
		assert_int_equal(s.prev, before[i].cur);
	}
	table_off();
}

/* --- in an outer header --------------------------------------------------- */

#define PEER_D "198.18.4.2"	/* behind the router PEER_C (in-netns.sh) */

/* The frame @t of a conn as a peer @from sends it to @to in an IPv4
 * header (IPIP, 6in4); its length. */
static size_t encap_build(const struct tpkt *t, const char *from,
			  const char *to, uint8_t *buf)
{
	static uint8_t in[PKT_MAX];
	size_t n = tpkt_build(t, in), tot = n - 14 + 20;
	uint8_t *ip = buf + 14;
	uint16_t c;

	memcpy(buf, in, 12);
	buf[12] = 0x08;
	buf[13] = 0x00;
	memset(ip, 0, 20);
	ip[0] = 0x45;
	ip[2] = (uint8_t)(tot >> 8);
	ip[3] = (uint8_t)tot;
	ip[6] = 0x40;
	ip[8] = 64;
	ip[9] = t->v6 ? 41 : 4;
	inet_pton(AF_INET, from, ip + 12);
	inet_pton(AF_INET, to, ip + 16);
	c = csum_fin(csum_add(0, ip, 20));
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
	memcpy(buf + 34, in + 14, n - 14);
	return n + 20;
}

/* Run @t as the peer @from sent it to @to in an outer header; its
 * verdict, and a TCP answer parsed into rv. */
static int run_encap(const struct tpkt *t, const char *from, const char *to)
{
	static uint8_t in[PKT_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, o);

	o.data_in = in;
	o.data_size_in = (__u32)encap_build(t, from, to, in);
	o.data_out = out;
	o.data_size_out = sizeof(out);
	assert_int_equal(bpf_prog_test_run_opts(dp_prog_fd(dp), &o), 0);
	outlen = o.data_size_out;
	if (o.retval == TC_ACT_REDIRECT &&
	    !(out[12] == 0x08 && (out[23] == 4 || out[23] == 41))) {
		assert_int_equal(tview_parse(out, outlen, &rv), 0);
		assert_true(rv.tcp_csum_ok);
	}
	return (int)o.retval;
}

/* The frame left for @to at @mac in an IPv4 header from us: the inner
 * packet, one hop lower (no reserved flag: the header is the mark), is
 * parsed into rv. */
static void expect_encap(const char *mac, const char *to,
			 const struct conn *c)
{
	static uint8_t inner[PKT_MAX];
	const uint8_t *ip = out + 14, *in = out + 34;

	assert_memory_equal(out, mac, 6);
	assert_int_equal(out[12], 0x08);
	assert_int_equal(out[13], 0x00);
	assert_int_equal(ip[0], 0x45);
	assert_int_equal(ip[9], c->v6 ? 41 : 4);
	assert_int_equal(ip[6] & 0x40, 0x40);		/* DF */
	assert_int_equal((size_t)(ip[2] << 8 | ip[3]), outlen - 14);
	assert_ip_addrs(ip, 0, SELF, to);
	memcpy(inner, out, 12);
	inner[12] = c->v6 ? 0x86 : 0x08;
	inner[13] = c->v6 ? 0xdd : 0x00;
	memcpy(inner + 14, in, outlen - 34);
	assert_int_equal(tview_parse(inner, outlen - 20, &rv), 0);
	assert_true(rv.tcp_csum_ok);
	assert_string_equal(rv.src, c->cli);
	assert_string_equal(rv.dst, c->vip);
	assert_int_equal(rv.sport, c->port);
	if (c->v6) {
		assert_int_equal(in[7], 63);		/* hop limit */
	} else {
		assert_true(rv.ip_csum_ok);
		assert_int_equal(in[6] & 0x80, 0);	/* no reserved flag */
		assert_int_equal(in[8], 63);
	}
}

static void steer_mode(uint8_t mode)
{
	struct snilb_config cfg;
	uint32_t zero = 0;
	int fd = dp_map_fd(dp, SNILB_MAP_CONFIG);

	assert_int_equal(bpf_map_lookup_elem(fd, &zero, &cfg), 0);
	cfg.steer = mode;
	assert_int_equal(bpf_map_update_elem(fd, &zero, &cfg, BPF_ANY), 0);
}

/* An IPv6 SYN another node owns: to it in a 6in4 header; the same SYN
 * in such a header from that peer to us: answered here, to the client;
 * a SYN we own: answered. XDP answers only ours. */
static void test_steer_v6(void **state)
{
	struct conn c = { .v6 = 1, .cli = CLI6, .vip = VIP6, .isn = 9000 };
	uint64_t out0 = counter(SNILB_ST_STEER_OUT);
	uint64_t enc = counter(SNILB_ST_STEER_ENCAP);
	uint64_t dec = counter(SNILB_ST_STEER_DECAP);
	uint64_t in0 = counter(SNILB_ST_STEER_IN);
	uint64_t syns = counter(SNILB_ST_SYN);
	struct tpkt t;

	(void)state;
	table_set(three, 3, NULL, 0);
	conn_owned(&c, 48000, PEER_B, NULL);
	t = syn_of(&c);
	assert_int_equal(run_to_mac(&t, TEST_HOST_MAC), TC_ACT_REDIRECT);
	expect_encap(MAC_B, PEER_B, &c);
	assert_int_equal(counter(SNILB_ST_STEER_OUT), out0 + 1);
	assert_int_equal(counter(SNILB_ST_STEER_ENCAP), enc + 1);
	assert_int_equal(counter(SNILB_ST_SYN), syns);
	assert_int_equal(xdp_run(&t, 0), XDP_PASS);
	/* Steered here by b: answered, to the client. */
	assert_int_equal(run_encap(&t, PEER_B, SELF), TC_ACT_REDIRECT);
	assert_int_equal(rv.flags, 0x12);
	assert_true(rv.v6);
	assert_string_equal(rv.dst, c.cli);
	assert_int_equal(counter(SNILB_ST_STEER_DECAP), dec + 1);
	assert_int_equal(counter(SNILB_ST_STEER_IN), in0 + 1);
	assert_int_equal(counter(SNILB_ST_SYN), syns + 1);
	/* A SYN we own: answered here (XDP too). */
	conn_owned(&c, 49000, SELF, NULL);
	t = syn_of(&c);
	assert_int_equal(xdp_run(&t, 0), XDP_TX);
	handshake(&c);
	table_off();
}

/* A connection made from a first ACK a peer sent us in an outer header
 * (IPv4 in IPIP, IPv6 in 6in4): the flow is ours, and its next packets,
 * in the header or not, take it. */
static void test_decap_makes_flow(void **state)
{
	struct conn c4 = { .cli = CLI4, .vip = VIP4, .isn = 9100 };
	struct conn c6 = { .v6 = 1, .cli = CLI6, .vip = VIP6, .isn = 9200 };
	struct conn *cs[] = { &c4, &c6 };
	uint64_t dec = counter(SNILB_ST_STEER_DECAP);
	struct bside b = { 0 };
	struct hb h;
	struct tpkt t;
	int i;

	(void)state;
	table_set(three, 3, NULL, 0);
	for (i = 0; i < 2; i++) {
		conn_owned(cs[i], 50000, SELF, NULL);
		handshake(cs[i]);
		t = seg(cs[i], 0x10, 0, NULL, 0);
		assert_int_equal(run_encap(&t, PEER_C, SELF), TC_ACT_SHOT);
		assert_non_null(flow_get(cs[i]));
		/* Its hello, in the header too: routed, a SYN to the
		 * backend. */
		hb_simple(&h, cs[i]->v6 ? "v6.example.com" : "www.example.com");
		t = seg(cs[i], 0x18, 0, h.b, h.n);
		assert_int_equal(run_encap(&t, PEER_C, SELF), TC_ACT_REDIRECT);
		b.addr = cs[i]->v6 ? BE6 : BE1;
		b.snat = cs[i]->v6 ? SNAT6 : SNAT4;
		expect_syn_to(cs[i], &b);
	}
	assert_int_equal(counter(SNILB_ST_STEER_DECAP), dec + 4);
	table_off();
}

/* In an outer header but not a peer's to us: from a node not in the
 * table, or to another address, or with no table, or not TCP to a
 * listener inside: passed on untouched. */
static void test_decap_not_peer(void **state)
{
	struct conn c = { .v6 = 1, .cli = CLI6, .vip = VIP6, .isn = 9300 };
	static const char *const bad[][2] = {
		{ "198.18.2.99", SELF }, { PEER_B, PEER_C }, { SELF, SELF },
	};
	uint64_t dec = counter(SNILB_ST_STEER_DECAP);
	uint64_t syns = counter(SNILB_ST_SYN);
	struct tpkt t;
	size_t i;

	(void)state;
	table_set(three, 3, NULL, 0);
	conn_owned(&c, 51000, SELF, NULL);
	t = syn_of(&c);
	for (i = 0; i < 3; i++) {
		assert_int_equal(run_encap(&t, bad[i][0], bad[i][1]),
				 TC_ACT_OK);
		assert_int_equal(out[12], 0x08);
		assert_int_equal(out[14 + 9], 41);
	}
	c.v6 = 0;
	c.cli = CLI4;
	c.vip = VIP4;
	t = syn_of(&c);
	table_off();
	assert_int_equal(run_encap(&t, PEER_B, SELF), TC_ACT_OK);
	assert_int_equal(out[14 + 9], 4);
	/* From a peer to us, but not to a listener inside (IPIP the kernel
	 * carries between the nodes, a pod network's): not ours. */
	table_set(three, 3, NULL, 0);
	t.dst = "198.18.7.7";
	t.dport = 80;
	assert_int_equal(run_encap(&t, PEER_B, SELF), TC_ACT_OK);
	assert_int_equal(out[14 + 9], 4);
	table_off();
	assert_int_equal(counter(SNILB_ST_STEER_DECAP), dec);
	assert_int_equal(counter(SNILB_ST_SYN), syns);
}

/* IPv4 to an owner behind a router (--steer auto): in an IPIP header, to
 * the router's MAC; to a neighbour, as before; --steer ipip: to a
 * neighbour in the header too; --steer l2: to the router's MAC, marked. */
static void test_steer_l3(void **state)
{
	static const struct dp_node far[] = {
		{ "node-a", SELF, 0 }, { "node-d", PEER_D, 0 },
	};
	struct conn c = { .cli = CLI4, .vip = VIP4, .isn = 9400 };
	uint64_t enc = counter(SNILB_ST_STEER_ENCAP);
	struct tpkt t;

	(void)state;
	table_set(far, 2, NULL, 0);
	conn_owned(&c, 52000, PEER_D, NULL);
	t = syn_of(&c);
	assert_int_equal(run_to_mac(&t, TEST_HOST_MAC), TC_ACT_REDIRECT);
	expect_encap(MAC_C, PEER_D, &c);
	assert_int_equal(counter(SNILB_ST_STEER_ENCAP), enc + 1);
	steer_mode(SNILB_STEER_L2);
	assert_int_equal(run_marked(&t), TC_ACT_REDIRECT);
	assert_int_equal(rv.flags, 0x12);	/* steered here: ours */
	assert_int_equal(run_to_mac(&t, TEST_HOST_MAC), TC_ACT_REDIRECT);
	assert_int_equal(out[12], 0x08);
	assert_int_equal(out[14 + 9], 6);	/* TCP: no outer header */
	assert_int_equal(out[14 + 6] & 0x80, 0x80);
	table_set(three, 3, NULL, 0);
	steer_mode(SNILB_STEER_IPIP);
	conn_owned(&c, 53000, PEER_B, NULL);
	t = syn_of(&c);
	assert_int_equal(run_to_mac(&t, TEST_HOST_MAC), TC_ACT_REDIRECT);
	expect_encap(MAC_B, PEER_B, &c);
	steer_mode(SNILB_STEER_AUTO);
	assert_int_equal(run_to_mac(&t, TEST_HOST_MAC), TC_ACT_REDIRECT);
	assert_int_equal(out[14 + 9], 6);	/* a neighbour: L2 */
	assert_int_equal(counter(SNILB_ST_STEER_ENCAP), enc + 2);
	table_off();
}

/* IPv6 after a change: no flow, no cookie of ours: to the previous
 * owner once, in a 6in4 header; a first ACK of ours stays. */
static void test_second_chance_v6(void **state)
{
	static const struct dp_node two[] = {
		{ "node-a", SELF, 0 }, { "node-c", PEER_C, 0 },
	};
	struct conn c = { .v6 = 1, .cli = CLI6, .vip = VIP6, .isn = 9500,
			  .cookie = 4444 };
	uint64_t second = counter(SNILB_ST_STEER_SECOND);
	struct tpkt t;

	(void)state;
	table_set(two, 2, three, 3);		/* b left */
	conn_owned(&c, 54000, SELF, PEER_B);
	t = seg(&c, 0x10, 0, NULL, 0);
	assert_int_equal(run_to_mac(&t, TEST_HOST_MAC), TC_ACT_REDIRECT);
	expect_encap(MAC_B, PEER_B, &c);
	assert_int_equal(counter(SNILB_ST_STEER_SECOND), second + 1);
	c.port++;
	conn_owned(&c, c.port, SELF, PEER_B);
	handshake(&c);
	t = seg(&c, 0x10, 0, NULL, 0);
	assert_int_equal(run_to_mac(&t, TEST_HOST_MAC), TC_ACT_SHOT);
	assert_non_null(flow_get(&c));
	assert_int_equal(counter(SNILB_ST_STEER_SECOND), second + 1);
	table_off();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_syn_other_host),
		cmocka_unit_test(test_ack_other_host),
		cmocka_unit_test(test_vip_other_host),
		cmocka_unit_test(test_steer_syn),
		cmocka_unit_test(test_xdp_owner_only),
		cmocka_unit_test(test_local_flow_stays),
		cmocka_unit_test(test_second_chance),
		cmocka_unit_test(test_steered_no_flow),
		cmocka_unit_test(test_restart_adopts),
		cmocka_unit_test(test_steer_v6),
		cmocka_unit_test(test_decap_makes_flow),
		cmocka_unit_test(test_decap_not_peer),
		cmocka_unit_test(test_steer_l3),
		cmocka_unit_test(test_second_chance_v6),
	};

	return cmocka_run_group_tests_name("multinode", tests, harness_setup,
					   harness_teardown);
}

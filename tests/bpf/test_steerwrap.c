// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Several gateway nodes, steered in an outer header (docs/multinode.md,
 * include/snilb_nodes.h SNILB_STEER_*), packet in -> packet out with
 * BPF_PROG_TEST_RUN: an IPv6 packet always goes to its owner in an IPv4
 * header (6in4), an IPv4 one where the owner is behind a router or with
 * --steer ipip (IPIP); the owner strips the header of one from a peer to
 * it with TCP to a listener inside and serves the inner packet as a
 * steered one; one from a node not in the table, not to us, or not to a
 * listener inside is passed on untouched (the kernel's own tunnels).
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
#include "multinode.h"

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
		cmocka_unit_test(test_steer_v6),
		cmocka_unit_test(test_decap_makes_flow),
		cmocka_unit_test(test_decap_not_peer),
		cmocka_unit_test(test_steer_l3),
		cmocka_unit_test(test_second_chance_v6),
	};

	return cmocka_run_group_tests_name("steerwrap", tests, harness_setup,
					   harness_teardown);
}

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
	};

	return cmocka_run_group_tests_name("multinode", tests, harness_setup,
					   harness_teardown);
}

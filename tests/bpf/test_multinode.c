// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Several gateway nodes on one segment (docs/multinode.md), packet in ->
 * packet out with BPF_PROG_TEST_RUN: a frame addressed to another host's
 * MAC (PACKET_OTHERHOST, as a flooding segment delivers it), or to a
 * broadcast or multicast MAC, is passed on untouched: no SYN-ACK, no RST,
 * no flow (issue 17: every node answered the same SYN, and survivors
 * reset a dead node's flows).
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_syn_other_host),
		cmocka_unit_test(test_ack_other_host),
		cmocka_unit_test(test_vip_other_host),
	};

	return cmocka_run_group_tests_name("multinode", tests, harness_setup,
					   harness_teardown);
}

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * TCP correctness of the data plane, packet in -> packet out with
 * BPF_PROG_TEST_RUN (tests/bpf/harness.c): the rules the kernel's own TCP
 * and conntrack follow, as docs/dataplane.md "TCP correctness" lists them.
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

/*
 * The first ACK was lost, and so was the first hello segment: the second
 * one is the first packet we see. It fails the cookie check (its sequence
 * number is not the ISN + 1), but it is no attack: dropped, not reset, so
 * the client's retransmission of the first can still open the flow. A
 * pure ACK with a bad cookie is reset, as before (xdp_synproxy does both).
 */
static void test_first_ack_lost_with_data(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 41000, .isn = 700 };
	uint64_t bad = counter(SNILB_ST_COOKIE_BAD);
	uint64_t rst = counter(SNILB_ST_RST_SENT);
	struct tpkt t;
	struct hb h;

	(void)state;
	handshake(&c);
	hb_simple(&h, "www.example.com");
	t = seg(&c, 0x18, 40, h.b + 40, h.n - 40);
	assert_int_equal(run(&t), TC_ACT_SHOT);
	assert_int_equal(counter(SNILB_ST_COOKIE_BAD), bad + 1);
	assert_int_equal(counter(SNILB_ST_RST_SENT), rst);
	assert_null(flow_get(&c));
	/* The first segment, resent: the cookie holds, the flow opens. */
	t = seg(&c, 0x18, 0, h.b, 40);
	assert_int_equal(run(&t), TC_ACT_SHOT);
	assert_non_null(flow_get(&c));
	/* A pure ACK with a cookie that fails: reset. */
	c.port++;
	handshake(&c);
	c.cookie ^= 0x5555;
	t = seg(&c, 0x10, 0, NULL, 0);
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_int_equal(rv.flags & 0x04, 0x04);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_ack_lost_with_data),
	};

	return cmocka_run_group_tests_name("tcp", tests, harness_setup,
					   harness_teardown);
}

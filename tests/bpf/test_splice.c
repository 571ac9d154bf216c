// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The spliced connection, with BPF_PROG_TEST_RUN (tests/bpf/harness.c):
 * the backend's SYN-ACK answered with the buffered hello, then every
 * packet translated both ways (addresses, ports, sequence numbers, acks,
 * SACK blocks, timestamps, window scale) and counted per route and
 * listener; FINs followed to the last ACK, a backend's RST passed on.
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

static void test_splice(void **state)
{
	struct snilb_route_stats r0 = rstat(10), r1;
	struct snilb_listener_stats l0 = lstat(1);
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 40200,
			  .isn = 0xfffffff0 };
	struct bside b = { .addr = BE1, .snat = SNAT4, .isn = 0x7ffffff0,
			   .tsval = 5000 };
	uint8_t synack_opts[20] = { 2, 4, 0x05, 0x78, 4, 2, 8, 10, 0, 0, 0, 0,
				    0, 0, 0x03, 0xe9, 1, 3, 3, 9 };
	uint8_t ts[12] = { 1, 1, 8, 10 }, sack[24] = { 1, 1, 8, 10 };
	uint8_t data[20];
	struct snilb_flow *f;
	struct tpkt t;
	struct hb h;
	const uint8_t *o;
	uint32_t our_ts;

	(void)state;
	memset(data, 'S', sizeof(data));
	connect_to(&c);
	our_ts = c.tsval;
	hb_simple(&h, "www.example.com");
	send_hello(&c, "www.example.com", TC_ACT_REDIRECT);
	expect_syn_to(&c, &b);
	assert_memory_equal(rv.dmac, "\x02\0\0\0\x0b\x01", 6);

	/* SYN-ACK: our SYN again (tests/bpf/test_bbr.c); its second is
	 * answered with the ACK carrying the buffered hello, echoing no
	 * timestamp. */
	put32(synack_opts + 8, b.tsval);
	t = from_backend(&c, &b, 0x12, b.isn, c.isn + 1, synack_opts, 20,
			 NULL, 0);
	first_synack(&c, &b, &t);
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_int_equal(rv.flags & 0x10, 0x10);
	assert_string_equal(rv.src, SNAT4);
	assert_string_equal(rv.dst, BE1);
	assert_int_equal(rv.seq, c.isn + 1);
	assert_int_equal(rv.ack, b.isn + 1);
	assert_int_equal(rv.plen, h.n);
	assert_memory_equal(rv.opts + rv.optlen, h.b, h.n);
	o = tview_opt(&rv, 8);
	assert_non_null(o);
	assert_int_equal(be32(o + 2), 1001);
	assert_int_equal(be32(o + 6), 0);
	f = flow_get(&c);
	assert_int_equal(f->state, SNILB_FS_SPLICED);
	assert_int_equal(f->seq_off, b.isn - c.cookie);

	/* Backend -> client: VIP, our sequence space, our clock, our
	 * window scale (backend 9, ours 7: x4). */
	put32(ts + 4, b.tsval + 10);
	put32(ts + 8, 1001);
	t = from_backend(&c, &b, 0x18, b.isn + 1, c.isn + 1 + (uint32_t)h.n,
			 ts, 12, data, sizeof(data));
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_string_equal(rv.src, VIP4);
	assert_string_equal(rv.dst, CLI4);
	assert_int_equal(rv.sport, 443);
	assert_int_equal(rv.dport, c.port);
	assert_int_equal(rv.seq, c.cookie + 1);
	assert_int_equal(rv.ack, c.isn + 1 + (uint32_t)h.n);
	assert_int_equal(rv.window, 400);
	assert_int_equal(rv.plen, sizeof(data));
	assert_memory_equal(rv.dmac, "\x02\0\0\0\0\x02", 6);
	o = tview_opt(&rv, 8);
	assert_int_equal(be32(o + 2), our_ts + 10);
	assert_int_equal(be32(o + 6), 1001);

	/* Client -> backend: acks and echoed timestamps in its terms; SACK
	 * blocks too. */
	put32(sack + 4, 1002);
	put32(sack + 8, our_ts + 10);
	memcpy(sack + 12, "\x01\x01\x05\x0a", 4);
	put32(sack + 16, c.cookie + 31);
	put32(sack + 20, c.cookie + 41);
	t = (struct tpkt){ .src = CLI4, .dst = VIP4, .sport = c.port,
			   .dport = 443, .seq = c.isn + 1 + (uint32_t)h.n,
			   .ack = c.cookie + 1 + 20, .flags = 0x10,
			   .window = 300, .opts = sack, .optlen = 24 };
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_string_equal(rv.src, SNAT4);
	assert_string_equal(rv.dst, BE1);
	assert_int_equal(rv.sport, b.nport);
	assert_int_equal(rv.dport, 8443);
	assert_int_equal(rv.seq, c.isn + 1 + (uint32_t)h.n);
	assert_int_equal(rv.ack, b.isn + 1 + 20);
	assert_int_equal(rv.window, 300);
	o = tview_opt(&rv, 8);
	assert_int_equal(be32(o + 6), b.tsval + 10);
	o = tview_opt(&rv, 5);
	assert_non_null(o);
	assert_int_equal(be32(o + 2), b.isn + 31);
	assert_int_equal(be32(o + 6), b.isn + 41);

	/* RST from the client: passed on, state gone. */
	t.flags = 0x04;
	t.optlen = 0;
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_int_equal(rv.flags, 0x04);
	assert_null(flow_get(&c));

	/* The route and listener counted all of it. */
	r1 = rstat(10);
	assert_int_equal(r1.routed - r0.routed, 1);
	assert_int_equal(r1.spliced - r0.spliced, 1);
	assert_int_equal(r1.pkts_b2c - r0.pkts_b2c, 1);
	assert_int_equal(r1.bytes_b2c - r0.bytes_b2c, sizeof(data));
	assert_int_equal(r1.pkts_c2b - r0.pkts_c2b, 2);
	assert_int_equal(lstat(1).accepted - l0.accepted, 1);
}

/* FIN both ways, each acknowledged: forwarded, the flow kept for its
 * TIME-WAIT (the reaper frees it, user/dataplane/reaper.c); a backend RST
 * at the exact sequence number: forwarded to the client, then freed. */
static void test_teardown(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 40800, .isn = 5,
			  .no_ts = 1 };
	struct bside b = { .addr = BE1, .snat = SNAT4, .isn = 900 };
	uint32_t data_end;
	struct tpkt t;
	struct hb h;

	(void)state;
	splice_up(&c, &b, &h);
	data_end = (uint32_t)h.n;
	t = seg(&c, 0x11, data_end, NULL, 0);		/* client FIN */
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_string_equal(rv.dst, BE1);
	assert_int_equal(rv.flags, 0x11);
	assert_int_equal(flow_get(&c)->closing, SNILB_CL_C_FIN);
	t = from_backend(&c, &b, 0x11, b.isn + 1, c.isn + 2 + data_end, NULL,
			 0, NULL, 0);			/* backend FIN */
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_string_equal(rv.dst, CLI4);
	assert_int_equal(rv.seq, c.cookie + 1);
	assert_int_equal(flow_get(&c)->closing,
			 SNILB_CL_C_FIN | SNILB_CL_B_FIN | SNILB_CL_C_ACKED);
	t = seg(&c, 0x10, data_end + 1, NULL, 0);	/* last ACK */
	t.ack = c.cookie + 2;
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_string_equal(rv.dst, BE1);
	assert_int_equal(flow_get(&c)->closing, SNILB_CL_DONE);

	c.port++;
	splice_up(&c, &b, &h);
	t = from_backend(&c, &b, 0x14, b.isn + 1, c.isn + 1 + data_end, NULL,
			 0, NULL, 0);			/* backend RST */
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_string_equal(rv.dst, CLI4);
	assert_int_equal(rv.flags, 0x14);
	assert_int_equal(rv.seq, c.cookie + 1);
	assert_null(flow_get(&c));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_splice),
		cmocka_unit_test(test_teardown),
	};

	return cmocka_run_group_tests_name("splice", tests, harness_setup,
					   harness_teardown);
}

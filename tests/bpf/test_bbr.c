// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The backend's RTT (docs/dataplane.md "TCP correctness"), packet in ->
 * packet out with BPF_PROG_TEST_RUN (tests/bpf/harness.c). snilb completes
 * the backend's handshake itself, microseconds after its SYN-ACK; taken
 * as an RTT sample, that is the min RTT BBR sizes its window by for 10 s
 * (2 MB/s instead of 21 over a 20 ms path: tests/bench/paths.sh). So our
 * SYN goes twice, the second right behind the first: its TCP sends the
 * SYN-ACK again and, by Karn's rule, takes no sample from it; the ACK that
 * carries the hello echoes no timestamp, which would be one. Where the
 * path is not known yet, the first SYN-ACK is answered with our SYN again.
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

/* A Linux SYN-ACK's options: MSS 1400, SACK-permitted, TS (@tsval,
 * echoing the client's 1001), NOP, WS 9; without TS when @tsval is 0
 * (what a SYN cookie answers a SYN without timestamps with). */
static size_t synack_opts(uint8_t *o, uint32_t tsval)
{
	static const uint8_t with_ts[20] = { 2, 4, 0x05, 0x78, 4, 2, 8, 10,
					     0, 0, 0, 0, 0, 0, 0x03, 0xe9,
					     1, 3, 3, 9 };
	static const uint8_t no_ts[12] = { 2, 4, 0x05, 0x78, 1, 1, 4, 2,
					   1, 3, 3, 9 };

	if (!tsval) {
		memcpy(o, no_ts, sizeof(no_ts));
		return sizeof(no_ts);
	}
	memcpy(o, with_ts, sizeof(with_ts));
	put32(o + 8, tsval);
	return sizeof(with_ts);
}

static struct tpkt synack(const struct conn *c, const struct bside *b,
			  uint32_t isn, uint8_t *opts, uint32_t tsval)
{
	size_t n = synack_opts(opts, tsval);

	return from_backend(c, b, 0x12, isn, c->isn + 1, opts, n, NULL, 0);
}

/* The ACK that carries the hello @h: what it acknowledges, what it
 * echoes (-1: no timestamp option at all). */
static void expect_hello(const struct conn *c, const struct bside *b,
			 const struct hb *h, uint32_t ack, int64_t ecr)
{
	const uint8_t *o;

	assert_int_equal(rv.flags & 0x10, 0x10);
	assert_string_equal(rv.src, b->snat);
	assert_string_equal(rv.dst, b->addr);
	assert_int_equal(rv.seq, c->isn + 1);
	assert_int_equal(rv.ack, ack);
	assert_int_equal(rv.plen, h->n);
	assert_memory_equal(rv.opts + rv.optlen, h->b, h->n);
	o = tview_opt(&rv, 8);
	if (ecr < 0) {
		assert_null(o);
		return;
	}
	assert_non_null(o);
	assert_int_equal(be32(o + 2), 1001);	/* the client's TSval */
	assert_int_equal(be32(o + 6), (uint32_t)ecr);
	assert_int_equal(flow_get(c)->state, SNILB_FS_SPLICED);
}

static void set_single_syn(uint8_t on)
{
	struct snilb_config cfg = { .snat4 = htonl(0xc6120201),
				    .single_syn = on };

	inet_pton(AF_INET6, SNAT6, cfg.snat6);
	assert_int_equal(dp_config_set(dp, &cfg), 0);
}

/*
 * Our second SYN goes right behind the first (bind.h syn_twice()): the
 * first, cloned out, with the client's timestamps; the packet itself the
 * second, the same but the timestamps. The first SYN-ACK is held: the
 * second's (its request socket's retransmission) is coming and draws the
 * hello, acknowledging the same ISN and echoing no timestamp; the
 * backend's clock offset is the first SYN-ACK's. No round trip more than
 * one SYN would take.
 */
static void test_syn_twice(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 43000, .isn = 77 };
	struct bside b = { .addr = BE1, .snat = SNAT4, .isn = 0x90000000 };
	uint64_t resyns = counter(SNILB_ST_RESYN);
	uint64_t binds = counter(SNILB_ST_BIND);
	uint8_t opts[20], ts[12] = { 1, 1, 8, 10 }, data[8] = "response";
	const uint8_t *o;
	struct tpkt t;
	struct hb h;

	(void)state;
	connect_to(&c);
	hb_simple(&h, "www.example.com");
	send_hello(&c, "www.example.com", TC_ACT_REDIRECT);
	assert_int_equal(flow_get(&c)->resyn, SNILB_RESYN_EARLY);
	expect_syn_to(&c, &b);		/* the clone with TS, rv without */
	assert_int_equal(counter(SNILB_ST_RESYN), resyns + 1);
	assert_int_equal(counter(SNILB_ST_BIND), binds + 1);

	t = synack(&c, &b, b.isn, opts, 5000);
	assert_int_equal(run(&t), TC_ACT_SHOT);		/* held */
	assert_int_equal(flow_get(&c)->resyn, SNILB_RESYN_DONE);
	assert_int_equal(flow_get(&c)->state, SNILB_FS_ROUTED);
	t = synack(&c, &b, b.isn, opts, 5001);
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	expect_hello(&c, &b, &h, b.isn + 1, 0);
	assert_int_equal(counter(SNILB_ST_RESYN), resyns + 1);

	/* Backend -> client: its clock in ours, by the first SYN-ACK. */
	put32(ts + 4, 5000 + 10);
	put32(ts + 8, 1001);
	t = from_backend(&c, &b, 0x18, b.isn + 1, c.isn + 1 + (uint32_t)h.n,
			 ts, sizeof(ts), data, sizeof(data));
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_string_equal(rv.dst, CLI4);
	assert_int_equal(rv.seq, c.cookie + 1);
	o = tview_opt(&rv, 8);
	assert_non_null(o);
	assert_int_equal(be32(o + 2), c.tsval + 10);
}

/*
 * A backend whose neighbour is not resolved yet: the SYN waits in the
 * neighbour layer (bpf_redirect_neigh()), which a clone cannot, so it goes
 * alone; its first SYN-ACK (the path known by then) draws our SYN again,
 * same ISN and options but the timestamps (resyn()), and the next one the
 * hello.
 */
static void test_resyn_path_unknown(void **state)
{
	static const uint32_t far[] = { 9 };
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 43050, .isn = 78 };
	struct bside b = { .addr = "198.18.2.99", .snat = SNAT4,
			   .isn = 0x80000000 };
	uint64_t resyns = counter(SNILB_ST_RESYN);
	uint8_t opts[20];
	const uint8_t *o;
	struct tpkt t;
	struct hb h;

	(void)state;
	assert_int_equal(system("ip neigh del 198.18.2.99 dev dummy0 "
				"2>/dev/null; true"), 0);
	assert_int_equal(dp_backend_set(dp, 9, b.addr, 8443, 0), 0);
	assert_int_equal(install_set(9, far, 1), 0);
	assert_int_equal(dp_route_add(dp, 1, "far.example.com", 19, 9), 0);
	connect_to(&c);
	hb_simple(&h, "far.example.com");
	send_hello(&c, "far.example.com", TC_ACT_REDIRECT);
	assert_int_equal(flow_get(&c)->resyn, SNILB_RESYN_NONE);
	expect_syn_to(&c, &b);		/* one SYN, with the timestamps */
	assert_int_equal(counter(SNILB_ST_RESYN), resyns);
	assert_int_equal(system("ip neigh replace 198.18.2.99 lladdr "
				"02:00:00:00:0b:09 dev dummy0 nud permanent"),
			 0);
	t = synack(&c, &b, b.isn, opts, 5000);
	first_synack(&c, &b, &t);	/* our SYN again */
	o = tview_opt(&rv, 2);
	assert_non_null(o);
	assert_int_equal(o[2] << 8 | o[3], 1460);	/* the client's MSS */
	assert_non_null(tview_opt(&rv, 4));		/* SACK-permitted */
	o = tview_opt(&rv, 3);
	assert_non_null(o);
	assert_int_equal(o[2], 7);			/* its window scale */
	assert_int_equal(counter(SNILB_ST_RESYN), resyns + 1);
	assert_int_equal(flow_get(&c)->resyn, SNILB_RESYN_DONE);
	t = synack(&c, &b, b.isn, opts, 5001);
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	expect_hello(&c, &b, &h, b.isn + 1, 0);
	assert_int_equal(system("ip neigh del 198.18.2.99 dev dummy0"), 0);
}

/*
 * A backend answering with SYN cookies answers our second SYN, sent
 * without timestamps, without them too (a request socket answers with its
 * own options): then its first SYN-ACK is the one acknowledged, its
 * timestamp echoed, since a cookie reads the client's options from the
 * echo. Its second may even carry another ISN (the cookie's clock ticked).
 */
static void test_resyn_cookie(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 43100, .isn = 9 };
	struct bside b = { .addr = BE1, .snat = SNAT4, .isn = 0x12345678 };
	uint8_t opts[20];
	struct tpkt t;
	struct hb h;

	(void)state;
	connect_to(&c);
	hb_simple(&h, "www.example.com");
	send_hello(&c, "www.example.com", TC_ACT_REDIRECT);
	expect_syn_to(&c, &b);
	t = synack(&c, &b, b.isn, opts, 7000);
	first_synack(&c, &b, &t);
	t = synack(&c, &b, b.isn + 0x01000000, opts, 0);
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	expect_hello(&c, &b, &h, b.isn + 1, 7000);
	assert_int_equal(flow_get(&c)->seq_off, b.isn - c.cookie);
}

/* A client without timestamps: nothing to echo either way. */
static void test_resyn_no_ts(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 43200, .isn = 3,
			  .no_ts = 1 };
	struct bside b = { .addr = BE1, .snat = SNAT4, .isn = 4000 };
	uint8_t opts[20];
	struct tpkt t;
	struct hb h;

	(void)state;
	connect_to(&c);
	hb_simple(&h, "www.example.com");
	send_hello(&c, "www.example.com", TC_ACT_REDIRECT);
	expect_syn_to(&c, &b);
	t = synack(&c, &b, b.isn, opts, 0);
	first_synack(&c, &b, &t);
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	expect_hello(&c, &b, &h, b.isn + 1, -1);
	assert_int_equal(flow_get(&c)->state, SNILB_FS_SPLICED);
}

/* IPv6: the same. */
static void test_resyn_v6(void **state)
{
	struct conn c = { .v6 = 1, .cli = CLI6, .vip = VIP6, .port = 43300,
			  .isn = 11 };
	struct bside b = { .addr = BE6, .snat = SNAT6, .isn = 0xfffffff0 };
	uint8_t opts[20];
	struct tpkt t;
	struct hb h;

	(void)state;
	connect_to(&c);
	hb_simple(&h, "v6.example.com");
	send_hello(&c, "v6.example.com", TC_ACT_REDIRECT);
	expect_syn_to(&c, &b);
	t = synack(&c, &b, b.isn, opts, 100);
	first_synack(&c, &b, &t);
	t = synack(&c, &b, b.isn, opts, 101);
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	expect_hello(&c, &b, &h, b.isn + 1, 0);
}

/* A backend that refuses after its first SYN-ACK (an RST to our second
 * SYN): the next backend gets two SYNs too. */
static void test_resyn_next_backend(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 43400, .isn = 21 };
	struct bside b1 = { .snat = SNAT4, .isn = 100 };
	struct bside b2 = { .snat = SNAT4, .isn = 200 };
	uint8_t opts[20];
	struct tpkt t;
	struct hb h;

	(void)state;
	connect_to(&c);
	hb_simple(&h, "retry.example.com");
	send_hello(&c, "retry.example.com", TC_ACT_REDIRECT);
	b1.addr = strcmp(rv.dst, BE1) ? BE2 : BE1;
	b2.addr = strcmp(b1.addr, BE1) ? BE1 : BE2;
	expect_syn_to(&c, &b1);
	t = synack(&c, &b1, b1.isn, opts, 1);
	first_synack(&c, &b1, &t);
	t = from_backend(&c, &b1, 0x14, 0, c.isn + 1, NULL, 0, NULL, 0);
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	expect_syn_to(&c, &b2);
	assert_int_equal(flow_get(&c)->resyn, SNILB_RESYN_EARLY);
	t = synack(&c, &b2, b2.isn, opts, 2);
	first_synack(&c, &b2, &t);
	t = synack(&c, &b2, b2.isn, opts, 3);
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	expect_hello(&c, &b2, &h, b2.isn + 1, 0);
}

/* single_syn: one SYN, the hello on the first SYN-ACK, its timestamp
 * echoed (the backend then samples the handshake, as before). */
static void test_single_syn(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 43500, .isn = 5 };
	struct bside b = { .addr = BE1, .snat = SNAT4, .isn = 31337 };
	uint64_t resyns = counter(SNILB_ST_RESYN);
	uint8_t opts[20];
	struct tpkt t;
	struct hb h;

	(void)state;
	set_single_syn(1);
	connect_to(&c);
	hb_simple(&h, "www.example.com");
	send_hello(&c, "www.example.com", TC_ACT_REDIRECT);
	expect_syn_to(&c, &b);
	t = synack(&c, &b, b.isn, opts, 9000);
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	set_single_syn(0);
	expect_hello(&c, &b, &h, b.isn + 1, 9000);
	assert_int_equal(counter(SNILB_ST_RESYN), resyns);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_syn_twice),
		cmocka_unit_test(test_resyn_path_unknown),
		cmocka_unit_test(test_resyn_cookie),
		cmocka_unit_test(test_resyn_no_ts),
		cmocka_unit_test(test_resyn_v6),
		cmocka_unit_test(test_resyn_next_backend),
		cmocka_unit_test(test_single_syn),
	};

	return cmocka_run_group_tests_name("bbr", tests, harness_setup,
					   harness_teardown);
}

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

/* --- RST and SYN on a spliced flow (RFC 5961) ------------------------- */

/* The client's next byte after the hello, and the backend's. */
#define C_NEXT(c, h)	((c)->isn + 1 + (uint32_t)(h)->n)
#define B_NEXT(b)	((b)->isn + 1)

static struct tpkt client_rst(const struct conn *c, uint32_t seq)
{
	return (struct tpkt){ .v6 = c->v6, .src = c->cli, .dst = c->vip,
			      .sport = c->port, .dport = 443, .seq = seq,
			      .flags = 0x04 };
}

/* Blind RSTs, from either side, with sequence numbers out of the window:
 * dropped and counted; the flow lives on. */
static void test_rst_out_of_window(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 41100, .isn = 5 };
	struct bside b = { .addr = BE1, .snat = SNAT4, .isn = 900 };
	uint64_t ign = counter(SNILB_ST_RST_IGNORED);
	struct tpkt t;
	struct hb h;

	(void)state;
	splice_up(&c, &b, &h);
	t = client_rst(&c, C_NEXT(&c, &h) + 0x40000000);
	assert_int_equal(run(&t), TC_ACT_SHOT);
	t = client_rst(&c, C_NEXT(&c, &h) - 1);
	assert_int_equal(run(&t), TC_ACT_SHOT);
	t = from_backend(&c, &b, 0x04, B_NEXT(&b) + 0x40000000, 0, NULL, 0,
			 NULL, 0);
	assert_int_equal(run(&t), TC_ACT_SHOT);
	assert_int_equal(counter(SNILB_ST_RST_IGNORED), ign + 3);
	assert_non_null(flow_get(&c));
	assert_int_equal(flow_get(&c)->state, SNILB_FS_SPLICED);
	/* And the flow still carries data both ways. */
	t = seg(&c, 0x10, (uint32_t)h.n, NULL, 0);
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_string_equal(rv.dst, BE1);
}

/* An RST in the window but not exact is passed on (the receiver answers
 * it with its own challenge ACK) and the flow kept, marked; the
 * receiver's next packet clears the mark. Both directions. */
static void test_rst_in_window(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 41110, .isn = 5 };
	struct bside b = { .addr = BE1, .snat = SNAT4, .isn = 900 };
	struct tpkt t;
	struct hb h;

	(void)state;
	splice_up(&c, &b, &h);
	/* The backend acknowledged the hello: the client's RST must be at
	 * its end; 50 bytes on is in its window (100 bytes). */
	t = from_backend(&c, &b, 0x10, B_NEXT(&b), C_NEXT(&c, &h), NULL, 0,
			 NULL, 0);
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	t = client_rst(&c, C_NEXT(&c, &h) + 50);
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_string_equal(rv.dst, BE1);
	assert_int_equal(rv.flags, 0x04);
	assert_int_equal(flow_get(&c)->closing, SNILB_CL_RST_C);
	/* The backend's challenge ACK: it lives, so does the flow. */
	t = from_backend(&c, &b, 0x10, B_NEXT(&b), C_NEXT(&c, &h), NULL, 0,
			 NULL, 0);
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_string_equal(rv.dst, CLI4);
	assert_int_equal(flow_get(&c)->closing, 0);
	/* From the backend's side, at the client's ACK + 100. */
	t = from_backend(&c, &b, 0x04, B_NEXT(&b) + 100, 0, NULL, 0, NULL, 0);
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_string_equal(rv.dst, CLI4);
	assert_int_equal(flow_get(&c)->closing, SNILB_CL_RST_B);
	t = seg(&c, 0x10, (uint32_t)h.n, NULL, 0);
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_int_equal(flow_get(&c)->closing, 0);
	/* The exact one ends it. */
	t = client_rst(&c, C_NEXT(&c, &h));
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_null(flow_get(&c));
}

/* A spoofed ACK with a random number (from the backend's side, to our
 * SNAT port) does not move where an exact RST must be. */
static void test_spoofed_ack_ignored(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 41120, .isn = 5 };
	struct bside b = { .addr = BE1, .snat = SNAT4, .isn = 900 };
	uint32_t x = c.isn + 0x10000000;
	struct tpkt t;
	struct hb h;

	(void)state;
	splice_up(&c, &b, &h);
	t = from_backend(&c, &b, 0x10, B_NEXT(&b), x, NULL, 0, NULL, 0);
	run(&t);
	t = client_rst(&c, x);
	assert_int_equal(run(&t), TC_ACT_SHOT);
	assert_non_null(flow_get(&c));
}

/* A SYN on a spliced flow never frees it: a challenge ACK at where the
 * flow stands; the RST a restarted client answers with frees it. */
static void test_syn_on_spliced_flow(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 41130, .isn = 5 };
	struct bside b = { .addr = BE1, .snat = SNAT4, .isn = 900 };
	uint64_t ch = counter(SNILB_ST_CHALLENGE_ACK);
	struct tpkt t;
	struct hb h;

	(void)state;
	splice_up(&c, &b, &h);
	t = from_backend(&c, &b, 0x10, B_NEXT(&b), C_NEXT(&c, &h), NULL, 0,
			 NULL, 0);
	run(&t);
	t = (struct tpkt){ .src = CLI4, .dst = VIP4, .sport = c.port,
			   .dport = 443, .seq = 123456, .flags = 0x02,
			   .window = 64240 };
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_int_equal(rv.flags, 0x10);
	assert_string_equal(rv.dst, CLI4);
	assert_int_equal(rv.seq, c.cookie + 1);
	assert_int_equal(rv.ack, C_NEXT(&c, &h));
	assert_int_equal(counter(SNILB_ST_CHALLENGE_ACK), ch + 1);
	assert_int_equal(flow_get(&c)->state, SNILB_FS_SPLICED);
	t = client_rst(&c, rv.ack);
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_null(flow_get(&c));
}

/*
 * A client that restarted reuses the port of a flow we still hold: its
 * SYN gets a challenge ACK, not a new flow (RFC 5961 4.2); the RST it
 * answers that with (at the challenge's ACK number) frees the flow, and
 * its next SYN connects.
 */
static void test_port_reuse(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 40600, .isn = 9 };
	uint32_t cookie;
	struct tpkt t;

	(void)state;
	connect_to(&c);
	send_hello(&c, "www.example.com", TC_ACT_REDIRECT);
	assert_int_equal(flow_get(&c)->state, SNILB_FS_ROUTED);
	cookie = c.cookie;
	t = (struct tpkt){ .src = CLI4, .dst = VIP4, .sport = c.port,
			   .dport = 443, .seq = 77777, .flags = 0x02,
			   .window = 64240 };
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_int_equal(rv.flags, 0x10);
	assert_int_equal(rv.seq, cookie + 1);
	assert_int_equal(rv.ack, 10);
	assert_int_equal(flow_get(&c)->client_isn, 9);
	t = (struct tpkt){ .src = CLI4, .dst = VIP4, .sport = c.port,
			   .dport = 443, .seq = rv.ack, .flags = 0x04 };
	assert_int_equal(run(&t), TC_ACT_SHOT);
	assert_null(flow_get(&c));
	c.isn = 77777;
	connect_to(&c);				/* asserts: a new HELLO flow */
	assert_int_equal(flow_get(&c)->client_isn, 77777);
}

/* --- closing ----------------------------------------------------------- */

/*
 * The client half-closes, then receives the response: the backend's FIN
 * and the client's ACKs of data before it do not end the flow (a lost
 * segment is still being resent); only the client's ACK of that FIN does,
 * and then the flow waits out its TIME-WAIT.
 */
static void test_half_close(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 41140, .isn = 5,
			  .no_ts = 1 };
	struct bside b = { .addr = BE1, .snat = SNAT4, .isn = 900 };
	uint8_t data[100];
	struct tpkt t;
	struct hb h;

	(void)state;
	memset(data, 'R', sizeof(data));
	splice_up(&c, &b, &h);
	t = seg(&c, 0x11, (uint32_t)h.n, NULL, 0);		/* FIN */
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	/* Two segments of the response, then the backend's FIN. */
	t = from_backend(&c, &b, 0x10, B_NEXT(&b), C_NEXT(&c, &h) + 1, NULL,
			 0, data, 100);
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	t = from_backend(&c, &b, 0x11, B_NEXT(&b) + 100, C_NEXT(&c, &h) + 1,
			 NULL, 0, data, 100);
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	/* The client acknowledges the first segment only (the second was
	 * lost): the flow must stay for the resend. */
	t = seg(&c, 0x10, (uint32_t)h.n + 1, NULL, 0);
	t.ack = c.cookie + 1 + 100;
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_non_null(flow_get(&c));
	t = from_backend(&c, &b, 0x11, B_NEXT(&b) + 100, C_NEXT(&c, &h) + 1,
			 NULL, 0, data, 100);			/* resent */
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_string_equal(rv.dst, CLI4);
	assert_int_equal(rv.seq, c.cookie + 1 + 100);
	/* Now all of it, FIN included. */
	t = seg(&c, 0x10, (uint32_t)h.n + 1, NULL, 0);
	t.ack = c.cookie + 1 + 201;
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_non_null(flow_get(&c));
	assert_int_equal(flow_get(&c)->closing, SNILB_CL_DONE);
}

/* A client that half-closes right after its hello, while the backend is
 * still being bound: its FIN is ignored (it resends it; spliced, it goes
 * through), not taken for a client that gave up. One with no hello at
 * all still gets the RST. */
static void test_fin_while_binding(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 41150, .isn = 5 };
	struct tpkt t;
	struct hb h;

	(void)state;
	connect_to(&c);
	hb_simple(&h, "www.example.com");
	send_hello(&c, "www.example.com", TC_ACT_REDIRECT);
	t = seg(&c, 0x11, (uint32_t)h.n, NULL, 0);
	assert_int_equal(run(&t), TC_ACT_SHOT);
	assert_non_null(flow_get(&c));
	assert_int_equal(flow_get(&c)->state, SNILB_FS_ROUTED);
	c.port++;
	connect_to(&c);
	t = seg(&c, 0x11, 0, NULL, 0);
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_int_equal(rv.flags & 0x04, 0x04);
	assert_null(flow_get(&c));
}

/* --- windows ----------------------------------------------------------- */

/*
 * A backend that declines window scaling (its SYN-ACK has no WS option)
 * reads the client's window unscaled: it gets it in bytes (at most
 * 65,535), not the client's scaled field. Its own small window, rescaled
 * to ours for the client, is rounded up, never to 0.
 */
static void test_backend_declines_wscale(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 41300, .isn = 5 };
	struct bside b = { .addr = BE1, .snat = SNAT4, .isn = 900 };
	struct tpkt t;
	struct hb h;

	(void)state;
	splice_up(&c, &b, &h);		/* SYN-ACK without options */
	t = seg(&c, 0x10, (uint32_t)h.n, NULL, 0);	/* window 502 << 7 */
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_string_equal(rv.dst, BE1);
	assert_int_equal(rv.window, 502 << 7);
	t = from_backend(&c, &b, 0x10, B_NEXT(&b), C_NEXT(&c, &h), NULL, 0,
			 NULL, 0);			/* window 100 bytes */
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_string_equal(rv.dst, CLI4);
	assert_int_equal(rv.window, 1);
}

/* --- next hops --------------------------------------------------------- */

/* Run @t with the client's router at source MAC @smac; the verdict. */
static int run_from_mac(const struct tpkt *t, const uint8_t *smac)
{
	static uint8_t in[PKT_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, o);

	o.data_in = in;
	o.data_size_in = (__u32)tpkt_build(t, in);
	memcpy(in + 6, smac, 6);
	o.data_out = out;
	o.data_size_out = sizeof(out);
	assert_int_equal(bpf_prog_test_run_opts(dp_prog_fd(dp), &o), 0);
	outlen = o.data_size_out;
	if (o.retval == TC_ACT_REDIRECT)
		assert_int_equal(tview_parse(out, outlen, &rv), 0);
	return (int)o.retval;
}

/*
 * A router failover: the backend's neighbour entry changes MAC, and the
 * client's packets come from another router MAC. Within a few seconds
 * (the paths are learned again once a second) packets go to the new
 * ones both ways; the flow lives on.
 */
static void test_next_hops_refreshed(void **state)
{
	static const uint8_t new_cli[6] = { 2, 0, 0, 0, 0, 0x22 };
	static const uint8_t new_be[6] = { 2, 0, 0, 0, 0x0b, 0x09 };
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 41400, .isn = 5 };
	struct bside b = { .addr = BE1, .snat = SNAT4, .isn = 900 };
	int moved = 0, i;
	struct tpkt t;
	struct hb h;

	(void)state;
	splice_up(&c, &b, &h);
	assert_int_equal(system("ip neigh replace " BE1 " lladdr "
				"02:00:00:00:0b:09 dev dummy0 nud permanent"),
			 0);
	t = seg(&c, 0x10, (uint32_t)h.n, NULL, 0);
	/* Poll: up to 5 s for the once-a-second refresh. */
	for (i = 0; i < 100 && !moved; i++) {
		assert_int_equal(run_from_mac(&t, new_cli), TC_ACT_REDIRECT);
		moved = !memcmp(rv.dmac, new_be, 6);
		if (!moved)
			usleep(50000);
	}
	assert_int_equal(system("ip neigh replace " BE1 " lladdr "
				"02:00:00:00:0b:01 dev dummy0 nud permanent"),
			 0);
	if (!moved)
		fail_msg("packets still go to the old backend MAC after 5 s");
	t = from_backend(&c, &b, 0x10, B_NEXT(&b), C_NEXT(&c, &h), NULL, 0,
			 NULL, 0);
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_memory_equal(rv.dmac, new_cli, 6);
}

/* --- lost and reordered hello segments --------------------------------- */

/* Send hello bytes [@from, @to) of @h as one segment. */
static int hello_part(struct conn *c, const struct hb *h, size_t from,
		      size_t to)
{
	struct tpkt t = seg(c, 0x18, (uint32_t)from, h->b + from, to - from);

	return run(&t);
}

/* The SACK blocks of the answer in rv: their count, @blk filled with
 * hello offsets (start, end) pairs. */
static int sack_blocks(const struct conn *c, uint32_t *blk)
{
	const uint8_t *o = tview_opt(&rv, 5);
	int n, i;

	if (!o)
		return 0;
	n = (o[1] - 2) / 8;
	for (i = 0; i < n; i++) {
		blk[2 * i] = be32(o + 2 + 8 * i) - (c->isn + 1);
		blk[2 * i + 1] = be32(o + 6 + 8 * i) - (c->isn + 1);
	}
	return n;
}

/* A 2-segment hello whose first segment is lost: the second is held, the
 * client told so; the resent first completes the hello. */
static void test_hello_first_lost(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 41200,
			  .isn = 0xfffffff0 };
	uint32_t blk[4];
	struct hb h;
	size_t a;

	(void)state;
	hb_simple(&h, "www.example.com");
	a = h.n / 2;
	connect_to(&c);
	assert_int_equal(hello_part(&c, &h, a, h.n), TC_ACT_REDIRECT);
	assert_int_equal(rv.flags, 0x10);
	assert_int_equal(rv.seq, c.cookie + 1);
	assert_int_equal(rv.ack, c.isn + 1);
	assert_int_equal(sack_blocks(&c, blk), 1);
	assert_int_equal(blk[0], a);
	assert_int_equal(blk[1], h.n);
	assert_non_null(tview_opt(&rv, 8));		/* with timestamps */
	assert_int_equal(hello_part(&c, &h, 0, a), TC_ACT_REDIRECT);
	assert_int_equal(rv.flags, 0x02);		/* SYN to b1 */
	assert_string_equal(rv.dst, BE1);
}

/* Three segments, the middle one lost: the third is held; the resent
 * middle one completes it. Then four, the first and third lost: two
 * ranges held, the latest first in the SACK option. */
static void test_hello_gaps(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 41210, .isn = 77,
			  .no_ts = 0 };
	size_t q1, q2, q3;
	uint32_t blk[4];
	struct hb h;

	(void)state;
	hb_simple(&h, "www.example.com");
	q1 = h.n / 4;
	q2 = h.n / 2;
	q3 = 3 * h.n / 4;
	connect_to(&c);
	assert_int_equal(hello_part(&c, &h, 0, q1), TC_ACT_SHOT);
	assert_int_equal(hello_part(&c, &h, q2, h.n), TC_ACT_REDIRECT);
	assert_int_equal(sack_blocks(&c, blk), 1);
	assert_int_equal(hello_part(&c, &h, q1, q2), TC_ACT_REDIRECT);
	assert_int_equal(rv.flags, 0x02);

	c.port++;
	connect_to(&c);
	assert_int_equal(hello_part(&c, &h, q1, q2), TC_ACT_REDIRECT);
	assert_int_equal(hello_part(&c, &h, q3, h.n), TC_ACT_REDIRECT);
	assert_int_equal(sack_blocks(&c, blk), 2);
	assert_int_equal(blk[0], q3);
	assert_int_equal(blk[1], h.n);
	assert_int_equal(blk[2], q1);
	assert_int_equal(blk[3], q2);
	assert_int_equal(hello_part(&c, &h, 0, q1), TC_ACT_SHOT);
	assert_int_equal(flow_get(&c)->hello_len, q2);
	assert_int_equal(hello_part(&c, &h, q2, q3), TC_ACT_REDIRECT);
	assert_int_equal(rv.flags, 0x02);
}

/*
 * A hello segment corrupted on a link that checks nothing (in
 * BPF_PROG_TEST_RUN every skb is CHECKSUM_NONE): dropped and counted, not
 * buffered and replayed to the backend under a fresh checksum; its clean
 * resend is taken. Both an even and an odd length are summed right.
 */
static void test_hello_bad_checksum(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 41230, .isn = 77 };
	uint64_t bad = counter(SNILB_ST_BAD_CSUM);
	static uint8_t in[PKT_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, o);
	struct tpkt t;
	struct hb h;
	size_t len;

	(void)state;
	hb_simple(&h, "www.example.com");
	connect_to(&c);
	t = seg(&c, 0x18, 0, h.b, 101);
	len = tpkt_build(&t, in);
	in[len - 7] ^= 0x20;			/* one bit, in the payload */
	o.data_in = in;
	o.data_size_in = (__u32)len;
	assert_int_equal(bpf_prog_test_run_opts(dp_prog_fd(dp), &o), 0);
	assert_int_equal(o.retval, TC_ACT_SHOT);
	assert_int_equal(counter(SNILB_ST_BAD_CSUM), bad + 1);
	assert_int_equal(flow_get(&c)->hello_len, 0);
	assert_int_equal(hello_part(&c, &h, 0, 101), TC_ACT_SHOT);
	assert_int_equal(flow_get(&c)->hello_len, 101);
	assert_true(h.n > 102);
	assert_int_equal(hello_part(&c, &h, 101, h.n), TC_ACT_REDIRECT);
	assert_int_equal(rv.flags, 0x02);
	assert_int_equal(counter(SNILB_ST_BAD_CSUM), bad + 1);
}

/* Before the splice: a blind RST in the window gets a challenge ACK, one
 * out of it nothing; neither ends the flow. The exact one does. */
static void test_hello_rst(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 41220, .isn = 77 };
	struct tpkt t;
	struct hb h;

	(void)state;
	hb_simple(&h, "www.example.com");
	connect_to(&c);
	assert_int_equal(hello_part(&c, &h, 0, 20), TC_ACT_SHOT);
	t = client_rst(&c, c.isn + 1 + 5000);
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_int_equal(rv.flags, 0x10);
	assert_int_equal(rv.ack, c.isn + 1);
	t = client_rst(&c, c.isn + 1 + 0x20000000);
	assert_int_equal(run(&t), TC_ACT_SHOT);
	t = (struct tpkt){ .src = CLI4, .dst = VIP4, .sport = c.port,
			   .dport = 443, .seq = c.isn + 1, .ack = 1,
			   .flags = 0x12 };		/* SYN|ACK: nonsense */
	assert_int_equal(run(&t), TC_ACT_SHOT);
	assert_non_null(flow_get(&c));
	t = client_rst(&c, c.isn + 1 + 20);
	assert_int_equal(run(&t), TC_ACT_SHOT);
	assert_null(flow_get(&c));
}

/* --- one CPU at a time binds and splices a flow (bind.h) ---------------- */

/*
 * The client's resent hello rebinds the flow on one CPU while the first
 * backend's SYN-ACK, found by its rev entry a moment before, is handled on
 * another. The interleavings, made by writing the flow as the other CPU
 * would have: a SYN-ACK or RST for a binding the flow has left is
 * dropped, not acted on; while another CPU holds the flow (f->gen odd),
 * the SYN-ACK and the rebind wait for their senders' next try; released,
 * the SYN-ACK is taken.
 */
static void test_bind_races(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 41500, .isn = 77 };
	struct bside b = { .addr = BE1, .snat = SNAT4, .isn = 3000 };
	static struct snilb_hello hb;
	struct snilb_flow f;
	__be16 nport;
	struct tpkt t;
	struct hb h;

	(void)state;
	connect_to(&c);
	hb_simple(&h, "www.example.com");
	send_hello(&c, "www.example.com", TC_ACT_REDIRECT);
	expect_syn_to(&c, &b);
	/* Rebound elsewhere: its old port's SYN-ACK and RST change nothing. */
	f = *flow_get(&c);
	nport = f.nport;
	f.nport = htons(ntohs(nport) + 1);
	flow_put(&c, &f);
	t = from_backend(&c, &b, 0x12, b.isn, c.isn + 1, NULL, 0, NULL, 0);
	assert_int_equal(run(&t), TC_ACT_SHOT);
	t = from_backend(&c, &b, 0x14, 0, c.isn + 1, NULL, 0, NULL, 0);
	assert_int_equal(run(&t), TC_ACT_SHOT);
	assert_int_equal(flow_get(&c)->state, SNILB_FS_ROUTED);
	assert_int_equal(flow_get(&c)->resyn, SNILB_RESYN_EARLY);
	assert_int_equal(hello_get(&c)->b.tries, 1);
	/* Held by another CPU: neither the SYN-ACK nor a rebind. */
	f.nport = nport;
	f.gen = 1;
	flow_put(&c, &f);
	hb = *hello_get(&c);
	hb.b.bind_ns = 1;		/* the bind timeout long past */
	hello_put(&c, &hb);
	t = from_backend(&c, &b, 0x12, b.isn, c.isn + 1, NULL, 0, NULL, 0);
	assert_int_equal(run(&t), TC_ACT_SHOT);
	assert_int_equal(flow_get(&c)->resyn, SNILB_RESYN_EARLY);
	t = seg(&c, 0x18, 0, h.b, h.n);		/* the client's resend */
	assert_int_equal(run(&t), TC_ACT_SHOT);
	assert_int_equal(hello_get(&c)->b.tries, 1);
	/* Released: the SYN-ACK is taken (our SYN again), the flow let go. */
	f = *flow_get(&c);
	f.gen = 2;
	flow_put(&c, &f);
	hb = *hello_get(&c);
	hb.b.bind_ns = flow_get(&c)->seen_ns;
	hello_put(&c, &hb);
	t = from_backend(&c, &b, 0x12, b.isn, c.isn + 1, NULL, 0, NULL, 0);
	first_synack(&c, &b, &t);
	assert_int_equal(flow_get(&c)->gen, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_ack_lost_with_data),
		cmocka_unit_test(test_rst_out_of_window),
		cmocka_unit_test(test_rst_in_window),
		cmocka_unit_test(test_spoofed_ack_ignored),
		cmocka_unit_test(test_syn_on_spliced_flow),
		cmocka_unit_test(test_port_reuse),
		cmocka_unit_test(test_half_close),
		cmocka_unit_test(test_fin_while_binding),
		cmocka_unit_test(test_backend_declines_wscale),
		cmocka_unit_test(test_next_hops_refreshed),
		cmocka_unit_test(test_hello_first_lost),
		cmocka_unit_test(test_hello_gaps),
		cmocka_unit_test(test_hello_rst),
		cmocka_unit_test(test_hello_bad_checksum),
		cmocka_unit_test(test_bind_races),
	};

	return cmocka_run_group_tests_name("tcp", tests, harness_setup,
					   harness_teardown);
}

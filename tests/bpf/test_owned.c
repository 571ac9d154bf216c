// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * A hello too long for the client's first flight (bpf/hello.h own_more(),
 * bpf/owned.h), packet in -> packet out with BPF_PROG_TEST_RUN: its bytes
 * are acknowledged as they come, all but the last; once spliced, what the
 * backend did not get goes to it again, from the buffer kept for it,
 * until its ACK covers them. A short hello is never acknowledged.
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

#define SEG	1400	/* the client's segments */
#define CHUNK	524	/* ours to the backend: its MSS (536, none said)
			 * less the timestamp option */

/* A valid hello for www.example.com, @pad bytes of padding longer. */
static void long_hello(struct hb *h, size_t pad)
{
	hb_padded(h, "www.example.com", pad);
}

static int hello_part(struct conn *c, const struct hb *h, size_t from,
		      size_t to)
{
	struct tpkt t = seg(c, 0x18, (uint32_t)from, h->b + from, to - from);

	return run(&t);
}

/* Send @h in SEG-byte segments: each but the last is acknowledged; the
 * last routes it (SYN to b1), unacknowledged: the client keeps it. */
static void send_acked(struct conn *c, const struct hb *h)
{
	uint64_t acks = counter(SNILB_ST_HELLO_ACK);
	size_t off, end, n = 0;

	for (off = 0; off + SEG < h->n; off += SEG) {
		end = off + SEG;
		assert_int_equal(hello_part(c, h, off, end), TC_ACT_REDIRECT);
		assert_string_equal(rv.dst, c->cli);
		assert_int_equal(rv.flags, 0x10);
		assert_int_equal(rv.seq, c->cookie + 1);
		assert_int_equal(rv.ack, (uint32_t)(c->isn + 1 + end));
		assert_int_equal(rv.plen, 0);
		assert_non_null(tview_opt(&rv, 8));	/* timestamps */
		n++;
	}
	assert_int_equal(counter(SNILB_ST_HELLO_ACK), acks + n);
	assert_int_equal(hello_part(c, h, off, h->n), TC_ACT_REDIRECT);
	assert_int_equal(rv.flags, 0x02);
	assert_string_equal(rv.dst, BE1);
	assert_int_equal(flow_get(c)->h_acked, off);
}

/*
 * 6 KB, more than an RFC 3390 first flight: acknowledged segment by
 * segment. An ACK of ours that was lost: the client's resend of those
 * bytes gets it again, while binding too. A 1.5 KB hello in two
 * segments: nothing acknowledged, the backend's ACK does that.
 */
static void test_long_hello_acked(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 42000,
			  .isn = 0xffffff00 };
	struct hb h;

	(void)state;
	long_hello(&h, 6000);
	assert_true(h.n > SNILB_HELLO_OWN_FROM + SEG);
	connect_to(&c);
	send_acked(&c, &h);
	assert_int_equal(flow_get(&c)->state, SNILB_FS_ROUTED);
	assert_int_equal(hello_part(&c, &h, 0, SEG), TC_ACT_REDIRECT);
	assert_int_equal(rv.flags, 0x10);
	assert_int_equal(rv.ack, (uint32_t)(c.isn + 1 + flow_get(&c)->h_acked));

	c.port++;
	long_hello(&h, 1300);
	connect_to(&c);
	assert_int_equal(hello_part(&c, &h, 0, 1000), TC_ACT_SHOT);
	assert_int_equal(hello_part(&c, &h, 1000, h.n), TC_ACT_REDIRECT);
	assert_int_equal(rv.flags, 0x02);
	assert_int_equal(flow_get(&c)->h_acked, 0);
}

/* The backend's SYN-ACK (twice: our second SYN's too), then the replay;
 * its last segment is in rv. */
static void splice_long(struct conn *c, struct bside *b, struct hb *h)
{
	struct tpkt t;

	connect_to(c);
	send_acked(c, h);
	expect_syn_to(c, b);
	t = from_backend(c, b, 0x12, b->isn, c->isn + 1, NULL, 0, NULL, 0);
	first_synack(c, b, &t);
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_int_equal(flow_get(c)->state, SNILB_FS_SPLICED);
	assert_string_equal(rv.dst, b->addr);
	assert_int_equal(rv.seq + rv.plen, c->isn + 1 + h->n);
	assert_true(hello_held(c, 0));
}

/* A pure ACK from the backend, acknowledging @ack hello bytes. */
static int backend_ack(const struct conn *c, const struct bside *b,
		       size_t ack)
{
	struct tpkt t = from_backend(c, b, 0x10, b->isn + 1,
				     c->isn + 1 + (uint32_t)ack, NULL, 0,
				     NULL, 0);

	return run(&t);
}

/* The segment at hello offset @off went to the backend again. */
static void expect_resent(const struct conn *c, const struct bside *b,
			  const struct hb *h, size_t off)
{
	const uint8_t *payload;

	assert_string_equal(rv.src, b->snat);
	assert_string_equal(rv.dst, b->addr);
	assert_int_equal(rv.dport, 8443);
	assert_int_equal(rv.flags & 0x10, 0x10);
	assert_int_equal(rv.seq, c->isn + 1 + off);
	assert_int_equal(rv.ack, b->isn + 1);
	assert_int_equal(rv.plen, off + CHUNK < h->n ? CHUNK : h->n - off);
	assert_true(rv.tcp_csum_ok);
	payload = out + outlen - rv.plen;
	assert_memory_equal(payload, h->b + off, rv.plen);
}

/*
 * Spliced, the backend lost the replay's second segment: its first ACK
 * (of the first) sends nothing, its duplicate gets the second again, a
 * further one at once does not. It lost the fourth too: its ACK of the
 * first three (after a resend: the next hole) gets that one. Its ACK of
 * the whole goes on to the client, and the buffer is freed.
 */
static void test_owned_resend(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 42010, .isn = 5 };
	struct bside b = { .addr = BE1, .snat = SNAT4, .isn = 7000 };
	uint64_t rtx = counter(SNILB_ST_HELLO_RTX);
	struct hb h;

	(void)state;
	long_hello(&h, 6000);
	splice_long(&c, &b, &h);
	assert_int_equal(backend_ack(&c, &b, CHUNK), TC_ACT_SHOT);
	assert_int_equal(counter(SNILB_ST_HELLO_RTX), rtx);
	assert_int_equal(backend_ack(&c, &b, CHUNK), TC_ACT_REDIRECT);
	expect_resent(&c, &b, &h, CHUNK);
	assert_int_equal(counter(SNILB_ST_HELLO_RTX), rtx + 1);
	assert_int_equal(backend_ack(&c, &b, CHUNK), TC_ACT_SHOT);
	assert_int_equal(backend_ack(&c, &b, 3 * CHUNK), TC_ACT_REDIRECT);
	expect_resent(&c, &b, &h, 3 * CHUNK);
	assert_int_equal(counter(SNILB_ST_HELLO_RTX), rtx + 2);
	assert_true(hello_held(&c, 0));
	/* All of what we acknowledged: the client's, translated. */
	assert_int_equal(backend_ack(&c, &b, h.n - 1), TC_ACT_REDIRECT);
	assert_string_equal(rv.dst, CLI4);
	assert_int_equal(rv.ack, c.isn + h.n);
	assert_int_equal(rv.seq, c.cookie + 1);
	assert_false(hello_held(&c, 0));
	/* Later ACKs are the spliced path's. */
	assert_int_equal(backend_ack(&c, &b, h.n), TC_ACT_REDIRECT);
	assert_string_equal(rv.dst, CLI4);
	assert_int_equal(counter(SNILB_ST_HELLO_RTX), rtx + 2);
}

/*
 * The backend lost the whole replay: it sends its SYN-ACK again, which
 * gets the first segment. A flow that ends (an exact RST) while its hello
 * is kept takes the buffer with it.
 */
static void test_owned_synack_and_end(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 42020, .isn = 9 };
	struct bside b = { .addr = BE1, .snat = SNAT4, .isn = 8000 };
	struct tpkt t;
	struct hb h;

	(void)state;
	long_hello(&h, 5000);
	splice_long(&c, &b, &h);
	t = from_backend(&c, &b, 0x12, b.isn, c.isn + 1, NULL, 0, NULL, 0);
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	expect_resent(&c, &b, &h, 0);
	t = from_backend(&c, &b, 0x04, b.isn + 1, 0, NULL, 0, NULL, 0);
	run(&t);
	assert_null(flow_get(&c));
	assert_false(hello_held(&c, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_long_hello_acked),
		cmocka_unit_test(test_owned_resend),
		cmocka_unit_test(test_owned_synack_and_end),
	};

	return cmocka_run_group_tests_name("owned", tests, harness_setup,
					   harness_teardown);
}

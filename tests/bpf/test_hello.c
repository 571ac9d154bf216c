// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The ClientHello before a route, with BPF_PROG_TEST_RUN
 * (tests/bpf/harness.c): segments buffered at their offsets, out of order
 * (held and SACKed), repeated or overlapping, from outside the window;
 * a hello that does not parse and a client that gives up before sending
 * one both reset; which buffer holds a hello (hellos_small first, unless
 * it comes whole or is too long for it).
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

static void test_bad_hello_resets(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 40011, .isn = 3 };
	uint64_t before = counter(SNILB_ST_REJECT_BASE + CH_R_BAD_SNI);
	struct tpkt t;

	(void)state;
	connect_to(&c);
	send_hello(&c, "bad_name.example.com", TC_ACT_REDIRECT);
	assert_int_equal(counter(SNILB_ST_REJECT_BASE + CH_R_BAD_SNI),
			 before + 1);
	/* Not TLS at all. */
	c.port++;
	connect_to(&c);
	t = seg(&c, 0x18, 0, (const uint8_t *)"GET / HTTP/1.1\r\n", 16);
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	expect_reset(&c, 16);			/* not a handshake */
}

static void test_hello_in_segments(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 40020,
			  .isn = 0xffffff00 };
	uint64_t ooo = counter(SNILB_ST_HELLO_OOO);
	uint64_t dup = counter(SNILB_ST_HELLO_DUP);
	const uint8_t *o;
	struct tpkt t;
	struct hb h;
	size_t a = 40, b = 100;

	(void)state;
	hb_simple(&h, "seg.example.com");
	assert_true(h.n > b);
	connect_to(&c);
	/* The second piece first: held at its offset, and the client is
	 * told so (an ACK of nothing, with a SACK block). */
	t = seg(&c, 0x18, (uint32_t)a, h.b + a, b - a);
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_int_equal(counter(SNILB_ST_HELLO_OOO), ooo + 1);
	assert_int_equal(rv.flags, 0x10);
	assert_int_equal(rv.ack, c.isn + 1);
	o = tview_opt(&rv, 5);
	assert_non_null(o);
	assert_int_equal(o[1], 10);
	assert_int_equal(be32(o + 2), c.isn + 1 + (uint32_t)a);
	assert_int_equal(be32(o + 6), c.isn + 1 + (uint32_t)b);
	/* The first piece joins it: 0..b in hand. */
	t = seg(&c, 0x18, 0, h.b, a);
	assert_int_equal(run(&t), TC_ACT_SHOT);
	assert_int_equal(flow_get(&c)->hello_len, b);
	/* A retransmission of the first piece brings nothing; nor does an
	 * overlapping one of 0..b. */
	assert_int_equal(run(&t), TC_ACT_SHOT);
	t = seg(&c, 0x18, 0, h.b, b);
	assert_int_equal(run(&t), TC_ACT_SHOT);
	assert_int_equal(counter(SNILB_ST_HELLO_DUP), dup + 2);
	assert_int_equal(flow_get(&c)->state, SNILB_FS_HELLO);
	t = seg(&c, 0x18, (uint32_t)b, h.b + b, h.n - b);
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_int_equal(flow_get(&c)->state, SNILB_FS_ROUTED);
	assert_int_equal(flow_get(&c)->route, 11);
}

/* Hello bytes from before the ISN, and from far beyond: dropped, never
 * buffered, the connection goes on. */
static void test_hello_out_of_window(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 40950, .isn = 5 };
	uint64_t gap = counter(SNILB_ST_HELLO_GAP);
	struct tpkt t;
	struct hb h;

	(void)state;
	connect_to(&c);
	hb_simple(&h, "www.example.com");
	t = seg(&c, 0x18, (uint32_t)-1000, h.b, h.n);
	assert_int_equal(run(&t), TC_ACT_SHOT);
	t = seg(&c, 0x18, 1u << 30, h.b, h.n);
	assert_int_equal(run(&t), TC_ACT_SHOT);
	assert_int_equal(counter(SNILB_ST_HELLO_GAP), gap + 2);
	send_hello(&c, "www.example.com", TC_ACT_REDIRECT);
	assert_int_equal(rv.flags, 0x02);
}

static void test_client_gives_up(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 40030, .isn = 1 };
	struct tpkt t;

	(void)state;
	connect_to(&c);
	t = seg(&c, 0x11, 0, NULL, 0);		/* FIN before any hello */
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	expect_reset(&c, 0);
	c.port++;
	connect_to(&c);
	t = seg(&c, 0x04, 0, NULL, 0);		/* RST: just forget it */
	assert_int_equal(run(&t), TC_ACT_SHOT);
	assert_null(flow_get(&c));
}

/*
 * A hello in two segments starts in the small buffer and moves to the
 * large one once whole; one whole in its first segment, or whose record
 * is longer than the small buffer holds, goes to the large one at once.
 */
static void test_hello_small_then_moved(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 40060, .isn = 77 };
	uint64_t small = counter(SNILB_ST_HELLO_SMALL);
	uint64_t moved = counter(SNILB_ST_HELLO_MOVED);
	struct tpkt t;
	struct hb h;

	(void)state;
	hb_padded(&h, "seg.example.com", 1700);	/* a PQ hello's size */
	assert_true(h.n > 1400 && h.n <= SNILB_HELLO_SMALL);
	connect_to(&c);
	t = seg(&c, 0x18, 0, h.b, 1400);
	assert_int_equal(run(&t), TC_ACT_SHOT);
	assert_int_equal(counter(SNILB_ST_HELLO_SMALL), small + 1);
	assert_true(hello_held(&c, 1));
	assert_false(hello_held(&c, 0));
	assert_int_equal(flow_get(&c)->hello_len, 1400);
	t = seg(&c, 0x18, 1400, h.b + 1400, h.n - 1400);
	assert_int_equal(run(&t), TC_ACT_REDIRECT);	/* SYN to a backend */
	assert_int_equal(rv.flags, 0x02);
	assert_int_equal(counter(SNILB_ST_HELLO_MOVED), moved + 1);
	assert_false(hello_held(&c, 1));
	assert_true(hello_held(&c, 0));
	assert_int_equal(flow_get(&c)->route, 11);

	/* Past a gap first: held small, SACKed; the first piece makes it
	 * whole and it moves with both parts. */
	c.port++;
	connect_to(&c);
	t = seg(&c, 0x18, 1000, h.b + 1000, h.n - 1000);
	assert_int_equal(run(&t), TC_ACT_REDIRECT);	/* ACK with SACK */
	assert_true(hello_held(&c, 1));
	t = seg(&c, 0x18, 0, h.b, 1000);
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_int_equal(rv.flags, 0x02);
	assert_false(hello_held(&c, 1));
	assert_int_equal(flow_get(&c)->state, SNILB_FS_ROUTED);

	/* Whole in one segment: never small. */
	c.port++;
	connect_to(&c);
	send_hello(&c, "seg.example.com", TC_ACT_REDIRECT);
	assert_int_equal(counter(SNILB_ST_HELLO_SMALL), small + 2);

	/* A record longer than the small buffer: large from the start
	 * (and, longer than a first flight, its bytes acknowledged). */
	hb_padded(&h, "seg.example.com", 5000);
	c.port++;
	connect_to(&c);
	t = seg(&c, 0x18, 0, h.b, 1400);
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_int_equal(rv.ack, c.isn + 1 + 1400);
	assert_false(hello_held(&c, 1));
	assert_true(hello_held(&c, 0));
	assert_int_equal(counter(SNILB_ST_HELLO_SMALL), small + 2);
}

/* A client that sends half a hello and resets, or half a hello that
 * then reaches past the small buffer: nothing left behind small. */
static void test_hello_small_freed(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 40070, .isn = 9 };
	uint64_t moved = counter(SNILB_ST_HELLO_MOVED);
	struct tpkt t;
	struct hb h;

	(void)state;
	hb_padded(&h, "seg.example.com", 1700);
	connect_to(&c);
	t = seg(&c, 0x18, 0, h.b, 600);
	assert_int_equal(run(&t), TC_ACT_SHOT);
	assert_true(hello_held(&c, 1));
	t = seg(&c, 0x04, 600, NULL, 0);	/* RST right after it */
	assert_int_equal(run(&t), TC_ACT_SHOT);
	assert_null(flow_get(&c));
	assert_false(hello_held(&c, 1));

	/* A later segment first, then one reaching past the small
	 * buffer (its record says it fits, the segment does not). */
	c.port++;
	connect_to(&c);
	t = seg(&c, 0x18, 200, h.b + 200, 400);
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_true(hello_held(&c, 1));
	t = seg(&c, 0x18, 2800, h.b, 400);
	run(&t);
	assert_int_equal(counter(SNILB_ST_HELLO_MOVED), moved + 1);
	assert_false(hello_held(&c, 1));
	assert_true(hello_held(&c, 0));
	assert_int_equal(flow_get(&c)->hello_len, 0);
	assert_true(flow_get(&c)->ooo);
}

/* hellos_small full: a hello that would start there is reset (table
 * full), never spilled into hellos; one whole in its segment still goes. */
static void test_hello_small_full(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 40080, .isn = 4 };
	int fd = dp_map_fd(dp, SNILB_MAP_HELLOS_SMALL);
	uint64_t full = counter(SNILB_ST_REJECT_BASE + SNILB_REJ_TABLE_FULL);
	static struct snilb_hello_small zero;
	struct snilb_flow_key k = { .family = SNILB_AF_INET };
	struct tpkt t;
	struct hb h;
	uint32_t i;

	(void)state;
	for (i = 0; i < SNILB_MAX_HELLOS; i++) {
		k.cport = (uint16_t)i;
		k.caddr[0] = i + 1;
		bpf_map_update_elem(fd, &k, &zero, BPF_NOEXIST);
	}
	hb_padded(&h, "seg.example.com", 1700);
	connect_to(&c);
	t = seg(&c, 0x18, 0, h.b, 1400);
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	expect_reset(&c, 1400);
	assert_int_equal(counter(SNILB_ST_REJECT_BASE + SNILB_REJ_TABLE_FULL),
			 full + 1);
	assert_false(hello_held(&c, 0));
	c.port++;
	connect_to(&c);
	send_hello(&c, "seg.example.com", TC_ACT_REDIRECT);
	assert_int_equal(rv.flags, 0x02);
	for (i = 0; i < SNILB_MAX_HELLOS; i++) {
		k.cport = (uint16_t)i;
		k.caddr[0] = i + 1;
		bpf_map_delete_elem(fd, &k);
	}
}

/* A segment from far past the window holds nothing and keeps no entry:
 * a hello that then starts small is not split between the two tables
 * (a stray empty hellos entry took its later segments, and its small
 * entry was left behind). */
static void test_hello_stray_then_small(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 40090, .isn = 6 };
	struct tpkt t;
	struct hb h;

	(void)state;
	hb_padded(&h, "seg.example.com", 1700);
	connect_to(&c);
	t = seg(&c, 0x18, 1u << 30, h.b, 100);
	assert_int_equal(run(&t), TC_ACT_SHOT);
	assert_false(hello_held(&c, 0));
	assert_false(hello_held(&c, 1));
	t = seg(&c, 0x18, 0, h.b, 1400);
	assert_int_equal(run(&t), TC_ACT_SHOT);
	assert_true(hello_held(&c, 1));
	t = seg(&c, 0x18, 1400, h.b + 1400, h.n - 1400);
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_int_equal(rv.flags, 0x02);		/* SYN to a backend */
	assert_int_equal(flow_get(&c)->state, SNILB_FS_ROUTED);
	assert_false(hello_held(&c, 1));
}

/* A record header that says more than the ClientHello in it: the parser
 * routes the hello once the handshake message is whole, as it did before
 * the small buffer (which once waited for the record's end: chaos
 * t_hostile's record-len-long, reset by the hello timeout). */
static void test_hello_record_longer(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 40100, .isn = 8 };
	unsigned int rec;
	struct tpkt t;
	struct hb h;

	(void)state;
	hb_simple(&h, "seg.example.com");
	rec = (unsigned int)h.b[3] << 8 | h.b[4];
	h.b[3] = (uint8_t)((rec + 100) >> 8);
	h.b[4] = (uint8_t)(rec + 100);
	connect_to(&c);
	t = seg(&c, 0x18, 0, h.b, h.n);
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_int_equal(rv.flags, 0x02);		/* SYN to a backend */
	/* The same in two segments: routed by the second. */
	c.port++;
	connect_to(&c);
	t = seg(&c, 0x18, 0, h.b, 40);
	assert_int_equal(run(&t), TC_ACT_SHOT);
	assert_true(hello_held(&c, 1));
	t = seg(&c, 0x18, 40, h.b + 40, h.n - 40);
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_int_equal(rv.flags, 0x02);
	assert_false(hello_held(&c, 1));
}

/* A byte at a time: parsed when the parser's last need is met, not at
 * each byte, in the small buffer as in hellos: "\x16" needs 6 bytes, so
 * a wrong version in the second byte is found at the sixth (e2e's slow
 * client, reset by the hello timeout, was reset at its second byte). */
static void test_hello_byte_at_a_time(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 40110, .isn = 2 };
	static const uint8_t b[6] = { 0x16, 0x16, 0x16, 0x16, 0x16, 0x16 };
	struct tpkt t;
	uint32_t i;

	(void)state;
	connect_to(&c);
	for (i = 0; i < 5; i++) {
		t = seg(&c, 0x18, i, b + i, 1);
		assert_int_equal(run(&t), TC_ACT_SHOT);
		assert_int_equal(flow_get(&c)->hello_len, i + 1);
	}
	assert_true(hello_held(&c, 1));
	t = seg(&c, 0x18, 5, b + 5, 1);
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	expect_reset(&c, 6);				/* bad version */
}

/* A flow spliced on another CPU after snilb_ingress sent its packet here
 * (a state past ROUTED: CLOSING stands in, which snilb_ingress also sends
 * here): the hello program leaves it alone, no hello buffered again, no
 * second route or bind. */
static void test_hello_past_routed(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 40120, .isn = 12 };
	struct bside b = { .addr = BE1, .snat = SNAT4, .isn = 5000 };
	struct snilb_flow f;
	struct tpkt t;
	struct hb h;

	(void)state;
	splice_up(&c, &b, &h);
	f = *flow_get(&c);
	f.state = SNILB_FS_CLOSING;
	flow_put(&c, &f);
	t = seg(&c, 0x18, 0, h.b, h.n);		/* the hello again */
	assert_int_equal(run(&t), TC_ACT_SHOT);
	assert_int_equal(flow_get(&c)->state, SNILB_FS_CLOSING);
	assert_int_equal(flow_get(&c)->nport, f.nport);
	assert_false(hello_held(&c, 0));
	f.state = SNILB_FS_SPLICED;
	flow_put(&c, &f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_hello_resets),
		cmocka_unit_test(test_hello_in_segments),
		cmocka_unit_test(test_hello_out_of_window),
		cmocka_unit_test(test_client_gives_up),
		cmocka_unit_test(test_hello_small_then_moved),
		cmocka_unit_test(test_hello_small_freed),
		cmocka_unit_test(test_hello_small_full),
		cmocka_unit_test(test_hello_stray_then_small),
		cmocka_unit_test(test_hello_record_longer),
		cmocka_unit_test(test_hello_byte_at_a_time),
		cmocka_unit_test(test_hello_past_routed),
	};

	return cmocka_run_group_tests_name("hello", tests, harness_setup,
					   harness_teardown);
}

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * PROXY protocol v2 toward the backends that ask for it (bpf/proxy.h),
 * packet in -> packet out with BPF_PROG_TEST_RUN: the header's bytes
 * (addresses, ports, the connection id, ALPN, SNI; IPv4 and IPv6), the
 * backend's ISN (the client's less the header's length) and so the
 * sequence numbers of the replay and of spliced packets both ways, the
 * header sent again when the backend did not ACK it, and a backend that
 * did not ask, in the same set too, that never gets it.
 */
#include <arpa/inet.h>
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

/* Ours, past the harness's: backends 4 (BE1, PROXY v2), 5 (BE6, PROXY
 * v2); sets 20 {4}, 21 {5}, 22 {1, 4}. */
#define PP_BE4		4
#define PP_BE6		5
#define PP_BE1		1	/* the harness's, no PROXY */

/* The header snilb must have built for @c, with ALPN "h2", SNI @name. */
static size_t expected_header(const struct conn *c, const char *name,
			      uint8_t *h)
{
	const struct snilb_flow *f = flow_get(c);
	struct snilb_flow_key k;
	size_t alen = c->v6 ? 16 : 4, at, n = strlen(name);
	uint64_t id;
	int i;

	assert_non_null(f);
	flow_key_of(c, &k);
	id = snilb_conn_id(&k, f->client_isn, f->created_ns);
	memcpy(h, "\r\n\r\n\0\r\nQUIT\n", 12);
	h[12] = 0x21;
	h[13] = c->v6 ? 0x21 : 0x11;
	memcpy(h + 16, k.caddr, alen);
	memcpy(h + 16 + alen, k.vaddr, alen);
	memcpy(h + 16 + 2 * alen, &k.cport, 2);
	memcpy(h + 18 + 2 * alen, &k.vport, 2);
	at = 20 + 2 * alen;
	h[at] = 0x05;			/* PP2_TYPE_UNIQUE_ID */
	h[at + 1] = 0;
	h[at + 2] = 16;
	for (i = 0; i < 16; i++)
		h[at + 3 + i] = "0123456789abcdef"[(id >> (60 - 4 * i)) & 15];
	at += 19;
	memcpy(h + at, "\x01\0\x02h2", 5);	/* PP2_TYPE_ALPN */
	at += 5;
	h[at] = 0x02;			/* PP2_TYPE_AUTHORITY */
	h[at + 1] = 0;
	h[at + 2] = (uint8_t)n;
	memcpy(h + at + 3, name, n);
	at += 3 + n;
	h[14] = (uint8_t)((at - 16) >> 8);
	h[15] = (uint8_t)(at - 16);
	return at;
}

/*
 * Route @name, expect the SYN to the backend at @b with ISN client - @pp,
 * its SYN-ACK twice (our second SYN's too), and the replay, whose last
 * segment (rv) is the hello at the client's own sequence numbers.
 */
static void splice_pp(struct conn *c, struct bside *b, const char *name,
		      size_t pp)
{
	struct tpkt t;
	struct hb h;

	connect_to(c);
	hb_simple(&h, name);
	t = seg(c, 0x18, 0, h.b, h.n);
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_int_equal(rv.flags, 0x02);
	assert_string_equal(rv.dst, b->addr);
	assert_int_equal(rv.seq, (uint32_t)(c->isn - pp));
	b->nport = rv.sport;
	assert_int_equal(flow_get(c)->pp_len, pp);
	/* Our first SYN went ahead of it, the same ISN (bind.h syn_twice()). */
	assert_int_equal(clone_next(), 0);
	assert_int_equal(cv.flags, 0x02);
	assert_int_equal(cv.seq, (uint32_t)(c->isn - pp));
	/* Its SYN-ACK must acknowledge that ISN: the client's is not. */
	t = from_backend(c, b, 0x12, b->isn, c->isn + 1, NULL, 0, NULL, 0);
	if (pp)
		assert_int_equal(run(&t), TC_ACT_SHOT);
	t = from_backend(c, b, 0x12, b->isn, (uint32_t)(c->isn + 1 - pp),
			 NULL, 0, NULL, 0);
	/* Held: our second SYN's SYN-ACK comes next. */
	assert_int_equal(run(&t), TC_ACT_SHOT);
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_int_equal(flow_get(c)->state, SNILB_FS_SPLICED);
	assert_string_equal(rv.dst, b->addr);
	assert_int_equal(rv.seq, c->isn + 1);
	assert_int_equal(rv.ack, b->isn + 1);
	assert_int_equal(rv.plen, h.n);
	assert_true(rv.tcp_csum_ok);
	assert_memory_equal(out + outlen - rv.plen, h.b, h.n);
}

/* A pure ACK from the backend at @ack (its numbers for the client's). */
static int backend_ack(const struct conn *c, const struct bside *b,
		       uint32_t ack)
{
	struct tpkt t = from_backend(c, b, 0x10, b->isn + 1, ack, NULL, 0,
				     NULL, 0);

	return run(&t);
}

static void header_case(struct conn *c, struct bside *b, const char *name)
{
	uint64_t rtx = counter(SNILB_ST_HELLO_RTX);
	static struct snilb_hello hb;
	uint8_t want[SNILB_PP2_BUF] = { 0 };
	size_t n;
	struct tpkt t;

	struct hb h;

	/* Built when routed, kept until the backend has it. */
	connect_to(c);
	hb_simple(&h, name);
	t = seg(c, 0x18, 0, h.b, h.n);
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	n = expected_header(c, name, want);
	assert_non_null(hello_get(c));
	hb = *hello_get(c);
	assert_int_equal(hb.pp_len, n);
	assert_memory_equal(hb.pp, want, n);
	/* Zero past it: replay.h sums it four bytes at a time. */
	assert_memory_equal(hb.pp + n, want + n, SNILB_PP2_BUF - n);
	assert_int_equal(rv.seq, (uint32_t)(c->isn - n));

	/* Once more from the start, spliced. */
	c->port++;
	splice_pp(c, b, name, n);
	n = expected_header(c, name, want);
	assert_non_null(hello_get(c));
	hb = *hello_get(c);
	/* The backend got the hello, not the header: its duplicate ACK
	 * gets the header again, alone, at its sequence numbers. */
	assert_int_equal(backend_ack(c, b, (uint32_t)(c->isn + 1 - n)),
			 TC_ACT_REDIRECT);
	assert_string_equal(rv.dst, b->addr);
	assert_string_equal(rv.src, b->snat);
	assert_int_equal(rv.seq, (uint32_t)(c->isn + 1 - n));
	assert_int_equal(rv.ack, b->isn + 1);
	assert_int_equal(rv.plen, n);
	assert_true(rv.tcp_csum_ok);
	assert_memory_equal(out + outlen - n, want, n);
	assert_int_equal(counter(SNILB_ST_HELLO_RTX), rtx + 1);
	/* Not again at once. */
	assert_int_equal(backend_ack(c, b, (uint32_t)(c->isn + 1 - n)),
			 TC_ACT_SHOT);
	/* Its ACK of header and hello: the client's, untranslated (the
	 * client's numbers are the backend's), the buffer freed. */
	assert_int_equal(backend_ack(c, b, c->isn + 1 + 100), TC_ACT_REDIRECT);
	assert_string_equal(rv.dst, c->cli);
	assert_int_equal(rv.ack, c->isn + 1 + 100);
	assert_int_equal(rv.seq, c->cookie + 1);
	assert_null(hello_get(c));
}

static void test_header_v4(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 43000,
			  .isn = 0x10 };	/* the backend's ISN wraps */
	struct bside b = { .addr = BE1, .snat = SNAT4, .isn = 9000 };

	(void)state;
	header_case(&c, &b, "pp.example.com");
}

static void test_header_v6(void **state)
{
	struct conn c = { .v6 = 1, .cli = CLI6, .vip = VIP6, .port = 43100,
			  .isn = 0x7fffffff };
	struct bside b = { .addr = BE6, .snat = SNAT6, .isn = 19000 };

	(void)state;
	header_case(&c, &b, "pp6.example.com");
}

/* The header's length for @c and @name (ALPN "h2"). */
static size_t header_len(const struct conn *c, const char *name);

/* Spliced with a header the backend has not acknowledged yet, then reset
 * by it: the hello kept for the header goes with the flow (it stayed,
 * 32 KiB, until the reaper's sweep came). */
static void test_reset_frees_header(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 43050, .isn = 77 };
	struct bside b = { .addr = BE1, .snat = SNAT4, .isn = 9100 };
	struct tpkt t;

	(void)state;
	splice_pp(&c, &b, "pp.example.com", header_len(&c, "pp.example.com"));
	assert_true(hello_held(&c, 0));
	t = from_backend(&c, &b, 0x04, b.isn + 1, 0, NULL, 0, NULL, 0);
	run(&t);
	assert_null(flow_get(&c));
	assert_false(hello_held(&c, 0));
}

static size_t header_len(const struct conn *c, const char *name)
{
	return 16 + (c->v6 ? 36 : 12) + 19 + 5 + 3 + strlen(name);
}

/*
 * Spliced with the header: the client's data goes on at its own
 * sequence numbers, its ACKs and the backend's data translated as
 * always: nothing new on the spliced path.
 */
static void test_spliced_seq(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 43200,
			  .isn = 123456 };
	struct bside b = { .addr = BE1, .snat = SNAT4, .isn = 555 };
	static const uint8_t data[300] = { 1, 2, 3 };
	size_t n = header_len(&c, "pp.example.com");
	uint32_t hl;
	struct tpkt t;
	struct hb h;

	(void)state;
	hb_simple(&h, "pp.example.com");
	hl = (uint32_t)h.n;
	splice_pp(&c, &b, "pp.example.com", n);
	assert_int_equal(backend_ack(&c, &b, c.isn + 1 + hl), TC_ACT_REDIRECT);
	/* Client data after its hello, with an ACK of the backend's byte 1
	 * (our numbers: cookie + 1 + 1). */
	t = seg(&c, 0x18, hl, data, sizeof(data));
	t.ack = c.cookie + 2;
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_string_equal(rv.dst, BE1);
	assert_int_equal(rv.seq, c.isn + 1 + hl);
	assert_int_equal(rv.ack, b.isn + 2);
	assert_int_equal(rv.plen, sizeof(data));
	/* Backend data: its numbers to ours, its ACK as it is. */
	t = from_backend(&c, &b, 0x18, b.isn + 1, c.isn + 1 + hl + 300, NULL,
			 0, data, 100);
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_string_equal(rv.dst, CLI4);
	assert_int_equal(rv.seq, c.cookie + 1);
	assert_int_equal(rv.ack, c.isn + 1 + hl + 300);
	assert_int_equal(rv.plen, 100);
}

/*
 * The backend lost the whole replay: its SYN-ACK again gets the header
 * again, alone; then its ACK of the header alone (the hello is the
 * client's to resend) ends what snilb owns.
 */
static void test_synack_again(void **state)
{
	struct conn c = { .v6 = 1, .cli = CLI6, .vip = VIP6, .port = 43500,
			  .isn = 3 };
	struct bside b = { .addr = BE6, .snat = SNAT6, .isn = 700 };
	size_t n = header_len(&c, "pp6.example.com");
	uint8_t want[SNILB_PP2_BUF] = { 0 };
	struct tpkt t;

	(void)state;
	splice_pp(&c, &b, "pp6.example.com", n);
	assert_int_equal(expected_header(&c, "pp6.example.com", want), n);
	t = from_backend(&c, &b, 0x12, b.isn, (uint32_t)(c.isn + 1 - n), NULL,
			 0, NULL, 0);
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_string_equal(rv.dst, BE6);
	assert_int_equal(rv.flags & 0x12, 0x10);
	assert_int_equal(rv.seq, (uint32_t)(c.isn + 1 - n));
	assert_int_equal(rv.plen, n);
	assert_true(rv.tcp_csum_ok);
	assert_memory_equal(out + outlen - n, want, n);
	assert_int_equal(backend_ack(&c, &b, c.isn + 1), TC_ACT_REDIRECT);
	assert_string_equal(rv.dst, CLI6);
	assert_null(hello_get(&c));
}

/*
 * A set of a backend that asks (4) and one that does not (1), the same
 * address and port: the header is built for the set, but only a flow
 * bound to 4 gets it; a flow on 1 has the client's ISN, and nothing the
 * backend says sends it a header. Refused by 1, a flow tries 4, with it.
 */
static void test_mixed_set(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 43300, .isn = 77 };
	struct bside b = { .addr = BE1, .snat = SNAT4, .isn = 4000 };
	size_t n = header_len(&c, "mixed.example.com");
	int plain = 0, pp = 0, i;
	struct tpkt t;
	struct hb h;

	(void)state;
	hb_simple(&h, "mixed.example.com");
	for (i = 0; i < 64 && !(plain && pp); i++, c.port++) {
		connect_to(&c);
		t = seg(&c, 0x18, 0, h.b, h.n);
		assert_int_equal(run(&t), TC_ACT_REDIRECT);
		b.nport = rv.sport;
		if (flow_get(&c)->backend == PP_BE4) {
			assert_int_equal(rv.seq, (uint32_t)(c.isn - n));
			pp++;
			continue;
		}
		assert_int_equal(flow_get(&c)->backend, PP_BE1);
		assert_int_equal(rv.seq, c.isn);
		assert_int_equal(flow_get(&c)->pp_len, 0);
		if (plain++)
			continue;
		/* Spliced with no header: the replay is the hello alone, at
		 * the client's numbers, and a duplicate ACK sends nothing. */
		t = from_backend(&c, &b, 0x12, b.isn, c.isn + 1, NULL, 0,
				 NULL, 0);
		/* Held: our second SYN's SYN-ACK is next. */
		assert_int_equal(run(&t), TC_ACT_SHOT);
		assert_int_equal(run(&t), TC_ACT_REDIRECT);
		assert_int_equal(flow_get(&c)->state, SNILB_FS_SPLICED);
		assert_int_equal(rv.seq, c.isn + 1);
		assert_int_equal(rv.plen, h.n);
		assert_memory_equal(out + outlen - h.n, h.b, h.n);
		assert_int_equal(backend_ack(&c, &b, c.isn + 1), TC_ACT_REDIRECT);
		assert_string_equal(rv.dst, CLI4);	/* the client's */
		assert_int_equal(backend_ack(&c, &b, c.isn + 1), TC_ACT_REDIRECT);
		assert_string_equal(rv.dst, CLI4);
	}
	assert_true(plain && pp);
	/* A flow on 1, refused: its retry goes to 4, with the header. */
	for (i = 0; i < 64; i++, c.port++) {
		connect_to(&c);
		t = seg(&c, 0x18, 0, h.b, h.n);
		assert_int_equal(run(&t), TC_ACT_REDIRECT);
		if (flow_get(&c)->backend == PP_BE1)
			break;
	}
	assert_int_equal(flow_get(&c)->backend, PP_BE1);
	b.nport = rv.sport;
	t = from_backend(&c, &b, 0x14, 0, c.isn + 1, NULL, 0, NULL, 0);
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_int_equal(flow_get(&c)->backend, PP_BE4);
	assert_int_equal(rv.flags, 0x02);
	assert_int_equal(rv.seq, (uint32_t)(c.isn - n));
	assert_int_equal(flow_get(&c)->pp_len, n);
}

/* A set with no backend that asks builds no header. */
static void test_no_header_built(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 43400, .isn = 5 };
	static struct snilb_hello hb;

	(void)state;
	connect_to(&c);
	send_hello(&c, "www.example.com", TC_ACT_REDIRECT);
	assert_int_equal(rv.seq, c.isn);
	assert_non_null(hello_get(&c));
	hb = *hello_get(&c);
	assert_int_equal(hb.pp_len, 0);
	assert_int_equal(flow_get(&c)->pp_len, 0);
}

static int proxy_setup(void **state)
{
	static const uint32_t s20[] = { PP_BE4 }, s21[] = { PP_BE6 };
	static const uint32_t s22[] = { PP_BE1, PP_BE4 };

	if (harness_setup(state))
		return -1;
	if (dp_backend_set(dp, PP_BE4, BE1, 8443, SNILB_BE_PROXY_V2) ||
	    dp_backend_set(dp, PP_BE6, BE6, 8443, SNILB_BE_PROXY_V2) ||
	    dp_backend_set(dp, 6, BE1, 8443, 2) != -EINVAL ||
	    install_set(20, s20, 1) || install_set(21, s21, 1) ||
	    install_set(22, s22, 2) ||
	    dp_route_add(dp, 1, "pp.example.com", 30, 20) ||
	    dp_route_add(dp, 2, "pp6.example.com", 31, 21) ||
	    dp_route_add(dp, 1, "mixed.example.com", 32, 22))
		return -1;
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_v4),
		cmocka_unit_test(test_header_v6),
		cmocka_unit_test(test_reset_frees_header),
		cmocka_unit_test(test_spliced_seq),
		cmocka_unit_test(test_synack_again),
		cmocka_unit_test(test_mixed_set),
		cmocka_unit_test(test_no_header_built),
	};

	return cmocka_run_group_tests_name("proxy", tests, proxy_setup,
					   harness_teardown);
}

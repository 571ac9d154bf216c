// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The checksum arithmetic of bpf/csum.h against a model of the kernel:
 * bpf_l4_csum_replace() (inet_proto_csum_replace_by_diff() in
 * net/core/utils.c), bpf_csum_update(), bpf_skb_store_bytes() with
 * BPF_F_RECOMPUTE_CSUM, each in every skb->ip_summed state. Random
 * packets, rewritten the way bpf/tcpout.h (a whole new header) and
 * bpf/splice.h (addresses, ports, an ack) do it, with and without knowing
 * the state; each result checked in the form its state asks for. BPF can
 * not set ip_summed in BPF_PROG_TEST_RUN, so this is where the seeds are
 * proved; tests/tcp/t-offload.sh shows them in real skbs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include <cmocka.h>

#include "../../bpf/csum.h"

#define ROUNDS	5000
#define PAYLOAD	64

enum { NONE = SKB_CSUM_NONE, COMPLETE = SKB_CSUM_COMPLETE,
       PARTIAL = SKB_CSUM_PARTIAL };

/* An skb from its IP header on: IPv4 20 bytes or IPv6 40, a 20-byte TCP
 * header, a payload; skb->csum covers all of it. */
struct skb {
	int state;
	int v6;
	uint32_t csum;
	uint8_t d[40 + 20 + PAYLOAD];
};

static size_t l4(const struct skb *s) { return s->v6 ? 40 : 20; }
static size_t len(const struct skb *s) { return l4(s) + 20 + PAYLOAD; }
static uint16_t *check(struct skb *s) { return (uint16_t *)&s->d[l4(s) + 16]; }

static uint32_t sum(const void *p, size_t n, uint32_t s)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i += 4) {
		uint32_t w;

		memcpy(&w, b + i, 4);
		s = csum_add32(s, w);
	}
	return s;
}

static uint32_t pseudo(const struct skb *s)
{
	uint32_t w = htonl(IPPROTO_TCP << 16 | (20 + PAYLOAD));

	if (s->v6)
		return sum(&s->d[8], 32, csum_add32(htonl(20 + PAYLOAD),
						    htonl(IPPROTO_TCP)));
	return sum(&s->d[12], 8, w);
}

static uint32_t rest(struct skb *s)	/* TCP header, check 0, payload */
{
	uint16_t c = *check(s);
	uint32_t r;

	*check(s) = 0;
	r = sum(&s->d[l4(s)], 20 + PAYLOAD, 0);
	*check(s) = c;
	return r;
}

static int eq16(uint32_t a, uint32_t b)	/* modulo 0xffff */
{
	return fold16(a) % 0xffff == fold16(b) % 0xffff;
}

/* The kernel's helpers, as they behave. */
static void l4_csum_replace(struct skb *s, uint32_t diff, int pseudohdr)
{
	uint16_t *f = check(s);

	if (s->state != PARTIAL) {
		*f = (uint16_t)~fold16(csum_add32(diff, ~(uint32_t)*f));
		if (s->state == COMPLETE && pseudohdr)
			s->csum = ~csum_add32(diff, ~s->csum);
	} else if (pseudohdr) {
		*f = fold16(csum_add32(diff, *f));
	}
}

static void csum_update(struct skb *s, uint32_t d)
{
	if (s->state == COMPLETE)
		s->csum = csum_add32(s->csum, d);
}

static void store_rcsum(struct skb *s, size_t off, const void *p, size_t n)
{
	if (s->state == COMPLETE)	/* @off even: no byte rotation */
		s->csum = sum(p, n, csum_add32(s->csum,
					       ~sum(&s->d[off], n, 0)));
	memcpy(&s->d[off], p, n);
}

static void ip4_check(struct skb *s)
{
	uint16_t *c = (uint16_t *)&s->d[10];

	*c = 0;
	*c = (uint16_t)~fold16(sum(s->d, 20, 0));
}

/* A good packet in @state: random addresses, header, payload. */
static void fill(struct skb *s, int state, int v6)
{
	size_t i;

	s->state = state;
	s->v6 = v6;
	for (i = 0; i < sizeof(s->d); i++)
		s->d[i] = (uint8_t)random();
	if (v6) {
		s->d[0] = 0x60;
		s->d[6] = IPPROTO_TCP;
		*(uint16_t *)&s->d[4] = htons(20 + PAYLOAD);
	} else {
		s->d[0] = 0x45;
		s->d[9] = IPPROTO_TCP;
		*(uint16_t *)&s->d[2] = htons(20 + 20 + PAYLOAD);
		ip4_check(s);
	}
	*check(s) = state == PARTIAL ? csum_partial_field(pseudo(s)) :
		    csum_full(pseudo(s), rest(s));
	s->csum = sum(s->d, len(s), 0);
}

/* What the state asks for. */
static void verify(struct skb *s)
{
	if (s->state == PARTIAL) {
		assert_true(eq16(*check(s), pseudo(s)));
		return;
	}
	assert_true(eq16(~fold16(sum(&s->d[l4(s)], 20 + PAYLOAD,
				     pseudo(s))), 0));
	if (s->state == COMPLETE)
		assert_true(eq16(s->csum, sum(s->d, len(s), 0)));
}

/* tcpout.h: addresses and TCP header new; the payload is kept. */
static void new_header(struct skb *s, uint8_t *h)
{
	size_t i, n = l4(s) + 20;

	memcpy(h, s->d, n);
	for (i = s->v6 ? 8 : 12; i < n; i++)
		h[i] = (uint8_t)random();
	if (!s->v6) {
		memcpy(s->d, h, 20);	/* for ip4_check() */
		ip4_check(s);
		memcpy(h, s->d, 20);
	}
}

static void write_tcp(struct skb *s, int known)
{
	uint8_t h[60], keep[60];
	uint32_t p, r;
	size_t n = l4(s) + 20;
	uint16_t *c;

	memcpy(keep, s->d, n);
	new_header(s, h);
	c = (uint16_t *)&h[l4(s) + 16];
	*c = 0;
	memcpy(s->d, h, n);		/* to sum it */
	p = pseudo(s);
	r = rest(s);
	memcpy(s->d, keep, n);
	if (known && s->state == PARTIAL) {
		*c = csum_partial_field(p);
		memcpy(s->d, h, n);
	} else if (known && s->state == NONE) {
		*c = csum_full(p, r);
		memcpy(s->d, h, n);
	} else if (known) {
		*c = csum_full(p, r);
		store_rcsum(s, 0, h, n);
	} else {
		*c = csum_seed(r);
		store_rcsum(s, 0, h, n);
		l4_csum_replace(s, csum_seed_diff(p, r), 1);
	}
}

/* splice.h: new addresses and ports, ack + a delta, written directly; the
 * deltas summed as set_tuple() and add32_at() sum them. @old_v6: the
 * helper calls before the fix (BPF_F_PSEUDO_HDR for IPv6 too). */
static void splice(struct skb *s, int known, int old_v6)
{
	uint32_t dp = 0, dr = 0, w, nw;
	size_t i, a = s->v6 ? 8 : 12, na = s->v6 ? 8 : 2;

	for (i = 0; i < na; i++) {
		memcpy(&w, &s->d[a + 4 * i], 4);
		nw = (uint32_t)random();
		dp = csum_swap(dp, w, nw);
		memcpy(&s->d[a + 4 * i], &nw, 4);
	}
	if (!s->v6)
		ip4_check(s);
	for (i = 0; i < 12; i += 8) {	/* ports; ack */
		memcpy(&w, &s->d[l4(s) + i], 4);
		nw = (uint32_t)random();
		dr = csum_swap(dr, w, nw);
		memcpy(&s->d[l4(s) + i], &nw, 4);
	}
	if (known && s->state == PARTIAL) {
		*check(s) = csum_patch_partial(*check(s), dp);
	} else if (known) {
		*check(s) = csum_patch_full(*check(s), dp, dr);
		if (s->state == COMPLETE && !s->v6)
			csum_update(s, ~dp);
	} else if (!s->v6 || old_v6) {
		l4_csum_replace(s, dp, 1);
		l4_csum_replace(s, dr, 0);
	} else {
		*check(s) = csum_v6_pre(*check(s), dp);
		l4_csum_replace(s, csum_v6_diff(dp, dr), 0);
	}
}

static void each_state(void (*f)(struct skb *, int, int), int arg)
{
	static const int states[] = { NONE, PARTIAL, COMPLETE };
	struct skb s;
	int i, st, v6, known;

	for (i = 0; i < ROUNDS; i++)
		for (st = 0; st < 3; st++)
			for (v6 = 0; v6 < 2; v6++)
				for (known = 0; known < 2; known++) {
					fill(&s, states[st], v6);
					verify(&s);
					f(&s, known, arg);
					verify(&s);
				}
}

static void do_write(struct skb *s, int known, int arg)
{
	(void)arg;
	write_tcp(s, known);
}

static void do_splice(struct skb *s, int known, int arg)
{
	splice(s, known, arg);
}

static void test_half(void **state)
{
	uint32_t x;

	(void)state;
	for (x = 0; x < 0x10000; x++)
		assert_true(eq16(2 * (uint32_t)csum_half((uint16_t)x), x));
}

static void test_write_tcp(void **state)
{
	(void)state;
	each_state(do_write, 0);
}

static void test_splice(void **state)
{
	(void)state;
	each_state(do_splice, 0);
}

/* The defect fixed (issue 13, item 10): BPF_F_PSEUDO_HDR without
 * BPF_F_IPV6 moves an IPv6 COMPLETE skb->csum by -pseudo. */
static void test_splice_v6_old(void **state)
{
	struct skb s;
	int i, wrong = 0;

	(void)state;
	for (i = 0; i < 100; i++) {
		fill(&s, COMPLETE, 1);
		splice(&s, 0, 1);
		wrong += !eq16(s.csum, sum(s.d, len(&s), 0));
	}
	assert_true(wrong > 90);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_half),
		cmocka_unit_test(test_write_tcp),
		cmocka_unit_test(test_splice),
		cmocka_unit_test(test_splice_v6_old),
	};

	srandom(13);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

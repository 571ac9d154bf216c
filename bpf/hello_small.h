/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The first bytes of a hello that does not come whole in its first
 * segment (struct snilb_hello_small in include/snilb_abi.h): held in a 4
 * KiB entry of hellos_small while the parser would wait for more of it,
 * then moved to hellos (32 KiB), where the parse, the replay and the
 * PROXY header read them. A hello whole in its first segment, the usual case, goes to
 * hellos at once.
 */
#ifndef SNILB_BPF_HELLO_SMALL_H
#define SNILB_BPF_HELLO_SMALL_H

#include "common.h"
#include "hello_buf.h"
#include "segsum.h"

#define TLS_HANDSHAKE	22	/* a TLS record's content type */

/* small_segment()'s answers besides a verdict. */
enum {
	HELLO_BIG = GO_ON,	/* buffer this segment in hellos */
	HELLO_WHOLE = -2,	/* the record moved to hellos: parse it */
	HELLO_FULL = -3,	/* a table is full */
};

/*
 * The parser's answer (include/clienthello.h, ch_parse() with @cap) to the
 * @len contiguous bytes a hello has from its start (the first of them at
 * @b: 9 are read at most), where it is sure to be "need more": how many
 * it needs; else 0: a verdict, a hello whole, or a handshake in several
 * records, which the parser alone follows. The data plane parses when
 * the parser's last need is met; a hello waits in the small buffer only
 * while that answer would be "need more", so it gets the same answers,
 * at the same bytes, as in hellos (record headers that lie included).
 */
static __always_inline __u32 small_need(const __u8 *b, __u32 len,
					__u32 cap)
{
	__u32 rlen, body;

	if (!cap || cap > CH_BUF_SIZE)	/* as ch_parse() takes it */
		cap = CH_BUF_SIZE;
	if (!len || b[0] != TLS_HANDSHAKE || (len >= 2 && b[1] != 3) ||
	    (len >= 3 && b[2] > 4))
		return 0;
	if (len < 5)
		return 6;		/* the record header, a byte more */
	rlen = (__u32)b[3] << 8 | b[4];
	if (rlen < 4 || rlen > CH_RECORD_MAX || (len >= 6 && b[5] != 1))
		return 0;
	if (len < 9)
		return len + 1;		/* the handshake header */
	body = (__u32)b[6] << 16 | (__u32)b[7] << 8 | b[8];
	if (body < CH_BODY_MIN || body > CH_BUF_SIZE || 9 + body > cap ||
	    rlen < 4 + body || len >= 9 + body)
		return 0;
	return 9 + body;
}

/*
 * Whether a hello with nothing buffered yet starts in hellos_small: the
 * parser, given its first segment, would need more (small_need()), and no
 * more than SNILB_HELLO_SMALL. A later segment that comes first (the first
 * one lost) starts small too, unless it reaches past it: the parser does
 * not run either, with a gap before it.
 */
static __always_inline int start_small(struct __sk_buff *skb,
				       const struct pkt *p,
				       const struct snilb_flow *f,
				       const struct snilb_config *cfg)
{
	__u32 off = p->seq - (f->client_isn + 1), n;
	__u8 h[9] = {};

	if (off)
		return off < SNILB_HELLO_SMALL &&
		       off + p->plen <= SNILB_HELLO_SMALL;
	if (p->plen >= sizeof(h)) {
		if (bpf_skb_load_bytes(skb, p->l4 + p->doff, h, sizeof(h)))
			return 0;
	} else {
		/* 1..8, provably so to 6.1's verifier (a length of 0 is
		 * refused; the empty asm keeps clang from folding it). */
		n = p->plen;
		asm volatile("" : "+r"(n));
		n = ((n - 1) & 7) + 1;
		if (bpf_skb_load_bytes(skb, p->l4 + p->doff, h, n))
			return 0;
	}
	n = small_need(h, p->plen, cfg ? cfg->hello_cap : 0);
	return n && n <= SNILB_HELLO_SMALL;
}

/* Move @hs to hellos and free it. 0; 1 when another CPU moved it first
 * (this segment's bytes are to go there); -1 when hellos is full. An
 * entry is never replaced: another CPU may be reading it. */
static __noinline int promote(const struct snilb_flow_key *k,
			      struct snilb_hello_small *hs, struct scratch *sc)
{
	struct snilb_hello *hb = bpf_map_lookup_elem(&hellos, k);
	__u32 upto = hs->len, i;

	if (!hb) {
		bpf_map_update_elem(&hellos, k, &sc->zero_hello, BPF_NOEXIST);
		hb = bpf_map_lookup_elem(&hellos, k);	/* ours or not */
		if (!hb)
			return -1;
	}
	if (hb->len || ooo_held(hb->ooo)) {
		bpf_map_delete_elem(&hellos_small, k);
		return 1;
	}
	for (i = 0; i < SNILB_HELLO_OOO; i++) {
		hb->ooo[i] = hs->ooo[i];
		if (hs->ooo[i].end > upto)
			upto = hs->ooo[i].end;
	}
	hb->len = hs->len;
	hb->b.need = hs->need;
	for (i = 0; i < SNILB_HELLO_SMALL / 8; i++) {
		if (i * 8 >= upto)
			break;
		((__u64 *)hb->buf)[i] = ((__u64 *)hs->buf)[i];
	}
	bpf_map_delete_elem(&hellos_small, k);
	stat_inc(SNILB_ST_HELLO_MOVED);
	return 0;
}

/* @k's hellos_small entry for a hello with nothing buffered yet: a new
 * one, or the one another CPU just made. NULL: the table is full. Slow
 * hellos that fill it do not spill into hellos, whose entries whole
 * hellos need. */
static __always_inline struct snilb_hello_small *
small_new(const struct snilb_flow_key *k, struct scratch *sc)
{
	if (!bpf_map_update_elem(&hellos_small, k, &sc->zero_hello,
				 BPF_NOEXIST))
		stat_inc(SNILB_ST_HELLO_SMALL);
	return bpf_map_lookup_elem(&hellos_small, k);
}

/*
 * A hello segment while hellos has no entry for the flow: buffered in
 * hellos_small, or not. A verdict, or HELLO_BIG: buffer it in hellos (a
 * hello that does not start small, or a segment past SNILB_HELLO_SMALL:
 * what was held moved there first); HELLO_WHOLE: the parser would act
 * on what is there (small_need()), moved to hellos; HELLO_FULL: a table
 * is full (hellos_small for a new hello, hellos for one that moves).
 */
static __noinline int small_segment(struct __sk_buff *skb,
				    const struct pkt *p,
				    const struct snilb_flow_key *k,
				    struct snilb_flow *f,
				    const struct snilb_config *cfg)
{
	struct scratch *sc = get_scratch();
	struct snilb_hello_small *hs;
	__u32 off = p->seq - (f->client_isn + 1);
	int fresh = !f->hello_len && !f->ooo, st;

	if (!sc)
		return TC_ACT_SHOT;
	if (fresh && !start_small(skb, p, f, cfg))
		return HELLO_BIG;
	if (!segment_sum_ok(skb, p, sc->seg)) {
		stat_inc(SNILB_ST_BAD_CSUM);
		return TC_ACT_SHOT;
	}
	if (fresh) {
		hs = small_new(k, sc);
		if (!hs)
			return HELLO_FULL;
	} else {
		hs = bpf_map_lookup_elem(&hellos_small, k);
		if (!hs)
			return HELLO_BIG;
	}
	if (off < CH_BUF_SIZE && off + p->plen > SNILB_HELLO_SMALL)
		return promote(k, hs, sc) < 0 ? HELLO_FULL : HELLO_BIG;
	st = buffer_small(skb, p, f, hs);
	f->hello_len = hs->len;
	f->ooo = ooo_held(hs->ooo);
	if (!hs->len && !f->ooo) {	/* nothing held: none kept */
		bpf_map_delete_elem(&hellos_small, k);
		return TC_ACT_SHOT;
	}
	if (st != SEG_GREW)
		return hello_ack(skb, p, f, hs->ooo, cfg);
	if (hs->len < hs->need)
		return TC_ACT_SHOT;	/* as in hellos: no parse yet */
	hs->need = small_need(hs->buf, hs->len,
			      cfg ? cfg->hello_cap : 0);
	if (hs->need && hs->need <= SNILB_HELLO_SMALL)
		return TC_ACT_SHOT;
	st = promote(k, hs, sc);
	return st < 0 ? HELLO_FULL : st ? HELLO_BIG : HELLO_WHOLE;
}

#endif /* SNILB_BPF_HELLO_SMALL_H */

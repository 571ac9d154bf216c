/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The first bytes of a hello that does not come whole in its first
 * segment (struct snilb_hello_small in include/snilb_abi.h): held in a 4
 * KiB entry of hellos_small until its record is whole, then moved to
 * hellos (32 KiB), where the parse, the replay and the PROXY header read
 * them. A hello whole in its first segment, the usual case, goes to
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
 * Whether a hello with nothing buffered yet starts in hellos_small: its
 * first segment holds a handshake record's header, and the record is
 * longer than the segment but fits SNILB_HELLO_SMALL. A later segment
 * that comes first (the first one lost) starts small too, unless it
 * reaches past it; its record's length is not known yet.
 */
static __always_inline int start_small(struct __sk_buff *skb,
				       const struct pkt *p,
				       const struct snilb_flow *f)
{
	__u32 off = p->seq - (f->client_isn + 1), rec;
	__u8 h[5];

	if (off)
		return off < SNILB_HELLO_SMALL &&
		       off + p->plen <= SNILB_HELLO_SMALL;
	if (p->plen < sizeof(h))
		return 1;
	if (bpf_skb_load_bytes(skb, p->l4 + p->doff, h, sizeof(h)))
		return 0;
	rec = sizeof(h) + ((__u32)h[3] << 8 | h[4]);
	return h[0] == TLS_HANDSHAKE && rec > p->plen &&
	       rec <= SNILB_HELLO_SMALL;
}

/* Whether the bytes move to hellos now: the record is whole, longer than
 * this buffer, or not a handshake record (the parse says so there). */
static __always_inline int small_done(const struct snilb_hello_small *hs)
{
	__u32 rec;

	if (hs->len < 5)
		return 0;
	rec = 5 + ((__u32)hs->buf[3] << 8 | hs->buf[4]);
	return hs->buf[0] != TLS_HANDSHAKE || rec > SNILB_HELLO_SMALL ||
	       hs->len >= rec;
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
 * what was held moved there first); HELLO_WHOLE: the record is whole,
 * and moved to hellos; HELLO_FULL: a table is full (hellos_small for a
 * new hello, hellos for one that moves).
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
	if (fresh && !start_small(skb, p, f))
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
	if (!small_done(hs))
		return TC_ACT_SHOT;
	st = promote(k, hs, sc);
	return st < 0 ? HELLO_FULL : st ? HELLO_BIG : HELLO_WHOLE;
}

#endif /* SNILB_BPF_HELLO_SMALL_H */

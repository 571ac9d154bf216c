/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Buffered hello bytes sent to the backend, written over the packet in
 * hand (its SYN-ACK, or, owned.h, an ACK of it): MSS-sized segments, the
 * copies sent with bpf_clone_redirect, the last one redirected.
 */
#ifndef SNILB_BPF_REPLAY_H
#define SNILB_BPF_REPLAY_H

#include "common.h"
#include "reply.h"

#define CSUM_CHUNK	512	/* bpf_csum_diff's limit */
#define SEG_MAX		2048	/* replay segment payload, at most */

/* Checksum sum of @n (<= SEG_MAX) buffered bytes from @off. */
static __always_inline __s64 buf_csum(const __u8 *buf, __u32 off, __u32 n)
{
	__u32 done = 0, rest, word = 0;
	__s64 sum = 0;
	int i;

	for (i = 0; i < SEG_MAX / CSUM_CHUNK; i++) {
		__u64 m = n - done;

		if (m > CSUM_CHUNK)
			m = CSUM_CHUNK;
		m &= ~3ull;
		if (!m)
			break;
		asm volatile("" : "+r"(m));
		if (m > CSUM_CHUNK)
			break;
		sum = bpf_csum_diff(0, 0, (__be32 *)&buf[(off + done) &
							 CH_BUF_MASK],
				    m, sum);
		done += m;
	}
	/* 1..3 trailing bytes, zero-padded (RFC 1071). */
	rest = n - done;
	for (i = 0; i < 3; i++)
		if ((__u32)i < rest)
			((__u8 *)&word)[i] = buf[(off + done + i) & CH_BUF_MASK];
	if (rest)
		sum = bpf_csum_diff(0, 0, &word, 4, sum);
	return sum;
}

/* Checksum sum of the PROXY header's @n bytes (proxy.h): its buffer is
 * zero past them, so rounding up to 4 adds nothing. */
static __always_inline __s64 pp_csum(const __u8 *pp, __u32 n)
{
	__u64 m = (n + 3) & ~3u;

	asm volatile("" : "+r"(m));
	if (!m || m > SNILB_PP2_BUF)
		return 0;
	return bpf_csum_diff(0, 0, (__be32 *)pp, m, 0);
}

struct replay {
	struct __sk_buff *skb;
	const struct pkt *p;	/* the backend's SYN-ACK, written over */
	struct snilb_flow *f;
	struct snilb_hello *hb;
	struct tcp_out *o;
	__u32 hdr;		/* bytes before the payload */
	__u32 chunk;		/* payload per segment */
	__u32 off;		/* the next byte to send */
	__u32 len;		/* ... and the end */
	__u32 pp;		/* PROXY header bytes to send first */
	int verdict;
};

/* The PROXY header (proxy.h), a segment of its own before the hello's
 * first byte: sequence numbers client_isn + 1 - f->pp_len on. */
static __always_inline int replay_pp(struct replay *r)
{
	struct snilb_flow *f = r->f;
	struct tcp_out *o = r->o;
	__u64 m = r->pp;
	int last = r->off >= r->len;

	o->seq = f->client_isn + 1 - r->pp;
	o->plen = r->pp;
	o->flags = TCP_ACK | (last ? TCP_PSH : 0);
	o->pcsum = r->p->summed == (SUMMED_KNOWN | SKB_CSUM_PARTIAL) ? 0 :
		   pp_csum(r->hb->pp, r->pp);
	r->pp = 0;
	r->verdict = TC_ACT_SHOT;
	if (write_tcp(r->skb, r->p, o))
		return 1;
	asm volatile("" : "+r"(m));
	m = ((m - 1) & (SNILB_PP2_BUF - 1)) + 1;
	if (bpf_skb_store_bytes(r->skb, r->hdr, r->hb->pp, m,
				BPF_F_RECOMPUTE_CSUM) ||
	    set_macs(r->skb, f->bmac, f->bsmac))
		return 1;
	if (last) {
		r->verdict = bpf_redirect(f->b_ifindex, 0);
		return 1;
	}
	bpf_clone_redirect(r->skb, f->b_ifindex, 0);
	return 0;
}

static long replay_cb(__u32 i, void *ctx)
{
	struct replay *r = ctx;
	struct snilb_flow *f = r->f;
	struct tcp_out *o = r->o;
	__u32 n = r->len - r->off;
	__u64 m;
	int last;

	(void)i;
	if (r->pp)
		return replay_pp(r);
	if (n > r->chunk)
		n = r->chunk;
	last = r->off + n >= r->len;
	o->seq = f->client_isn + 1 + r->off;
	o->plen = n;
	o->flags = TCP_ACK | (last ? TCP_PSH : 0);
	/* A CHECKSUM_PARTIAL skb's field takes no payload sum. */
	o->pcsum = r->p->summed == (SUMMED_KNOWN | SKB_CSUM_PARTIAL) ? 0 :
		   buf_csum(r->hb->buf, r->off, n);
	r->verdict = TC_ACT_SHOT;
	if (write_tcp(r->skb, r->p, o))
		return 1;
	if (!n)
		return 1;
	/* 1..SEG_MAX already; said so the way 6.1 can follow (it learns
	 * nothing from "!= 0"), hidden from clang so it stays. */
	m = n;
	asm volatile("" : "+r"(m));
	m = ((m - 1) & (SEG_MAX - 1)) + 1;
	if (bpf_skb_store_bytes(r->skb, r->hdr,
				&r->hb->buf[r->off & CH_BUF_MASK], m,
				BPF_F_RECOMPUTE_CSUM))
		return 1;
	if (set_macs(r->skb, f->bmac, f->bsmac))
		return 1;
	if (last) {
		r->verdict = bpf_redirect(f->b_ifindex, 0);
		return 1;
	}
	bpf_clone_redirect(r->skb, f->b_ifindex, 0);
	r->off += n;
	return 0;
}

/* Hello bytes [@from, @to) for replay_run(); @to past the end: the end.
 * @from below 0 (-f->pp_len): the PROXY header first. */
#define REPLAY_SPAN(from, to)	((__u64)(to) << 32 | (__u32)(from))

/*
 * Send hello bytes @span (REPLAY_SPAN) to the backend, as sc->out
 * describes them: headers, ACK, window and options set, the sequence
 * number set here. The flow's path to the backend must be known
 * (resolve_backend()).
 */
static __noinline int replay_run(struct __sk_buff *skb, const struct pkt *p,
				 struct snilb_flow *f, struct snilb_hello *hb,
				 __u64 span)
{
	struct scratch *sc = get_scratch();
	struct replay r = {};

	if (!sc || ((__s32)span >= 0 && (__u32)span >= hb->len))
		return TC_ACT_SHOT;
	r.skb = skb;
	r.p = p;
	r.f = f;
	r.hb = hb;
	r.o = &sc->out;
	r.hdr = p->l3 + (p->family == SNILB_AF_INET ? 20 : 40) + 20 +
		sc->out.optlen;
	r.chunk = hb->b.rtx_chunk < 64 ? 64 : hb->b.rtx_chunk;
	if (r.chunk > SEG_MAX)
		r.chunk = SEG_MAX;
	r.off = (__u32)span;
	if ((__s32)span < 0) {		/* the header, then from 0 */
		if (!f->pp_len || hb->pp_len != f->pp_len)
			return TC_ACT_SHOT;
		r.pp = f->pp_len;
		r.off = 0;
	}
	r.len = span >> 32 < hb->len ? span >> 32 : hb->len;
	r.verdict = TC_ACT_SHOT;
	bpf_loop(CH_BUF_SIZE / 64 + 1, replay_cb, &r, 0);
	return r.verdict;
}

#endif /* SNILB_BPF_REPLAY_H */

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A hello's bytes, buffered at their offsets: the contiguous part from
 * the first byte, and up to SNILB_HELLO_OOO ranges past a gap; and our
 * ACK of them. One body
 * for both buffers (struct snilb_hello and snilb_hello_small): each
 * caller gives its buffer's size and copy chunk as constants, which the
 * verifier's bounds come from.
 */
#ifndef SNILB_BPF_HELLO_BUF_H
#define SNILB_BPF_HELLO_BUF_H

#include "common.h"
#include "stats.h"
#include "cookie.h"
#include "reply.h"

/* Copy the segment's bytes [@from, @end) of the hello (offsets) to @buf,
 * of @cap bytes and 2 * @chunk of slack; @off is where the segment
 * starts. */
static __always_inline int copy_segment(struct __sk_buff *skb,
					const struct pkt *p, __u8 *buf,
					__u32 off, __u32 from, __u32 end,
					const __u32 cap, const __u32 chunk)
{
	__u32 skip = from - off, i;

	for (i = 0; i < (cap + chunk - 1) / chunk; i++) {
		__u32 left = end - from;
		__u32 n = left < chunk ? left : chunk;

		if (!n)
			break;
		/* For the verifier: n is 1..chunk already, this makes it
		 * provably 1..2 * chunk (the buffer has that much slack).
		 * The empty asm keeps clang from folding it away. */
		asm volatile("" : "+r"(n));
		n = ((n - 1) & (2 * chunk - 1)) + 1;
		if (from >= cap)
			return -1;
		if (bpf_skb_load_bytes(skb, p->l4 + p->doff + skip,
				       &buf[from], n))
			return -1;
		from += n;
		skip += n;
	}
	return 0;
}

/* Hold [@start, @end) past the gap: merged with a range it touches, or
 * in a free slot. 0, or -1 when both slots hold other ranges. */
static __always_inline int ooo_add(struct snilb_hello_range *ooo,
				   __u32 start, __u32 end)
{
	struct snilb_hello_range *a = &ooo[0], *b = &ooo[1];

	if (a->end && start <= a->end && end >= a->start) {
		a->start = start < a->start ? start : a->start;
		a->end = end > a->end ? end : a->end;
	} else if (b->end && start <= b->end && end >= b->start) {
		b->start = start < b->start ? start : b->start;
		b->end = end > b->end ? end : b->end;
	} else if (!a->end) {
		a->start = start;
		a->end = end;
	} else if (!b->end) {
		b->start = start;
		b->end = end;
	} else {
		return -1;
	}
	if (a->end && b->end && a->start <= b->end && a->end >= b->start) {
		a->start = a->start < b->start ? a->start : b->start;
		a->end = a->end > b->end ? a->end : b->end;
		b->start = b->end = 0;
	}
	return 0;
}

/* Ranges the contiguous part now reaches join it. */
static __always_inline __u32 ooo_join(struct snilb_hello_range *ooo,
				      __u32 have)
{
	int pass, i;

	for (pass = 0; pass < SNILB_HELLO_OOO; pass++)
		for (i = 0; i < SNILB_HELLO_OOO; i++) {
			struct snilb_hello_range *r = &ooo[i];

			if (!r->end || r->start > have)
				continue;
			if (r->end > have)
				have = r->end;
			r->start = r->end = 0;
		}
	return have;
}

static __always_inline int ooo_held(const struct snilb_hello_range *ooo)
{
	return ooo[0].end || ooo[1].end;
}

enum { SEG_GREW = 0, SEG_NOTHING, SEG_HELD, SEG_BAD_SUM };

/*
 * Buffer this segment's bytes at their offset, in @buf of @cap bytes
 * whose contiguous part is *@len long. SEG_GREW: the contiguous part grew
 * (parse it); SEG_HELD: they came past a gap, and are held there (a
 * resent segment fills it: the client resends the first one it has no
 * ACK for, on its RTO, and what our SACK says is missing); SEG_NOTHING: a
 * duplicate, or beyond what we can hold.
 */
static __always_inline int buffer_at(struct __sk_buff *skb,
				     const struct pkt *p,
				     const struct snilb_flow *f, __u32 *len,
				     struct snilb_hello_range *ooo, __u8 *buf,
				     const __u32 cap, const __u32 chunk)
{
	__u32 off = p->seq - (f->client_isn + 1);
	__u32 have = *len, end;

	if (off >= cap || have >= cap) {
		stat_inc(SNILB_ST_HELLO_GAP);	/* before the ISN, or far */
		return SEG_NOTHING;
	}
	end = off + p->plen;
	if (end > cap)
		end = cap;
	if (end <= have) {
		stat_inc(SNILB_ST_HELLO_DUP);
		return ooo_held(ooo) ? SEG_HELD : SEG_NOTHING;
	}
	if (off > have) {
		if (copy_segment(skb, p, buf, off, off, end, cap, chunk) ||
		    ooo_add(ooo, off, end)) {
			stat_inc(SNILB_ST_HELLO_GAP);
			return SEG_NOTHING;
		}
		stat_inc(SNILB_ST_HELLO_OOO);
		return SEG_HELD;
	}
	if (copy_segment(skb, p, buf, off, have, end, cap, chunk))
		return SEG_NOTHING;
	*len = ooo_join(ooo, end);
	stat_inc(SNILB_ST_HELLO_SEG);
	return SEG_GREW;
}

static __noinline int buffer_segment(struct __sk_buff *skb,
				     const struct pkt *p,
				     const struct snilb_flow *f,
				     struct snilb_hello *hb)
{
	return buffer_at(skb, p, f, &hb->len, hb->ooo, hb->buf, CH_BUF_SIZE,
			 1024);
}

static __noinline int buffer_small(struct __sk_buff *skb,
				   const struct pkt *p,
				   const struct snilb_flow *f,
				   struct snilb_hello_small *hs)
{
	return buffer_at(skb, p, f, &hs->len, hs->ooo, hs->buf,
			 SNILB_HELLO_SMALL, SNILB_HELLO_SMALL_CHUNK);
}

/* The SACK block for range @r, in the client's numbers, at @b. */
static __always_inline void put_sack_block(__u8 *b, const struct snilb_flow *f,
					   const struct snilb_hello_range *r)
{
	put_be32(b, f->client_isn + 1 + r->start);
	put_be32(b + 4, f->client_isn + 1 + r->end);
}

/*
 * Our answer to a hello segment: an ACK of what we own (f->h_acked: none
 * unless the hello is too long for a client's first flight, see
 * own_more()), with SACK blocks for the bytes past a gap we hold. The
 * bytes we do not own stay the client's to resend until the backend has
 * them, but the blocks make its TCP resend what is missing at once (RFC
 * 6675, RACK), not one segment per RTO. Nothing to say: dropped.
 */
static __noinline int hello_ack(struct __sk_buff *skb, const struct pkt *p,
				const struct snilb_flow *f,
				const struct snilb_hello_range *ooo,
				const struct snilb_config *cfg)
{
	struct scratch *sc = get_scratch();
	struct tcp_out *o;
	__u32 n = 0, at = 0, i;
	__u8 *b;

	if (!sc)
		return TC_ACT_SHOT;
	if (f->opts.sack)
		for (i = 0; i < SNILB_HELLO_OOO; i++)
			n += ooo[i].end != 0;
	if (!n && !f->h_acked)
		return TC_ACT_SHOT;
	o = &sc->out;
	out_reply_to(o, p);
	o->seq = f->our_isn + 1;
	o->ack = f->client_isn + 1 + f->h_acked;
	o->flags = TCP_ACK;
	o->window = our_window(cfg, f);
	b = o->opts;
	if (f->opts.ts) {
		put_ts_opt(b, f->our_tsval, f->ts_recent);
		at = 12;
	}
	o->optlen = at;
	if (f->h_acked)
		stat_inc(SNILB_ST_HELLO_ACK);
	if (!n)
		return send_reply(skb, p, o);
	b[at & 15] = TCPOPT_NOP;
	b[(at + 1) & 15] = TCPOPT_NOP;
	b[(at + 2) & 15] = TCPOPT_SACK;
	b[(at + 3) & 15] = 2 + 8 * n;
	/* The block holding the latest segment first (RFC 2018). */
	i = ooo[1].end && p->seq - (f->client_isn + 1) >= ooo[1].start &&
	    p->seq - (f->client_isn + 1) < ooo[1].end;
	if (ooo[i].end)
		put_sack_block(b + (at & 15) + 4, f, &ooo[i]);
	else
		put_sack_block(b + (at & 15) + 4, f, &ooo[!i]);
	if (n == 2)
		put_sack_block(b + (at & 15) + 12, f, &ooo[!i]);
	o->optlen = at + 4 + 8 * n;
	return send_reply(skb, p, o);
}

#endif /* SNILB_BPF_HELLO_BUF_H */

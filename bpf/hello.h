/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A segment of a ClientHello still being buffered (snilb_hello, in
 * snilb.bpf.c): appends it, parses once enough bytes are there, routes by
 * SNI or resets the client. Reached by tail call from snilb_ingress, whose
 * parse of the packet and flow key it reads from the scratch map.
 */
#ifndef SNILB_BPF_HELLO_H
#define SNILB_BPF_HELLO_H

#include "common.h"
#include "route.h"
#include "bind.h"
#include "proxy.h"
#include "close.h"
#include "segsum.h"

#define HELLO_CHUNK	1024


static __always_inline void drop_flow(const struct snilb_flow_key *k,
				      const struct snilb_flow *f)
{
	const struct snilb_config *cfg = get_config();

	if (cfg)
		snat_release(cfg, f);
	bpf_map_delete_elem(&hellos, k);
	bpf_map_delete_elem(&flows, k);
}

static __noinline int reject(struct __sk_buff *skb, const struct pkt *p,
			     const struct snilb_flow_key *k,
			     const struct snilb_flow *f, __u32 why)
{
	__u32 our_seq = f->our_isn + 1, their_next = p->seq + p->plen;
	struct scratch *sc = get_scratch();

	/* The hello's parse is there for these; a routed flow's in conns. */
	alog_flow(k, f, SNILB_END_REJECT, why,
		  sc && why != SNILB_REJ_NO_BACKEND &&
		  why != SNILB_REJ_PARSE + CH_R_NONE &&
		  why != SNILB_REJ_TABLE_FULL ? &sc->res : NULL);
	if (why == SNILB_REJ_NO_BACKEND) {
		count_no_backend(f);
	} else {
		stat_inc(SNILB_ST_REJECT_BASE + why);
		count_reject(f->listener, why);
	}
	drop_flow(k, f);
	return send_rst(skb, p, our_seq, their_next, 1);
}

/* Copy the segment's bytes [@from, @end) of the hello (offsets) to the
 * buffer; @off is where the segment starts. */
static __always_inline int copy_segment(struct __sk_buff *skb,
					const struct pkt *p,
					struct snilb_hello *hb, __u32 off,
					__u32 from, __u32 end)
{
	__u32 skip = from - off;
	int i;

	for (i = 0; i < CH_BUF_SIZE / HELLO_CHUNK; i++) {
		__u32 left = end - from;
		__u32 n = left < HELLO_CHUNK ? left : HELLO_CHUNK;

		if (!n)
			break;
		/* For the verifier: n is 1..HELLO_CHUNK already, this
		 * makes it provably 1..2 * HELLO_CHUNK (the buffer has
		 * that much slack). The empty asm keeps clang from
		 * folding it away. */
		asm volatile("" : "+r"(n));
		n = ((n - 1) & (2 * HELLO_CHUNK - 1)) + 1;
		if (bpf_skb_load_bytes(skb, p->l4 + p->doff + skip,
				       &hb->buf[from & CH_BUF_MASK], n))
			return -1;
		from += n;
		skip += n;
	}
	return 0;
}

/* Hold [@start, @end) past the gap: merged with a range it touches, or
 * in a free slot. 0, or -1 when both slots hold other ranges. */
static __always_inline int ooo_add(struct snilb_hello *hb, __u32 start,
				   __u32 end)
{
	struct snilb_hello_range *a = &hb->ooo[0], *b = &hb->ooo[1];

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
static __always_inline __u32 ooo_join(struct snilb_hello *hb, __u32 have)
{
	int pass, i;

	for (pass = 0; pass < SNILB_HELLO_OOO; pass++)
		for (i = 0; i < SNILB_HELLO_OOO; i++) {
			struct snilb_hello_range *r = &hb->ooo[i];

			if (!r->end || r->start > have)
				continue;
			if (r->end > have)
				have = r->end;
			r->start = r->end = 0;
		}
	return have;
}

enum { SEG_GREW = 0, SEG_NOTHING, SEG_HELD };

/*
 * Buffer this segment's bytes at their offset. SEG_GREW: the contiguous
 * part grew (parse it); SEG_HELD: they came past a gap, and are held
 * there (a resent segment fills it: the client resends the first one it
 * has no ACK for, on its RTO, and what our SACK says is missing);
 * SEG_NOTHING: a duplicate, or beyond what we can hold.
 */
static __noinline int buffer_segment(struct __sk_buff *skb,
				     const struct pkt *p,
				     const struct snilb_flow *f,
				     struct snilb_hello *hb)
{
	__u32 off = p->seq - (f->client_isn + 1);
	__u32 have = hb->len, end;

	if (off >= CH_BUF_SIZE || have >= CH_BUF_SIZE) {
		stat_inc(SNILB_ST_HELLO_GAP);	/* before the ISN, or far */
		return SEG_NOTHING;
	}
	end = off + p->plen;
	if (end > CH_BUF_SIZE)
		end = CH_BUF_SIZE;
	if (end <= have) {
		stat_inc(SNILB_ST_HELLO_DUP);
		return hb->ooo[0].end || hb->ooo[1].end ? SEG_HELD :
							  SEG_NOTHING;
	}
	if (off > have) {
		if (ooo_add(hb, off, end) ||
		    copy_segment(skb, p, hb, off, off, end)) {
			stat_inc(SNILB_ST_HELLO_GAP);
			return SEG_NOTHING;
		}
		stat_inc(SNILB_ST_HELLO_OOO);
		return SEG_HELD;
	}
	if (copy_segment(skb, p, hb, off, have, end))
		return SEG_NOTHING;
	hb->len = ooo_join(hb, end);
	stat_inc(SNILB_ST_HELLO_SEG);
	return SEG_GREW;
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
				const struct snilb_hello *hb,
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
			n += hb->ooo[i].end != 0;
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
	i = hb->ooo[1].end && p->seq - (f->client_isn + 1) >= hb->ooo[1].start &&
	    p->seq - (f->client_isn + 1) < hb->ooo[1].end;
	if (hb->ooo[i].end)
		put_sack_block(b + (at & 15) + 4, f, &hb->ooo[i]);
	else
		put_sack_block(b + (at & 15) + 4, f, &hb->ooo[!i]);
	if (n == 2)
		put_sack_block(b + (at & 15) + 12, f, &hb->ooo[!i]);
	o->optlen = at + 4 + 8 * n;
	return send_reply(skb, p, o);
}

/*
 * A hello longer than SNILB_HELLO_OWN_FROM may not fit in the client's
 * first flight: its TCP sends no more until bytes are acknowledged, and
 * unacknowledged, the hello would never complete. Such a hello's bytes
 * are acknowledged as they come, all but the last: the client keeps that
 * one, and resends it on its RTO until the backend's ACK reaches it,
 * which is what wakes owned.h if the backend lost what we replayed.
 * Returns whether f->h_acked grew.
 */
static __always_inline int own_more(struct snilb_flow *f, __u32 have)
{
	__u32 own = have;

	if (f->need <= SNILB_HELLO_OWN_FROM)
		return 0;
	if (own > f->need - 1)
		own = f->need - 1;
	if (own <= f->h_acked)
		return 0;
	f->h_acked = own;
	return 1;
}

/*
 * RST, SYN or FIN before the flow is spliced. The client's view: it has
 * sent hello bytes we have not acknowledged (all, or those past
 * f->h_acked), so its next byte is anywhere from there on. An RST at ISN
 * + 1, right after what we acknowledged or right after the bytes we hold is
 * exact and ends the flow; one further in our window gets a challenge ACK
 * (RFC 5961 3.2; a client that did reset answers it with an exact RST);
 * anything else is dropped. A SYN|ACK is nothing a client sends: dropped.
 *
 * A FIN right after the bytes we hold, with no hello yet: the client gave
 * up before a whole hello (an RST back). Any other FIN (a client that
 * half-closes right after its hello, with the backend still binding, or
 * past a gap) is ignored, its data kept: unacknowledged, the client sends
 * the FIN again, and once spliced it goes through.
 */
static __noinline int hello_ctl(struct __sk_buff *skb, const struct pkt *p,
				const struct snilb_flow_key *k,
				struct snilb_flow *f,
				const struct snilb_config *cfg)
{
	__u32 win = cfg && cfg->window ? cfg->window : SNILB_DEFAULT_WINDOW;
	__u32 off = p->seq - (f->client_isn + 1);

	if (p->flags & TCP_SYN)
		return TC_ACT_SHOT;
	if (off >= win) {
		if (p->flags & TCP_RST)
			stat_inc(SNILB_ST_RST_IGNORED);
		return TC_ACT_SHOT;
	}
	if (p->flags & TCP_FIN) {
		if (f->state == SNILB_FS_HELLO && !p->plen &&
		    off == f->hello_len && !f->ooo)
			return reject(skb, p, k, f, SNILB_REJ_PARSE + CH_R_NONE);
		return GO_ON;
	}
	if (!off || off == f->h_acked || off == f->hello_len) {
		alog_flow(k, f, SNILB_END_RST_CLIENT, SNILB_LOG_NO_REASON,
			  NULL);
		drop_flow(k, f);
		return TC_ACT_SHOT;
	}
	return challenge_ack(skb, p, f->our_isn + 1, f->client_isn + 1,
			     our_window(cfg, f));
}

/* The client resent (part of) its hello while we wait for the backend's
 * SYN-ACK: after the bind timeout, that is the cue to try the next one. */
static __noinline int waiting(struct __sk_buff *skb, const struct pkt *p,
			      const struct snilb_flow_key *k,
			      struct snilb_flow *f,
			      const struct snilb_config *cfg)
{
	__u64 timeout = (cfg && cfg->bind_timeout_ms ? cfg->bind_timeout_ms :
			 SNILB_DEFAULT_BIND_TIMEOUT_MS) * 1000000ull;
	int st;

	if (f->seen_ns - f->bind_ns < timeout || flow_claim(f))
		return TC_ACT_SHOT;
	/* Spliced meanwhile, where its SYN-ACK came: nothing to do. */
	st = f->state == SNILB_FS_ROUTED ? bind_backend(skb, p, k, f, cfg) :
					   TC_ACT_SHOT;
	flow_unclaim(f);
	if (st < 0)
		return reject(skb, p, k, f, SNILB_REJ_NO_BACKEND);
	return st;
}

/* Parse the buffered bytes into sc->res; its own frame keeps the parser's
 * state off snilb_hello's stack. The caller must use the result: clang
 * drops the return value of a static function nobody reads, and the
 * verifier refuses the stale pointer it leaves in r0. */
static __noinline int parse_hello(struct snilb_hello *hb, __u32 cap,
				  struct scratch *sc)
{
	struct ch_parser ps;

	__builtin_memset(&sc->res, 0, sizeof(sc->res));
	return ch_parse(&ps, hb->buf, hb->len, cap, &sc->res);
}

/* snilb_hello's body (snilb.bpf.c): a segment of a hello being buffered. */
static __always_inline int hello_segment(struct __sk_buff *skb)
{
	const struct snilb_config *cfg = get_config();
	struct scratch *sc = get_scratch();
	struct snilb_route_stats *rs;
	struct snilb_flow_key *k;
	struct snilb_route *rt;
	struct snilb_hello *hb;
	struct snilb_flow *f;
	struct pkt *p;
	int st;

	if (!sc)
		return TC_ACT_SHOT;
	p = &sc->ipk;		/* parsed by snilb_ingress */
	k = &sc->ik;
	f = bpf_map_lookup_elem(&flows, k);
	if (!f)
		return TC_ACT_SHOT;
	if (p->flags & (TCP_RST | TCP_SYN | TCP_FIN)) {
		st = hello_ctl(skb, p, k, f, cfg);
		if (st != GO_ON)
			return st;
	}
	if (!p->plen)
		return TC_ACT_SHOT;
	f->seen_ns = bpf_ktime_get_ns();
	if (f->state == SNILB_FS_ROUTED) {
		/* Bytes we acknowledged: our ACK was lost; again. */
		hb = f->h_acked && p->seq + p->plen - (f->client_isn + 1) <=
				   f->h_acked ?
		     bpf_map_lookup_elem(&hellos, k) : NULL;
		if (hb)
			return hello_ack(skb, p, f, hb, cfg);
		return waiting(skb, p, k, f, cfg);
	}
	f->cwin = p->win;
	hb = bpf_map_lookup_elem(&hellos, k);
	if (!hb) {
		if (bpf_map_update_elem(&hellos, k, &sc->zero_hello,
					BPF_NOEXIST))
			return reject(skb, p, k, f, SNILB_REJ_TABLE_FULL);
		hb = bpf_map_lookup_elem(&hellos, k);
		if (!hb)
			return TC_ACT_SHOT;
	}
	if (!segment_sum_ok(skb, p, sc->seg)) {
		stat_inc(SNILB_ST_BAD_CSUM);
		return TC_ACT_SHOT;
	}
	st = buffer_segment(skb, p, f, hb);
	f->hello_len = hb->len;
	f->ooo = hb->ooo[0].end || hb->ooo[1].end;
	if (st != SEG_GREW)	/* held past a gap, or already had */
		return hello_ack(skb, p, f, hb, cfg);
	if (hb->len < f->need)
		return own_more(f, hb->len) ? hello_ack(skb, p, f, hb, cfg) :
					      TC_ACT_SHOT;
	st = parse_hello(hb, cfg ? cfg->hello_cap : 0, sc);
	if (st == CH_NEED_MORE) {
		f->need = sc->res.need;
		return own_more(f, hb->len) ? hello_ack(skb, p, f, hb, cfg) :
					      TC_ACT_SHOT;
	}
	if (st == CH_REJECTED)
		return reject(skb, p, k, f,
			      SNILB_REJ_PARSE + sc->res.reason);
	rt = route_lookup(&sc->res, f->listener);
	if (!rt)
		return reject(skb, p, k, f, SNILB_REJ_NO_ROUTE);
	f->route = rt->id;
	f->set = rt->set;
	f->state = SNILB_FS_ROUTED;
	alog_routed(k, f, hb, &sc->res, cfg);
	stat_inc(SNILB_ST_ROUTED);
	rs = rstats(rt->id);
	if (rs)
		rs->routed++;
	if (pp_wanted(rt->set))
		pp_build(hb, k, f, &sc->res);
	if (flow_claim(f))
		return TC_ACT_SHOT;
	st = bind_backend(skb, p, k, f, cfg);
	flow_unclaim(f);
	if (st < 0)
		return reject(skb, p, k, f, SNILB_REJ_NO_BACKEND);
	return st;
}

#endif /* SNILB_BPF_HELLO_H */

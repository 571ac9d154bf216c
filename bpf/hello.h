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
#include "hello_buf.h"
#include "hello_small.h"

static __always_inline void drop_flow(const struct snilb_flow_key *k,
				      const struct snilb_flow *f)
{
	const struct snilb_config *cfg = get_config();

	if (cfg)
		snat_release(cfg, f);
	bpf_map_delete_elem(&hellos, k);
	if (f->state == SNILB_FS_HELLO)
		bpf_map_delete_elem(&hellos_small, k);
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

/*
 * A hello longer than SNILB_HELLO_OWN_FROM may not fit in the client's
 * first flight: its TCP sends no more until bytes are acknowledged, and
 * unacknowledged, the hello would never complete. Such a hello's bytes
 * are acknowledged as they come, all but the last: the client keeps that
 * one, and resends it on its RTO until the backend's ACK reaches it,
 * which is what wakes owned.h if the backend lost what we replayed.
 * Returns whether f->h_acked grew.
 */
static __always_inline int own_more(struct snilb_flow *f,
				    const struct snilb_hello *hb)
{
	__u32 own = hb->len, need = hb->b.need;

	if (need <= SNILB_HELLO_OWN_FROM)
		return 0;
	if (own > need - 1)
		own = need - 1;
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
	struct snilb_hello *hb = bpf_map_lookup_elem(&hellos, k);
	int st;

	if (!hb || f->seen_ns - hb->b.bind_ns < timeout || flow_claim(f))
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

/* hellos' entry for @k, made if there is none (never replaced: another
 * CPU may be using it). NULL: the table is full. */
static __always_inline struct snilb_hello *
hello_entry(const struct snilb_flow_key *k, struct scratch *sc)
{
	struct snilb_hello *hb = bpf_map_lookup_elem(&hellos, k);

	if (hb)
		return hb;
	bpf_map_update_elem(&hellos, k, &sc->zero_hello, BPF_NOEXIST);
	return bpf_map_lookup_elem(&hellos, k);
}

/* Buffer a segment in hellos' entry @hb. GO_ON: parse what is there;
 * else a verdict. */
static __noinline int big_segment(struct __sk_buff *skb, const struct pkt *p,
				  struct snilb_flow *f, struct snilb_hello *hb,
				  const struct snilb_config *cfg)
{
	struct scratch *sc = get_scratch();
	int st;

	if (!sc)
		return TC_ACT_SHOT;
	if (segment_sum_ok(skb, p, sc->seg)) {
		st = buffer_segment(skb, p, f, hb);
	} else {
		stat_inc(SNILB_ST_BAD_CSUM);
		st = SEG_BAD_SUM;
	}
	f->hello_len = hb->len;
	f->ooo = ooo_held(hb->ooo);
	if (!hb->len && !f->ooo) {	/* nothing held: none kept, or a
					 * hello that starts small later
					 * would find it */
		bpf_map_delete_elem(&hellos, &sc->ik);
		return TC_ACT_SHOT;
	}
	if (st == SEG_BAD_SUM)
		return TC_ACT_SHOT;
	if (st != SEG_GREW)	/* held past a gap, or already had */
		return hello_ack(skb, p, f, hb->ooo, cfg);
	if (hb->len < hb->b.need)
		return own_more(f, hb) ?
		       hello_ack(skb, p, f, hb->ooo, cfg) : TC_ACT_SHOT;
	return GO_ON;
}

/* A whole hello (sc->res, the parser's answer): its route, then the SYN
 * to a backend of the route's set. */
static __always_inline int route_hello(struct __sk_buff *skb, struct pkt *p,
				       struct snilb_flow_key *k,
				       struct snilb_flow *f,
				       struct snilb_hello *hb,
				       const struct snilb_config *cfg,
				       struct scratch *sc)
{
	struct snilb_route_stats *rs;
	struct snilb_route *rt;
	int st;

	rt = route_lookup(&sc->res, f->listener);
	if (!rt)
		return reject(skb, p, k, f, SNILB_REJ_NO_ROUTE);
	f->route = rt->id;
	hb->b.set = rt->set;
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

/* snilb_hello's body (snilb.bpf.c): a segment of a hello being buffered. */
static __always_inline int hello_segment(struct __sk_buff *skb)
{
	const struct snilb_config *cfg = get_config();
	struct scratch *sc = get_scratch();
	struct snilb_flow_key *k;
	struct snilb_hello *hb;
	struct snilb_flow *f;
	struct pkt *p;
	int st;

	if (!sc)
		return TC_ACT_SHOT;
	p = &sc->ipk;		/* parsed by snilb_ingress */
	k = &sc->ik;
	f = bpf_map_lookup_elem(&flows, k);
	/* Spliced on another CPU since snilb_ingress looked: this packet
	 * is the spliced path's, and its sender's next one goes there. */
	if (!f || f->state > SNILB_FS_ROUTED)
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
			return hello_ack(skb, p, f, hb->ooo, cfg);
		return waiting(skb, p, k, f, cfg);
	}
	hb = f->hello_len || f->ooo ? bpf_map_lookup_elem(&hellos, k) : NULL;
	st = HELLO_BIG;
	if (!hb) {
		st = small_segment(skb, p, k, f, cfg);
		if (st != HELLO_BIG && st != HELLO_WHOLE)
			return st == HELLO_FULL ?
			       reject(skb, p, k, f, SNILB_REJ_TABLE_FULL) : st;
		hb = hello_entry(k, sc);
		if (!hb)
			return reject(skb, p, k, f, SNILB_REJ_TABLE_FULL);
	}
	hb->b.cwin = p->win;
	if (st == HELLO_BIG) {
		st = big_segment(skb, p, f, hb, cfg);
		if (st != GO_ON)
			return st;
	}
	st = parse_hello(hb, cfg ? cfg->hello_cap : 0, sc);
	if (st == CH_NEED_MORE) {
		hb->b.need = sc->res.need;
		return own_more(f, hb) ?
		       hello_ack(skb, p, f, hb->ooo, cfg) : TC_ACT_SHOT;
	}
	if (st == CH_REJECTED)
		return reject(skb, p, k, f,
			      SNILB_REJ_PARSE + sc->res.reason);
	return route_hello(skb, p, k, f, hb, cfg, sc);
}

#endif /* SNILB_BPF_HELLO_H */

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Hello bytes we acknowledged to the client (a hello too long for its
 * first flight, hello.h own_more()) are ours to deliver: the client will
 * not send them again. Until the backend's ACK reaches their end
 * (r->owned), its ACKs come here, not to the client, which holds a later
 * one of ours; the hello's buffer is kept. Like a sender's TCP (RFC 5681,
 * 6582): a duplicate ACK, or one that moves but not to the end after a
 * segment went again, sends the segment it asks for again, at most once
 * per OWNED_RTO_NS for the same one. A lost tail gets its duplicate ACK
 * from the byte the client still holds: its TCP resends it on its RTO.
 * The backend's ACK of the whole: the flow is spliced like any other.
 */
#ifndef SNILB_BPF_OWNED_H
#define SNILB_BPF_OWNED_H

#include "replay.h"
#include "splice.h"

#define OWNED_RTO_NS	200000000ull	/* Linux's TCP_RTO_MIN */
#define GO_RESEND	(-2)		/* owned_ack(): owned_resend() next */

/*
 * Send the segment the backend's ACK in hand asks for, written over that
 * ACK. In snilb_backend (tail call): its chain of calls down to
 * write_tcp() would not fit under snilb_ingress's frame on 6.1.
 */
static __noinline int owned_resend(struct __sk_buff *skb, struct scratch *sc,
				   struct snilb_flow *f)
{
	const struct pkt *p = &sc->ipk;
	struct bpf_fib_lookup fib;
	struct snilb_hello *hb;
	struct tcp_out *o;
	__u32 tsval, off;

	hb = bpf_map_lookup_elem(&hellos, &sc->ik);
	if (!hb || resolve_backend(skb, f, p->family, p->saddr, &fib) ||
	    load_headers(skb, p, sc->ip, sc->th, p->doff))
		return TC_ACT_SHOT;
	off = p->ack - (f->client_isn + 1);
	if ((__s32)off < 0)		/* in the PROXY header: all of it */
		off = -(__s32)f->pp_len;
	parse_opts(sc->th, p->doff, &sc->opts);
	/* Its TSecr is the last TSval it took: PAWS takes that again. */
	tsval = sc->opts.ts ? sc->opts.tsecr : f->ts_recent;
	o = &sc->out;
	out_reply_to(o, p);
	o->ack = f->our_isn + f->seq_off + 1;
	o->window = f->c_win;
	o->optlen = 0;
	if (f->opts.ts) {
		put_ts_opt(o->opts, tsval, hb->b.rtx_ecr);
		o->optlen = 12;
	}
	stat_inc(SNILB_ST_HELLO_RTX);
	return replay_run(skb, p, f, hb,
			  REPLAY_SPAN(off, (__s32)off < 0 ? 0 :
					   off + hb->b.rtx_chunk));
}

/* A backend packet of a flow whose hello bytes we own (r->owning), in
 * snilb_ingress: GO_ON for the spliced path, GO_RESEND, or the verdict.
 * sc->ik is set to the flow's key. */
static __noinline int owned_ack(struct scratch *sc, struct snilb_rev *r)
{
	const struct pkt *p = &sc->ipk;
	struct snilb_hello *hb;
	struct snilb_flow *f;
	__u32 prev = r->b_ack;
	__u64 now;

	if (!(p->flags & TCP_ACK))
		return GO_ON;
	/* Any packet's ACK of the whole ends it (its data's too: a server
	 * answers the hello with data, and may never send a bare ACK). */
	if ((__s32)(p->ack - r->owned) >= 0) {
		r->owning = 0;
		bpf_map_delete_elem(&hellos, &r->flow);
		return GO_ON;
	}
	/* Data, FIN, RST: not an ACK of ours to act on (close.h's). */
	if (p->plen || (p->flags & (TCP_FIN | TCP_RST)))
		return GO_ON;
	ack_track(&r->b_ack, &r->b_win, r->bwscale, p);
	__builtin_memcpy(&sc->ik, &r->flow, sizeof(sc->ik));
	f = bpf_map_lookup_elem(&flows, &sc->ik);
	hb = bpf_map_lookup_elem(&hellos, &sc->ik);
	if (!f || !hb) {
		r->owning = 0;		/* nothing left to send */
		return GO_ON;
	}
	if (p->ack - (f->client_isn + 1 - f->pp_len) >= hb->len + f->pp_len)
		return TC_ACT_SHOT;	/* not an ACK of the hello (or the
					 * PROXY header before it) */
	now = bpf_ktime_get_ns();
	if (p->ack != prev && !hb->b.rtx_ns)
		return TC_ACT_SHOT;	/* it moves: more is on its way */
	if (p->ack == hb->b.rtx_ack && hb->b.rtx_ns &&
	    now - hb->b.rtx_ns < OWNED_RTO_NS)
		return TC_ACT_SHOT;	/* sent again already */
	hb->b.rtx_ack = p->ack;
	hb->b.rtx_ns = now;
	return GO_RESEND;
}

#endif /* SNILB_BPF_OWNED_H */

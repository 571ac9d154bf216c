/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A backend answers the SYN we sent for a routed flow (snilb_backend, in
 * snilb.bpf.c).
 * First SYN-ACK: note its ISN, timestamp and window scale; our second SYN
 * went right behind the first (bind.h, syn_twice()), so its answer follows:
 * drop this one, or else send our SYN again now (resyn()). The SYN-ACK
 * after that: turn the packet into the ACK that completes its handshake,
 * carrying the buffered hello (replay.h).
 * RST: try the next backend, or reset the client.
 * Reached by tail call from snilb_ingress, whose parse it reuses.
 */
#ifndef SNILB_BPF_BACKEND_H
#define SNILB_BPF_BACKEND_H

#include "bind.h"
#include "replay.h"
#include "owned.h"
#include "icmp.h"
#include "nat46.h"
#include "vip.h"

/*
 * The TSecr of the ACK that carries the hello. After a resyn, none (0)
 * when the backend's second SYN-ACK came from its request socket: an echo
 * would be an RTT sample (tcp_ack_update_rtt()), of the 1 ms its clock
 * ticks at best. But a backend answering with SYN cookies reads the
 * client's options from the echo (cookie_timestamp_decode(): 0 would be
 * no SACK and window scale 0); it told us so by answering our second SYN,
 * sent without timestamps, without them itself, where a request socket
 * answers with the options it has. Then the echo of its first SYN-ACK,
 * whose cookie we acknowledge.
 */
static __always_inline __u32 resyn_ecr(const struct snilb_flow *f,
				       const struct tcp_opts *bo)
{
	if (f->resyn != SNILB_RESYN_DONE)
		return bo->tsval;
	return bo->ts ? 0 : f->our_tsval + f->ts_off;
}

static __noinline int replay_hello(struct __sk_buff *skb, const struct pkt *p,
				   const struct snilb_flow_key *k,
				   struct snilb_flow *f, const struct tcp_opts *bo)
{
	struct scratch *sc = get_scratch();
	struct bpf_fib_lookup fib;
	struct snilb_hello *hb;
	struct tcp_out *o;
	__u32 mss;

	hb = bpf_map_lookup_elem(&hellos, k);
	if (!sc || !hb || !hb->len)
		return TC_ACT_SHOT;
	if (resolve_backend(skb, f, p->family, p->saddr, &fib))
		return TC_ACT_SHOT;	/* it answered: its path is known */
	o = &sc->out;
	out_reply_to(o, p);
	o->ack = f->our_isn + f->seq_off + 1;	/* its first SYN-ACK's */
	o->window = hb->b.cwin;
	f->c_win = hb->b.cwin;		/* the client's, once spliced */
	hb->b.rtx_ecr = resyn_ecr(f, bo);
	if (f->opts.ts) {
		put_ts_opt(o->opts, f->ts_recent, hb->b.rtx_ecr);
		o->optlen = 12;
	}
	mss = bo->mss ? bo->mss : 536;
	if (mss > f->opts.mss)
		mss = f->opts.mss;
	mss -= o->optlen;
	hb->b.rtx_chunk = mss < 64 ? 64 : mss > SEG_MAX ? SEG_MAX : mss;
	return replay_run(skb, p, f, hb,
			  REPLAY_SPAN(-(__s32)f->pp_len, hb->len));
}

/* The flow's rev entry learns what a spliced backend -> client packet
 * needs (see struct snilb_rev); its key is in sc->rk: from_backend()
 * found the flow by it. @win: the backend's SYN-ACK window. */
static __always_inline void rev_copy(struct __sk_buff *skb,
				     struct scratch *sc,
				     const struct snilb_flow *f, __u16 win)
{
	struct snilb_rev *r = bpf_map_lookup_elem(&rev, &sc->rk);

	if (!r)
		return;
	r->route = f->route;
	r->seq_off = f->seq_off;
	r->ts_off = f->ts_off;
	r->ifindex = f->ifindex;
	__builtin_memcpy(r->cmac, f->cmac, 6);
	__builtin_memcpy(r->lmac, f->lmac, 6);
	r->bwscale = f->bwscale;
	r->cwscale = f->opts.wscale;
	/* Where each side stands (close.h): the backend has its ISN for
	 * the client acknowledged, the client our SYN-ACK. */
	r->b_ack = f->client_isn + 1 - f->pp_len;
	r->b_win = win;
	r->watch = 0;
	r->cmtu = dev_mtu(skb, f->ifindex);
	/* Hello bytes we acknowledged, and the PROXY header, which the
	 * client never sends, wait for the backend's ACK (owned.h). */
	r->owned = f->client_isn + 1 + f->h_acked;
	r->owning = f->h_acked != 0 || f->pp_len != 0;
	r->spliced = 1;
}

/*
 * The backend's first SYN-ACK, answered with our SYN again, which its TCP
 * takes for a SYN whose SYN-ACK was lost: it sends the SYN-ACK again
 * (tcp_check_req()). Then it takes no RTT sample from the handshake:
 * tcp_synack_rtt_meas() skips a retransmitted SYN-ACK (Karn), and the ACK
 * that carries the hello echoes no timestamp to measure from (resyn_ecr()).
 * Its first SYN-ACK answered at once would give it the microseconds to us
 * as the RTT of the client's path, which BBR keeps as its min RTT for 10 s
 * and sizes its window by (a tenth of the throughput over 20 ms). With no
 * sample, the first ACK of its data gives it the real one. The cost: a SYN
 * and a SYN-ACK more on the backend's link, counted there as a SYN-ACK
 * retransmission. docs/dataplane.md, "The backend's RTT".
 */
static __noinline int resyn(struct __sk_buff *skb, const struct pkt *p,
			    const struct snilb_flow_key *k,
			    struct snilb_flow *f)
{
	struct scratch *sc = get_scratch();
	struct bpf_fib_lookup fib;
	struct tcp_out *o;

	if (!sc || resolve_backend(skb, f, p->family, p->saddr, &fib))
		return TC_ACT_SHOT;	/* it answered: its path is known */
	f->resyn = SNILB_RESYN_DONE;
	stat_inc(SNILB_ST_RESYN);
	o = &sc->out;
	backend_syn(o, f, 0, p->daddr, p->saddr, p->sport);
	/* No timestamps: a SYN cookie would say so (resyn_ecr()). */
	put_syn_opts(o, x_mss(k->family, p->family, f->opts.mss),
		     f->opts.sack, 0, 0, 0, f->opts.wscale);
	if (write_tcp(skb, p, o) ||
	    set_macs(skb, f->bmac, f->bsmac))
		return TC_ACT_SHOT;
	return bpf_redirect(f->b_ifindex, 0);
}

static __always_inline int synack(struct __sk_buff *skb, const struct pkt *p,
				  const struct snilb_flow_key *k,
				  struct snilb_flow *f)
{
	const struct snilb_config *cfg = get_config();
	struct scratch *sc = get_scratch();
	struct snilb_route_stats *rs;
	struct snilb_conn *c;
	struct tcp_opts bo;
	int verdict;

	if (!sc || p->ack != f->client_isn + 1 - f->pp_len ||
	    load_headers(skb, p, sc->ip, sc->th, p->doff))
		return TC_ACT_SHOT;
	parse_opts(sc->th, p->doff, &bo);
	if (f->resyn != SNILB_RESYN_DONE) {
		/* The first: the one we acknowledge (a SYN cookie's second
		 * would speak of our second SYN, see resyn_ecr()). */
		f->seq_off = p->seq - f->our_isn;
		f->ts_off = bo.ts ? bo.tsval - f->our_tsval : 0;
		f->bwscale = bo.wscale;
		if (f->resyn == SNILB_RESYN_EARLY) {
			f->resyn = SNILB_RESYN_DONE;
			return TC_ACT_SHOT;	/* the second's is coming */
		}
		if (!(cfg && cfg->single_syn))
			return resyn(skb, p, k, f);
	}
	verdict = replay_hello(skb, p, k, f, &bo);
	if (verdict == TC_ACT_SHOT)
		return verdict;
	f->state = SNILB_FS_SPLICED;
	c = alog_conn(k, cfg);
	if (c)
		c->spliced_ns = bpf_ktime_get_ns();
	f->c_ack = f->our_isn + 1;
	f->path_ns = now_ns(sc);
	rev_copy(skb, sc, f, p->win);
	if (!f->h_acked && !f->pp_len)	/* else kept until the backend
					 * has them */
		bpf_map_delete_elem(&hellos, k);
	stat_inc(SNILB_ST_SPLICED);
	rs = rstats(f->route);
	if (rs)
		rs->spliced++;
	return verdict;
}

/* Its SYN-ACK, to the flow held (bind.h, flow_claim()). */
static __noinline int on_synack(struct __sk_buff *skb, const struct pkt *p,
				const struct snilb_flow_key *k,
				struct snilb_flow *f)
{
	struct scratch *sc = get_scratch();
	int st = TC_ACT_SHOT;

	if (!sc || flow_claim(f))
		return TC_ACT_SHOT;
	if (bound_by(f, &sc->rk))
		st = synack(skb, p, k, f);
	flow_unclaim(f);
	return st;
}

/*
 * The backend answered our SYN with a bare ACK: it still holds the last
 * connection on this SNAT port in TIME-WAIT and took our SYN for an old
 * duplicate (the client's ISN and timestamps need not be newer than the
 * last ones it saw). An RST at the sequence number it asked for ends that
 * TIME-WAIT (RFC 793; Linux honours it unless tcp_rfc1337 is set); then
 * the SYN goes again, on the same port.
 */
#define TW_RESETS_MAX	2

static __noinline int on_stale_ack(struct __sk_buff *skb, const struct pkt *p,
				   const struct snilb_flow_key *k,
				   struct snilb_flow *f)
{
	struct snilb_hello *hb = bpf_map_lookup_elem(&hellos, k);
	struct scratch *sc = get_scratch();
	struct bpf_fib_lookup fib;
	struct tcp_out *o;

	if (!sc || !hb || hb->b.tw_resets >= TW_RESETS_MAX)
		return TC_ACT_SHOT;	/* the bind timeout takes over */
	if (resolve_backend(skb, f, p->family, p->saddr, &fib))
		return TC_ACT_SHOT;	/* it answered: its path is known */
	if (flow_claim(f))
		return TC_ACT_SHOT;
	if (!bound_by(f, &sc->rk)) {
		flow_unclaim(f);
		return TC_ACT_SHOT;
	}
	hb->b.tw_resets++;
	/* One SYN now: its SYN-ACK gets resyn(). */
	f->resyn = SNILB_RESYN_NONE;
	flow_unclaim(f);
	stat_inc(SNILB_ST_TW_RESET);
	o = &sc->out;
	out_reply_to(o, p);
	o->seq = p->ack;
	o->flags = TCP_RST;
	if (write_tcp(skb, p, o) ||
	    set_macs(skb, f->bmac, f->bsmac))
		return TC_ACT_SHOT;
	bpf_clone_redirect(skb, f->b_ifindex, 0);
	backend_syn(o, f, x_mss(k->family, p->family, f->opts.mss), p->daddr,
		    p->saddr, p->sport);
	if (write_tcp(skb, p, o) ||
	    set_macs(skb, f->bmac, f->bsmac))
		return TC_ACT_SHOT;
	return bpf_redirect(f->b_ifindex, 0);
}

/* The backend refused: the next one, or an RST to the client built from
 * this packet and sent over the client's path. */
static __noinline int on_refused(struct __sk_buff *skb, const struct pkt *p,
				 const struct snilb_flow_key *k,
				 struct snilb_flow *f)
{
	const struct snilb_config *cfg = get_config();
	struct scratch *sc = get_scratch();
	struct tcp_out *o;
	int st;

	if (!sc || flow_claim(f))
		return TC_ACT_SHOT;
	if (!bound_by(f, &sc->rk)) {
		flow_unclaim(f);
		return TC_ACT_SHOT;	/* from a backend left already */
	}
	/* bind_backend() reads the tuple from @p only for its offsets. */
	st = bind_backend(skb, p, k, f, cfg);
	flow_unclaim(f);
	if (st >= 0)
		return st;
	count_no_backend(f);
	o = &sc->out;
	__builtin_memset(o, 0, sizeof(*o));
	__builtin_memcpy(o->saddr, k->vaddr, 16);
	__builtin_memcpy(o->daddr, k->caddr, 16);
	o->sport = k->vport;
	o->dport = k->cport;
	o->seq = f->our_isn + 1;
	o->ack = f->client_isn + 1;
	o->flags = TCP_RST | TCP_ACK;
	p = pkt_as(skb, p, k->family);	/* a backend of the other family */
	st = !p || write_tcp(skb, p, o) ? TC_ACT_SHOT : to_client(skb, f);
	stat_inc(SNILB_ST_RST_SENT);
	flow_forget(k, f, SNILB_END_REJECT, SNILB_REJ_NO_BACKEND);
	bpf_map_delete_elem(&hellos, k);
	return st;
}

/* An ICMP error from the client's side about a spliced flow: the
 * backend's, or for one of the other family (NAT46/64) its MTU's. */
static __always_inline int client_icmp_spliced(struct __sk_buff *skb,
					       struct scratch *sc,
					       const struct icmp_at *at,
					       struct snilb_flow *f,
					       const struct snilb_config *cfg)
{
	struct snilb_backend *be = bpf_map_lookup_elem(&backends, &f->backend);

	if (!be)
		return TC_ACT_SHOT;
	if (be->family == sc->ipk.family)
		return icmp_to_backend(skb, &sc->ipk, at, f, cfg);
	return x_icmp_to_backend(skb, sc, at, f, cfg);
}

/*
 * ICMP to what may be a VIP (snilb_ingress saw its bit in vip_bits): an
 * error about a spliced flow is the backend's, whether the node owns the
 * VIP or routes it; anything else is vip.h's, as if this program had not
 * looked.
 */
static __noinline int on_client_icmp(struct __sk_buff *skb, struct scratch *sc,
				     const struct snilb_config *cfg)
{
	struct snilb_flow *f = NULL;
	struct icmp_at at;
	int rc;

	if (!icmp_parse_flow(skb, &sc->ipk, &at, &sc->ik))
		f = bpf_map_lookup_elem(&flows, &sc->ik);
	if (f && f->state == SNILB_FS_SPLICED)
		return client_icmp_spliced(skb, sc, &at, f, cfg);
	rc = vip_check(skb, sc, PARSE_NOT_TCP);
	return rc == VIP_NOT ? TC_ACT_OK : rc;
}

static __noinline int on_icmp(struct __sk_buff *skb, struct scratch *sc)
{
	const struct snilb_config *cfg = get_config();
	struct snilb_rev *val;
	struct snilb_flow *f;
	struct icmp_at at;

	if (!cfg)
		return TC_ACT_OK;
	if (!snat_is(&sc->ipk, cfg))
		return on_client_icmp(skb, sc, cfg);
	if (icmp_parse_rev(skb, &sc->ipk, &at, cfg, &sc->rk))
		return TC_ACT_OK;		/* the node's business */
	val = bpf_map_lookup_elem(&rev, &sc->rk);
	if (!val)
		return TC_ACT_OK;
	__builtin_memcpy(&sc->ik, &val->flow, sizeof(sc->ik));
	f = bpf_map_lookup_elem(&flows, &sc->ik);
	if (!f)
		return TC_ACT_SHOT;
	if (f->state == SNILB_FS_SPLICED && val->spliced) {
		if (val->flow.family != sc->ipk.family)	/* NAT46/64 */
			return x_icmp_to_client(skb, sc, &at, f, val);
		return icmp_to_client(skb, &sc->ipk, &at, val);
	}
	if (f->state != SNILB_FS_ROUTED || at.type == ICMP6_TOO_BIG)
		return TC_ACT_SHOT;
	/* Unreachable while binding: as good as a refusal. */
	return on_refused(skb, &sc->ipk, &sc->ik, f);
}

/* snilb_backend's body (snilb.bpf.c). */
static __always_inline int backend_packet(struct __sk_buff *skb)
{
	struct scratch *sc = get_scratch();
	struct snilb_flow_key *k;
	struct snilb_flow *f;
	struct pkt *p;

	if (!sc)
		return TC_ACT_SHOT;
	/* snilb_ingress parsed the packet and, for TCP, found the flow's
	 * key through the rev map (from_backend()). */
	p = &sc->ipk;
	k = &sc->ik;
	if (p->icmp)
		return on_icmp(skb, sc);
	f = bpf_map_lookup_elem(&flows, k);
	if (f && f->state == SNILB_FS_SPLICED)	/* owned.h, GO_RESEND */
		return owned_resend(skb, sc, f);
	if (!f || f->state != SNILB_FS_ROUTED)
		return TC_ACT_SHOT;
	if (p->flags & TCP_RST)
		return on_refused(skb, p, k, f);
	if ((p->flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK))
		return on_synack(skb, p, k, f);
	if ((p->flags & (TCP_SYN | TCP_ACK | TCP_FIN)) == TCP_ACK && !p->plen)
		return on_stale_ack(skb, p, k, f);
	return TC_ACT_SHOT;
}

#endif /* SNILB_BPF_BACKEND_H */

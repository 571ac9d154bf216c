/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * How a spliced flow ends, and what may end it. The kernel's TCP and
 * conntrack (tcp_in_window, nf_conntrack_proto_tcp.c) are the reference:
 *
 * - FIN: each side's FIN sequence number is kept; a flow is done once both
 *   FINs are acknowledged, and is freed by the agent's reaper a grace
 *   period later (a TIME-WAIT: a lost last ACK is resent and still
 *   translated).
 *   One FIN only shortens the flow's idle timeout (user/dataplane/reaper.c).
 * - RST (RFC 5961 3.2): acted on only when its sequence number is in the
 *   receiver's window, as last seen acknowledged and advertised by it.
 *   Exactly the next expected byte: passed on and the flow freed. In the
 *   window but not exact: passed on, so the receiver answers it itself
 *   (Linux sends the challenge ACK; a host that has closed accepts it),
 *   and the flow is marked: the receiver's next packet clears the mark,
 *   a quiet flow with the mark is freed soon (user/dataplane/reaper.c).
 *   Out of the window: dropped. A blind attacker who knows the 4-tuple
 *   but not the sequence numbers cannot end a connection from either
 *   side.
 * - SYN on a live flow (RFC 5961 4.2): never frees it; the client gets a
 *   challenge ACK, which a client that restarted answers with an exact
 *   RST (snilb.bpf.c, hello.h).
 *
 * The spliced path pays for this with two stores per packet (the last ACK
 * and window seen each way) and one test of a word it already reads; the
 * rest runs only for FIN, RST and the packets of a closing flow.
 */
#ifndef SNILB_BPF_CLOSE_H
#define SNILB_BPF_CLOSE_H

#include "bind.h"
#include "alog.h"

enum close_verdict {
	CV_PASS = 0,		/* forward it */
	CV_FREE,		/* forward it, then free the flow */
	CV_DROP,		/* drop it: an RST out of window */
};

/* Free flow @k (@f), logged as ending by @end for @reason (alog.h). */
static __always_inline void flow_forget(const struct snilb_flow_key *k,
					struct snilb_flow *f, __u32 end,
					__u32 reason)
{
	const struct snilb_config *cfg = get_config();

	alog_flow(k, f, end, reason, NULL);
	if (cfg)
		snat_release(cfg, f);
	if (f->h_acked || f->pp_len)	/* its hello may be kept for the
					 * backend's ACK (owned.h) */
		bpf_map_delete_elem(&hellos, k);
	bpf_map_delete_elem(&flows, k);
}

/* A window field in bytes, by the scale its sender announced. */
static __always_inline __u32 win_bytes(__u16 win, __u8 wscale)
{
	__u32 ws = wscale == TS_NO_WSCALE ? 0 : wscale & 15;

	return (__u32)win << ws;
}

/*
 * An RST at @seq to a receiver that last acknowledged @rcv_nxt with a
 * window of @win bytes: CV_FREE when exact, CV_PASS (and mark @bit) when
 * in the window, CV_DROP otherwise.
 */
static __always_inline int rst_judge(struct snilb_flow *f, __u32 seq,
				     __u32 rcv_nxt, __u32 win, __u64 bit)
{
	__u32 off = seq - rcv_nxt;

	if (!off)
		return CV_FREE;
	if (off < (win ? win : 1)) {
		__sync_fetch_and_or(&f->closing, bit);
		return CV_PASS;
	}
	stat_inc(SNILB_ST_RST_IGNORED);
	return CV_DROP;
}

/* The flow's rev entry (its SNAT claim), or NULL. Client-side paths
 * only: the key is built in sc->rk, which backend-side ones hold. */
static __always_inline struct snilb_rev *flow_rev(const struct snilb_flow *f,
						  const struct snilb_backend *be,
						  const struct snilb_config *cfg)
{
	struct scratch *sc = get_scratch();

	if (!sc || snilb_rev_key_of(&sc->rk, be, cfg, f->nport))
		return NULL;
	return bpf_map_lookup_elem(&rev, &sc->rk);
}

/*
 * Client -> backend, for a FIN, an RST, or any packet of a flow already
 * closing (f->closing set). @p is still in the client's numbers.
 */
static __noinline int close_c2b(const struct pkt *p, struct snilb_flow *f,
				const struct snilb_backend *be,
				const struct snilb_config *cfg)
{
	struct snilb_rev *r = flow_rev(f, be, cfg);

	if (p->flags & TCP_RST) {
		if (!r)
			return CV_FREE;
		r->watch = 1;
		return rst_judge(f, p->seq, r->b_ack,
				 win_bytes(r->b_win, r->bwscale),
				 SNILB_CL_RST_C);
	}
	if (f->closing & SNILB_CL_RST_B)	/* the client lives on */
		__sync_fetch_and_and(&f->closing, ~(__u64)SNILB_CL_RST_B);
	if (p->flags & TCP_FIN) {
		f->c_fin_seq = p->seq + p->plen;
		if (!f->closer)
			f->closer = SNILB_END_FIN_CLIENT;
		__sync_fetch_and_or(&f->closing, SNILB_CL_C_FIN);
		if (r)
			r->watch = 1;
	}
	if ((f->closing & SNILB_CL_B_FIN) && (p->flags & TCP_ACK) &&
	    (__s32)(p->ack - (f->b_fin_seq + 1)) >= 0)
		__sync_fetch_and_or(&f->closing, SNILB_CL_B_ACKED);
	return CV_PASS;
}

/*
 * Backend -> client, for a FIN, an RST, or any packet once r->watch is
 * set. @p is still in the backend's numbers.
 */
static __noinline int close_b2c(const struct pkt *p, struct snilb_rev *r,
				struct snilb_flow *f)
{
	if (p->flags & TCP_RST)
		return rst_judge(f, p->seq, f->c_ack + f->seq_off,
				 win_bytes(f->c_win, f->opts.wscale),
				 SNILB_CL_RST_B);
	if (f->closing & SNILB_CL_RST_C)	/* the backend lives on */
		__sync_fetch_and_and(&f->closing, ~(__u64)SNILB_CL_RST_C);
	if (p->flags & TCP_FIN) {
		f->b_fin_seq = p->seq + p->plen - f->seq_off;
		if (!f->closer)
			f->closer = SNILB_END_FIN_BACKEND;
		__sync_fetch_and_or(&f->closing, SNILB_CL_B_FIN);
		r->watch = 1;
	}
	if ((f->closing & SNILB_CL_C_FIN) && (p->flags & TCP_ACK) &&
	    (__s32)(p->ack - (f->c_fin_seq + 1)) >= 0)
		__sync_fetch_and_or(&f->closing, SNILB_CL_C_ACKED);
	return CV_PASS;
}

/*
 * RFC 5961 4.2: a SYN on a flow that lives gets an ACK, not a new
 * connection. @seq/@ack: where the flow stands for the client. A client
 * that restarted answers it with an RST at @ack, which frees the flow;
 * its next SYN then opens a new one.
 */
static __always_inline int challenge_ack(struct __sk_buff *skb,
					 const struct pkt *p, __u32 seq,
					 __u32 ack, __u16 window)
{
	stat_inc(SNILB_ST_CHALLENGE_ACK);
	return send_ctl(skb, p, seq, ack, CTL(TCP_ACK, window));
}

#endif /* SNILB_BPF_CLOSE_H */

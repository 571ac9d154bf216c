/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The SYN-ACK to a SYN to a listener, whichever program answers it (the
 * TC one, snilb.bpf.c on_syn(), or the XDP one, xdp.h): the cookie, the
 * options, the per-SYN state of a client without timestamps; one
 * implementation, so both send the same bytes.
 */
#ifndef SNILB_BPF_SYNACK_H
#define SNILB_BPF_SYNACK_H

#include "maps.h"
#include "scratch.h"
#include "cookie.h"
#include "synstate.h"
#include "common.h"

/* The MSS we tell clients: what the backend network carries (config). */
static __always_inline __u16 our_mss(const struct snilb_config *cfg,
				     __u8 family)
{
	if (family == SNILB_AF_INET)
		return cfg && cfg->mss4 ? cfg->mss4 : SNILB_DEFAULT_MSS4;
	return cfg && cfg->mss6 ? cfg->mss6 : SNILB_DEFAULT_MSS6;
}

/*
 * sc->out: the SYN-ACK to the SYN @p, whose options are in sc->opts and
 * tuple in sc->ik. -1: no cookie key yet.
 */
static __always_inline int synack_build(struct scratch *sc,
					const struct pkt *p,
					const struct snilb_config *cfg)
{
	struct tcp_opts *o = &sc->opts;
	struct tcp_out *r = &sc->out;
	__u32 idx = mss_index(p->family, o->mss), cookie;

	if (cookie_make(sc, p, idx, &cookie))
		return -1;
	out_reply_to(r, p);
	if (!o->ts)
		syn_state_keep(sc, p, cfg, o);
	synack_opts(r, o, our_mss(cfg, p->family),
		    cookie_tsval(o, idx, now_ns(sc)), our_wscale(cfg));
	r->seq = cookie;
	r->ack = p->seq + 1;
	r->flags = TCP_SYN | TCP_ACK;
	r->window = cfg && cfg->window ? cfg->window : SNILB_DEFAULT_WINDOW;
	return 0;
}

#endif /* SNILB_BPF_SYNACK_H */

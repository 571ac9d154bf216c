/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Binding a routed connection to a backend: pick one from the route's
 * backend set (Maglev table, indexed by a hash of the client's tuple),
 * claim a SNAT port for it, and turn the packet in hand into a SYN to it
 * carrying the client's ISN and options, so the backend's sequence space
 * for the client's bytes is the client's own and only its ISN needs
 * translating.
 */
#ifndef SNILB_BPF_BIND_H
#define SNILB_BPF_BIND_H

#include "cookie.h"
#include "fwd.h"
#include "xlat.h"
#include "alog.h"

#define SNAT_PROBES		16
#define MAGLEV_PROBES		8

/* FNV-1a over the client tuple: the same on every node. */
static __always_inline __u32 flow_hash(const struct snilb_flow_key *k)
{
	const __u32 *w = (const __u32 *)k;
	__u32 h = 2166136261u;
	int i;

	for (i = 0; i < (int)(sizeof(*k) / 4); i++)
		h = (h ^ w[i]) * 16777619u;
	return h ^ (h >> 16);
}

/* The backend for try number b->tries: the flow's Maglev entry, or on a
 * retry the next entries until one names another backend. */
static __noinline int pick_backend(const struct snilb_flow_key *k,
				   const struct snilb_flow *f,
				   const struct snilb_bind *b, __u32 *bid)
{
	struct snilb_set *s = bpf_map_lookup_elem(&sets, &b->set);
	__u32 idx, i;
	void *tbl;

	if (!s || !s->size)
		return -1;
	tbl = bpf_map_lookup_elem(&maglev, &b->set);
	if (!tbl)
		return -1;
	idx = (flow_hash(k) + b->tries) % s->size;
	for (i = 0; i < MAGLEV_PROBES; i++) {
		__u32 *id = bpf_map_lookup_elem(tbl, &idx);

		if (!id)
			return -1;
		if (!b->tries || *id != f->backend || s->nbackends < 2) {
			*bid = *id;
			return 0;
		}
		idx = (idx + 1) % s->size;
	}
	return -1;
}

/* Claim a free SNAT port towards @be: the rev entry is the claim. */
static __noinline int snat_claim(const struct snilb_config *cfg,
				 const struct snilb_flow_key *k,
				 const struct snilb_backend *be,
				 struct snilb_rev_key *rk)
{
	__u32 lo = cfg->port_lo ? cfg->port_lo : SNILB_SNAT_PORT_LO;
	__u32 hi = cfg->port_hi ? cfg->port_hi : SNILB_SNAT_PORT_HI;
	struct scratch *sc = get_scratch();
	struct snilb_rev *v;
	__u32 span, h, i;

	if (hi < lo || !sc)
		return -1;
	v = &sc->new_rev;
	__builtin_memset(v, 0, sizeof(*v));
	__builtin_memcpy(&v->flow, k, sizeof(v->flow));
	span = hi - lo + 1;
	if (snilb_rev_key_of(rk, be, cfg, 0))
		return -1;
	/* Not flow_hash(): a 32-bit FNV over words, whose multiplies carry
	 * a port (a word's high half) only upwards; the tuples of one
	 * client address that differ by port share a few thousand hashes
	 * (1,000,000 sequential ones: 50,104), and their claims the same
	 * probes. The per-SYN hash mixes 64 bits. */
	h = (__u32)snilb_syn_hash(k, 0);
	for (i = 0; i < SNAT_PROBES; i++) {
		rk->nport = bpf_htons(lo + (h + i * 7919) % span);
		if (!bpf_map_update_elem(&rev, rk, v, BPF_NOEXIST))
			return 0;
	}
	return -1;
}

/* Forget the SNAT port of the backend tried last. */
static __always_inline void snat_release(const struct snilb_config *cfg,
					 const struct snilb_flow *f)
{
	struct snilb_backend *be;
	struct snilb_rev_key rk;

	if (!f->nport)
		return;
	be = bpf_map_lookup_elem(&backends, &f->backend);
	if (!be || snilb_rev_key_of(&rk, be, cfg, f->nport))
		return;
	bpf_map_delete_elem(&rev, &rk);
}

/*
 * A flow is bound (bind_backend()) and spliced (on_synack()) by one CPU at
 * a time. The client's resent hello may rebind it on one CPU while its
 * backend's SYN-ACK or RST is handled on another (the two directions are
 * two tuples, which RSS spreads apart), and each would write half the
 * flow: a splice with one backend's sequence offset and another's port.
 * f->gen is even when no CPU is at it; a CPU makes it odd with a
 * compare-and-swap before it reads what it acts on, and even again when
 * done, before any delete of the flow. A CPU that finds it odd, or loses
 * the swap, drops its packet: its sender sends again (the kernel holds
 * the socket's lock for the same).
 */
static __always_inline int flow_claim(struct snilb_flow *f)
{
	__u64 g = *(volatile __u64 *)&f->gen;

	if (g & 1)
		return -1;
	return __sync_val_compare_and_swap(&f->gen, g, g + 1) == g ? 0 : -1;
}

static __always_inline void flow_unclaim(struct snilb_flow *f)
{
	__sync_fetch_and_add(&f->gen, 1);
}

/* Is the flow, claimed, still routed and bound where the rev entry @rk
 * (which found it for a backend's packet) says? A rebind between that
 * lookup and the claim moved it. */
static __always_inline int bound_by(const struct snilb_flow *f,
				    const struct snilb_rev_key *rk)
{
	struct snilb_backend *be;
	int i;

	if (f->state != SNILB_FS_ROUTED || rk->nport != f->nport)
		return 0;
	be = bpf_map_lookup_elem(&backends, &f->backend);
	if (!be || rk->bport != be->port)
		return 0;
	for (i = 0; i < 4; i++)
		if (rk->baddr[i] != be->addr[i])
			return 0;
	return 1;
}

/* f->pp_len for backend @be: the header's length if it asks for one
 * (built in @hb when the hello was routed, as its set has such a
 * backend); -1 if it was not built (the set changed under the flow). */
static __always_inline int proxy_of(struct snilb_flow *f,
				    const struct snilb_hello *hb,
				    const struct snilb_backend *be)
{
	f->pp_len = 0;
	if (!(be->flags & SNILB_BE_PROXY_V2))
		return 0;
	if (!hb->pp_len)
		return -1;
	f->pp_len = hb->pp_len;
	return 0;
}

/* The SYN to a backend: the client's ISN and options (its MSS as
 * x_mss() gives it: @mss), from our SNAT address and the flow's port.
 * The ISN is the client's less the PROXY header's length when it gets
 * one (proxy.h): the header's bytes end where the client's begin. */
static __always_inline void backend_syn(struct tcp_out *o,
					const struct snilb_flow *f, __u16 mss,
					const __be32 *snat, const __be32 *baddr,
					__be16 bport)
{
	__builtin_memcpy(o->saddr, snat, 16);
	__builtin_memcpy(o->daddr, baddr, 16);
	o->sport = f->nport;
	o->dport = bport;
	o->seq = f->client_isn - f->pp_len;
	o->ack = 0;
	o->flags = TCP_SYN;
	o->window = 65535;
	o->plen = 0;
	o->pcsum = 0;
	put_syn_opts(o, mss, f->opts.sack, f->opts.ts, f->ts_recent, 0,
		     f->opts.wscale);
}

/*
 * Turn the packet in hand (@p, of either side) into one of @fam, the
 * family of the one it goes to next, for write_tcp() to write over:
 * itself when the family is the same, else the one x_family() made
 * (sc->xpk). NULL on failure.
 */
static __always_inline const struct pkt *pkt_as(struct __sk_buff *skb,
						const struct pkt *p, __u8 fam)
{
	struct scratch *sc;

	if (p->family == fam)
		return p;
	sc = get_scratch();
	/* Any addresses: write_tcp() writes the whole header again. */
	if (!sc || x_family(skb, p, fam, p->saddr, p->daddr))
		return NULL;
	return &sc->xpk;
}

/*
 * The SYN is on its way (@verdict: to_backend()'s redirect); unless
 * --single-syn, our second SYN goes right behind it, without timestamps:
 * the first is cloned out now, the packet becomes the second. The backend
 * sees them in that order: it takes the second for a retransmission and sends its
 * SYN-ACK again, and so samples no RTT from our handshake (Karn), without
 * the round trip resyn() costs (backend.h; docs/dataplane.md "The
 * backend's RTT"). Only once its path is known: a clone cannot wait for
 * the neighbour layer, and then resyn() does it on its first SYN-ACK.
 */
static __always_inline int syn_twice(struct __sk_buff *skb,
				     const struct pkt *p, struct snilb_flow *f,
				     const struct snilb_config *cfg,
				     struct tcp_out *o, int verdict)
{
	if (verdict != TC_ACT_REDIRECT || cfg->single_syn || !f->b_ifindex)
		return verdict;
	if (bpf_clone_redirect(skb, f->b_ifindex, 0))
		return verdict;		/* the one SYN, still redirected */
	/* No timestamps: a SYN cookie would say so (resyn_ecr()). */
	__builtin_memset(o->opts + 6, TCPOPT_NOP, 10);
	if (write_tcp(skb, p, o))
		return TC_ACT_SHOT;
	f->resyn = SNILB_RESYN_EARLY;
	stat_inc(SNILB_ST_RESYN);
	return verdict;
}

/* The log's record of this bind (alog.h), when the log is on. */
static __always_inline void alog_bind(const struct snilb_flow_key *k,
				      const struct snilb_bind *b,
				      const struct snilb_config *cfg)
{
	struct snilb_conn *c = alog_conn(k, cfg);

	if (!c)
		return;
	c->tries = b->tries;
	c->bind_ns = b->bind_ns;
}

/*
 * Send the SYN for the next try (the bind state, struct snilb_bind, is in
 * the hello's entry, which a routed flow has until it is spliced). Returns
 * a TC verdict, or -1 when no backend can be tried (the caller resets the
 * client). The caller holds the flow (flow_claim()).
 */
static __noinline int bind_backend(struct __sk_buff *skb, const struct pkt *p,
				   const struct snilb_flow_key *k,
				   struct snilb_flow *f,
				   const struct snilb_config *cfg)
{
	struct scratch *sc = get_scratch();
	struct snilb_hello *hb = bpf_map_lookup_elem(&hellos, k);
	struct snilb_backend *be;
	struct snilb_rev_key rk;
	struct tcp_out *o;
	__u32 bid;

	/* The SYN is built in the scratch map: on the stack it would take
	 * the deepest chain (snilb_backend -> on_icmp -> on_refused -> here
	 * -> write_tcp) past 512 bytes on kernels that round frames to 32. */
	if (!cfg || !sc || !hb || hb->b.tries >= SNILB_MAX_TRIES)
		return -1;
	o = &sc->out;
	__builtin_memset(o, 0, sizeof(*o));
	snat_release(cfg, f);
	f->nport = 0;
	if (pick_backend(k, f, &hb->b, &bid))
		return -1;
	be = bpf_map_lookup_elem(&backends, &bid);
	/* No SNAT address of its family (--snat of each): no backend. */
	if (!be || !snilb_snat_set(cfg, be->family))
		return -1;
	if (proxy_of(f, hb, be))
		return -1;
	if (snat_claim(cfg, k, be, &rk)) {
		stat_inc(SNILB_ST_SNAT_FULL);
		return -1;
	}
	if (hb->b.tries) {
		struct snilb_route_stats *rs = rstats(f->route);

		stat_inc(SNILB_ST_BIND_RETRY);
		if (rs)
			rs->retries++;
	}
	f->backend = bid;
	f->nport = rk.nport;
	hb->b.tw_resets = 0;
	f->resyn = SNILB_RESYN_NONE;
	hb->b.tries++;
	hb->b.bind_ns = bpf_ktime_get_ns();
	alog_bind(k, &hb->b, cfg);
	f->b_ifindex = 0;		/* another backend, maybe another path */
	f->state = SNILB_FS_ROUTED;
	backend_syn(o, f, x_mss(k->family, be->family, f->opts.mss),
		    snat_of(cfg, be->family), be->addr, be->port);
	/* A backend of the other family (NAT46/64): the packet becomes one
	 * of its family first. */
	p = pkt_as(skb, p, be->family);
	if (!p || write_tcp(skb, p, o))
		return TC_ACT_SHOT;
	stat_inc(SNILB_ST_BIND);
	return syn_twice(skb, p, f, cfg, o, to_backend(skb, f, be->family,
							be->addr));
}

#endif /* SNILB_BPF_BIND_H */

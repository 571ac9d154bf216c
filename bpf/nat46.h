/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Spliced packets of a flow whose backend's family is not its client's
 * (NAT46/64): splice.h's work, with the IP header translated (xlat.h) in
 * between. splice_c2b() and splice_b2c() come here on one test of a
 * family byte they have loaded; a same-family packet pays nothing else.
 *
 * The checksum: the TCP pseudo-header's addresses moved (x_header() says
 * by how much), and the ports, acks, timestamps and windows as in
 * splice.h; patched as splice.h does where the program may read the
 * skb's checksum state, else by bpf_l4_csum_replace() (x_csum()).
 *
 * MTU: the translated packet is 20 bytes longer (IPv4 to IPv6) or shorter
 * than the one that came: the path's MTU, as a limit on the packet in
 * hand, is x_mtu() of it, and the "too big" answer (mtu.h) carries that,
 * in the sender's own family. An ICMP error from the far side about a
 * translated packet: a "too big" lowers the MTU the flow checks against
 * and reaches the sender at once in its own family, quoting its own
 * packet (x_icmp_to_client(), x_icmp_to_backend()); other errors are
 * dropped.
 */
#ifndef SNILB_BPF_NAT46_H
#define SNILB_BPF_NAT46_H

#include "splice.h"
#include "icmp.h"
#include "xlat.h"

/*
 * The TCP checksum at @th after x_header(), with @rest as splice.h sums
 * it, and skb->csum. @kctx (compile-time): the skb's checksum state can
 * be read, and the field is patched here as csum_commit() does; a
 * CHECKSUM_COMPLETE skb->csum moves by the IP header's change and the
 * TCP segment's (-pseudo: its checksum field absorbs the rest). Else
 * bpf_l4_csum_replace() knows the state: BPF_F_PSEUDO_HDR moves a
 * COMPLETE skb->csum by -pseudo itself (no BPF_F_IPV6: the addresses'
 * own change is in sc->xhdr), and bpf_csum_update() adds the header's.
 */
static __always_inline void x_csum(struct __sk_buff *skb, struct scratch *sc,
				   __u8 *th, __u32 rest, const int kctx)
{
	__u16 *check = (__u16 *)(th + TCP_CSUM_OFF);
	__u32 off = sc->xpk.l4 + TCP_CSUM_OFF, pseudo = sc->xpseudo, state;

	if (!kctx) {
		bpf_l4_csum_replace(skb, off, 0, pseudo, BPF_F_PSEUDO_HDR);
		bpf_l4_csum_replace(skb, off, 0, rest, 0);
		bpf_csum_update(skb, sc->xhdr);
		return;
	}
	state = skb_summed(skb);
	if (state == SKB_CSUM_PARTIAL) {
		*check = csum_patch_partial(*check, pseudo);
		return;
	}
	*check = csum_patch_full(*check, pseudo, rest);
	if (state == SKB_CSUM_COMPLETE)
		bpf_csum_update(skb, csum_add32(sc->xhdr, ~pseudo));
}

/* Write the ports; returns the checksum sum @rest updated. */
static __always_inline __u32 x_ports(__u8 *th, __be16 sport, __be16 dport,
				     __u32 rest)
{
	__u32 *ports = (__u32 *)th, old = *ports;

	((__be16 *)th)[0] = sport;
	((__be16 *)th)[1] = dport;
	return csum_swap(rest, old, *ports);
}

/* Client -> backend of the other family. */
static __always_inline int nat_c2b(struct __sk_buff *skb, struct scratch *sc,
				   struct snilb_flow *f,
				   const struct snilb_backend *be,
				   const struct snilb_config *cfg,
				   const int kctx)
{
	const struct pkt *p = &sc->ipk, *q = &sc->xpk;
	struct tcp_opts *pos = &sc->opts;
	__u32 mtu = x_mtu(p->family, f->bmtu), rest = 0;
	int done = CV_PASS;
	const __be32 *snat;
	struct hdrs h;
	void *end;

	if (unlikely(oversize(skb, p, mtu)))
		return send_too_big(skb, p, mtu);
	if (!snilb_snat_set(cfg, be->family))
		return TC_ACT_SHOT;
	if (f->closing || (p->flags & (TCP_FIN | TCP_RST))) {
		done = close_c2b(p, f, be, cfg);
		if (done == CV_DROP)
			return TC_ACT_SHOT;
	}
	if (p->flags & TCP_ACK)
		ack_track(&f->c_ack, &f->c_win, f->opts.wscale, p);
	snat = snat_of(cfg, be->family);
	find_opts(skb, sc, pos);
	if (x_header(skb, p, be->family, snat, be->addr) ||
	    get_hdrs(skb, q, &h))
		return TC_ACT_SHOT;
	end = (void *)(long)skb->data_end;
	rest = x_ports(h.th, f->nport, be->port, rest);
	if (p->flags & TCP_ACK)
		rest = add32_at(h.th, end, 8, f->seq_off, rest);
	if (f->bwscale == TS_NO_WSCALE && f->opts.wscale != TS_NO_WSCALE)
		rest = set_window(h.th, win_bytes(p->win, f->opts.wscale), 0,
				  rest);
	if (pos->ts_at)
		rest = add32_at(h.th, end, pos->ts_at + 6, f->ts_off, rest);
	if (pos->nsack)
		rest = sack_add(h.th, end, pos, f->seq_off, rest);
	x_csum(skb, sc, h.th, rest, kctx);
	return c2b_out(skb, sc, f, be, cfg, p->plen, done);
}

/* Backend -> client of the other family; @f as splice_b2c() has it. */
static __always_inline int nat_b2c(struct __sk_buff *skb, struct scratch *sc,
				   struct snilb_rev *r, struct snilb_flow *f,
				   const struct snilb_config *cfg,
				   const int kctx)
{
	const struct snilb_flow_key *k = &r->flow;
	const struct pkt *p = &sc->ipk, *q = &sc->xpk;
	struct tcp_opts *pos = &sc->opts;
	__u32 mtu = x_mtu(p->family, r->cmtu), rest = 0;
	__u8 ows = our_wscale(cfg);
	struct snilb_route_stats *rs;
	int done = CV_PASS, verdict;
	struct hdrs h;
	void *end;

	if (unlikely(oversize(skb, p, mtu)))
		return send_too_big(skb, p, mtu);
	if (f) {
		done = close_b2c(p, r, f);
		if (done == CV_DROP)
			return TC_ACT_SHOT;
	}
	if (p->flags & TCP_ACK)
		ack_track(&r->b_ack, &r->b_win, r->bwscale, p);
	find_opts(skb, sc, pos);
	if (x_header(skb, p, k->family, k->vaddr, k->caddr) ||
	    get_hdrs(skb, q, &h))
		return TC_ACT_SHOT;
	end = (void *)(long)skb->data_end;
	rest = x_ports(h.th, k->vport, k->cport, rest);
	rest = add32_at(h.th, end, 4, -r->seq_off, rest);
	if (pos->ts_at)
		rest = add32_at(h.th, end, pos->ts_at + 2, -r->ts_off, rest);
	if (r->bwscale != ows && r->cwscale != TS_NO_WSCALE) {
		__u32 bws = r->bwscale == TS_NO_WSCALE ? 0 : r->bwscale;

		rest = set_window(h.th, (__u32)p->win << (bws & 15), ows,
				  rest);
	}
	x_csum(skb, sc, h.th, rest, kctx);
	if (unlikely(!r->bytes_b2c) && p->plen)
		r->first_ns = bpf_ktime_get_ns();
	r->bytes_b2c += p->plen;
	r->pkts_b2c++;
	stat_inc(SNILB_ST_FWD_B2C);
	rs = rstats(r->route);
	if (rs) {
		rs->pkts_b2c++;
		rs->bytes_b2c += p->plen;
	}
	verdict = to_client_via(skb, r->cmac, r->lmac, r->ifindex);
	if (done == CV_FREE)
		flow_forget(&sc->ik, f, SNILB_END_RST_BACKEND,
			    SNILB_LOG_NO_REASON);
	return verdict;
}

/* The subprograms splice.h calls: one per program variant (a
 * subprogram cannot take the compile-time @kctx; only snilb_ingress,
 * loaded where the kernel has it, reaches the _k ones). */
static __noinline int nat_c2b_k(struct __sk_buff *skb, struct scratch *sc,
				struct snilb_flow *f,
				const struct snilb_backend *be,
				const struct snilb_config *cfg)
{
	return nat_c2b(skb, sc, f, be, cfg, 1);
}

static __noinline int nat_c2b_h(struct __sk_buff *skb, struct scratch *sc,
				struct snilb_flow *f,
				const struct snilb_backend *be,
				const struct snilb_config *cfg)
{
	return nat_c2b(skb, sc, f, be, cfg, 0);
}

static __noinline int nat_b2c_k(struct __sk_buff *skb, struct scratch *sc,
				struct snilb_rev *r, struct snilb_flow *f,
				const struct snilb_config *cfg)
{
	return nat_b2c(skb, sc, r, f, cfg, 1);
}

static __noinline int nat_b2c_h(struct __sk_buff *skb, struct scratch *sc,
				struct snilb_rev *r, struct snilb_flow *f,
				const struct snilb_config *cfg)
{
	return nat_b2c(skb, sc, r, f, cfg, 0);
}

/* The error @t describes, IPv4: "fragmentation needed", the quote an IP
 * header and 20 bytes of TCP (ports, sequence number, the rest zero). */
static __always_inline void x_tb4(__u8 *b, const struct x_tb *t)
{
	struct iphdr *ip = (struct iphdr *)b, *qi = (struct iphdr *)(b + 28);
	__u8 *ic = b + 20, *qt = b + 48;

	__builtin_memset(b, 0, 68);
	qi->version = 4;
	qi->ihl = 5;
	qi->tot_len = bpf_htons(40);
	qi->frag_off = bpf_htons(0x4000);
	qi->ttl = 64;
	qi->protocol = IPPROTO_TCP;
	qi->saddr = t->qsrc[0];
	qi->daddr = t->qdst[0];
	qi->check = csum_fold(sum32(qi, 5, 0));
	*(__be16 *)qt = t->qsport;
	*(__be16 *)(qt + 2) = t->qdport;
	*(__be32 *)(qt + 4) = t->qseq;
	qt[12] = 5 << 4;
	ic[0] = ICMP_UNREACH;
	ic[1] = ICMP_FRAG_NEEDED;
	*(__be16 *)(ic + 6) = bpf_htons(t->mtu > 0xffff ? 0xffff : t->mtu);
	*(__u16 *)(ic + 2) = csum_fold(sum32(ic, 12, 0));
	ip->version = 4;
	ip->ihl = 5;
	ip->tos = 0xc0;
	ip->tot_len = bpf_htons(68);
	ip->ttl = 64;
	ip->protocol = IPPROTO_ICMP;
	ip->saddr = t->from[0];
	ip->daddr = t->to[0];
	ip->check = csum_fold(sum32(ip, 5, 0));
}

/* IPv6: "packet too big", the same quote under an IPv6 header. */
static __always_inline void x_tb6(__u8 *b, const struct x_tb *t)
{
	struct ipv6hdr *ip = (struct ipv6hdr *)b;
	struct ipv6hdr *qi = (struct ipv6hdr *)(b + 48);
	__u8 *ic = b + 40, *qt = b + 88;
	__u32 s;

	__builtin_memset(b, 0, 108);
	qi->version = 6;
	qi->payload_len = bpf_htons(20);
	qi->nexthdr = IPPROTO_TCP;
	qi->hop_limit = 64;
	__builtin_memcpy(&qi->saddr, t->qsrc, 16);
	__builtin_memcpy(&qi->daddr, t->qdst, 16);
	*(__be16 *)qt = t->qsport;
	*(__be16 *)(qt + 2) = t->qdport;
	*(__be32 *)(qt + 4) = t->qseq;
	qt[12] = 5 << 4;
	ic[0] = ICMP6_TOO_BIG;
	*(__be32 *)(ic + 4) = bpf_htonl(t->mtu < 1280 ? 1280 : t->mtu);
	ip->version = 6;
	ip->payload_len = bpf_htons(68);
	ip->nexthdr = 58;		/* IPPROTO_ICMPV6 */
	ip->hop_limit = 64;
	__builtin_memcpy(&ip->saddr, t->from, 16);
	__builtin_memcpy(&ip->daddr, t->to, 16);
	s = sum32(&ip->saddr, 8, bpf_htonl(68));
	s = csum_add32(s, bpf_htonl(58));
	*(__u16 *)(ic + 2) = csum_fold(sum32(ic, 17, s));
}

/*
 * Make the ICMP error in hand (@p) the one sc->xtb describes, in its
 * family: the packet resized, the bytes written through the helper (a
 * CHECKSUM_COMPLETE skb->csum follows them). The caller sends it.
 */
static __noinline int x_too_big(struct __sk_buff *skb, const struct pkt *p)
{
	struct scratch *sc = get_scratch();
	void *data, *end;
	struct ethhdr *eth;
	int v4, err;

	if (!sc)
		return -1;
	v4 = sc->xtb.fam == SNILB_AF_INET;
	if (p->family != sc->xtb.fam &&
	    bpf_skb_change_proto(skb, bpf_htons(v4 ? ETH_P_IP : ETH_P_IPV6),
				 0))
		return -1;
	if (bpf_skb_change_tail(skb, ETH_HLEN + (v4 ? 68 : 108), 0))
		return -1;
	if (v4) {
		x_tb4(sc->xbuf, &sc->xtb);
		err = bpf_skb_store_bytes(skb, ETH_HLEN, sc->xbuf, 68,
					  BPF_F_RECOMPUTE_CSUM);
	} else {
		x_tb6(sc->xbuf, &sc->xtb);
		err = bpf_skb_store_bytes(skb, ETH_HLEN, sc->xbuf, 108,
					  BPF_F_RECOMPUTE_CSUM);
	}
	data = (void *)(long)skb->data;
	end = (void *)(long)skb->data_end;
	eth = data;
	if (err || (void *)(eth + 1) > end)
		return -1;
	eth->h_proto = bpf_htons(v4 ? ETH_P_IP : ETH_P_IPV6);
	return 0;
}

/*
 * An ICMP(v6) error about a translated packet of a spliced flow, whose
 * sender is of the other family. A "fragmentation needed" or "packet too
 * big": returns its MTU, and lowers *@mtu, the MTU (of the error's
 * family) the flow checks that direction's packets against (the caller
 * then sends the sender the error in its own family: x_too_big()). 0:
 * anything else, which is dropped, as a translator may (RFC 7915 says
 * how to translate them; the ends' TCP timers recover).
 */
static __always_inline __u32 x_icmp_mtu(struct __sk_buff *skb,
					const struct pkt *p,
					const struct icmp_at *at, __u16 *mtu)
{
	__u8 h[8];
	__u32 m;

	if (bpf_skb_load_bytes(skb, at->icmp, h, sizeof(h)))
		return 0;
	if (p->family == SNILB_AF_INET) {
		if (h[0] != ICMP_UNREACH || h[1] != ICMP_FRAG_NEEDED)
			return 0;
		m = (__u32)h[6] << 8 | h[7];
		if (m < 68)
			return 0;
	} else {
		if (h[0] != ICMP6_TOO_BIG)
			return 0;
		m = (__u32)h[4] << 24 | (__u32)h[5] << 16 | h[6] << 8 | h[7];
		if (m < 1280)
			return 0;
	}
	if (!*mtu || m < *mtu)
		*mtu = mtu16(m);
	stat_inc(SNILB_ST_X_MTU);
	return m;
}

/* The quoted packet's sequence number (network order), or -1. */
static __always_inline int x_quoted_seq(struct __sk_buff *skb,
					const struct icmp_at *at, __be32 *seq)
{
	return bpf_skb_load_bytes(skb, at->itcp + 4, seq, 4) ? -1 : 0;
}

/* From the backend's side, about our packet to the backend (row 9): the
 * client gets "too big" from the VIP, quoting its own packet. */
static __noinline int x_icmp_to_client(struct __sk_buff *skb,
				       struct scratch *sc,
				       const struct icmp_at *at,
				       struct snilb_flow *f,
				       const struct snilb_rev *r)
{
	const struct snilb_flow_key *k = &r->flow;
	struct x_tb *t = &sc->xtb;
	__u32 m = x_icmp_mtu(skb, &sc->ipk, at, &f->bmtu);

	if (!m || x_quoted_seq(skb, at, &t->qseq))
		return TC_ACT_SHOT;
	t->fam = k->family;
	__builtin_memcpy(t->from, k->vaddr, 16);
	__builtin_memcpy(t->to, k->caddr, 16);
	__builtin_memcpy(t->qsrc, k->caddr, 16);
	__builtin_memcpy(t->qdst, k->vaddr, 16);
	t->qsport = k->cport;
	t->qdport = k->vport;
	t->mtu = x_mtu(k->family, m);
	if (x_too_big(skb, &sc->ipk))
		return TC_ACT_SHOT;
	stat_inc(SNILB_ST_ICMP_FWD);
	return to_client_via(skb, r->cmac, r->lmac, r->ifindex);
}

/* From the client's side, about our packet to the client (row 9'): the
 * backend gets "too big" from the SNAT address, quoting its own packet
 * (its sequence number: ours plus the flow's offset). */
static __noinline int x_icmp_to_backend(struct __sk_buff *skb,
					struct scratch *sc,
					const struct icmp_at *at,
					struct snilb_flow *f,
					const struct snilb_config *cfg)
{
	struct snilb_backend *be = bpf_map_lookup_elem(&backends, &f->backend);
	struct x_tb *t = &sc->xtb;
	struct snilb_rev *r;
	__u32 m;

	if (!be || !snilb_snat_set(cfg, be->family))
		return TC_ACT_SHOT;
	r = flow_rev(f, be, cfg);
	if (!r)
		return TC_ACT_SHOT;
	m = x_icmp_mtu(skb, &sc->ipk, at, &r->cmtu);
	if (!m || x_quoted_seq(skb, at, &t->qseq))
		return TC_ACT_SHOT;
	t->qseq = bpf_htonl(bpf_ntohl(t->qseq) + f->seq_off);
	t->fam = be->family;
	__builtin_memset(t->from, 0, 16);
	if (be->family == SNILB_AF_INET)
		t->from[0] = cfg->snat4;
	else
		__builtin_memcpy(t->from, cfg->snat6, 16);
	__builtin_memcpy(t->to, be->addr, 16);
	__builtin_memcpy(t->qsrc, be->addr, 16);
	__builtin_memcpy(t->qdst, t->from, 16);
	t->qsport = be->port;
	t->qdport = f->nport;
	t->mtu = x_mtu(be->family, m);
	if (x_too_big(skb, &sc->ipk))
		return TC_ACT_SHOT;
	stat_inc(SNILB_ST_ICMP_BACK);
	return to_backend(skb, f, be->family, be->addr);
}

#endif /* SNILB_BPF_NAT46_H */

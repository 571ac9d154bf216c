/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The XDP program (snilb_xdp) on the interfaces clients come in on: a SYN
 * to a listener is answered with a cookie before the kernel builds an skb
 * for it (XDP_TX), as the kernel's xdp_synproxy does; every other packet
 * passes (XDP_PASS) to the TC program, which also takes every SYN this
 * one leaves: one on a tuple that has a flow (syn_on_flow()), a malformed
 * one, one with IPv4 options, an IPv6 extension header or a VLAN tag. The
 * SYN-ACK is synack.h's and tcpout.h's, the TC program's: the same bytes,
 * the same cookie, the same per-SYN state for a client without
 * timestamps, the same counters (and syn_xdp).
 */
#ifndef SNILB_BPF_XDP_H
#define SNILB_BPF_XDP_H

#include <linux/bpf.h>

#include "synack.h"

/* Past Ethernet: the IP header's length, or -1. */
static __always_inline int xdp_ip(void *data, void *end, struct pkt *p,
				  __u32 *l4len)
{
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct ipv6hdr *ip6 = (void *)(eth + 1);
	__u32 tot;

	if ((void *)(eth + 1) > end)
		return -1;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		/* A packet a peer steered here (steer.h) is TC's. */
		if ((void *)(ip + 1) > end || ip->ihl != 5 ||
		    ip->protocol != IPPROTO_TCP ||
		    (ip->frag_off & bpf_htons(IP_MF_OFFSET |
					      SNILB_STEER_FLAG)))
			return -1;
		tot = bpf_ntohs(ip->tot_len);
		if (tot < sizeof(*ip) || (long)(ETH_HLEN + tot) > end - data)
			return -1;
		p->family = SNILB_AF_INET;
		p->saddr[0] = ip->saddr;
		p->daddr[0] = ip->daddr;
		*l4len = tot - sizeof(*ip);
		return sizeof(*ip);
	}
	if (eth->h_proto != bpf_htons(ETH_P_IPV6) ||
	    (void *)(ip6 + 1) > end || ip6->nexthdr != IPPROTO_TCP)
		return -1;
	tot = bpf_ntohs(ip6->payload_len);
	if ((long)(ETH_HLEN + sizeof(*ip6) + tot) > end - data)
		return -1;
	p->family = SNILB_AF_INET6;
	__builtin_memcpy(p->saddr, &ip6->saddr, 16);
	__builtin_memcpy(p->daddr, &ip6->daddr, 16);
	*l4len = tot;
	return sizeof(*ip6);
}

/* A bare SYN (no ACK, RST or FIN) parsed into @p; -1: anything else. */
static __always_inline int xdp_syn_parse(struct xdp_md *ctx, struct pkt *p)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct tcphdr *th;
	__u32 l4len = 0;
	int iplen;

	iplen = xdp_ip(data, end, p, &l4len);
	if (iplen < 0)
		return -1;
	th = data + ETH_HLEN + (iplen == sizeof(struct iphdr) ?
				sizeof(struct iphdr) :
				sizeof(struct ipv6hdr));
	if ((void *)(th + 1) > end)
		return -1;
	p->flags = ((__u8 *)th)[13];
	if ((p->flags & (TCP_SYN | TCP_ACK | TCP_RST | TCP_FIN)) != TCP_SYN)
		return -1;
	p->doff = th->doff * 4;
	if (p->doff < sizeof(*th) || p->doff > l4len)
		return -1;
	p->l3 = ETH_HLEN;
	p->l4 = ETH_HLEN + iplen;
	p->plen = l4len - p->doff;
	p->sport = th->source;
	p->dport = th->dest;
	p->seq = bpf_ntohl(th->seq);
	p->ack = bpf_ntohl(th->ack_seq);
	p->win = bpf_ntohs(th->window);
	return 0;
}

/* Several gateway nodes (docs/multinode.md): is the connection of @k
 * this node's to answer? Another node's SYN goes to TC, which sends it
 * on (steer.h). */
static __always_inline int xdp_owner_here(const struct snilb_flow_key *k)
{
	__u32 zero = 0, slot = flow_hash(k) % SNILB_NODE_RING;
	const struct snilb_cluster *cl = bpf_map_lookup_elem(&cluster, &zero);
	const struct snilb_node_slot *s;

	if (!cl || !cl->active)
		return 1;
	s = bpf_map_lookup_elem(&node_ring, &slot);
	return !s || !s->cur || s->cur == cl->self;
}

/* Is @p to a listener, on a tuple with no flow, this node's to answer?
 * (sc->ik, sc->lk set.) */
static __always_inline int xdp_ours(struct scratch *sc, const struct pkt *p)
{
	__u32 port = bpf_ntohs(p->dport), word = port / 32, *bits;

	bits = bpf_map_lookup_elem(&listen_port_bits, &word);
	if (!bits || !(*bits >> (port % 32) & 1))
		return 0;
	__builtin_memset(&sc->lk, 0, sizeof(sc->lk));
	sc->lk.family = p->family;
	sc->lk.port = p->dport;
	__builtin_memcpy(sc->lk.addr, p->daddr, 16);
	if (!bpf_map_lookup_elem(&listeners, &sc->lk))
		return 0;
	flow_key(p, &sc->ik);
	return !bpf_map_lookup_elem(&flows, &sc->ik) && xdp_owner_here(&sc->ik);
}

/* The SYN's options into sc->opts: a Linux SYN where it lies, any other
 * copied out for the option walk. */
static __always_inline int xdp_syn_opts(struct xdp_md *ctx, struct scratch *sc,
					const struct pkt *p)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u8 *th = data + ETH_HLEN + (p->family == SNILB_AF_INET ?
				      sizeof(struct iphdr) :
				      sizeof(struct ipv6hdr));
	__u64 n = p->doff;

	__builtin_memset(&sc->opts, 0, sizeof(sc->opts));
	sc->opts.wscale = TS_NO_WSCALE;
	if (p->doff == 40 && (void *)(th + 40) <= end &&
	    linux_opts(th, 40, &sc->opts))
		return 0;
	asm volatile("" : "+r"(n));	/* see load_headers() */
	if (n < 20 || n > 60 ||
	    bpf_xdp_load_bytes(ctx, p->l4 & 0xff, sc->th, n))
		return -1;
	parse_opts(sc->th, p->doff, &sc->opts);
	return 0;
}

/* Write sc->out over the packet, as long as it needs to be, the MACs
 * swapped: the TC program's SYN-ACK, its checksum whole. */
static __always_inline int xdp_write(struct xdp_md *ctx, struct scratch *sc,
				     const struct pkt *p)
{
	__u32 base = p->family == SNILB_AF_INET ?
		     sizeof(struct iphdr) + sizeof(struct tcphdr) :
		     sizeof(struct ipv6hdr) + sizeof(struct tcphdr);
	int len = ETH_HLEN + base + OPT_SYN;
	void *data, *end;
	__u32 ps, rest;
	__u8 mac[6];

	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (len != end - data && bpf_xdp_adjust_tail(ctx, len -
						    (int)(end - data)))
		return -1;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (data + ETH_HLEN + sizeof(struct iphdr) + sizeof(struct tcphdr) +
	    OPT_SYN > end)
		return -1;
	__builtin_memcpy(mac, data, 6);
	__builtin_memcpy(data, data + 6, 6);
	__builtin_memcpy(data + 6, mac, 6);
	if (p->family == SNILB_AF_INET) {
		struct hdr4 *h = (struct hdr4 *)&sc->hdr;

		fill_tcp4(&sc->out, h, &ps, &rest);
		h->th.check = csum_full(ps, rest);
		__builtin_memcpy(data + ETH_HLEN, h, sizeof(struct iphdr) +
				 sizeof(struct tcphdr) + OPT_SYN);
		return 0;
	}
	if (data + ETH_HLEN + sizeof(struct ipv6hdr) + sizeof(struct tcphdr) +
	    OPT_SYN > end)
		return -1;
	fill_tcp6(&sc->out, &sc->hdr, &ps, &rest);
	sc->hdr.th.check = csum_full(ps, rest);
	__builtin_memcpy(data + ETH_HLEN, &sc->hdr, sizeof(struct ipv6hdr) +
			 sizeof(struct tcphdr) + OPT_SYN);
	return 0;
}

static __always_inline int xdp_syn(struct xdp_md *ctx)
{
	const struct snilb_config *cfg = get_config();
	struct scratch *sc = get_scratch();
	struct pkt *p;

	if (!sc)
		return XDP_PASS;
	p = &sc->ipk;
	__builtin_memset(p, 0, sizeof(*p));
	if (xdp_syn_parse(ctx, p) || !xdp_ours(sc, p) ||
	    xdp_syn_opts(ctx, sc, p) || synack_build(sc, p, cfg))
		return XDP_PASS;
	if (xdp_write(ctx, sc, p))
		return XDP_PASS;	/* unchanged but its length: TC drops it */
	stat_inc(SNILB_ST_SYN);
	stat_inc(SNILB_ST_SYN_XDP);
	return XDP_TX;
}

#endif /* SNILB_BPF_XDP_H */

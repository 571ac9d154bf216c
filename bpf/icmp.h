/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * ICMP(v6) errors about the packets we send, as the kernel's NAT handles
 * them for the connections it tracks:
 *
 * - from the backend's side, about our packets from the SNAT address (they
 *   come to the SNAT address):
 *   - "destination unreachable" quoting the SYN of a bind: a refusal, the
 *     next backend is tried (backend.h, on_icmp());
 *   - any error about a spliced flow -- a router's "fragmentation needed"
 *     or "packet too big" above all -- is the client's to act on: it is
 *     rewritten into the client's view (from the VIP, to the client,
 *     quoting the client's own packet) and sent to the client. The quoted
 *     sequence number stays: the backend numbers the client's bytes as
 *     the client does.
 * - from the client's side, about our packets from the VIP (they come to
 *   the VIP): an error about a spliced flow is the backend's to act on
 *   (a router on the client's path cannot carry what the backend sends):
 *   rewritten into the backend's view (from the SNAT address, to the
 *   backend, quoting the backend's own packet, its sequence number
 *   translated back: a stack ignores an error about bytes it never sent)
 *   and sent to the backend.
 *
 * Rare packets: plain helper calls, no fast path. Every byte changed is
 * inside the ICMP checksum, which takes each change (for ICMPv6 the outer
 * addresses too, through its pseudo-header), or inside the IPv4 header,
 * whose checksum takes its own: the bytes sum to what they did, so a
 * CHECKSUM_COMPLETE skb->csum stays right without BPF_F_RECOMPUTE_CSUM
 * (tests/tcp/t-offload.sh audits it). ICMP is never CHECKSUM_PARTIAL.
 */
#ifndef SNILB_BPF_ICMP_H
#define SNILB_BPF_ICMP_H

#include "splice.h"

#define ICMP_HLEN	8

/* Where the parts of an ICMP error are, from the IP header at @l3. */
struct icmp_at {
	__u32 icmp;		/* ICMP header */
	__u32 inner;		/* the quoted IP header */
	__u32 itcp;		/* the quoted TCP header */
	__u8 type;
};

/*
 * An ICMP(v6) error quoting a TCP packet: where its parts are, and the
 * quoted packet's addresses (@qsrc, @qdst: 1 or 4 words) and ports.
 */
static __always_inline int icmp_parse(struct __sk_buff *skb,
				      const struct pkt *p, struct icmp_at *at,
				      __be32 *qsrc, __be32 *qdst,
				      __be16 *ports)
{
	int v4 = p->family == SNILB_AF_INET;
	__u8 type[2], ip[10];

	at->icmp = p->l3 + (v4 ? 20 : 40);
	at->inner = at->icmp + ICMP_HLEN;
	at->itcp = at->inner + (v4 ? 20 : 40);
	if (bpf_skb_load_bytes(skb, at->icmp, type, 2) ||
	    bpf_skb_load_bytes(skb, at->inner, ip, 10))
		return -1;
	at->type = type[0];
	if (v4 ? type[0] != ICMP_UNREACH :
		 type[0] != ICMP6_UNREACH && type[0] != ICMP6_TOO_BIG)
		return -1;
	/* We send IPv4 without options, IPv6 without extension headers. */
	if (v4 ? ip[0] != 0x45 || ip[9] != IPPROTO_TCP :
		 ip[6] != IPPROTO_TCP)
		return -1;
	if (v4) {
		if (bpf_skb_load_bytes(skb, at->inner + 12, qsrc, 4) ||
		    bpf_skb_load_bytes(skb, at->inner + 16, qdst, 4))
			return -1;
	} else {
		if (bpf_skb_load_bytes(skb, at->inner + 8, qsrc, 16) ||
		    bpf_skb_load_bytes(skb, at->inner + 24, qdst, 16))
			return -1;
	}
	return bpf_skb_load_bytes(skb, at->itcp, ports, 4);
}

/* ... from the backend's side: the rev key of the quoted packet, which
 * must be one from our SNAT address (the key does not hold it). */
static __always_inline int icmp_parse_rev(struct __sk_buff *skb,
					  const struct pkt *p,
					  struct icmp_at *at,
					  const struct snilb_config *cfg,
					  struct snilb_rev_key *rk)
{
	__be32 qsrc[4] = {};
	__be16 ports[2];

	__builtin_memset(rk, 0, sizeof(*rk));
	rk->family = p->family;
	if (icmp_parse(skb, p, at, qsrc, rk->baddr, ports))
		return -1;
	if (!snat_addr_is(qsrc, p->family, cfg))
		return -1;
	rk->nport = ports[0];
	rk->bport = ports[1];
	return 0;
}

/* ... from the client's side: the flow key of the quoted packet. */
static __always_inline int icmp_parse_flow(struct __sk_buff *skb,
					   const struct pkt *p,
					   struct icmp_at *at,
					   struct snilb_flow_key *k)
{
	__be16 ports[2];

	__builtin_memset(k, 0, sizeof(*k));
	k->family = p->family;
	if (icmp_parse(skb, p, at, k->vaddr, k->caddr, ports))
		return -1;
	k->vport = ports[0];
	k->cport = ports[1];
	return 0;
}

/* Write @n (1 or 4) words of @new at @off; the checksum change goes into
 * *@d. */
static __always_inline int words_set(struct __sk_buff *skb, __u32 off,
				     const __be32 *new, int n, __u32 *d)
{
	__be32 old[4];
	int i;

	if (n == 1) {
		if (bpf_skb_load_bytes(skb, off, old, 4))
			return -1;
		*d = csum_swap(*d, old[0], new[0]);
		return bpf_skb_store_bytes(skb, off, new, 4, 0);
	}
	if (bpf_skb_load_bytes(skb, off, old, 16))
		return -1;
	for (i = 0; i < 4; i++)
		*d = csum_swap(*d, old[i], new[i]);
	return bpf_skb_store_bytes(skb, off, new, 16, 0);
}

/* A complete checksum (a 16-bit field at @off) patched by @d. */
static __always_inline int csum16_at(struct __sk_buff *skb, __u32 off,
				     __u32 d, __u32 *outer)
{
	__u16 old, new;

	if (bpf_skb_load_bytes(skb, off, &old, 2))
		return -1;
	new = ~fold16(csum_add32(d, ~(__u32)old));
	if (outer)
		*outer = csum_swap(*outer, old, new);
	return bpf_skb_store_bytes(skb, off, &new, 2, 0);
}

/* What the quoted packet becomes: its sender's view of it. */
struct icmp_view {
	const __be32 *src;
	const __be32 *dst;
	__be16 sport;
	__be16 dport;
	__u32 seq_add;		/* to the quoted sequence number */
};

/* Add v->seq_add to the quoted sequence number; the change into *@d. */
static __always_inline int icmp_seq(struct __sk_buff *skb,
				    const struct icmp_at *at,
				    const struct icmp_view *v, __u32 *d)
{
	__be32 seq;

	if (!v->seq_add)
		return 0;
	if (bpf_skb_load_bytes(skb, at->itcp + 4, &seq, 4))
		return -1;
	seq = bpf_htonl(bpf_ntohl(seq) + v->seq_add);
	return words_set(skb, at->itcp + 4, &seq, 1, d);
}

/* The quoted packet as its sender sent it: addresses, ports, sequence
 * number and, if it is quoted, the TCP checksum. Adds what changed to *@d
 * (the ICMP sum). */
static __always_inline int icmp_inner(struct __sk_buff *skb,
				      const struct icmp_at *at, int v4,
				      const struct icmp_view *v, __u32 *d)
{
	__be16 ports[2] = { v->sport, v->dport };
	__u32 taddr = 0, tport = 0, ipd = 0;

	if (v4) {
		if (words_set(skb, at->inner + 12, v->src, 1, &taddr) ||
		    words_set(skb, at->inner + 16, v->dst, 1, &taddr))
			return -1;
		ipd = taddr;
		if (csum16_at(skb, at->inner + 10, ipd, &taddr))
			return -1;
	} else if (words_set(skb, at->inner + 8, v->src, 4, &taddr) ||
		   words_set(skb, at->inner + 24, v->dst, 4, &taddr)) {
		return -1;
	}
	if (words_set(skb, at->itcp, (__be32 *)ports, 1, &tport) ||
	    icmp_seq(skb, at, v, &tport))
		return -1;
	*d = csum_add32(csum_add32(*d, taddr), tport);
	if (skb->len < at->itcp + 18)
		return 0;		/* the TCP checksum is not quoted */
	/* TCP's sum covers the pseudo-header (the addresses), ports and
	 * sequence number; for IPv4 taddr also holds the IP checksum's
	 * change: not TCP's. */
	return csum16_at(skb, at->itcp + 16,
			 csum_add32(v4 ? ipd : taddr, tport), d);
}

/* Rewrite the error into the view @v of the quoted packet's sender, from
 * @from (our address on its side): the outer header from @from to v->src,
 * the quote by icmp_inner(), the ICMP checksum patched. */
static __always_inline int icmp_rewrite(struct __sk_buff *skb,
					const struct pkt *p,
					const struct icmp_at *at,
					const struct icmp_view *v,
					const __be32 *from)
{
	int v4 = p->family == SNILB_AF_INET;
	__u32 d = 0, outer = 0;

	if (icmp_inner(skb, at, v4, v, &d))
		return -1;
	if (v4) {
		/* No pseudo-header in ICMP's sum: only the IP header's. */
		if (words_set(skb, p->l3 + 12, from, 1, &outer) ||
		    words_set(skb, p->l3 + 16, v->src, 1, &outer) ||
		    csum16_at(skb, p->l3 + 10, outer, NULL))
			return -1;
	} else if (words_set(skb, p->l3 + 8, from, 4, &d) ||
		   words_set(skb, p->l3 + 24, v->src, 4, &d)) {
		return -1;
	}
	return csum16_at(skb, at->icmp + 2, d, NULL);
}

/* From the backend's side: to the client, about its packet to the VIP. */
static __noinline int icmp_to_client(struct __sk_buff *skb,
				     const struct pkt *p,
				     const struct icmp_at *at,
				     const struct snilb_rev *r)
{
	const struct snilb_flow_key *k = &r->flow;
	struct icmp_view v = { .src = k->caddr, .dst = k->vaddr,
			       .sport = k->cport, .dport = k->vport };

	if (icmp_rewrite(skb, p, at, &v, k->vaddr))
		return TC_ACT_SHOT;
	stat_inc(SNILB_ST_ICMP_FWD);
	return to_client_via(skb, r->cmac, r->lmac, r->ifindex);
}

/* From the client's side: to the backend, about its packet to our SNAT
 * address, which we sent on to the client with its sequence number less
 * the flow's offset. */
static __noinline int icmp_to_backend(struct __sk_buff *skb,
				      const struct pkt *p,
				      const struct icmp_at *at,
				      struct snilb_flow *f,
				      const struct snilb_config *cfg)
{
	struct snilb_backend *be = bpf_map_lookup_elem(&backends, &f->backend);
	struct icmp_view v = { .sport = 0 };
	const __be32 *snat;

	if (!be || !snilb_snat_set(cfg, p->family))
		return TC_ACT_SHOT;
	snat = snat_of(cfg, p->family);
	v.src = be->addr;
	v.dst = snat;
	v.sport = be->port;
	v.dport = f->nport;
	v.seq_add = f->seq_off;
	if (icmp_rewrite(skb, p, at, &v, snat))
		return TC_ACT_SHOT;
	stat_inc(SNILB_ST_ICMP_BACK);
	return to_backend(skb, f, p->family, be->addr);
}

#endif /* SNILB_BPF_ICMP_H */

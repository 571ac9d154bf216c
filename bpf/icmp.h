/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * ICMP(v6) errors about the packets we send backends. They quote our side
 * of the flow (from the SNAT address) and come to the SNAT address:
 *
 * - "destination unreachable" quoting the SYN of a bind: a refusal, the
 *   next backend is tried (backend.h, on_icmp());
 * - any error about a spliced flow -- a router's "fragmentation needed"
 *   or "packet too big" above all -- is the client's to act on: it is
 *   rewritten into the client's view (from the VIP, to the client, quoting
 *   the client's own packet) and sent to the client, as the kernel's NAT
 *   does for the connections it tracks. The quoted sequence number stays:
 *   the backend numbers the client's bytes as the client does.
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
#define ICMP_UNREACH	3	/* ICMP: destination unreachable */
#define ICMP6_UNREACH	1	/* ICMPv6: destination unreachable */
#define ICMP6_TOO_BIG	2	/* ICMPv6: packet too big */

/* Where the parts of an ICMP error are, from the IP header at @l3. */
struct icmp_at {
	__u32 icmp;		/* ICMP header */
	__u32 inner;		/* the quoted IP header */
	__u32 itcp;		/* the quoted TCP header */
	__u8 type;
};

/*
 * An ICMP(v6) error quoting a TCP packet from our SNAT address: where its
 * parts are, and the rev key of the quoted packet in @rk.
 */
static __always_inline int icmp_parse(struct __sk_buff *skb,
				      const struct pkt *p, struct icmp_at *at,
				      struct snilb_rev_key *rk)
{
	int v4 = p->family == SNILB_AF_INET;
	__u8 type[2], ip[10];
	__be16 ports[2];

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
	__builtin_memset(rk, 0, sizeof(*rk));
	rk->family = p->family;
	if (v4) {
		if (bpf_skb_load_bytes(skb, at->inner + 12, rk->naddr, 4) ||
		    bpf_skb_load_bytes(skb, at->inner + 16, rk->baddr, 4))
			return -1;
	} else {
		if (bpf_skb_load_bytes(skb, at->inner + 8, rk->naddr, 16) ||
		    bpf_skb_load_bytes(skb, at->inner + 24, rk->baddr, 16))
			return -1;
	}
	if (bpf_skb_load_bytes(skb, at->itcp, ports, 4))
		return -1;
	rk->nport = ports[0];
	rk->bport = ports[1];
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

/* The quoted packet as the client sent it: addresses, ports and, if it is
 * quoted, the TCP checksum. Adds what changed to *@d (the ICMP sum). */
static __always_inline int icmp_inner(struct __sk_buff *skb,
				      const struct icmp_at *at, int v4,
				      const struct snilb_flow_key *k, __u32 *d)
{
	__be16 ports[2] = { k->cport, k->vport };
	__u32 taddr = 0, tport = 0, ipd = 0;

	if (v4) {
		if (words_set(skb, at->inner + 12, k->caddr, 1, &taddr) ||
		    words_set(skb, at->inner + 16, k->vaddr, 1, &taddr))
			return -1;
		ipd = taddr;
		if (csum16_at(skb, at->inner + 10, ipd, &taddr))
			return -1;
	} else if (words_set(skb, at->inner + 8, k->caddr, 4, &taddr) ||
		   words_set(skb, at->inner + 24, k->vaddr, 4, &taddr)) {
		return -1;
	}
	if (words_set(skb, at->itcp, (__be32 *)ports, 1, &tport))
		return -1;
	*d = csum_add32(csum_add32(*d, taddr), tport);
	if (skb->len < at->itcp + 18)
		return 0;		/* the TCP checksum is not quoted */
	/* TCP's sum covers the pseudo-header (the addresses) and ports;
	 * for IPv4 taddr also holds the IP checksum's change: not TCP's. */
	return csum16_at(skb, at->itcp + 16,
			 csum_add32(v4 ? ipd : taddr, tport), d);
}

/* Rewrite the error into the client's view and send it there. */
static __noinline int icmp_to_client(struct __sk_buff *skb,
				     const struct pkt *p,
				     const struct icmp_at *at,
				     const struct snilb_rev *r)
{
	const struct snilb_flow_key *k = &r->flow;
	int v4 = p->family == SNILB_AF_INET;
	__u32 d = 0, outer = 0;

	if (icmp_inner(skb, at, v4, k, &d))
		return TC_ACT_SHOT;
	if (v4) {
		/* No pseudo-header in ICMP's sum: only the IP header's. */
		if (words_set(skb, p->l3 + 12, k->vaddr, 1, &outer) ||
		    words_set(skb, p->l3 + 16, k->caddr, 1, &outer) ||
		    csum16_at(skb, p->l3 + 10, outer, NULL))
			return TC_ACT_SHOT;
	} else if (words_set(skb, p->l3 + 8, k->vaddr, 4, &d) ||
		   words_set(skb, p->l3 + 24, k->caddr, 4, &d)) {
		return TC_ACT_SHOT;
	}
	if (csum16_at(skb, at->icmp + 2, d, NULL))
		return TC_ACT_SHOT;
	stat_inc(SNILB_ST_ICMP_FWD);
	return to_client_via(skb, r->cmac, r->lmac, r->ifindex);
}

#endif /* SNILB_BPF_ICMP_H */

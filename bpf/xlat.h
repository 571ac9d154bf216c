/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * NAT46/64: a packet of one address family turned into one of the other,
 * for a flow whose backend's family is not its client's (an IPv6 client
 * of an IPv4-only Service, and the reverse). bpf_skb_change_proto() makes
 * the room (20 bytes more for IPv6, or less) after the Ethernet header and
 * changes the skb's protocol and GSO type; the new IP header is written
 * here, the TCP header is the caller's. Not on a same-family flow's path:
 * its packets test one family byte they have in hand and go on. The helper leaves gso_size alone
 * (since 5.14: the translated segments carry the same payload), so the
 * MSS each side was given must leave room for the larger header:
 * x_mss() for the SYN to a backend, the MTU checks of nat46.h for the
 * rest. docs/dataplane.md, "NAT46/64".
 */
#ifndef SNILB_BPF_XLAT_H
#define SNILB_BPF_XLAT_H

#include "pkt.h"
#include "csum.h"
#include "tcpout.h"
#include "scratch.h"

#define X_GROW		20	/* an IPv6 header less an IPv4 header */
#define X_MSS_MIN	536	/* RFC 9293's default MSS: never below */

/*
 * The MSS the SYN to a backend of family @bfam carries for a client of
 * family @cfam that announced @mss: the client's, less 20 when the
 * backend's header is the larger, so that its segments fit as IPv6
 * packets the MTU the client's IPv4 MSS was made for (as a CLAT clamps).
 */
static __always_inline __u16 x_mss(__u8 cfam, __u8 bfam, __u16 mss)
{
	if (cfam == SNILB_AF_INET && bfam == SNILB_AF_INET6 &&
	    mss >= X_MSS_MIN + X_GROW)
		return mss - X_GROW;
	return mss;
}

/* The MTU @mtu of one family's path, as a limit on the other's packets:
 * what a packet of family @from may be so that it fits once translated
 * (0: unknown, stays so). */
static __always_inline __u32 x_mtu(__u8 from, __u32 mtu)
{
	if (!mtu)
		return 0;
	return from == SNILB_AF_INET ? mtu - X_GROW : mtu + X_GROW;
}

/* The sum of the addresses of a pseudo-header of family @fam. */
static __always_inline __u32 addr_sum(__u8 fam, const __be32 *s,
				      const __be32 *d)
{
	if (fam == SNILB_AF_INET)
		return csum_add32(s[0], d[0]);
	return sum32(d, 4, sum32(s, 4, 0));
}

/* Write the IPv4 header of a @l4len-byte TCP segment; returns its sum. */
static __always_inline __u32 x_put4(struct iphdr *ip, __u8 tos, __u8 ttl,
				    __u32 l4len, const __be32 *s,
				    const __be32 *d)
{
	*(__be16 *)ip = bpf_htons(0x4500 | tos);
	ip->tot_len = bpf_htons(sizeof(*ip) + l4len);
	ip->id = 0;
	ip->frag_off = bpf_htons(0x4000);	/* DF */
	ip->ttl = ttl;
	ip->protocol = IPPROTO_TCP;
	ip->check = 0;
	ip->saddr = s[0];
	ip->daddr = d[0];
	ip->check = csum_fold(sum32(ip, 5, 0));
	return sum32(ip, 5, 0);
}

static __always_inline __u32 x_put6(struct ipv6hdr *ip6, __u8 tos, __u8 ttl,
				    __u32 l4len, const __be32 *s,
				    const __be32 *d)
{
	*(__be32 *)ip6 = bpf_htonl(6u << 28 | (__u32)tos << 20);
	ip6->payload_len = bpf_htons(l4len);
	ip6->nexthdr = IPPROTO_TCP;
	ip6->hop_limit = ttl;
	__builtin_memcpy(&ip6->saddr, s, 16);
	__builtin_memcpy(&ip6->daddr, d, 16);
	return sum32(ip6, 10, 0);
}

/*
 * Make the TCP packet @p describes one of family @to, from @s to @d
 * (@to's words), its TCP header untouched. The TOS and TTL carry over
 * (traffic class, hop limit); no IPv4 identification (DF set, as RFC 7915
 * lets a translator do). Out, in the scratch map: sc->xpk, @p as it is
 * now; sc->xpseudo, what the TCP pseudo-header's sum moved by (only the
 * addresses: the length and protocol sum the same in both families);
 * sc->xhdr, what the IP header's bytes' sum moved by, which a
 * CHECKSUM_COMPLETE skb->csum must follow (the helper inserts zeros, or
 * takes the removed bytes out of it itself). -1 on failure. Packet
 * pointers are invalid after.
 */
static __always_inline int x_header(struct __sk_buff *skb,
				    const struct pkt *p, __u8 to,
				    const __be32 *s, const __be32 *d)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	__u32 l4len = p->doff + p->plen, keep, fresh;
	struct scratch *sc = get_scratch();
	struct ethhdr *eth;
	struct pkt *q;
	__u8 tos, ttl;

	if (!sc || p->l3 != ETH_HLEN || l4len > 0xffff - sizeof(struct iphdr))
		return -1;	/* BIG TCP: no jumbogram translation */
	if (p->family == SNILB_AF_INET) {
		struct iphdr *ip = data + ETH_HLEN;

		if ((void *)(ip + 1) > end)
			return -1;
		tos = ip->tos;
		ttl = ip->ttl;
		keep = sum32(ip, 5, 0);		/* stays, after 20 zeros */
	} else {
		struct ipv6hdr *ip6 = data + ETH_HLEN;

		if ((void *)(ip6 + 1) > end)
			return -1;
		tos = bpf_ntohs(*(__be16 *)ip6) >> 4;
		ttl = ip6->hop_limit;
		keep = sum32((__u32 *)ip6 + 5, 5, 0);	/* the last 20 bytes */
	}
	sc->xpseudo = csum_add32(addr_sum(to, s, d),
			     ~addr_sum(p->family, p->saddr, p->daddr));
	if (bpf_skb_change_proto(skb, bpf_htons(to == SNILB_AF_INET ?
						ETH_P_IP : ETH_P_IPV6), 0))
		return -1;
	data = (void *)(long)skb->data;
	end = (void *)(long)skb->data_end;
	eth = data;
	if ((void *)(eth + 1) > end)
		return -1;
	if (to == SNILB_AF_INET) {
		struct iphdr *ip = data + ETH_HLEN;

		if ((void *)(ip + 1) > end)
			return -1;
		eth->h_proto = bpf_htons(ETH_P_IP);
		fresh = x_put4(ip, tos, ttl, l4len, s, d);
	} else {
		struct ipv6hdr *ip6 = data + ETH_HLEN;

		if ((void *)(ip6 + 1) > end)
			return -1;
		eth->h_proto = bpf_htons(ETH_P_IPV6);
		fresh = x_put6(ip6, tos, ttl, l4len, s, d);
	}
	sc->xhdr = csum_add32(fresh, ~keep);
	q = &sc->xpk;
	__builtin_memcpy(q, p, sizeof(*q));
	q->family = to;
	q->l3 = ETH_HLEN;
	__builtin_memset(q->saddr, 0, sizeof(q->saddr));
	__builtin_memset(q->daddr, 0, sizeof(q->daddr));
	if (to == SNILB_AF_INET) {
		q->l4 = ETH_HLEN + sizeof(struct iphdr);
		q->saddr[0] = s[0];
		q->daddr[0] = d[0];
	} else {
		q->l4 = ETH_HLEN + sizeof(struct ipv6hdr);
		__builtin_memcpy(q->saddr, s, 16);
		__builtin_memcpy(q->daddr, d, 16);
	}
	return 0;
}

/* The same, a subprogram, for the packets write_tcp() then writes over
 * whole (bind.h): skb->csum follows the header here. */
static __noinline int x_family(struct __sk_buff *skb, const struct pkt *p,
			       __u8 to, const __be32 *s, const __be32 *d)
{
	struct scratch *sc = get_scratch();

	if (!sc || x_header(skb, p, to, s, d))
		return -1;
	bpf_csum_update(skb, sc->xhdr);
	return 0;
}

#endif /* SNILB_BPF_XLAT_H */

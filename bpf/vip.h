/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Packets to a VIP that no listener takes. A VIP is routed to the node but
 * never assigned to one of its interfaces: passed on, such a packet is
 * forwarded back toward the router, which sends it here again, until its
 * TTL runs out. So nothing addressed to a VIP reaches the node's stack:
 *
 * - ICMP echo request, ICMPv6 echo request: answered from the VIP, in
 *   place (operators ping VIPs);
 * - TCP to a port with no listener: an RST, as a closed port answers;
 * - UDP (QUIC on 443 above all): ICMP(v6) port unreachable, so an HTTP/3
 *   client falls back to TCP at once instead of waiting out its QUIC
 *   handshake timeout. No bigger than the datagram's headers (the IP
 *   header and 8 bytes are quoted), and at most VIP_ICMP_RATE a second
 *   per CPU, in bursts of VIP_ICMP_BURST: a spoofed source cannot turn
 *   the node into an amplifier;
 * - fragments, IPv4 options, IPv6 extension headers (whose upper layer
 *   this program does not walk to), other ICMP types, other protocols,
 *   and anything from a source no answer may go to (RFC 1122 3.2.2):
 *   counted and dropped;
 * - ICMPv6 neighbour discovery: the link's business, left to the node.
 *
 * That is, if the node would forward it (the FIB says so): a VIP that is
 * also one of the node's own addresses is the node's to answer.
 *
 * Rare packets: plain helper calls. The check that finds them runs only
 * where a packet is already known not to be a listener's or a backend's
 * (snilb.bpf.c), and costs the node's own traffic one array read.
 */
#ifndef SNILB_BPF_VIP_H
#define SNILB_BPF_VIP_H

#include "fwd.h"

#define VIP_NOT		(-2)	/* vip_check(): not a VIP of ours */
#define VIP_ICMP_HLEN	8	/* an ICMP(v6) header */
#define VIP_IP_CSUM	10	/* the IPv4 header checksum */
#define VIP_IP6_HOPS	7	/* the IPv6 hop limit */
#define VIP_ICMP_RATE	1000	/* port unreachables a second a CPU */
#define VIP_ICMP_BURST	50	/* (icmp_msgs_per_sec, _burst) */
#define VIP_TOKEN_NS	(1000000000ull / VIP_ICMP_RATE)

/* ICMP and ICMPv6 types and codes (linux/icmp.h, linux/icmpv6.h). */
#define VIP_ICMP_ECHOREPLY	0
#define VIP_ICMP_UNREACH	3
#define VIP_ICMP_PORT		3	/* code: port unreachable */
#define VIP_ICMP_ECHO		8
#define VIP_ICMP6_UNREACH	1
#define VIP_ICMP6_PORT		4
#define VIP_ICMP6_ECHO		128
#define VIP_ICMP6_ECHOREPLY	129
#define VIP_ND_FIRST		133	/* router solicitation ... */
#define VIP_ND_LAST		137	/* ... redirect */

/* Might @p be addressed to a VIP? One array read the verifier inlines. */
static __always_inline int vip_maybe(const struct pkt *p)
{
	__u32 h, word, *bits;

	if (!p->family)
		return 0;
	h = snilb_vip_hash(p->family, p->daddr);
	word = h / 32;
	bits = bpf_map_lookup_elem(&vip_bits, &word);
	return bits && (*bits >> (h % 32) & 1);
}

static __always_inline int vip_drop(__u32 why)
{
	stat_inc(why);
	return TC_ACT_SHOT;
}

/* May an answer go to @p's source? Not to an unspecified, loopback,
 * multicast or broadcast one. */
static __always_inline int vip_answerable(const struct pkt *p)
{
	__u8 first = ((const __u8 *)p->saddr)[0];

	if (p->family == SNILB_AF_INET)
		return first && first != 127 && first < 224;
	return first != 0xff && (p->saddr[0] | p->saddr[1] | p->saddr[2] |
				 p->saddr[3]);
}

/* A token of this CPU's budget for ICMP errors, if one is left. */
static __always_inline int vip_token(struct scratch *sc)
{
	__u64 now = now_ns(sc);
	__u64 n = (now - sc->vip_refill_ns) / VIP_TOKEN_NS;

	if (n >= VIP_ICMP_BURST) {
		sc->vip_tokens = VIP_ICMP_BURST;
		sc->vip_refill_ns = now;
	} else if (n) {
		sc->vip_tokens += n;
		if (sc->vip_tokens > VIP_ICMP_BURST)
			sc->vip_tokens = VIP_ICMP_BURST;
		sc->vip_refill_ns += n * VIP_TOKEN_NS;
	}
	if (!sc->vip_tokens)
		return 0;
	sc->vip_tokens--;
	return 1;
}

/* TCP to a port no listener has: what a closed port answers (RFC 793). */
static __always_inline int vip_tcp(struct __sk_buff *skb, const struct pkt *p,
				   int v)
{
	__u32 ack;

	if (v != PARSE_TCP || !p->dport || (p->flags & TCP_RST))
		return vip_drop(SNILB_ST_VIP_DROP);
	stat_inc(SNILB_ST_VIP_RST);
	if (p->flags & TCP_ACK)
		return send_rst(skb, p, p->ack, 0, 0);
	ack = p->seq + p->plen + !!(p->flags & TCP_SYN) +
	      !!(p->flags & TCP_FIN);
	return send_rst(skb, p, 0, ack, 1);
}

/*
 * ICMP: an echo request becomes the echo reply, in place. Swapping the
 * addresses changes no checksum (nor a CHECKSUM_COMPLETE skb's sum); the
 * type and the TTL are patched with the helpers, which know what each kind
 * of skb needs.
 */
static __noinline int vip_icmp4(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct iphdr *ip = data + ETH_HLEN;
	__u8 *icmp = (void *)(ip + 1);
	__u16 old_tt, new_tt, old_ty, new_ty;
	__be32 a;

	if ((void *)(icmp + VIP_ICMP_HLEN) > end || icmp[0] != VIP_ICMP_ECHO)
		return vip_drop(SNILB_ST_VIP_DROP);
	a = ip->saddr;
	ip->saddr = ip->daddr;
	ip->daddr = a;
	old_tt = *(__u16 *)&ip->ttl;		/* TTL and protocol */
	ip->ttl = 64;
	new_tt = *(__u16 *)&ip->ttl;
	old_ty = *(__u16 *)icmp;		/* type and code */
	icmp[0] = VIP_ICMP_ECHOREPLY;
	new_ty = *(__u16 *)icmp;
	if (swap_macs(skb) ||
	    bpf_l3_csum_replace(skb, ETH_HLEN + VIP_IP_CSUM, old_tt, new_tt,
				2) ||
	    bpf_l4_csum_replace(skb, ETH_HLEN + sizeof(*ip) + 2, old_ty,
				new_ty, 2))
		return TC_ACT_SHOT;
	stat_inc(SNILB_ST_VIP_ECHO);
	return bpf_redirect(skb->ifindex, 0);
}

/*
 * The same for ICMPv6; the hop limit, in no checksum but a
 * CHECKSUM_COMPLETE skb's, is written by the helper that updates it.
 * Neighbour discovery is the link's, not the VIP's: left to the node (a
 * VIP announced with proxy NDP gets unicast solicitations).
 */
static __noinline int vip_icmp6(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct ipv6hdr *ip6 = data + ETH_HLEN;
	__u8 *icmp = (void *)(ip6 + 1);
	__u16 old_ty, new_ty;
	__u8 hops = 64;
	__be32 a[4];

	if ((void *)(icmp + VIP_ICMP_HLEN) > end)
		return vip_drop(SNILB_ST_VIP_DROP);
	if (icmp[0] >= VIP_ND_FIRST && icmp[0] <= VIP_ND_LAST)
		return VIP_NOT;
	if (icmp[0] != VIP_ICMP6_ECHO)
		return vip_drop(SNILB_ST_VIP_DROP);
	__builtin_memcpy(a, &ip6->saddr, 16);
	__builtin_memcpy(&ip6->saddr, &ip6->daddr, 16);
	__builtin_memcpy(&ip6->daddr, a, 16);
	old_ty = *(__u16 *)icmp;
	icmp[0] = VIP_ICMP6_ECHOREPLY;
	new_ty = *(__u16 *)icmp;
	if (swap_macs(skb) ||
	    bpf_l4_csum_replace(skb, ETH_HLEN + sizeof(*ip6) + 2, old_ty,
				new_ty, 2) ||
	    bpf_skb_store_bytes(skb, ETH_HLEN + VIP_IP6_HOPS, &hops, 1,
				BPF_F_RECOMPUTE_CSUM))
		return TC_ACT_SHOT;
	stat_inc(SNILB_ST_VIP_ECHO);
	return bpf_redirect(skb->ifindex, 0);
}

/* An ICMP(v6) port unreachable being built: its IP and ICMP headers and
 * the quote (the datagram's IP header and first 8 bytes). */
struct vip_err4 {
	struct iphdr ip;
	__u8 icmp[VIP_ICMP_HLEN];
	__u8 quote[sizeof(struct iphdr) + 8];
};

struct vip_err6 {
	struct ipv6hdr ip;
	__u8 icmp[VIP_ICMP_HLEN];
	__u8 quote[sizeof(struct ipv6hdr) + 8];
};

/*
 * Cut the datagram down to the quote, make room (zeroed) for the new
 * headers in front of it, and copy the quote to @quote. Returns 1 if the
 * skb is CHECKSUM_PARTIAL, 0 if not, -1 on failure. On such an skb (UDP
 * from a veth) the offload will still fill in the quoted UDP checksum,
 * which the ICMP checksum covers. bpf_l4_csum_replace() tells which it
 * is: it leaves a field alone on such an skb and patches it on any other.
 * It is asked on the new ICMP checksum field, zeroed again after: a
 * CHECKSUM_COMPLETE skb's sum still counts it as 0.
 */
static __always_inline int vip_err_room(struct __sk_buff *skb, __u32 iplen,
					void *quote)
{
	__u32 at = ETH_HLEN + iplen + 2;	/* the ICMP checksum */
	__u16 f = 0;

	if (bpf_skb_change_tail(skb, ETH_HLEN + iplen + 8, 0) ||
	    bpf_skb_adjust_room(skb, iplen + VIP_ICMP_HLEN, BPF_ADJ_ROOM_MAC,
				0) ||
	    bpf_skb_load_bytes(skb, ETH_HLEN + iplen + VIP_ICMP_HLEN, quote,
			       iplen + 8) ||
	    bpf_l4_csum_replace(skb, at, 0, bpf_htons(1), 2) ||
	    bpf_skb_load_bytes(skb, at, &f, 2))
		return -1;
	if (f && bpf_skb_store_bytes(skb, at, &(__u16){ 0 }, 2, 0))
		return -1;
	return !f;
}

/* The sum of the quote as the receiver will see it: on a
 * CHECKSUM_PARTIAL skb its UDP checksum field is what the offload will
 * write there, computed as skb_checksum_help() does. */
static __always_inline __u32 vip_quote_sum(__u8 *quote, __u32 iplen,
					   int partial, __u32 sum)
{
	__u16 *check = (__u16 *)(quote + iplen + 6);

	if (partial)
		*check = csum_fold(sum32(quote + iplen, 2, 0));
	if (iplen == sizeof(struct iphdr))
		return sum32(quote, (sizeof(struct iphdr) + 8) / 4, sum);
	return sum32(quote, (sizeof(struct ipv6hdr) + 8) / 4, sum);
}

/* Send the headers written over the room vip_err_room() made back to the
 * datagram's sender. */
static __always_inline int vip_err_send(struct __sk_buff *skb, void *hdr,
					__u32 len, const __u8 *macs)
{
	if (bpf_skb_store_bytes(skb, ETH_HLEN, hdr, len,
				BPF_F_RECOMPUTE_CSUM) ||
	    set_macs(skb, macs + 6, macs))
		return TC_ACT_SHOT;
	stat_inc(SNILB_ST_VIP_UNREACH);
	return bpf_redirect(skb->ifindex, 0);
}

static __noinline int vip_unreach4(struct __sk_buff *skb, const struct pkt *p)
{
	struct vip_err4 e = {};
	__u8 macs[12];
	__u32 sum;
	int partial;

	if (bpf_skb_load_bytes(skb, 0, macs, 12))
		return TC_ACT_SHOT;
	partial = vip_err_room(skb, sizeof(e.ip), e.quote);
	if (partial < 0)
		return vip_drop(SNILB_ST_VIP_DROP);
	e.ip.version = 4;
	e.ip.ihl = 5;
	e.ip.tot_len = bpf_htons(sizeof(e));
	e.ip.ttl = 64;
	e.ip.protocol = IPPROTO_ICMP;
	e.ip.saddr = p->daddr[0];
	e.ip.daddr = p->saddr[0];
	e.ip.check = csum_fold(sum32(&e.ip, sizeof(e.ip) / 4, 0));
	e.icmp[0] = VIP_ICMP_UNREACH;
	e.icmp[1] = VIP_ICMP_PORT;
	sum = vip_quote_sum(e.quote, sizeof(e.ip), partial,
			    sum32(e.icmp, VIP_ICMP_HLEN / 4, 0));
	*(__u16 *)&e.icmp[2] = csum_fold(sum);
	return vip_err_send(skb, &e, sizeof(e.ip) + VIP_ICMP_HLEN, macs);
}

static __noinline int vip_unreach6(struct __sk_buff *skb, const struct pkt *p)
{
	struct vip_err6 e = {};
	__u8 macs[12];
	__u32 sum;
	int partial;

	if (bpf_skb_load_bytes(skb, 0, macs, 12))
		return TC_ACT_SHOT;
	partial = vip_err_room(skb, sizeof(e.ip), e.quote);
	if (partial < 0)
		return vip_drop(SNILB_ST_VIP_DROP);
	e.ip.version = 6;
	e.ip.payload_len = bpf_htons(sizeof(e) - sizeof(e.ip));
	e.ip.nexthdr = IPPROTO_ICMPV6;
	e.ip.hop_limit = 64;
	__builtin_memcpy(&e.ip.saddr, p->daddr, 16);
	__builtin_memcpy(&e.ip.daddr, p->saddr, 16);
	e.icmp[0] = VIP_ICMP6_UNREACH;
	e.icmp[1] = VIP_ICMP6_PORT;
	/* The pseudo-header: addresses, length, next header. */
	sum = sum32(&e.ip.saddr, 8, 0);
	sum = csum_add32(sum, bpf_htonl(sizeof(e) - sizeof(e.ip)));
	sum = csum_add32(sum, bpf_htonl(IPPROTO_ICMPV6));
	sum = vip_quote_sum(e.quote, sizeof(e.ip), partial,
			    sum32(e.icmp, VIP_ICMP_HLEN / 4, sum));
	*(__u16 *)&e.icmp[2] = csum_fold(sum);
	return vip_err_send(skb, &e, sizeof(e.ip) + VIP_ICMP_HLEN, macs);
}

/* UDP: port unreachable, within this CPU's budget. */
static __always_inline int vip_udp(struct __sk_buff *skb, struct scratch *sc)
{
	const struct pkt *p = &sc->ipk;
	__u32 iplen = p->family == SNILB_AF_INET ? sizeof(struct iphdr) :
						    sizeof(struct ipv6hdr);

	if (skb->len < ETH_HLEN + iplen + 8)
		return vip_drop(SNILB_ST_VIP_DROP);
	if (!vip_token(sc))
		return vip_drop(SNILB_ST_VIP_LIMITED);
	if (p->family == SNILB_AF_INET)
		return vip_unreach4(skb, p);
	return vip_unreach6(skb, p);
}

static __always_inline int vip4(struct __sk_buff *skb, struct scratch *sc,
				int v)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct iphdr *ip = data + ETH_HLEN;

	if ((void *)(ip + 1) > end)
		return vip_drop(SNILB_ST_VIP_DROP);
	if (ip->ihl != 5 || (ip->frag_off & bpf_htons(IP_MF_OFFSET)))
		return vip_drop(SNILB_ST_VIP_FRAG);
	if (ip->protocol == IPPROTO_TCP)
		return vip_tcp(skb, &sc->ipk, v);
	if (ip->protocol == IPPROTO_UDP)
		return vip_udp(skb, sc);
	if (ip->protocol == IPPROTO_ICMP)
		return vip_icmp4(skb);
	return vip_drop(SNILB_ST_VIP_DROP);
}

/* IANA's IPv6 extension header types. */
static __always_inline int ext_header(__u8 nexthdr)
{
	switch (nexthdr) {
	case 0: case 43: case 44: case 50: case 51: case 60:
	case 135: case 139: case 140: case 253: case 254:
		return 1;
	}
	return 0;
}

static __always_inline int vip6(struct __sk_buff *skb, struct scratch *sc,
				int v)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct ipv6hdr *ip6 = data + ETH_HLEN;

	if ((void *)(ip6 + 1) > end)
		return vip_drop(SNILB_ST_VIP_DROP);
	if (ip6->nexthdr == IPPROTO_TCP)
		return vip_tcp(skb, &sc->ipk, v);
	if (ip6->nexthdr == IPPROTO_UDP)
		return vip_udp(skb, sc);
	if (ip6->nexthdr == IPPROTO_ICMPV6)
		return vip_icmp6(skb);
	if (ext_header(ip6->nexthdr))
		return vip_drop(SNILB_ST_VIP_FRAG);
	return vip_drop(SNILB_ST_VIP_DROP);
}

/*
 * Would the node forward @p? Only then would it loop. A VIP that is also
 * an address of the node (a Gateway given the node's own address) is the
 * node's to answer on every other port: its SSH, its kubelet. And where
 * the node has no route to it at all, its stack drops it (unreachable).
 */
static __always_inline int vip_forwarded(struct __sk_buff *skb,
					 const struct pkt *p)
{
	struct bpf_fib_lookup fib = {};
	long rc;

	fib.ifindex = skb->ifindex;
	if (p->family == SNILB_AF_INET) {
		fib.family = AF_INET;
		fib.ipv4_dst = p->daddr[0];
	} else {
		fib.family = AF_INET6;
		__builtin_memcpy(fib.ipv6_dst, p->daddr, 16);
	}
	rc = bpf_fib_lookup(skb, &fib, sizeof(fib), 0);
	return rc == BPF_FIB_LKUP_RET_SUCCESS ||
	       rc == BPF_FIB_LKUP_RET_NO_NEIGH ||
	       rc == BPF_FIB_LKUP_RET_FRAG_NEEDED;
}

/*
 * A packet that is neither a listener's nor a backend's, parsed into
 * sc->ipk with verdict @v, that vip_maybe() let through: if it is to a VIP
 * the node would forward, answer or drop it; VIP_NOT if it is not.
 */
static __noinline int vip_check(struct __sk_buff *skb, struct scratch *sc,
				int v)
{
	const struct pkt *p = &sc->ipk;
	struct snilb_vip_key k = {};

	k.family = p->family;
	__builtin_memcpy(k.addr, p->daddr, 16);
	if (!bpf_map_lookup_elem(&vips, &k) || !vip_forwarded(skb, p))
		return VIP_NOT;
	if (!vip_answerable(p))
		return vip_drop(SNILB_ST_VIP_DROP);
	if (p->family == SNILB_AF_INET)
		return vip4(skb, sc, v);
	return vip6(skb, sc, v);
}

#endif /* SNILB_BPF_VIP_H */

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Packets too big for the path we redirect them over. bpf_redirect() skips
 * the forwarding path's MTU check, and a veth (like many drivers) drops a
 * frame over its MTU without a word: a PMTU black hole. So a spliced
 * packet is checked against the MTU of the device it leaves by, read once
 * per flow (the FIB lookup's mtu_result for the backend path, the client
 * side's device when the flow is spliced), and one that does not fit --
 * nor, for a GSO packet, do its segments -- is answered as a router would:
 * ICMP "fragmentation needed" (ICMPv6 "packet too big") with that MTU,
 * from the address the packet was sent to, to its sender (the client for
 * its packets to the VIP, the backend for its packets to the SNAT
 * address), quoting its IP header and 20 bytes of TCP. Then it is
 * dropped. snilb does not fragment: an IPv4 packet without DF (no TCP
 * stack sends those with PMTU discovery on) gets the same answer.
 *
 * The spliced paths pay one compare: skb->len against the cached MTU.
 * A GSO packet is over it by nature and also reads its segment size
 * (a field of the context: no call).
 */
#ifndef SNILB_BPF_MTU_H
#define SNILB_BPF_MTU_H

#include "maps.h"
#include "stats.h"
#include "reply.h"

#define ICMP_UNREACH		3	/* ICMP: destination unreachable */
#define ICMP_FRAG_NEEDED	4	/* ... its code: fragmentation needed */
#define ICMP6_UNREACH		1	/* ICMPv6: destination unreachable */
#define ICMP6_TOO_BIG		2	/* ICMPv6: packet too big */
#define ICMP_QUOTE_TCP		20	/* TCP bytes quoted: the base header */

/* A device MTU as the flow and rev entries keep it (0: unknown). */
static __always_inline __u16 mtu16(__u32 mtu)
{
	return mtu > 0xffff ? 0xffff : mtu;
}

/* Is the packet, or each of its GSO segments, over @mtu (0: unknown)? */
static __always_inline int oversize(struct __sk_buff *skb,
				    const struct pkt *p, __u32 mtu)
{
	__u32 gso;

	if (skb->len <= mtu + ETH_HLEN || !mtu)
		return 0;
	gso = skb->gso_size;
	return !gso || p->l4 - p->l3 + p->doff + gso > mtu;
}

/*
 * The quoted TCP checksum, set to the value that a checksum completion
 * over the 20 quoted bytes would write there itself. The skb may be
 * CHECKSUM_PARTIAL (a GRO packet, or from a local veth), with csum_start
 * at the TCP header we quote: whoever sends it (the NIC, or
 * skb_checksum_help()) then writes ~sum(those bytes) into that field, and
 * no BPF helper can make the skb CHECKSUM_NONE. With the field at X such
 * that X = ~(S0 + X) (S0: the other 18 bytes), it writes X again, so the
 * ICMP checksum over it is right whether the completion happens or not.
 * In one's complement arithmetic (mod 0xffff), 2X = -S0: X = -S0 / 2.
 */
static __always_inline void quote_fixpoint(__u8 *tcp)
{
	__u16 *w = (__u16 *)tcp;
	__u32 s = 0, neg;
	int i;

	w[8] = 0;
#pragma unroll
	for (i = 0; i < ICMP_QUOTE_TCP / 2; i++)
		s += w[i];
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	neg = 0xffff - s;
	w[8] = (neg & 1) ? (neg + 0xffff) / 2 : neg / 2;
}

struct too_big4 {
	struct iphdr ip;
	__u8 icmp[8];
	__u8 quote[20 + ICMP_QUOTE_TCP];
};

struct too_big6 {
	struct ipv6hdr ip;
	__u8 icmp[8];
	__u8 quote[40 + ICMP_QUOTE_TCP];
};

static __always_inline int build4(struct __sk_buff *skb, const struct pkt *p,
				  __u32 mtu, struct too_big4 *h)
{
	__u32 len = sizeof(*h);

	__builtin_memset(h, 0, sizeof(*h));
	if (bpf_skb_load_bytes(skb, p->l3, h->quote, sizeof(h->quote)))
		return -1;
	quote_fixpoint(h->quote + 20);
	h->icmp[0] = ICMP_UNREACH;
	h->icmp[1] = ICMP_FRAG_NEEDED;
	h->icmp[6] = mtu >> 8;
	h->icmp[7] = mtu;
	*(__u16 *)(h->icmp + 2) = csum_fold(sum32(h->icmp, (len - 20) / 4, 0));
	h->ip.version = 4;
	h->ip.ihl = 5;
	h->ip.tos = 0xc0;		/* internetwork control, as Linux */
	h->ip.tot_len = bpf_htons(len);
	h->ip.ttl = 64;
	h->ip.protocol = IPPROTO_ICMP;
	h->ip.saddr = p->daddr[0];
	h->ip.daddr = p->saddr[0];
	h->ip.check = csum_fold(sum32(&h->ip, 5, 0));
	return 0;
}

static __always_inline int build6(struct __sk_buff *skb, const struct pkt *p,
				  __u32 mtu, struct too_big6 *h)
{
	__u32 len = sizeof(*h) - sizeof(h->ip);
	__u32 s;

	__builtin_memset(h, 0, sizeof(*h));
	if (bpf_skb_load_bytes(skb, p->l3, h->quote, sizeof(h->quote)))
		return -1;
	quote_fixpoint(h->quote + 40);
	h->icmp[0] = ICMP6_TOO_BIG;
	*(__be32 *)(h->icmp + 4) = bpf_htonl(mtu);
	h->ip.version = 6;
	h->ip.payload_len = bpf_htons(len);
	h->ip.nexthdr = 58;		/* IPPROTO_ICMPV6 */
	h->ip.hop_limit = 64;
	__builtin_memcpy(&h->ip.saddr, p->daddr, 16);
	__builtin_memcpy(&h->ip.daddr, p->saddr, 16);
	/* The pseudo-header: addresses, length, next header. */
	s = sum32(&h->ip.saddr, 8, bpf_htonl(len));
	s = csum_add32(s, bpf_htonl(58));
	*(__u16 *)(h->icmp + 2) = csum_fold(sum32(h->icmp, len / 4, s));
	return 0;
}

/* The MTU of the device @ifindex (0: unknown). */
static __always_inline __u16 dev_mtu(struct __sk_buff *skb, __u32 ifindex)
{
	__u32 mtu = 0;

	if (bpf_check_mtu(skb, ifindex, &mtu, 0, 0) < 0)
		return 0;
	return mtu16(mtu);
}

/* Answer @p's sender with "fragmentation needed", MTU @mtu, and drop
 * @p: the headers built, the packet cut to the quote, room made after
 * the Ethernet header, the headers written, and out the way it came. */
static __noinline int send_too_big(struct __sk_buff *skb, const struct pkt *p,
				   __u32 mtu)
{
	union {
		struct too_big4 v4;
		struct too_big6 v6;
	} h;
	int v4 = p->family == SNILB_AF_INET;
	__u32 iph = v4 ? 20 : 40;
	int err;

	if (v4 ? build4(skb, p, mtu, &h.v4) : build6(skb, p, mtu, &h.v6))
		return TC_ACT_SHOT;
	if (bpf_skb_change_tail(skb, ETH_HLEN + iph + ICMP_QUOTE_TCP, 0) ||
	    bpf_skb_adjust_room(skb, iph + 8, BPF_ADJ_ROOM_MAC, 0))
		return TC_ACT_SHOT;
	if (v4)
		err = bpf_skb_store_bytes(skb, ETH_HLEN, &h.v4, sizeof(h.v4), 0);
	else
		err = bpf_skb_store_bytes(skb, ETH_HLEN, &h.v6, sizeof(h.v6), 0);
	if (err || swap_macs(skb))
		return TC_ACT_SHOT;
	stat_inc(SNILB_ST_TOO_BIG);
	return bpf_redirect(skb->ifindex, 0);
}

#endif /* SNILB_BPF_MTU_H */

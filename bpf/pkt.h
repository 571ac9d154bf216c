/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Packet parsing for the data plane: Ethernet, IPv4/IPv6, TCP. */
#ifndef SNILB_BPF_PKT_H
#define SNILB_BPF_PKT_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "snilb_abi.h"

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10

#define IP_MF_OFFSET 0x3fff	/* more-fragments flag + offset */

/* What the program knows about a TCP packet once parsed. */
struct pkt {
	__u32 l3;		/* offset of the IP header */
	__u32 l4;		/* offset of the TCP header */
	__u32 doff;		/* TCP header length, options included */
	__u32 plen;		/* TCP payload length */
	__u32 seq;		/* host order */
	__u32 ack;
	__u8 flags;
	__u8 family;		/* SNILB_AF_INET or SNILB_AF_INET6 */
	__be16 sport;
	__be16 dport;
	__u16 win;		/* host order, as sent (scaled) */
	__u8 icmp;		/* PARSE_NOT_TCP: it is ICMP/ICMPv6 */
	__u8 summed;		/* SUMMED_KNOWN | skb->ip_summed, or 0 */
	__u8 steered;		/* sent here by a peer (steer.h) */
	__u8 encap;		/* PARSE_NOT_TCP: IPv4 carrying IPv4 or IPv6
				 * (IPPROTO_IPIP, _IPV6): a peer's? */
	__be32 saddr[4];
	__be32 daddr[4];
};

/* What a TCP header's options say, and where the ones the splice
 * rewrites are (offsets in the header, 0: absent). */
struct tcp_opts {
	__u16 mss;
	__u8 wscale;		/* TS_NO_WSCALE when absent */
	__u8 sack;
	__u8 ts;
	__u32 tsval;
	__u32 tsecr;
	__u32 ts_at;		/* the TS option */
	__u32 sack_at;		/* the first SACK block */
	__u32 nsack;
};

enum parse_verdict {
	PARSE_TCP = 0,		/* a TCP packet, fields filled */
	PARSE_NOT_TCP,		/* not ours to look at */
	PARSE_BAD,		/* TCP, but broken: drop if it is ours */
};

static __always_inline int parse_tcp(struct __sk_buff *skb, struct pkt *p,
				     __u32 l4, __u32 l4_len)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct tcphdr *th = data + l4;

	if ((void *)(th + 1) > end)
		return PARSE_BAD;
	/* Ports first: a broken header to a listener is dropped, one to
	 * anything else is not our business. */
	p->sport = th->source;
	p->dport = th->dest;
	p->l4 = l4;
	p->doff = th->doff * 4;
	if (p->doff < sizeof(*th) || p->doff > l4_len)
		return PARSE_BAD;
	p->plen = l4_len - p->doff;
	p->seq = bpf_ntohl(th->seq);
	p->ack = bpf_ntohl(th->ack_seq);
	p->flags = ((__u8 *)th)[13];
	p->win = bpf_ntohs(th->window);
	return PARSE_TCP;
}

static __always_inline int parse_ipv4(struct __sk_buff *skb, struct pkt *p)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct iphdr *ip = data + p->l3;
	__u32 tot;

	if ((void *)(ip + 1) > end)
		return PARSE_NOT_TCP;
	p->family = SNILB_AF_INET;
	p->saddr[0] = ip->saddr;
	p->daddr[0] = ip->daddr;
	if (ip->protocol != IPPROTO_TCP) {
		p->icmp = ip->protocol == IPPROTO_ICMP;
		p->encap = ip->protocol == IPPROTO_IPIP ||
			   ip->protocol == IPPROTO_IPV6 ? ip->protocol : 0;
		return PARSE_NOT_TCP;
	}
	tot = bpf_ntohs(ip->tot_len);
	/* BIG TCP (6.3+): a GSO packet over 64 KiB says 0, and is as long
	 * as the skb (the kernel's iph_totlen()). */
	if (!tot && skb->gso_size)
		tot = skb->len - p->l3;
	/* Options and fragments never come from a real client's TCP. */
	if (ip->ihl != 5 || (ip->frag_off & bpf_htons(IP_MF_OFFSET)) ||
	    tot < sizeof(*ip) || p->l3 + tot > skb->len)
		return PARSE_BAD;
	return parse_tcp(skb, p, p->l3 + sizeof(*ip), tot - sizeof(*ip));
}

static __always_inline int parse_ipv6(struct __sk_buff *skb, struct pkt *p)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct ipv6hdr *ip6 = data + p->l3;
	__u32 plen;

	if ((void *)(ip6 + 1) > end)
		return PARSE_NOT_TCP;
	p->family = SNILB_AF_INET6;
	__builtin_memcpy(p->saddr, &ip6->saddr, 16);
	__builtin_memcpy(p->daddr, &ip6->daddr, 16);
	if (ip6->nexthdr != IPPROTO_TCP) {
		/* Extension headers: not ours. */
		p->icmp = ip6->nexthdr == 58;	/* IPPROTO_ICMPV6 */
		return PARSE_NOT_TCP;
	}
	plen = bpf_ntohs(ip6->payload_len);
	if (p->l3 + sizeof(*ip6) + plen > skb->len)
		return PARSE_BAD;
	return parse_tcp(skb, p, p->l3 + sizeof(*ip6), plen);
}

/*
 * Pull into the linear area only what is read: drivers may leave headers in
 * page fragments, but pulling more (the payload) would copy it on every
 * packet, and may reallocate the head: a TSO/GRO skb's linear part is its
 * headers, exactly. The Ethernet header, then the IP header and base TCP
 * header of the family the EtherType names, then the TCP options.
 */
static __always_inline int pull_to(struct __sk_buff *skb, __u32 want)
{
	if (want > skb->len)
		want = skb->len;
	if ((void *)(long)skb->data + want <= (void *)(long)skb->data_end)
		return 0;
	return bpf_skb_pull_data(skb, want);
}

static __always_inline int parse_packet(struct __sk_buff *skb, struct pkt *p)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	__u16 proto;
	int v;

	if ((void *)(eth + 1) > end)
		return PARSE_NOT_TCP;
	proto = eth->h_proto;
	if (proto == bpf_htons(ETH_P_IP)) {
		pull_to(skb, ETH_HLEN + sizeof(struct iphdr) +
			     sizeof(struct tcphdr));
		p->l3 = ETH_HLEN;	/* after the call: a known constant */
		v = parse_ipv4(skb, p);
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		pull_to(skb, ETH_HLEN + sizeof(struct ipv6hdr) +
			     sizeof(struct tcphdr));
		p->l3 = ETH_HLEN;
		v = parse_ipv6(skb, p);
	} else {
		return PARSE_NOT_TCP;
	}
	if (v == PARSE_TCP)
		pull_to(skb, p->l4 + p->doff);
	return v;
}

#endif /* SNILB_BPF_PKT_H */

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Turn the packet in hand into a TCP reply to its sender (SYN-ACK or RST)
 * and send it back out of the interface it came in on. Replies are built
 * whole on the stack and written over the packet: every field changes, so
 * a full checksum is cheaper than a chain of incremental updates.
 */
#ifndef SNILB_BPF_REPLY_H
#define SNILB_BPF_REPLY_H

#include <linux/pkt_cls.h>

#include "pkt.h"

#define REPLY_OPTLEN 20		/* SYN-ACK options, padded with NOPs */

struct reply {
	__u32 seq;
	__u32 ack;
	__u16 window;
	__u8 flags;
	__u8 has_opts;		/* SYN-ACK: opts[] follows the header */
	__u8 opts[REPLY_OPTLEN];
};

static __always_inline __u16 csum_fold(__s64 sum)
{
	__u64 s = (__u64)sum;

	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)~s;
}

/* The reply's headers as they go on the wire, one layout per family. */
struct reply4 {
	struct iphdr ip;
	struct tcphdr th;
	__u8 opts[REPLY_OPTLEN];
};

struct reply6 {
	struct ipv6hdr ip;
	struct tcphdr th;
	__u8 opts[REPLY_OPTLEN];
};

struct pseudo6 {
	__be32 saddr[4];
	__be32 daddr[4];
	__be32 len;
	__be32 proto;
};

static __always_inline void reply_tcp(struct tcphdr *th, const struct pkt *p,
				      const struct reply *r, __u32 tcplen)
{
	th->source = p->dport;
	th->dest = p->sport;
	th->seq = bpf_htonl(r->seq);
	th->ack_seq = bpf_htonl(r->ack);
	((__u8 *)th)[12] = (tcplen / 4) << 4;
	((__u8 *)th)[13] = r->flags;
	th->window = bpf_htons(r->window);
	th->check = 0;
	th->urg_ptr = 0;
}

static __always_inline int swap_macs(struct __sk_buff *skb)
{
	__u8 mac[12], sw[12];

	if (bpf_skb_load_bytes(skb, 0, mac, 12))
		return -1;
	__builtin_memcpy(sw, mac + 6, 6);
	__builtin_memcpy(sw + 6, mac, 6);
	return bpf_skb_store_bytes(skb, 0, sw, 12, 0);
}

static __always_inline int build_reply4(struct __sk_buff *skb,
					const struct pkt *p,
					const struct reply *r)
{
	struct reply4 h = {};
	__u32 tcplen = sizeof(h.th) + (r->has_opts ? REPLY_OPTLEN : 0);
	__be32 pseudo[3];
	__s64 sum;

	if (bpf_skb_change_tail(skb, p->l3 + sizeof(h.ip) + tcplen, 0))
		return -1;
	h.ip.version = 4;
	h.ip.ihl = 5;
	h.ip.tot_len = bpf_htons(sizeof(h.ip) + tcplen);
	h.ip.frag_off = bpf_htons(0x4000);	/* DF */
	h.ip.ttl = 64;
	h.ip.protocol = IPPROTO_TCP;
	h.ip.saddr = p->daddr[0];
	h.ip.daddr = p->saddr[0];
	h.ip.check = csum_fold(bpf_csum_diff(0, 0, (__be32 *)&h.ip,
					     sizeof(h.ip), 0));
	reply_tcp(&h.th, p, r, tcplen);
	__builtin_memcpy(h.opts, r->opts, REPLY_OPTLEN);
	pseudo[0] = h.ip.saddr;
	pseudo[1] = h.ip.daddr;
	pseudo[2] = bpf_htonl(IPPROTO_TCP << 16 | tcplen);
	sum = bpf_csum_diff(0, 0, pseudo, sizeof(pseudo), 0);
	if (r->has_opts)
		sum = bpf_csum_diff(0, 0, (__be32 *)&h.th,
				    sizeof(h.th) + REPLY_OPTLEN, sum);
	else
		sum = bpf_csum_diff(0, 0, (__be32 *)&h.th, sizeof(h.th), sum);
	h.th.check = csum_fold(sum);
	if (r->has_opts)
		return bpf_skb_store_bytes(skb, p->l3, &h, sizeof(h), 0);
	return bpf_skb_store_bytes(skb, p->l3, &h,
				   sizeof(h.ip) + sizeof(h.th), 0);
}

static __always_inline int build_reply6(struct __sk_buff *skb,
					const struct pkt *p,
					const struct reply *r)
{
	struct reply6 h = {};
	__u32 tcplen = sizeof(h.th) + (r->has_opts ? REPLY_OPTLEN : 0);
	struct pseudo6 ph;
	__s64 sum;

	if (bpf_skb_change_tail(skb, p->l3 + sizeof(h.ip) + tcplen, 0))
		return -1;
	h.ip.version = 6;
	h.ip.payload_len = bpf_htons(tcplen);
	h.ip.nexthdr = IPPROTO_TCP;
	h.ip.hop_limit = 64;
	__builtin_memcpy(&h.ip.saddr, p->daddr, 16);
	__builtin_memcpy(&h.ip.daddr, p->saddr, 16);
	reply_tcp(&h.th, p, r, tcplen);
	__builtin_memcpy(h.opts, r->opts, REPLY_OPTLEN);
	__builtin_memcpy(ph.saddr, p->daddr, 16);
	__builtin_memcpy(ph.daddr, p->saddr, 16);
	ph.len = bpf_htonl(tcplen);
	ph.proto = bpf_htonl(IPPROTO_TCP);
	sum = bpf_csum_diff(0, 0, (__be32 *)&ph, sizeof(ph), 0);
	if (r->has_opts)
		sum = bpf_csum_diff(0, 0, (__be32 *)&h.th,
				    sizeof(h.th) + REPLY_OPTLEN, sum);
	else
		sum = bpf_csum_diff(0, 0, (__be32 *)&h.th, sizeof(h.th), sum);
	h.th.check = csum_fold(sum);
	if (r->has_opts)
		return bpf_skb_store_bytes(skb, p->l3, &h, sizeof(h), 0);
	return bpf_skb_store_bytes(skb, p->l3, &h,
				   sizeof(h.ip) + sizeof(h.th), 0);
}

/* Send @r to the packet's sender; returns the TC verdict. Not inlined:
 * its headers would otherwise sit on every caller's stack. */
static __attribute__((noinline)) int send_reply(struct __sk_buff *skb,
				      const struct pkt *p,
				      const struct reply *r)
{
	int err;

	if (swap_macs(skb))
		return TC_ACT_SHOT;
	if (p->family == SNILB_AF_INET)
		err = build_reply4(skb, p, r);
	else
		err = build_reply6(skb, p, r);
	if (err)
		return TC_ACT_SHOT;
	return bpf_redirect(skb->ifindex, 0);
}

#endif /* SNILB_BPF_REPLY_H */

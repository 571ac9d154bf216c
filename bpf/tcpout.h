/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Write a whole new IP+TCP header over the packet in hand: replies to the
 * client (SYN-ACK, RST), the SYN to a backend and the replay of the hello.
 * Every field changes, so the checksum is computed afresh rather than by a
 * chain of incremental updates, in the form the skb's checksum state asks
 * for (csum.h): the packet in hand may be a client's CHECKSUM_PARTIAL
 * segment, or a GRO-merged hello. Payload bytes, if any, are the caller's:
 * it writes them after the header (BPF_F_RECOMPUTE_CSUM) and passes their
 * checksum sum in @pcsum.
 */
#ifndef SNILB_BPF_TCPOUT_H
#define SNILB_BPF_TCPOUT_H

#include <linux/pkt_cls.h>

#include "pkt.h"
#include "csum.h"
#include <linux/if_ether.h>

#define OPT_MAX 32	/* NOP NOP TS, NOP NOP SACK with two blocks */
#define OPT_SYN 20	/* MSS, SACK-permitted, TS, NOP, WS */

struct tcp_out {
	__be32 saddr[4];
	__be32 daddr[4];
	__be16 sport;
	__be16 dport;
	__u32 seq;
	__u32 ack;
	__u16 window;
	__u8 flags;
	__u8 optlen;		/* 0, 12, 20 (SYN options), 24 or 32 */
	__u32 plen;		/* payload bytes following the header */
	__s64 pcsum;		/* bpf_csum_diff sum of the payload */
	__u8 opts[OPT_MAX];
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

struct hdr4 {
	struct iphdr ip;
	struct tcphdr th;
	__u8 opts[OPT_MAX];
};

struct hdr6 {
	struct ipv6hdr ip;
	struct tcphdr th;
	__u8 opts[OPT_MAX];
};

/* One's complement sum of @words 32-bit words (end-around carry), the
 * way bpf_csum_diff() sums them, without a helper call. */
static __always_inline __u32 sum32(const void *p, int words, __u32 s)
{
	const __u32 *w = p;
	int i;

#pragma unroll
	for (i = 0; i < words; i++) {
		__u32 r = s + w[i];

		s = r + (r < s);
	}
	return s;
}

static __always_inline __s64 tcp_sum(struct tcphdr *th, const struct tcp_out *o,
				     __s64 sum)
{
	th->source = o->sport;
	th->dest = o->dport;
	th->seq = bpf_htonl(o->seq);
	th->ack_seq = bpf_htonl(o->ack);
	((__u8 *)th)[12] = ((sizeof(*th) + o->optlen) / 4) << 4;
	((__u8 *)th)[13] = o->flags;
	th->window = bpf_htons(o->window);
	th->check = 0;
	th->urg_ptr = 0;
	__builtin_memcpy(th + 1, o->opts, OPT_MAX);
	switch (o->optlen) {
	case 32:
		return sum32(th, (sizeof(*th) + 32) / 4, (__u32)sum);
	case 24:
		return sum32(th, (sizeof(*th) + 24) / 4, (__u32)sum);
	case 20:
		return sum32(th, (sizeof(*th) + 20) / 4, (__u32)sum);
	case 12:
		return sum32(th, (sizeof(*th) + 12) / 4, (__u32)sum);
	}
	return sum32(th, sizeof(*th) / 4, (__u32)sum);
}

/* Copy @len bytes of @h over the packet after its Ethernet header; the
 * caller just sized the packet, so it is linear that far. */
static __always_inline int copy_hdr(struct __sk_buff *skb, const void *h,
				    const __u32 len)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;

	if (data + ETH_HLEN + len > end)
		return -1;
	__builtin_memcpy(data + ETH_HLEN, h, len);
	return 0;
}

/* The same, or (@rcsum) through bpf_skb_store_bytes(): a
 * CHECKSUM_COMPLETE skb->csum then follows the bytes written (the flag
 * costs nothing in other states). */
static __always_inline int put_bytes(struct __sk_buff *skb, const void *h,
				     const __u32 len, int rcsum)
{
	if (!rcsum)
		return copy_hdr(skb, h, len);
	return bpf_skb_store_bytes(skb, ETH_HLEN, h, len,
				   BPF_F_RECOMPUTE_CSUM) ? -1 : 0;
}

/* Store the @base + @optlen bytes of @h as the packet's IP and TCP
 * headers, at @off: ETH_HLEN, as parse_packet() takes no VLAN tags.
 * Constant sizes keep the verifier happy. */
static __always_inline int store_hdr(struct __sk_buff *skb, __u32 off,
				     void *h, __u32 base, __u32 optlen,
				     int rcsum)
{
	if (off != ETH_HLEN)
		return -1;
	switch (optlen) {
	case 32:
		return put_bytes(skb, h, base + 32, rcsum);
	case 24:
		return put_bytes(skb, h, base + 24, rcsum);
	case 20:
		return put_bytes(skb, h, base + 20, rcsum);
	case 12:
		return put_bytes(skb, h, base + 12, rcsum);
	}
	return put_bytes(skb, h, base, rcsum);
}

/*
 * Store header @h (@base + @optlen bytes), its TCP check field *@check
 * filled in the form @p->summed asks for (csum.h). @pseudo: the sum of
 * the pseudo-header; @rest: of the TCP header (check zero) and payload.
 * Known NONE, UNNECESSARY or PARTIAL: direct writes. Known COMPLETE: the
 * bytes stored through the helper, for skb->csum. Not known (the helper
 * variant): that, and one bpf_l4_csum_replace() finishes the field.
 */
static __always_inline int put_hdr(struct __sk_buff *skb, const struct pkt *p,
				   void *h, __u32 base, __u32 optlen,
				   __u16 *check, __u32 pseudo, __u32 rest)
{
	__u32 off = ETH_HLEN + base - sizeof(struct tcphdr) + 16;

	switch (p->summed) {
	case SUMMED_KNOWN | SKB_CSUM_PARTIAL:
		*check = csum_partial_field(pseudo);
		return store_hdr(skb, p->l3, h, base, optlen, 0);
	case SUMMED_KNOWN | SKB_CSUM_NONE:
	case SUMMED_KNOWN | SKB_CSUM_UNNECESSARY:
		*check = csum_full(pseudo, rest);
		return store_hdr(skb, p->l3, h, base, optlen, 0);
	case SUMMED_KNOWN | SKB_CSUM_COMPLETE:
		*check = csum_full(pseudo, rest);
		return store_hdr(skb, p->l3, h, base, optlen, 1);
	}
	*check = csum_seed(rest);
	if (store_hdr(skb, p->l3, h, base, optlen, 1))
		return -1;
	return bpf_l4_csum_replace(skb, off, 0, csum_seed_diff(pseudo, rest),
				   BPF_F_PSEUDO_HDR) ? -1 : 0;
}

/* Make the packet @p describes @len bytes long; most replies are as long
 * as what they answer, and the helper is not free. A GSO skb (a GRO-merged
 * hello) goes through it all the same: it drops the GSO state too, which
 * a SYN or an RST built over it must not keep. Only a packet with payload
 * can be one (not a SYN, whose SYN-ACK need not read gso_size's cache
 * line). A length change also turns a CHECKSUM_COMPLETE skb into
 * CHECKSUM_NONE, for which what put_hdr() does for COMPLETE is right too. */
static __always_inline int set_len(struct __sk_buff *skb, const struct pkt *p,
				   __u32 len)
{
	if (skb->len == len && (!p->plen || !skb->gso_size))
		return 0;
	return bpf_skb_change_tail(skb, len, 0);
}

/* @o's IPv4 and TCP headers in @h, check field zero; *@pseudo and *@rest:
 * the sums put_hdr() takes. The TC and the XDP programs share it. */
static __always_inline void fill_tcp4(const struct tcp_out *o, struct hdr4 *h,
				      __u32 *ps, __u32 *rest)
{
	__u32 tcplen = sizeof(h->th) + o->optlen + o->plen;
	__be32 pseudo[3];

	__builtin_memset(h, 0, sizeof(*h));
	h->ip.version = 4;
	h->ip.ihl = 5;
	h->ip.tot_len = bpf_htons(sizeof(h->ip) + tcplen);
	h->ip.frag_off = bpf_htons(0x4000);	/* DF */
	h->ip.ttl = 64;
	h->ip.protocol = IPPROTO_TCP;
	h->ip.saddr = o->saddr[0];
	h->ip.daddr = o->daddr[0];
	h->ip.check = csum_fold(sum32(&h->ip, sizeof(h->ip) / 4, 0));
	pseudo[0] = h->ip.saddr;
	pseudo[1] = h->ip.daddr;
	pseudo[2] = bpf_htonl(IPPROTO_TCP << 16 | tcplen);
	*rest = tcp_sum(&h->th, o, csum_add32((__u32)o->pcsum,
					     (__u32)((__u64)o->pcsum >> 32)));
	*ps = sum32(pseudo, 3, 0);
}

/* @h: room for the header, in the scratch map (write_tcp()). */
static __always_inline int write_tcp4(struct __sk_buff *skb,
				      const struct pkt *p,
				      const struct tcp_out *o, struct hdr4 *h)
{
	__u32 tcplen = sizeof(h->th) + o->optlen + o->plen;
	__u32 ps, rest;

	if (set_len(skb, p, p->l3 + sizeof(h->ip) + tcplen))
		return -1;
	fill_tcp4(o, h, &ps, &rest);
	return put_hdr(skb, p, h, sizeof(h->ip) + sizeof(h->th), o->optlen,
		       &h->th.check, ps, rest);
}

static __always_inline void fill_tcp6(const struct tcp_out *o, struct hdr6 *h,
				      __u32 *pseudo, __u32 *rest)
{
	__u32 tcplen = sizeof(h->th) + o->optlen + o->plen;
	__be32 tail[2];
	__u32 ps;

	__builtin_memset(h, 0, sizeof(*h));
	h->ip.version = 6;
	h->ip.payload_len = bpf_htons(tcplen);
	h->ip.nexthdr = IPPROTO_TCP;
	h->ip.hop_limit = 64;
	__builtin_memcpy(&h->ip.saddr, o->saddr, 16);
	__builtin_memcpy(&h->ip.daddr, o->daddr, 16);
	/* The pseudo-header summed from @o and two words. */
	tail[0] = bpf_htonl(tcplen);
	tail[1] = bpf_htonl(IPPROTO_TCP);
	ps = sum32(o->saddr, 4, 0);
	ps = sum32(o->daddr, 4, ps);
	*pseudo = sum32(tail, 2, ps);
	*rest = tcp_sum(&h->th, o, csum_add32((__u32)o->pcsum,
					     (__u32)((__u64)o->pcsum >> 32)));
}

static __always_inline int write_tcp6(struct __sk_buff *skb,
				      const struct pkt *p,
				      const struct tcp_out *o, struct hdr6 *h)
{
	__u32 tcplen = sizeof(h->th) + o->optlen + o->plen;
	__u32 ps, rest;

	if (set_len(skb, p, p->l3 + sizeof(h->ip) + tcplen))
		return -1;
	fill_tcp6(o, h, &ps, &rest);
	return put_hdr(skb, p, h, sizeof(h->ip) + sizeof(h->th), o->optlen,
		       &h->th.check, ps, rest);
}

/* Start @o as an answer to the sender of @p: addresses and ports swapped,
 * everything else zero. */
static __always_inline void out_reply_to(struct tcp_out *o,
					 const struct pkt *p)
{
	__builtin_memset(o, 0, sizeof(*o));
	__builtin_memcpy(o->saddr, p->daddr, 16);
	__builtin_memcpy(o->daddr, p->saddr, 16);
	o->sport = p->dport;
	o->dport = p->sport;
}

/* Direct writes: no helper call on the spliced path. */
static __always_inline int set_macs(struct __sk_buff *skb, const __u8 *dst,
				    const __u8 *src)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > end)
		return -1;
	__builtin_memcpy(eth->h_dest, dst, 6);
	__builtin_memcpy(eth->h_source, src, 6);
	return 0;
}

#endif /* SNILB_BPF_TCPOUT_H */

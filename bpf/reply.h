/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Answer the sender of the packet in hand, out of the interface it came in. */
#ifndef SNILB_BPF_REPLY_H
#define SNILB_BPF_REPLY_H

#include "maps.h"
#include "scratch.h"
#include "tcpout.h"

static __always_inline int swap_macs(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	__u8 tmp[6];

	if ((void *)(eth + 1) > end)
		return -1;
	__builtin_memcpy(tmp, eth->h_dest, 6);
	__builtin_memcpy(eth->h_dest, eth->h_source, 6);
	__builtin_memcpy(eth->h_source, tmp, 6);
	return 0;
}

/*
 * Write @o's headers over the packet @p describes (its offsets, family
 * and checksum state). Not inlined, and the headers are built in the
 * scratch map, not on the stack: every deep call chain ends here, and 6.1
 * counts 512 bytes across all their frames (rounded to 32 each).
 */
static __noinline int write_tcp(struct __sk_buff *skb, const struct pkt *p,
				const struct tcp_out *o)
{
	__u32 zero = 0;
	struct scratch *sc = bpf_map_lookup_elem(&scratch, &zero);

	if (!sc)
		return -1;
	if (p->family == SNILB_AF_INET)
		return write_tcp4(skb, p, o, (struct hdr4 *)&sc->hdr);
	return write_tcp6(skb, p, o, &sc->hdr);
}

/* @o: built with out_reply_to(), then seq, ack, flags, window, options. */
static __always_inline int send_reply(struct __sk_buff *skb,
				      const struct pkt *p, struct tcp_out *o)
{
	if (swap_macs(skb) || write_tcp(skb, p, o))
		return TC_ACT_SHOT;
	return bpf_redirect(skb->ifindex, 0);
}

#endif /* SNILB_BPF_REPLY_H */

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Answer the sender of the packet in hand, out of the interface it came in. */
#ifndef SNILB_BPF_REPLY_H
#define SNILB_BPF_REPLY_H

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

/* @o: built with out_reply_to(), then seq, ack, flags, window, options. */
static __always_inline int send_reply(struct __sk_buff *skb,
				      const struct pkt *p, struct tcp_out *o)
{
	if (swap_macs(skb) || write_tcp(skb, p, o))
		return TC_ACT_SHOT;
	return bpf_redirect(skb->ifindex, 0);
}

#endif /* SNILB_BPF_REPLY_H */

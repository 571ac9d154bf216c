/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Several gateway nodes behind ECMP (docs/multinode.md): a packet to a
 * listener with no flow on this node is sent to the node that owns its
 * connection, on the same segment: its MAC written as the destination,
 * out of the interface towards it. The owner is node_ring's entry for the
 * client's tuple (the same on every node); its previous owner is asked
 * once after a change of the table ("second chance").
 *
 * Only where no flow took the packet: a local flow's packets never come
 * here. IPv4 only for now; IPv6 is answered where it arrives, as before.
 */
#ifndef SNILB_BPF_STEER_H
#define SNILB_BPF_STEER_H

#include "maps.h"
#include "stats.h"
#include "reply.h"
#include "bind.h"

#define STEER_LOCAL	(-3)	/* ours to answer here */

#ifndef AF_INET
#define AF_INET 2
#define AF_INET6 10
#endif

static __always_inline const struct snilb_cluster *steer_cluster(void)
{
	__u32 zero = 0;
	const struct snilb_cluster *cl = bpf_map_lookup_elem(&cluster, &zero);

	return cl && cl->active ? cl : NULL;
}

/* The owners of @k's connection; NULL when steering is off. */
static __always_inline const struct snilb_node_slot *
steer_slot(const struct snilb_flow_key *k)
{
	__u32 slot = flow_hash(k) % SNILB_NODE_RING;

	return bpf_map_lookup_elem(&node_ring, &slot);
}

/*
 * Mark @p's IPv4 header as steered and take one from its TTL, the header
 * checksum patched: -1 when the TTL is spent (nodes whose tables disagree
 * bounce a packet only that long). Read on arrival by steer_arrived().
 */
static __always_inline int steer_mark(struct __sk_buff *skb,
				      const struct pkt *p)
{
	__be16 w[2], n[2];
	__u8 *b = (__u8 *)n;

	if (bpf_skb_load_bytes(skb, p->l3 + 6, w, sizeof(w)))
		return -1;
	n[0] = w[0] | bpf_htons(SNILB_STEER_FLAG);
	n[1] = w[1];
	if (b[2] <= 1)
		return -1;
	b[2]--;
	if (bpf_l3_csum_replace(skb, p->l3 + 10, w[0], n[0], 2) ||
	    bpf_l3_csum_replace(skb, p->l3 + 10, w[1], n[1], 2) ||
	    bpf_skb_store_bytes(skb, p->l3 + 6, n, sizeof(n), 0))
		return -1;
	return 0;
}

/* Was @p steered here by a peer? Sets p->steered. */
static __always_inline void steer_arrived(struct __sk_buff *skb,
					  struct pkt *p)
{
	__be16 frag;

	if (bpf_skb_load_bytes(skb, p->l3 + 6, &frag, sizeof(frag)))
		return;
	p->steered = !!(frag & bpf_htons(SNILB_STEER_FLAG));
	if (p->steered)
		stat_inc(SNILB_ST_STEER_IN);
}

/* Send the packet to the node at @addr: its MAC, out of the way to it. */
static __noinline int steer_to(struct __sk_buff *skb, const struct pkt *p,
			       __be32 addr)
{
	struct bpf_redir_neigh nh = {};
	struct bpf_fib_lookup fib = {};
	long rc;

	if (steer_mark(skb, p)) {
		stat_inc(SNILB_ST_STEER_ORPHAN);
		return TC_ACT_SHOT;
	}
	fib.family = AF_INET;
	fib.ipv4_dst = addr;
	fib.ifindex = skb->ifindex;
	rc = bpf_fib_lookup(skb, &fib, sizeof(fib), 0);
	if (rc == BPF_FIB_LKUP_RET_SUCCESS) {
		stat_inc(SNILB_ST_STEER_OUT);
		if (set_macs(skb, fib.dmac, fib.smac))
			return TC_ACT_SHOT;
		return bpf_redirect(fib.ifindex, 0);
	}
	if (rc == BPF_FIB_LKUP_RET_NO_NEIGH) {
		stat_inc(SNILB_ST_STEER_OUT);
		nh.nh_family = AF_INET;
		nh.ipv4_nh = addr;
		return bpf_redirect_neigh(fib.ifindex, &nh, sizeof(nh), 0);
	}
	stat_inc(SNILB_ST_FWD_FAIL);
	return TC_ACT_SHOT;
}

/*
 * The way back to the client of a packet a peer steered here: the route
 * to its address (the frame came from the peer, not from the client's
 * router). @macs: destination then source. Returns the ifindex, 0 when
 * the way is not known (the answer then goes back to the peer).
 */
static __noinline __u32 steer_client_path(struct __sk_buff *skb,
					  const struct pkt *p, __u8 *macs)
{
	struct bpf_fib_lookup fib = {};

	fib.family = AF_INET;
	fib.ipv4_dst = p->saddr[0];
	fib.ifindex = skb->ifindex;
	if (bpf_fib_lookup(skb, &fib, sizeof(fib), 0) !=
	    BPF_FIB_LKUP_RET_SUCCESS)
		return 0;
	__builtin_memcpy(macs, fib.dmac, 6);
	__builtin_memcpy(macs + 6, fib.smac, 6);
	return fib.ifindex;
}

/* Answer a packet a peer steered here (@o as for send_reply()): on the
 * way to the client, not back through the peer. */
static __always_inline int steer_reply(struct __sk_buff *skb,
				       const struct pkt *p, struct tcp_out *o)
{
	__u8 macs[12];
	__u32 ifindex = steer_client_path(skb, p, macs);

	if (!ifindex)
		return send_reply(skb, p, o);
	if (write_tcp(skb, p, o) || set_macs(skb, macs, macs + 6))
		return TC_ACT_SHOT;
	return bpf_redirect(ifindex, 0);
}

/* A flow made from a packet a peer steered here: the client's way. */
static __always_inline void steer_flow_path(struct __sk_buff *skb,
					    const struct pkt *p,
					    struct snilb_flow *f)
{
	__u8 macs[12];
	__u32 ifindex = steer_client_path(skb, p, macs);

	if (!ifindex)
		return;
	__builtin_memcpy(f->cmac, macs, 6);
	__builtin_memcpy(f->lmac, macs + 6, 6);
	f->ifindex = ifindex;
}

/* A cookie that failed where a table of nodes is in force: an orphan,
 * no node left to ask. */
static __always_inline void steer_orphan(void)
{
	if (steer_cluster())
		stat_inc(SNILB_ST_STEER_ORPHAN);
}

#endif /* SNILB_BPF_STEER_H */

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Sending a rewritten packet on: towards the client over the path its
 * packets came in on (MACs and ifindex kept in the flow), towards a
 * backend over the route the FIB gives, cached in the flow after the first
 * lookup so spliced packets skip it (with the device's MTU: mtu.h).
 */
#ifndef SNILB_BPF_FWD_H
#define SNILB_BPF_FWD_H

#include "common.h"
#include "mtu.h"

#ifndef AF_INET
#define AF_INET 2
#define AF_INET6 10
#endif

static __always_inline int to_client_via(struct __sk_buff *skb,
					 const __u8 *cmac, const __u8 *lmac,
					 __u32 ifindex)
{
	if (set_macs(skb, cmac, lmac))
		return TC_ACT_SHOT;
	return bpf_redirect(ifindex, 0);
}

static __always_inline int to_client(struct __sk_buff *skb,
				     const struct snilb_flow *f)
{
	return to_client_via(skb, f->cmac, f->lmac, f->ifindex);
}

/*
 * Find the path to @daddr and cache it in the flow. Returns 0 when the
 * path (ifindex and MACs) is known, 1 when the neighbour is not resolved
 * yet (@fib holds the lookup for bpf_redirect_neigh), -1 when there is no
 * route.
 */
static __noinline int resolve_backend(struct __sk_buff *skb,
				      struct snilb_flow *f, __u8 family,
				      const __be32 *daddr,
				      struct bpf_fib_lookup *fib)
{
	long rc;

	if (f->b_ifindex)
		return 0;
	__builtin_memset(fib, 0, sizeof(*fib));
	fib->ifindex = skb->ifindex;
	if (family == SNILB_AF_INET) {
		fib->family = AF_INET;
		fib->ipv4_dst = daddr[0];
	} else {
		fib->family = AF_INET6;
		__builtin_memcpy(fib->ipv6_dst, daddr, 16);
	}
	rc = bpf_fib_lookup(skb, fib, sizeof(*fib), 0);
	if (rc == BPF_FIB_LKUP_RET_SUCCESS) {
		f->b_ifindex = fib->ifindex;
		__builtin_memcpy(f->bmac, fib->dmac, 6);
		__builtin_memcpy(f->bsmac, fib->smac, 6);
		f->bmtu = mtu16(fib->mtu_result);	/* the device's */
		return 0;
	}
	if (rc == BPF_FIB_LKUP_RET_NO_NEIGH)
		return 1;
	stat_inc(SNILB_ST_FWD_FAIL);
	return -1;
}

/* The first packet to a backend: look its path up. */
static __noinline int to_backend_first(struct __sk_buff *skb,
				       struct snilb_flow *f, __u8 family,
				       const __be32 *daddr)
{
	struct bpf_redir_neigh nh = {};
	struct bpf_fib_lookup fib;
	int rc = resolve_backend(skb, f, family, daddr, &fib);

	if (rc < 0)
		return TC_ACT_SHOT;
	if (rc > 0) {
		/* The neighbour layer resolves it and queues the packet. */
		nh.nh_family = fib.family;
		__builtin_memcpy(nh.ipv6_nh, fib.ipv6_dst, 16);
		return bpf_redirect_neigh(fib.ifindex, &nh, sizeof(nh), 0);
	}
	if (set_macs(skb, f->bmac, f->bsmac))
		return TC_ACT_SHOT;
	return bpf_redirect(f->b_ifindex, 0);
}

/* Send the packet to @daddr over the flow's backend path; a spliced
 * packet knows it already and makes no call but bpf_redirect(). */
static __always_inline int to_backend(struct __sk_buff *skb,
				      struct snilb_flow *f, __u8 family,
				      const __be32 *daddr)
{
	if (!f->b_ifindex)
		return to_backend_first(skb, f, family, daddr);
	if (set_macs(skb, f->bmac, f->bsmac))
		return TC_ACT_SHOT;
	return bpf_redirect(f->b_ifindex, 0);
}

#endif /* SNILB_BPF_FWD_H */

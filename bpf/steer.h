/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Several gateway nodes behind ECMP (docs/multinode.md): a packet to a
 * listener with no flow on this node is sent to the node that owns its
 * connection: on the same segment its MAC written as the destination
 * (IPv4, marked by the reserved flag), else, and always for IPv6, in an
 * IPv4 header to the owner's address (IPIP, 6in4: include/snilb_nodes.h,
 * SNILB_STEER_*). The owner is node_ring's entry for the client's tuple
 * (the same on every node); its previous owner is asked once after a
 * change of the table ("second chance").
 *
 * Only where no flow took the packet: a local flow's packets never come
 * here. An encapsulated packet is not TCP to the parser: the spliced
 * fast path never tests for one (steer_decap()).
 */
#ifndef SNILB_BPF_STEER_H
#define SNILB_BPF_STEER_H

#include "maps.h"
#include "stats.h"
#include "reply.h"
#include "bind.h"
#include "pkt.h"

#define STEER_LOCAL	(-3)	/* ours to answer here */
#define STEER_DROP	(-4)	/* steer_decap(): broken on the way */

#ifndef IPPROTO_IPIP
#define IPPROTO_IPIP 4
#endif
#define STEER_IP_DF	0x4000	/* frag_off, host order */

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
 * One steering hop on @p: the TTL (IPv4, the header checksum patched) or
 * the hop limit (IPv6, no checksum) one lower, and with @flag IPv4's
 * reserved flag set (the mark of a packet steered without an outer
 * header). -1 when the TTL is spent: nodes whose tables disagree bounce
 * a packet only that long. Read on arrival by steer_arrived().
 */
static __always_inline int steer_hop(struct __sk_buff *skb,
				     const struct pkt *p, int flag)
{
	__be16 w[2], n[2];
	__u8 *b = (__u8 *)n, hl;

	if (p->family == SNILB_AF_INET6) {
		if (bpf_skb_load_bytes(skb, p->l3 + 7, &hl, 1) || hl <= 1)
			return -1;
		hl--;
		return bpf_skb_store_bytes(skb, p->l3 + 7, &hl, 1, 0) ? -1 : 0;
	}
	if (bpf_skb_load_bytes(skb, p->l3 + 6, w, sizeof(w)))
		return -1;
	n[0] = flag ? w[0] | bpf_htons(SNILB_STEER_FLAG) : w[0];
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

/* Was @p steered here by a peer? Sets p->steered: the reserved flag of
 * an IPv4 packet that came without an outer header; steer_decap() set it
 * already for one that came in one. */
static __always_inline void steer_arrived(struct __sk_buff *skb,
					  struct pkt *p)
{
	__be16 frag;

	if (!p->steered && p->family == SNILB_AF_INET &&
	    !bpf_skb_load_bytes(skb, p->l3 + 6, &frag, sizeof(frag)))
		p->steered = !!(frag & bpf_htons(SNILB_STEER_FLAG));
	if (p->steered)
		stat_inc(SNILB_ST_STEER_IN);
}

/* Is @addr a node of the table other than us (nodes: sorted, the used
 * entries first)? Unrolled: a loop whose key is on the stack is an
 * "infinite loop" to 6.1's verifier, and a constant key makes each
 * lookup a direct address. */
static __always_inline int steer_peer(__be32 addr, __be32 self)
{
	const struct snilb_node *n;
	__u32 i, k;

	if (addr == self)
		return 0;
#pragma unroll
	for (i = 0; i < SNILB_MAX_NODES; i++) {
		k = i;
		n = bpf_map_lookup_elem(&nodes, &k);
		if (!n || !n->family)
			return 0;
		if (n->addr[0] == addr)
			return 1;
	}
	return 0;
}

static __always_inline __u16 steer_ip_csum(const void *hdr)
{
	const __u16 *w = hdr;
	__u32 s = 0;
	int i;

	for (i = 0; i < 10; i++)
		s += w[i];
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)~s;
}

/*
 * Room for the outer header. A GSO packet (GRO-merged) is marked as
 * encapsulated (BPF_F_ADJ_ROOM_ENCAP_L3_IPV4: its segments get the outer
 * header each). Any other is not: the mark would stay on the skb across a
 * veth into the owner's namespace (one host, tests/e2e/multinode.sh),
 * where no helper of 6.1 clears it and bpf_skb_change_tail() refuses an
 * skb that bears it (the SYN to the backend is the hello cut short). An
 * IPv6 one becomes IPv4 by bpf_skb_change_proto(), 20 bytes shorter.
 */
static __always_inline int steer_room(struct __sk_buff *skb,
				      const struct pkt *p)
{
	const int e = SNILB_STEER_ENCAP_LEN;

	if (skb->gso_size)
		return bpf_skb_adjust_room(skb, e, BPF_ADJ_ROOM_MAC,
					   BPF_F_ADJ_ROOM_ENCAP_L3_IPV4);
	if (p->family == SNILB_AF_INET)
		return bpf_skb_adjust_room(skb, e, BPF_ADJ_ROOM_MAC, 0);
	if (bpf_skb_adjust_room(skb, 2 * e, BPF_ADJ_ROOM_MAC, 0))
		return -1;
	return bpf_skb_change_proto(skb, bpf_htons(ETH_P_IP), 0);
}

/*
 * Put @p in an IPv4 header from @self to @addr: protocol IPIP for an
 * IPv4 packet, 41 (6in4) for an IPv6 one; DF, as the inner packet is
 * never fragmented on the way (the MSS leaves room: snilb_nodes.h).
 */
static __always_inline int steer_encap(struct __sk_buff *skb,
				       const struct pkt *p, __be32 self,
				       __be32 addr)
{
	__be16 eth = bpf_htons(ETH_P_IP);
	struct iphdr o = {};

	if (steer_room(skb, p))
		return -1;
	o.version = 4;
	o.ihl = 5;
	o.tot_len = bpf_htons(skb->len - ETH_HLEN);
	o.frag_off = bpf_htons(STEER_IP_DF);
	o.ttl = 64;
	o.protocol = p->family == SNILB_AF_INET ? IPPROTO_IPIP : IPPROTO_IPV6;
	o.saddr = self;
	o.daddr = addr;
	o.check = steer_ip_csum(&o);
	if (bpf_skb_store_bytes(skb, ETH_HLEN, &o, sizeof(o), 0) ||
	    bpf_skb_store_bytes(skb, 12, &eth, sizeof(eth), 0))
		return -1;
	stat_inc(SNILB_ST_STEER_ENCAP);
	return 0;
}

/*
 * Is the packet in the outer header (protocol @inner) TCP to one of our
 * listeners? Only such a packet is a peer's steering: IPIP the kernel
 * carries between the same nodes (Calico's pod network, say) is not
 * ours to unwrap.
 */
static __always_inline int steer_inner_ours(struct __sk_buff *skb,
					    __u8 inner)
{
	struct snilb_listener_key lk = {};
	__u32 off = ETH_HLEN + sizeof(struct iphdr);
	struct ipv6hdr ip6;
	struct iphdr ip;

	if (inner == IPPROTO_IPIP) {
		if (bpf_skb_load_bytes(skb, off, &ip, sizeof(ip)) ||
		    ip.protocol != IPPROTO_TCP || ip.ihl != 5)
			return 0;
		lk.family = SNILB_AF_INET;
		lk.addr[0] = ip.daddr;
		off += sizeof(ip);
	} else {
		if (bpf_skb_load_bytes(skb, off, &ip6, sizeof(ip6)) ||
		    ip6.nexthdr != IPPROTO_TCP)
			return 0;
		lk.family = SNILB_AF_INET6;
		__builtin_memcpy(lk.addr, &ip6.daddr, 16);
		off += sizeof(ip6);
	}
	if (bpf_skb_load_bytes(skb, off + 2, &lk.port, sizeof(lk.port)))
		return 0;
	return !!bpf_map_lookup_elem(&listeners, &lk);
}

/*
 * An IPv4 packet @p carrying IPv4 or IPv6 (p->encap), to this host: one a
 * peer steered here (from a node of the table, to our address, TCP to a
 * listener inside), its outer header stripped and the inner packet parsed
 * into @p, marked steered; its parse verdict. Any other (not to us, not
 * from a node, not to a listener: the kernel's own tunnels) is left as it
 * is: PARSE_NOT_TCP. STEER_DROP: broken.
 */
static __noinline int steer_decap(struct __sk_buff *skb, struct pkt *p)
{
	const struct snilb_cluster *cl = steer_cluster();
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct iphdr *ip = data + ETH_HLEN;
	__be16 eth = bpf_htons(ETH_P_IP);
	__u8 inner = p->encap;
	int v;

	if (!cl || !cl->self || p->daddr[0] != cl->self ||
	    (void *)(ip + 1) > end || ip->ihl != 5 ||
	    (ip->frag_off & bpf_htons(IP_MF_OFFSET)) ||
	    !steer_peer(p->saddr[0], cl->self) ||
	    !steer_inner_ours(skb, inner))
		return PARSE_NOT_TCP;
	if (inner == IPPROTO_IPV6) {
		/* IPv4 -> IPv6 makes the header 20 bytes longer: 40 go. */
		eth = bpf_htons(ETH_P_IPV6);
		if (bpf_skb_change_proto(skb, eth, 0) ||
		    bpf_skb_adjust_room(skb, -2 * SNILB_STEER_ENCAP_LEN,
					BPF_ADJ_ROOM_MAC, 0))
			return STEER_DROP;
	} else if (bpf_skb_adjust_room(skb, -SNILB_STEER_ENCAP_LEN,
				       BPF_ADJ_ROOM_MAC, 0)) {
		return STEER_DROP;
	}
	if (bpf_skb_store_bytes(skb, 12, &eth, sizeof(eth), 0))
		return STEER_DROP;
	stat_inc(SNILB_ST_STEER_DECAP);
	__builtin_memset(p, 0, sizeof(*p));
	v = parse_packet(skb, p);
	p->steered = 1;
	return v;
}

/*
 * Send the packet to the node at @addr: to its MAC, out of the way to it
 * (IPv4 on its segment), or in an outer header (the other cases,
 * snilb_nodes.h). One over the MTU of the way once encapsulated is
 * dropped (steer_too_big): the MSS we advertise leaves the room.
 */
static __noinline int steer_to(struct __sk_buff *skb, const struct pkt *p,
			       __be32 addr)
{
	const struct snilb_cluster *cl = steer_cluster();
	const struct snilb_config *cfg = get_config();
	__u8 mode = cfg ? cfg->steer : SNILB_STEER_AUTO;
	struct bpf_redir_neigh nh = {};
	struct bpf_fib_lookup fib = {};
	int encap;
	long rc;

	fib.family = AF_INET;
	fib.ipv4_dst = addr;
	fib.ifindex = skb->ifindex;
	rc = bpf_fib_lookup(skb, &fib, sizeof(fib), 0);
	if (!cl || (rc != BPF_FIB_LKUP_RET_SUCCESS &&
		    rc != BPF_FIB_LKUP_RET_NO_NEIGH)) {
		stat_inc(SNILB_ST_FWD_FAIL);
		return TC_ACT_SHOT;
	}
	/* ipv4_dst: the gateway, when the way to @addr has one. */
	encap = p->family != SNILB_AF_INET || mode == SNILB_STEER_IPIP ||
		(mode == SNILB_STEER_AUTO && fib.ipv4_dst != addr);
	if (steer_hop(skb, p, !encap)) {
		stat_inc(SNILB_ST_STEER_ORPHAN);
		return TC_ACT_SHOT;
	}
	if (encap) {
		if (rc == BPF_FIB_LKUP_RET_SUCCESS && !skb->gso_size &&
		    skb->len - ETH_HLEN + SNILB_STEER_ENCAP_LEN >
		    fib.mtu_result) {
			stat_inc(SNILB_ST_STEER_TOO_BIG);
			return TC_ACT_SHOT;
		}
		if (steer_encap(skb, p, cl->self, addr))
			return TC_ACT_SHOT;
	}
	stat_inc(SNILB_ST_STEER_OUT);
	if (rc == BPF_FIB_LKUP_RET_SUCCESS) {
		if (set_macs(skb, fib.dmac, fib.smac))
			return TC_ACT_SHOT;
		return bpf_redirect(fib.ifindex, 0);
	}
	nh.nh_family = AF_INET;
	nh.ipv4_nh = fib.ipv4_dst;
	return bpf_redirect_neigh(fib.ifindex, &nh, sizeof(nh), 0);
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

	if (p->family == SNILB_AF_INET) {
		fib.family = AF_INET;
		fib.ipv4_dst = p->saddr[0];
	} else {
		fib.family = AF_INET6;
		__builtin_memcpy(fib.ipv6_dst, p->saddr, 16);
	}
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

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Several gateway nodes behind ECMP (docs/multinode.md): the map ABI of
 * the node table and of who owns a connection. Included by snilb_abi.h.
 *
 * The agent writes the same table on every node from the same membership
 * (the nodes sorted by name): node_ring[flow_hash % SNILB_NODE_RING] names
 * the owner of a client's connection in this generation and in the one
 * before it (Maglev over the nodes that take new connections). A packet
 * of a connection with no flow here is sent to its owner; once more to
 * the previous owner, after a change, by the current owner ("second
 * chance").
 */
#ifndef SNILB_NODES_H
#define SNILB_NODES_H

#include <linux/types.h>

#define SNILB_MAX_NODES		64	/* gateway nodes, this generation's
					 * and the previous one's */
#define SNILB_NODE_RING		4093	/* node_ring slots: a prime */

/*
 * IPv4 steering marks: the reserved flag of the IPv4 header (RFC 791 bit
 * 0, never set on the wire) says "steered here by a peer", and each
 * steering hop takes one from the TTL, as a router would, so that nodes
 * whose tables disagree for a moment cannot bounce a packet for ever.
 */
#define SNILB_STEER_FLAG	0x8000	/* in frag_off, host order */

/*
 * How a packet goes to its owner (snilb_config.steer, --steer):
 * - AUTO: as L2 where the FIB reaches the owner directly (no gateway),
 *   as IPIP where it routes to it through a gateway;
 * - L2: the owner's MAC, out of the interface towards it (IPv4, marked
 *   as above);
 * - IPIP: in an IPv4 header from this node's address to the owner's
 *   (protocol 4, IPIP), wherever it is.
 * An IPv6 packet has no reserved flag to carry the mark: it always goes
 * in an IPv4 header (protocol 41, 6in4), and its hop limit is one lower.
 * The owner strips the outer header of one from a node of its table
 * addressed to it (steer.h, steer_decap()), and the packet is a steered
 * one. The MSS snilb advertises is SNILB_STEER_ENCAP_LEN lower where a
 * packet may be encapsulated, so that a full segment still fits.
 */
#define SNILB_STEER_AUTO	0
#define SNILB_STEER_L2		1
#define SNILB_STEER_IPIP	2
#define SNILB_STEER_ENCAP_LEN	20	/* the outer IPv4 header */

#define SNILB_NODE_NAME		254	/* a node's name, NUL included: a
					 * Kubernetes node's (a DNS subdomain,
					 * up to 253) */

/* nodes[i]: node i of this generation's table and the previous one's,
 * sorted by name, by its address towards its peers and its name; for the
 * CLI and metrics (the ring names addresses). */
struct snilb_node {
	__u8 family;		/* SNILB_AF_INET (node addresses are IPv4,
				 * IPv6 clients' packets are carried in
				 * IPv4 between nodes); 0: no node i */
	__u8 flags;		/* SNILB_NODE_* */
	__u8 pad[2];
	__be32 addr[4];
	char name[SNILB_NODE_NAME];	/* NUL-terminated */
};

#define SNILB_NODE_SELF		1	/* this node */
#define SNILB_NODE_DRAINING	2	/* serving its flows, taking none */
#define SNILB_NODE_GONE		4	/* in the previous generation only */

/*
 * node_ring[slot]: the owners' addresses (0: none, no node takes new
 * connections). Addresses, not indexes into nodes: a slot is written in
 * one update, so while the agent rewrites the ring every slot names the
 * owners of one generation or the other, never a node that moved.
 */
struct snilb_node_slot {
	__be32 cur;		/* owner in this generation */
	__be32 prev;		/* ... in the previous one (cur if none) */
};

/* cluster[0]: where this node stands. */
struct snilb_cluster {
	__u32 generation;	/* a hash of the table: equal on every node */
	__u32 prev_generation;	/* 0: none */
	__be32 self;		/* our address in the table (0: not in it) */
	__u8 active;		/* 1: steer (two nodes or more) */
	__u8 pad[3];
};

#endif /* SNILB_NODES_H */

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The node table of several gateway nodes (docs/multinode.md,
 * include/snilb_nodes.h): the nodes of this generation and of the one
 * before, sorted by name, and who owns each slot of node_ring in both,
 * Maglev over the nodes that take new connections. Built from the same
 * input, the maps are the same on every node.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "dp_int.h"
#include "maglev.h"
#include "pinned.h"

#define RING_NONE	UINT32_MAX

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct dp_node *)a)->name,
		      ((const struct dp_node *)b)->name);
}

/* FNV-1a over the table, sorted: the same on every node. */
static uint32_t gen_of(const struct dp_node *n, size_t cnt)
{
	uint32_t h = 2166136261u;
	size_t i, j;

	for (i = 0; i < cnt; i++) {
		const char *parts[3] = { n[i].name, n[i].addr,
					 n[i].draining ? "d" : "" };

		for (j = 0; j < 3; j++) {
			const char *s = parts[j];

			do
				h = (h ^ (uint8_t)*s) * 16777619u;
			while (*s++);
		}
	}
	return h ? h : 1;	/* 0: no generation */
}

/* The index of @name in the union @u of @nu nodes, or -1. */
static int find(const struct dp_node *u, size_t nu, const char *name)
{
	size_t i;

	for (i = 0; i < nu; i++)
		if (!strcmp(u[i].name, name))
			return (int)i;
	return -1;
}

/* Maglev of @n nodes (indexes into @u) into @ring; all NONE if none
 * takes connections. */
static int ring_of(const struct dp_node *n, size_t cnt,
		   const struct dp_node *u, size_t nu, uint32_t *ring)
{
	struct maglev_backend b[SNILB_MAX_NODES];
	size_t i, live = 0;

	for (i = 0; i < cnt; i++) {
		b[i].name = n[i].name;
		b[i].id = (uint32_t)find(u, nu, n[i].name);
		b[i].weight = n[i].draining ? 0 : 1;
		live += !n[i].draining;
	}
	if (!live) {
		for (i = 0; i < SNILB_NODE_RING; i++)
			ring[i] = RING_NONE;
		return 0;
	}
	return maglev_build(b, cnt, ring, SNILB_NODE_RING);
}

/* Check @n and add it to the union @u (sorted later). */
static int add_all(const struct dp_node *n, size_t cnt, struct dp_node *u,
		   size_t *nu, char *err, size_t errlen)
{
	struct in_addr a;
	size_t i;

	for (i = 0; i < cnt; i++) {
		if (!n[i].name[0] || inet_pton(AF_INET, n[i].addr, &a) != 1) {
			snprintf(err, errlen, "node %zu (%s): address '%s': "
				 "an IPv4 address is needed", i + 1,
				 n[i].name, n[i].addr);
			return -EINVAL;
		}
		if (find(u, *nu, n[i].name) >= 0)
			continue;
		if (*nu >= SNILB_MAX_NODES) {
			snprintf(err, errlen, "more than %d nodes",
				 SNILB_MAX_NODES);
			return -E2BIG;
		}
		u[(*nu)++] = n[i];
	}
	return 0;
}

/* The union @u of this generation's @cur and the previous one's, with
 * their names (for the CLI) and what each is in this generation. */
static int write_nodes(struct dataplane *dp, const struct dp_node *u,
		       size_t nu, int self, const struct dp_node *cur,
		       size_t ncur)
{
	struct snilb_node v;
	__u32 i;
	int err;

	for (i = 0; i < SNILB_MAX_NODES; i++) {
		memset(&v, 0, sizeof(v));
		if (i < nu) {
			v.family = SNILB_AF_INET;
			inet_pton(AF_INET, u[i].addr, v.addr);
			v.flags = ((int)i == self ? SNILB_NODE_SELF : 0) |
				  (u[i].draining ? SNILB_NODE_DRAINING : 0) |
				  (find(cur, ncur, u[i].name) < 0 ?
				   SNILB_NODE_GONE : 0);
			snprintf(v.name, sizeof(v.name), "%s", u[i].name);
		}
		err = map_set(dp, SNILB_MAP_NODES, &i, &v);
		if (err)
			return err;
	}
	return 0;
}

static __be32 addr_of(const struct dp_node *u, uint32_t i)
{
	struct in_addr a = { 0 };

	if (i != RING_NONE)
		inet_pton(AF_INET, u[i].addr, &a);
	return a.s_addr;
}

/*
 * No previous table given (an agent that starts): the pinned one, if an
 * earlier agent left one, is the previous generation (its own previous,
 * if it is the same table), so that a restart does not forget who owned
 * the connections of the last change.
 */
static void adopt_prev(struct dataplane *dp, struct snilb_cluster *cl,
		       struct snilb_node_slot *s)
{
	struct snilb_cluster old;
	struct snilb_node_slot o;
	__u32 i, zero = 0;

	if (map_get(dp, SNILB_MAP_CLUSTER, &zero, &old) || !old.generation)
		return;
	for (i = 0; i < SNILB_NODE_RING; i++) {
		if (map_get(dp, SNILB_MAP_NODE_RING, &i, &o))
			return;		/* partly read: s[].prev is still ours */
		s[i].prev = old.generation == cl->generation ? o.prev : o.cur;
	}
	cl->prev_generation = old.generation == cl->generation ?
			      old.prev_generation : old.generation;
}

/* The ring in one batch (one syscall; the kernel still copies it slot by
 * slot, each slot whole). */
static int write_ring(struct dataplane *dp, struct snilb_node_slot *s)
{
	static __u32 keys[SNILB_NODE_RING];
	__u32 i, n = SNILB_NODE_RING;

	LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = BPF_ANY);

	for (i = 0; i < SNILB_NODE_RING; i++)
		keys[i] = i;
	if (bpf_map_update_batch(dp_map_fd(dp, SNILB_MAP_NODE_RING), keys, s,
				 &n, &opts))
		return -errno;
	return n == SNILB_NODE_RING ? 0 : -EIO;
}

int dp_nodes_set(struct dataplane *dp, const struct dp_nodes *t, char *err,
		 size_t errlen)
{
	struct dp_node u[SNILB_MAX_NODES], cur[SNILB_MAX_NODES];
	struct dp_node prev[SNILB_MAX_NODES];
	static uint32_t rc[SNILB_NODE_RING], rp[SNILB_NODE_RING];
	static struct snilb_node_slot ring[SNILB_NODE_RING];
	struct snilb_cluster cl = { 0 };
	size_t nu = 0;
	__u32 zero = 0, i;
	int rv, self;

	if (t->ncur > SNILB_MAX_NODES || t->nprev > SNILB_MAX_NODES) {
		snprintf(err, errlen, "more than %d nodes", SNILB_MAX_NODES);
		return -E2BIG;
	}
	memcpy(cur, t->cur, t->ncur * sizeof(*cur));
	memcpy(prev, t->prev, t->nprev * sizeof(*prev));
	qsort(cur, t->ncur, sizeof(*cur), by_name);
	qsort(prev, t->nprev, sizeof(*prev), by_name);
	rv = add_all(cur, t->ncur, u, &nu, err, errlen);
	if (!rv)
		rv = add_all(prev, t->nprev, u, &nu, err, errlen);
	if (rv)
		return rv;
	qsort(u, nu, sizeof(*u), by_name);
	rv = ring_of(cur, t->ncur, u, nu, rc);
	if (!rv)
		rv = t->nprev ? ring_of(prev, t->nprev, u, nu, rp) : 0;
	if (rv) {
		snprintf(err, errlen, "the node ring: %s", strerror(-rv));
		return rv;
	}
	if (!t->nprev)
		memcpy(rp, rc, sizeof(rp));
	self = find(u, nu, t->self);
	cl.generation = t->ncur ? gen_of(cur, t->ncur) : 0;
	cl.prev_generation = t->nprev ? gen_of(prev, t->nprev) : 0;
	cl.self = self < 0 ? 0 : addr_of(u, (uint32_t)self);
	cl.active = nu > 1 || (nu == 1 && self < 0);
	for (i = 0; i < SNILB_NODE_RING; i++) {
		ring[i].cur = addr_of(u, rc[i]);
		ring[i].prev = addr_of(u, rp[i]);
	}
	if (t->adopt && !t->nprev && t->ncur)
		adopt_prev(dp, &cl, ring);
	/* Slot by slot, each names one generation's owners or the other's
	 * (include/snilb_nodes.h); then where we stand. */
	rv = write_ring(dp, ring);
	if (!rv)
		rv = map_set(dp, SNILB_MAP_CLUSTER, &zero, &cl);
	if (!rv)
		rv = write_nodes(dp, u, nu, self, cur, t->ncur);
	if (rv)
		snprintf(err, errlen, "writing the node table: %s",
			 strerror(-rv));
	return rv;
}

int dp_nodes_get(struct dataplane *dp, struct snilb_cluster *cl)
{
	__u32 zero = 0;

	return map_get(dp, SNILB_MAP_CLUSTER, &zero, cl);
}

/* --- read back, for the CLI (pinned.h) ---------------------------------- */

static void count_slot(struct pinned_nodes *out, __be32 owner, int prev)
{
	size_t i;

	for (i = 0; owner && i < out->n; i++) {
		if (out->node[i].addr_be != owner)
			continue;
		if (prev)
			out->node[i].prev_slots++;
		else
			out->node[i].slots++;
		return;
	}
	if (prev)
		out->prev_unowned++;
	else
		out->unowned++;
}

int pinned_nodes_read(const struct pinned *p, struct pinned_nodes *out)
{
	int cfd = pinned_map_fd(p, SNILB_MAP_CLUSTER);
	int nfd = pinned_map_fd(p, SNILB_MAP_NODES);
	int rfd = pinned_map_fd(p, SNILB_MAP_NODE_RING);
	struct snilb_node_slot s;
	struct snilb_node v;
	__u32 i, zero = 0;

	memset(out, 0, sizeof(*out));
	out->ring = SNILB_NODE_RING;
	if (cfd < 0 || nfd < 0 || rfd < 0)
		return -ENOENT;
	if (bpf_map_lookup_elem(cfd, &zero, &out->cl))
		return -errno;
	for (i = 0; i < SNILB_MAX_NODES; i++) {
		struct pinned_node *n = &out->node[out->n];

		if (bpf_map_lookup_elem(nfd, &i, &v))
			return -errno;
		if (v.family != SNILB_AF_INET)
			continue;
		memcpy(n->name, v.name, sizeof(n->name));
		n->name[sizeof(n->name) - 1] = 0;
		n->addr_be = v.addr[0];
		inet_ntop(AF_INET, v.addr, n->addr, sizeof(n->addr));
		n->flags = v.flags;
		out->n++;
	}
	for (i = 0; i < SNILB_NODE_RING && out->cl.generation; i++) {
		if (bpf_map_lookup_elem(rfd, &i, &s))
			return -errno;
		count_slot(out, s.cur, 0);
		count_slot(out, s.prev, 1);
	}
	return 0;
}

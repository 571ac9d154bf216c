/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * SNI -> route. The name is hashed once, right to left; at every dot with
 * a label before it the running hash is that of a wildcard's suffix
 * (".example.com" for "*.example.com"), so one pass looks up every
 * wildcard that could match. The leftmost match is the most specific; an
 * exact match beats them all, and a catch-all comes last. Every hit is confirmed against the full
 * name stored in the route, so a hash collision cannot cross tenants.
 */
#ifndef SNILB_BPF_ROUTE_H
#define SNILB_BPF_ROUTE_H

#include "maps.h"

struct route_walk {
	const struct ch_result *res;
	struct snilb_route *best;	/* most specific wildcard so far */
	const struct snilb_route *cand;
	__u64 hash;
	__u32 listener;
	__u32 len;
	__u32 start;			/* offset of the suffix compared */
	__u32 equal;
};

static long name_eq_cb(__u32 i, void *ctx)
{
	struct route_walk *w = ctx;

	if (w->res->sni[(w->start + i) & 255] != w->cand->name[i & 255]) {
		w->equal = 0;
		return 1;
	}
	return 0;
}

/* Is cand->name equal to the SNI from offset @start to its end? */
static __always_inline int route_matches(struct route_walk *w,
					 const struct snilb_route *cand,
					 __u32 start)
{
	if (cand->name_len != w->len - start)
		return 0;
	w->cand = cand;
	w->start = start;
	w->equal = 1;
	bpf_loop(cand->name_len & 255, name_eq_cb, w, 0);
	return w->equal;
}

static __always_inline struct snilb_route *route_get(struct route_walk *w)
{
	struct snilb_route_key k = { .listener = w->listener, .hash = w->hash };

	return bpf_map_lookup_elem(&routes, &k);
}

static long hash_cb(__u32 i, void *ctx)
{
	struct route_walk *w = ctx;
	__u32 at = w->len - 1 - i;
	__u8 c = w->res->sni[at & 255];
	struct snilb_route *r;

	w->hash = snilb_hash_step(w->hash, c);
	if (c != '.' || !at)
		return 0;
	r = route_get(w);
	if (r && route_matches(w, r, at))
		w->best = r;
	return 0;
}

static __noinline struct snilb_route *route_lookup(
	const struct ch_result *res, __u32 listener)
{
	struct route_walk w = {
		.res = res,
		.listener = listener,
		.hash = SNILB_HASH_SEED,
		.len = res->sni_len,
	};
	struct snilb_route *r;

	bpf_loop(w.len & 255, hash_cb, &w, 0);
	r = route_get(&w);
	if (r && route_matches(&w, r, 0))
		return r;
	if (w.best)
		return w.best;
	/* Last, a catch-all ("*": a listener's routes with no hostname),
	 * stored under the hash of the empty name. Only a miss pays it. */
	w.hash = SNILB_HASH_SEED;
	r = route_get(&w);
	if (r && !r->name_len)
		return r;
	return NULL;
}

#endif /* SNILB_BPF_ROUTE_H */

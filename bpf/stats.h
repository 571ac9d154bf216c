/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Counting: the global counters (enum snilb_stat), per listener, per route. */
#ifndef SNILB_BPF_STATS_H
#define SNILB_BPF_STATS_H

#include "maps.h"

static __always_inline void stat_inc(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &idx);

	if (v)
		(*v)++;
}

static __always_inline struct snilb_listener_stats *lstats(__u32 id)
{
	return bpf_map_lookup_elem(&listener_stats, &id);
}

/* Count an RST for listener @id. The 64-bit, hidden index is for the
 * verifier: clang bounds-checks a zero-extended copy otherwise. */
static __always_inline void count_reject(__u32 id, __u32 why)
{
	struct snilb_listener_stats *ls = lstats(id);
	__u64 w = why;

	asm volatile("" : "+r"(w));
	if (ls && w < SNILB_REJ_MAX)
		ls->rejected[w]++;
}

static __always_inline struct snilb_route_stats *rstats(__u32 id)
{
	return bpf_map_lookup_elem(&route_stats, &id);
}

/* A routed connection no backend took: global, listener, route. */
static __always_inline void count_no_backend(const struct snilb_flow *f)
{
	struct snilb_route_stats *rs = rstats(f->route);

	stat_inc(SNILB_ST_REJECT_BASE + SNILB_REJ_NO_BACKEND);
	count_reject(f->listener, SNILB_REJ_NO_BACKEND);
	if (rs)
		rs->no_backend++;
}

#endif /* SNILB_BPF_STATS_H */

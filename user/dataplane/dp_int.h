/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* What the data-plane library's files share and its users do not see. */
#ifndef SNILB_USER_DP_INT_H
#define SNILB_USER_DP_INT_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

#include <bpf/bpf.h>

#include "dataplane.h"

/* Map @m's entry @key: read into @val, written from it; 0 or -errno. */
static inline int map_get(struct dataplane *dp, enum snilb_map m,
			  const void *key, void *val)
{
	return bpf_map_lookup_elem(dp_map_fd(dp, m), key, val) ? -errno : 0;
}

static inline int map_set(struct dataplane *dp, enum snilb_map m,
			  const void *key, const void *val)
{
	return bpf_map_update_elem(dp_map_fd(dp, m), key, val, BPF_ANY) ?
	       -errno : 0;
}

/* The access log's reader (alog.c), in struct dataplane. */
struct ring_buffer;
struct dp_log {
	struct ring_buffer *rb;
	dp_log_fn fn;
	void *arg;
};

struct dp_log *dp_log_of(struct dataplane *dp);
/* Hand @rec to the reader, if one is open (the reaper's ends). */
void dp_log_emit(struct dataplane *dp, const struct snilb_log_rec *rec);

/* Recount the VIP of listener @lk after it was added or removed
 * (vips.c). */
int dp_vip_follow(struct dataplane *dp, const struct snilb_listener_key *lk);
/* Recount every VIP from the listeners: at load, maps adopted from an
 * older loader may have none, or stale ones. */
int dp_vips_rebuild(struct dataplane *dp);

/* Call @fn(@arg, key, value) for every entry of hash map @fd (keys of
 * @ks bytes, values of @vs), in batches (walk.c); 0 or -errno. */
typedef void (*dp_walk_fn)(void *arg, const void *key, const void *val);
int dp_walk(int fd, size_t ks, size_t vs, dp_walk_fn fn, void *arg);

#endif /* SNILB_USER_DP_INT_H */

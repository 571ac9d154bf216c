/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* What sync.c, sync_sets.c and sync_state.c share, and nothing outside. */
#ifndef SNILB_USER_SYNC_INT_H
#define SNILB_USER_SYNC_INT_H

#include <stddef.h>
#include <stdlib.h>
#include <stdint.h>

#include "sync.h"

/* Note the first error of a sync in @res (with strerror(-@err)). */
void sync_fail(struct sync_result *res, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The lowest id in 1..@max not in @used (@n of them), or -ENOSPC. */
long sync_free_id(const uint32_t *used, size_t n, uint32_t max);

/* The ids of @n elements of @arr (their @field), in a new array to free
 * (NULL: out of memory). */
#define IDS_OF(arr, n, field) ({					\
	uint32_t *_ids = calloc((n) + 1, sizeof(uint32_t));		\
	size_t _i;							\
	for (_i = 0; _ids && _i < (n); _i++)				\
		_ids[_i] = (arr)[_i].field;				\
	_ids;								\
})

/* New backends and sets for @out, in free ids, before routes use them. */
int sync_apply_sets(struct sync_state *s, const struct gw_out *out,
		    struct sync_result *res);

#endif /* SNILB_USER_SYNC_INT_H */

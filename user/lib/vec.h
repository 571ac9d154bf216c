/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Growable arrays: PUSH(arr, n) appends a zeroed element and returns it,
 * or NULL (arr unchanged) when memory runs out. The block grows by half
 * again when full (its size is the allocator's: any malloc'd array can
 * be pushed to), so that n pushes cost O(n), not O(n^2) copies. */
#ifndef SNILB_USER_VEC_H
#define SNILB_USER_VEC_H

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

static inline void *vec_grow(void *arr, size_t *n, size_t size)
{
	size_t want = (*n + 1) * size;
	char *p = arr;

	if (!arr || malloc_usable_size(arr) < want) {
		p = realloc(arr, want + (*n / 2) * size);
		if (!p)
			p = realloc(arr, want);
	}
	if (!p)
		return NULL;
	memset(p + *n * size, 0, size);
	(*n)++;
	return p;
}

#define PUSH(arr, n) ({							\
	void *_p = vec_grow((arr), &(n), sizeof(*(arr)));		\
	_p ? ((arr) = _p, &(arr)[(n) - 1]) : NULL;			\
})

#endif /* SNILB_USER_VEC_H */

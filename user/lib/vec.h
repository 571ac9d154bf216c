/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Growable arrays: PUSH(arr, n) appends a zeroed element and returns it,
 * or NULL (arr unchanged) when memory runs out. */
#ifndef SNILB_USER_VEC_H
#define SNILB_USER_VEC_H

#include <stdlib.h>
#include <string.h>

static inline void *vec_grow(void *arr, size_t *n, size_t size)
{
	char *p = realloc(arr, (*n + 1) * size);

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

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "maglev.h"

int maglev_is_prime(uint32_t n)
{
	uint32_t d;

	if (n < 2)
		return 0;
	for (d = 2; (uint64_t)d * d <= n; d++)
		if (n % d == 0)
			return 0;
	return 1;
}

static uint64_t fnv1a(const char *s, uint64_t seed)
{
	uint64_t h = seed;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 0x100000001b3ull;
	return h;
}

int maglev_build(const struct maglev_backend *b, size_t n, uint32_t *table,
		 uint32_t size)
{
	uint32_t *offset, *skip, *next;
	uint32_t filled = 0, maxw = 0;
	size_t i;

	if (!maglev_is_prime(size))
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (b[i].weight > maxw)
			maxw = b[i].weight;
	if (!maxw)
		return -EINVAL;
	offset = calloc(n, sizeof(*offset));
	skip = calloc(n, sizeof(*skip));
	next = calloc(n, sizeof(*next));
	if (!offset || !skip || !next) {
		free(offset);
		free(skip);
		free(next);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		offset[i] = fnv1a(b[i].name, 0xcbf29ce484222325ull) % size;
		skip[i] = fnv1a(b[i].name, 0x84222325cbf29ce4ull) % (size - 1) + 1;
	}
	for (i = 0; i < size; i++)
		table[i] = UINT32_MAX;
	while (filled < size) {
		for (i = 0; i < n && filled < size; i++) {
			uint32_t turns = b[i].weight;

			/* A backend of weight w claims w slots per round. */
			while (turns-- && filled < size) {
				uint32_t c;

				do {
					c = (uint32_t)((offset[i] +
						(uint64_t)next[i] * skip[i]) % size);
					next[i]++;
				} while (table[c] != UINT32_MAX);
				table[c] = b[i].id;
				filled++;
			}
		}
	}
	free(offset);
	free(skip);
	free(next);
	return 0;
}

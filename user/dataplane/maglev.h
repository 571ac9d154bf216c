/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Maglev lookup tables (Eisenbud et al., NSDI 2016): every backend walks
 * its own permutation of the table and claims the next free slot in turn,
 * weighted backends claiming that many slots per turn. The same backends
 * (by name) and weights give the same table on every node; removing one
 * backend moves little more than the slots it held.
 */
#ifndef SNILB_USER_MAGLEV_H
#define SNILB_USER_MAGLEV_H

#include <stddef.h>
#include <stdint.h>

struct maglev_backend {
	const char *name;	/* stable identity, e.g. "198.18.2.11:8443" */
	uint32_t id;		/* value written into the table */
	uint32_t weight;	/* 0: not in the table */
};

/* Fill @table (@size entries, a prime) from @n backends. Returns 0, or
 * -EINVAL when the size is not a prime or no backend has a weight. */
int maglev_build(const struct maglev_backend *b, size_t n, uint32_t *table,
		 uint32_t size);

int maglev_is_prime(uint32_t n);

#endif /* SNILB_USER_MAGLEV_H */

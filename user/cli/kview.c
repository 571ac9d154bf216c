// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* What the kernel holds, read once per command: routes and backends. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "inspect.h"

/* --- routes, sorted for lookups ----------------------------------------- */

int kroute_cmp(const void *a, const void *b)
{
	const struct snilb_route_key *x = a, *y = b;

	if (x->listener != y->listener)
		return x->listener < y->listener ? -1 : 1;
	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return 0;
}

int load_kroutes(const struct inspect *c, struct kroute **out, size_t *n)
{
	struct pinned_iter it;
	struct kroute *a = NULL;
	size_t cap = 0;
	int e;

	*n = 0;
	e = pinned_routes_init(c->p, &it);
	while (!e) {
		if (*n == cap) {
			struct kroute *b;

			cap = cap ? cap * 2 : 64;
			b = realloc(a, cap * sizeof(*a));
			if (!b) {
				e = -ENOMEM;
				break;
			}
			a = b;
		}
		memset(&a[*n], 0, sizeof(a[*n]));
		e = pinned_routes_next(&it, &a[*n].k, &a[*n].v);
		if (e != 1)
			break;
		(*n)++;
		e = 0;
	}
	if (e < 0) {
		free(a);
		*n = 0;
		*out = NULL;
		return e;
	}
	if (*n)
		qsort(a, *n, sizeof(*a), kroute_cmp);
	*out = a;
	return 0;
}

struct kroute *kroute_find(struct kroute *a, size_t n, uint32_t listener,
			   const char *hostname)
{
	struct kroute key;
	const char *name = pinned_route_key(listener, hostname, &key.k);
	struct kroute *r;

	r = n ? bsearch(&key, a, n, sizeof(*a), kroute_cmp) : NULL;
	if (r && strcmp(r->v.name, name))
		return NULL;	/* a hash twin, not this name */
	return r;
}

char *kroute_host(const struct kroute *r, char *buf, size_t n)
{
	return pinned_route_host(r->v.name, buf, n);
}

/* --- backends and their sets ------------------------------------------ */

int kb_load(const struct inspect *c, struct kbackends *kb)
{
	kb->be = calloc(SNILB_MAX_BACKENDS, sizeof(*kb->be));
	kb->slots = calloc(SNILB_MAX_BACKENDS + 1, sizeof(*kb->slots));
	if (!kb->be || !kb->slots)
		return -ENOMEM;
	return pinned_backends_read(c->p, kb->be);
}

void kb_free(struct kbackends *kb)
{
	free(kb->be);
	free(kb->slots);
}

char *backend_addr(const struct kbackends *kb, uint32_t id, char *buf,
		   size_t n)
{
	const struct snilb_backend *b;

	if (!kb->be || id >= SNILB_MAX_BACKENDS || !kb->be[id].family)
		return xsprintf(buf, n, "#%u?", id);
	b = &kb->be[id];
	return pinned_fmt_addr(buf, n, b->family, b->addr, b->port);
}

uint32_t kb_slots(const struct inspect *c, struct kbackends *kb,
		  uint32_t set)
{
	uint32_t size = 0;

	memset(kb->slots, 0, (SNILB_MAX_BACKENDS + 1) * sizeof(*kb->slots));
	if (pinned_maglev_slots(c->p, set, kb->slots, SNILB_MAX_BACKENDS + 1,
				&size))
		return 0;
	return size;
}

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Backends and backend sets (sync.h): ids, Maglev tables installed in free
 * ids before any route points at them. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maglev.h"
#include "sync.h"
#include "sync_int.h"
#include "vec.h"

/* --- ids -------------------------------------------------------------------- */

uint32_t sync_backend_flags(const struct gw_endpoint *e)
{
	return e->proxy_v2 ? SNILB_BE_PROXY_V2 : 0;
}

long sync_backend_id(const struct sync_state *s, const struct gw_endpoint *e)
{
	uint32_t flags = sync_backend_flags(e);
	size_t i;

	for (i = 0; i < s->nbackends; i++)
		if (s->backends[i].port == e->port &&
		    s->backends[i].flags == flags &&
		    !strcmp(s->backends[i].addr, e->addr))
			return (long)s->backends[i].id;
	return -1;
}

/* The lowest id below @max that @used does not hold. */
long sync_free_id(const uint32_t *used, size_t n, uint32_t max)
{
	uint8_t *taken = calloc(max, 1);
	uint32_t id;
	size_t i;

	if (!taken)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		if (used[i] < max)
			taken[used[i]] = 1;
	for (id = 0; id < max && taken[id]; id++)
		;
	free(taken);
	return id < max ? (long)id : -ENOSPC;
}

static long alloc_backend(struct sync_state *s, const struct gw_endpoint *e,
			  struct sync_result *res)
{
	struct sync_backend *b;
	uint32_t *used;
	long id = sync_backend_id(s, e);
	int err;
	size_t i;

	if (id >= 0) {
		for (i = 0; i < s->nbackends; i++)
			if (s->backends[i].id == (uint32_t)id)
				s->backends[i].retired_ns = 0;
		return id;
	}
	used = IDS_OF(s->backends, s->nbackends, id);
	if (!used)
		return -ENOMEM;
	id = sync_free_id(used, s->nbackends, SNILB_MAX_BACKENDS);
	free(used);
	if (id < 0) {
		sync_fail(res, (int)id, "no free backend id for %s:%u", e->addr,
			  e->port);
		return id;
	}
	err = dp_backend_set(s->dp, (uint32_t)id, e->addr, e->port,
			     sync_backend_flags(e));
	if (err) {
		sync_fail(res, err, "backends[%ld] = %s:%u", id, e->addr,
			  e->port);
		return err;
	}
	b = PUSH(s->backends, s->nbackends);
	if (!b)
		return -ENOMEM;
	snprintf(b->addr, sizeof(b->addr), "%s", e->addr);
	b->port = e->port;
	b->flags = sync_backend_flags(e);
	b->id = (uint32_t)id;
	res->backends_added++;
	return id;
}

/* --- sets ------------------------------------------------------------------- */

static int copy_set(struct gw_set *dst, const struct gw_set *src)
{
	dst->neps = src->neps;
	dst->reset = src->reset;
	dst->eps = calloc(src->neps ? src->neps : 1, sizeof(*dst->eps));
	if (!dst->eps)
		return -ENOMEM;
	memcpy(dst->eps, src->eps, src->neps * sizeof(*dst->eps));
	return 0;
}

/* Build @want's Maglev table over backend ids and install it. Backends
 * are named by address:port, so every node builds the same table; the
 * reset share is one more "backend", SNILB_BACKEND_RESET. */
static int install_set(struct sync_state *s, uint32_t id,
		       const struct gw_set *want, struct sync_result *res)
{
	struct maglev_backend *mb;
	char (*names)[GW_ADDR_MAX + 8];
	uint32_t *table;
	size_t i;
	long bid;
	int err = 0;

	if (!want->neps) {
		err = dp_set_install(s->dp, id, NULL, 0, 0);
		if (err)
			sync_fail(res, err, "sets[%u] (empty)", id);
		return err;
	}
	mb = calloc(want->neps + 1, sizeof(*mb));
	names = calloc(want->neps, sizeof(*names));
	table = calloc(s->maglev_size, sizeof(*table));
	if (!mb || !names || !table) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < want->neps; i++) {
		bid = alloc_backend(s, &want->eps[i], res);
		if (bid < 0) {
			err = (int)bid;
			goto out;
		}
		snprintf(names[i], sizeof(names[i]), "%s:%u",
			 want->eps[i].addr, want->eps[i].port);
		mb[i].name = names[i];
		mb[i].id = (uint32_t)bid;
		mb[i].weight = want->eps[i].weight;
	}
	mb[i] = (struct maglev_backend){ "reset", SNILB_BACKEND_RESET,
					 want->reset };
	err = maglev_build(mb, want->neps + 1, table, s->maglev_size);
	if (!err)
		err = dp_set_install(s->dp, id, table, s->maglev_size,
				     (uint32_t)want->neps +
				     (want->reset ? 1 : 0));
	if (err)
		sync_fail(res, err, "installing set %u (%zu backends)", id,
			  want->neps);
out:
	free(mb);
	free(names);
	free(table);
	return err;
}

static long find_set(struct sync_state *s, const struct gw_set *want)
{
	size_t i;

	for (i = 0; i < s->nsets; i++)
		if (s->sets[i].known && gw_set_equal(&s->sets[i].content, want))
			return (long)i;
	return -1;
}

static long new_set(struct sync_state *s, const struct gw_set *want,
		    struct sync_result *res)
{
	struct sync_set *ss;
	uint32_t *used = IDS_OF(s->sets, s->nsets, id);
	long id;
	int err;

	if (!used)
		return -ENOMEM;
	id = sync_free_id(used, s->nsets, SNILB_MAX_SETS);
	free(used);
	if (id < 0) {
		sync_fail(res, (int)id, "no free backend set id (%u in use)",
			  SNILB_MAX_SETS);
		return id;
	}
	err = install_set(s, (uint32_t)id, want, res);
	if (err)
		return err;
	ss = PUSH(s->sets, s->nsets);
	if (!ss || copy_set(&ss->content, want))
		return -ENOMEM;
	ss->id = (uint32_t)id;
	ss->known = 1;
	ss->slots_used = want->neps ? s->maglev_size : 0;
	res->sets_built++;
	return id;
}

int sync_apply_sets(struct sync_state *s, const struct gw_out *out,
		      struct sync_result *res)
{
	size_t i;

	for (i = 0; i < out->nsets; i++) {
		long at = find_set(s, &out->sets[i]);
		long id = at >= 0 ? (long)s->sets[at].id :
			  new_set(s, &out->sets[i], res);

		if (id < 0)
			return (int)id;
		s->set_of[i] = (uint32_t)id;
	}
	return 0;
}

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The sync state's life (sync.h): adopted from the maps at start, freed,
 * and what retired sets and backends no flow uses any more given back. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maglev.h"
#include "sync.h"
#include "sync_int.h"
#include "vec.h"

/* --- adoption ------------------------------------------------------------- */

static int adopt_listeners(struct sync_state *s)
{
	struct dp_listener *ls;
	size_t n, i;
	int err = dp_listeners(s->dp, &ls, &n);

	for (i = 0; !err && i < n; i++) {
		struct sync_listener *l = PUSH(s->listeners, s->nlisteners);

		if (!l) {
			err = -ENOMEM;
			break;
		}
		l->vip.family = ls[i].family;
		l->vip.port = ls[i].port;
		snprintf(l->vip.addr, sizeof(l->vip.addr), "%s", ls[i].addr);
		l->id = ls[i].id;
		/* The prefilter may be new (an upgrade renamed it): a listener
		 * it hides would pass its traffic to the node. */
		err = dp_port_set(s->dp, l->vip.port, 1);
	}
	free(ls);
	return err;
}

static int adopt_backends(struct sync_state *s, uint64_t now_ns)
{
	struct dp_backend *bs;
	size_t n, i;
	int err = dp_backends(s->dp, &bs, &n);

	for (i = 0; !err && i < n; i++) {
		struct sync_backend *b = PUSH(s->backends, s->nbackends);

		if (!b) {
			err = -ENOMEM;
			break;
		}
		snprintf(b->addr, sizeof(b->addr), "%s", bs[i].addr);
		b->port = bs[i].port;
		b->flags = bs[i].flags;
		b->id = bs[i].id;
		b->retired_ns = now_ns;	/* until a set uses it again */
	}
	free(bs);
	return err;
}

/*
 * Sets in the kernel: their content is not known here, so they are not
 * reused; routes move to fresh (identical) sets and these are reclaimed.
 * An empty set (size 0) looks like an unused id: the routes say which
 * ones are in use.
 */
static int adopt_sets(struct sync_state *s, uint64_t now_ns)
{
	uint8_t *routed = calloc(SNILB_MAX_SETS, 1);
	struct sync_set *ss;
	uint32_t k, size;
	size_t i;

	if (!routed)
		return -ENOMEM;
	for (i = 0; i < s->nadopted; i++)
		if (s->adopted[i].set < SNILB_MAX_SETS)
			routed[s->adopted[i].set] = 1;
	for (k = 0; k < SNILB_MAX_SETS; k++) {
		if (dp_set_size(s->dp, k, &size) || (!size && !routed[k]))
			continue;
		ss = PUSH(s->sets, s->nsets);
		if (!ss) {
			free(routed);
			return -ENOMEM;
		}
		ss->id = k;
		ss->slots_used = size;
		ss->retired_ns = now_ns;
	}
	free(routed);
	return 0;
}

int sync_init(struct sync_state *s, struct dataplane *dp,
	      uint32_t maglev_size)
{
	int err;

	memset(s, 0, sizeof(*s));
	s->dp = dp;
	s->maglev_size = maglev_size;
	/* The routes first: their ids are kept (route_id()), and their
	 * sets are in use. */
	err = dp_routes(dp, &s->adopted, &s->nadopted);
	if (!err)
		err = adopt_listeners(s);
	if (!err)
		err = adopt_backends(s, 1);
	if (!err)
		err = adopt_sets(s, 1);
	return err;
}

void sync_free(struct sync_state *s)
{
	size_t i;

	for (i = 0; i < s->nsets; i++)
		free(s->sets[i].content.eps);
	free(s->listeners);
	free(s->backends);
	free(s->sets);
	free(s->route_ids);
	free(s->adopted);
	free(s->set_of);
	free(s->listener_of);
	free(s->route_of);
	free(s->written);
	memset(s, 0, sizeof(*s));
}

/* --- reclaim ---------------------------------------------------------------- */

/* Which sets and backends do the flows and routes still point at? */
static int referenced(struct sync_state *s, uint8_t *sets, uint8_t *backends)
{
	struct dp_route *rs;
	size_t n, i;
	int err = dp_flows_bound(s->dp, sets, backends);

	if (!err)
		err = dp_routes(s->dp, &rs, &n);
	if (err)
		return err;
	for (i = 0; i < n; i++)
		if (rs[i].set < SNILB_MAX_SETS)
			sets[rs[i].set] = 1;
	free(rs);
	return 0;
}

int sync_reclaim(struct sync_state *s, uint64_t now_ns, uint64_t grace_ns)
{
	uint8_t *sets = calloc(SNILB_MAX_SETS, 1);
	uint8_t *backends = calloc(SNILB_MAX_BACKENDS, 1);
	size_t i = 0;
	int n = 0;

	if (!sets || !backends) {
		free(sets);
		free(backends);
		return -ENOMEM;
	}
	/* Nothing is known to be unused if the maps cannot be read. */
	if (referenced(s, sets, backends))
		goto out;
	while (i < s->nsets) {
		struct sync_set *ss = &s->sets[i];

		if (!ss->retired_ns || now_ns - ss->retired_ns < grace_ns ||
		    sets[ss->id] || dp_set_del(s->dp, ss->id)) {
			i++;
			continue;
		}
		free(ss->content.eps);
		*ss = s->sets[--s->nsets];
		n++;
	}
	/*
	 * A backend stays while any set still installed may name it: a flow
	 * retrying on its set reads backends other than its own. An adopted
	 * set's content is unknown, so while one is left no backend goes.
	 */
	for (i = 0; i < s->nsets; i++) {
		const struct sync_set *ss = &s->sets[i];
		size_t k;

		if (!ss->known)
			goto out;
		for (k = 0; k < ss->content.neps; k++) {
			long id = sync_backend_id(s, &ss->content.eps[k]);

			if (id >= 0)
				backends[id] = 1;
		}
	}
	i = 0;
	while (i < s->nbackends) {
		struct sync_backend *b = &s->backends[i];

		if (!b->retired_ns || now_ns - b->retired_ns < grace_ns ||
		    backends[b->id] || dp_backend_del(s->dp, b->id)) {
			i++;
			continue;
		}
		*b = s->backends[--s->nbackends];
		n++;
	}
out:
	free(sets);
	free(backends);
	return n;
}

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The maps follow the computed state; see sync.h for the order. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maglev.h"
#include "sync.h"
#include "vec.h"

static void fail(struct sync_result *res, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fail(struct sync_result *res, int err, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	if (res->err[0])
		return;		/* the first error is the one to fix */
	va_start(ap, fmt);
	vsnprintf(res->err, sizeof(res->err), fmt, ap);
	va_end(ap);
	n = strlen(res->err);
	snprintf(res->err + n, sizeof(res->err) - n, ": %s", strerror(-err));
}


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
	memset(s, 0, sizeof(*s));
}

/* --- ids -------------------------------------------------------------------- */

long sync_backend_id(const struct sync_state *s, const char *addr,
		     uint16_t port)
{
	size_t i;

	for (i = 0; i < s->nbackends; i++)
		if (s->backends[i].port == port &&
		    !strcmp(s->backends[i].addr, addr))
			return (long)s->backends[i].id;
	return -1;
}

/* The lowest id below @max that @used does not hold. */
static long free_id(const uint32_t *used, size_t n, uint32_t max)
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

#define IDS_OF(arr, n, field) ({					\
	uint32_t *_ids = calloc((n) + 1, sizeof(uint32_t));		\
	size_t _i;							\
	for (_i = 0; _ids && _i < (n); _i++)				\
		_ids[_i] = (arr)[_i].field;				\
	_ids;								\
})

static long alloc_backend(struct sync_state *s, const struct gw_endpoint *e,
			  struct sync_result *res)
{
	struct sync_backend *b;
	uint32_t *used;
	long id = sync_backend_id(s, e->addr, e->port);
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
	id = free_id(used, s->nbackends, SNILB_MAX_BACKENDS);
	free(used);
	if (id < 0) {
		fail(res, (int)id, "no free backend id for %s:%u", e->addr,
		     e->port);
		return id;
	}
	err = dp_backend_set(s->dp, (uint32_t)id, e->addr, e->port);
	if (err) {
		fail(res, err, "backends[%ld] = %s:%u", id, e->addr, e->port);
		return err;
	}
	b = PUSH(s->backends, s->nbackends);
	if (!b)
		return -ENOMEM;
	snprintf(b->addr, sizeof(b->addr), "%s", e->addr);
	b->port = e->port;
	b->id = (uint32_t)id;
	res->backends_added++;
	return id;
}

/* --- sets ------------------------------------------------------------------- */

static int copy_set(struct gw_set *dst, const struct gw_set *src)
{
	dst->neps = src->neps;
	dst->eps = calloc(src->neps ? src->neps : 1, sizeof(*dst->eps));
	if (!dst->eps)
		return -ENOMEM;
	memcpy(dst->eps, src->eps, src->neps * sizeof(*dst->eps));
	return 0;
}

/* Build @want's Maglev table over backend ids and install it. Backends
 * are named by address:port, so every node builds the same table. */
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
			fail(res, err, "sets[%u] (empty)", id);
		return err;
	}
	mb = calloc(want->neps, sizeof(*mb));
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
	err = maglev_build(mb, want->neps, table, s->maglev_size);
	if (!err)
		err = dp_set_install(s->dp, id, table, s->maglev_size,
				     (uint32_t)want->neps);
	if (err)
		fail(res, err, "installing set %u (%zu backends)", id,
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
	id = free_id(used, s->nsets, SNILB_MAX_SETS);
	free(used);
	if (id < 0) {
		fail(res, (int)id, "no free backend set id (%u in use)",
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

static int apply_sets(struct sync_state *s, const struct gw_out *out,
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

/* --- routes and listeners --------------------------------------------------- */

static int id_taken(const struct sync_state *s, uint32_t id)
{
	size_t i;

	for (i = 0; i < s->nroute_ids; i++)
		if (s->route_ids[i].id == id)
			return 1;
	return 0;
}

/*
 * The id route @ri had before a restart: that of the route the maps hold
 * for one of its hostnames on its listener, unless another route took it
 * already. So a restarted agent keeps its routes' ids, and their counters
 * continue.
 */
static long adopted_id(const struct sync_state *s, const struct gw_out *out,
		       size_t ri)
{
	size_t i, j;

	for (i = 0; i < out->nentries; i++) {
		const struct gw_entry *e = &out->entries[i];

		if (e->route != ri)
			continue;
		for (j = 0; j < s->nadopted; j++) {
			const struct dp_route *a = &s->adopted[j];

			if (a->listener == s->listener_of[e->vip] &&
			    !strcmp(a->hostname, e->hostname) &&
			    !id_taken(s, a->id))
				return (long)a->id;
		}
	}
	return -1;
}

/* A new id: none a route has, nor one the maps held at start. */
static long new_route_id(const struct sync_state *s)
{
	uint32_t *used = calloc(s->nroute_ids + s->nadopted + 1,
				sizeof(*used));
	size_t i, n = 0;
	long id;

	if (!used)
		return -ENOMEM;
	for (i = 0; i < s->nroute_ids; i++)
		used[n++] = s->route_ids[i].id;
	for (i = 0; i < s->nadopted; i++)
		used[n++] = s->adopted[i].id;
	id = free_id(used, n, SNILB_MAX_ROUTES);
	free(used);
	return id;
}

/* Route @ri's id: the one it had, or a new one. */
static int route_id(struct sync_state *s, const struct gw_out *out,
		    size_t ri, uint32_t *id)
{
	const struct gw_route *r = &out->routes[ri];
	char key[sizeof(s->route_ids[0].key)];
	struct sync_route_id *known;
	long nid;
	size_t i;

	snprintf(key, sizeof(key), "%s/%s", r->ns, r->name);
	for (i = 0; i < s->nroute_ids; i++) {
		if (!strcmp(s->route_ids[i].key, key)) {
			*id = s->route_ids[i].id;
			return 0;
		}
	}
	nid = adopted_id(s, out, ri);
	if (nid < 0)
		nid = new_route_id(s);
	if (nid < 0)
		return (int)nid;
	known = PUSH(s->route_ids, s->nroute_ids);
	if (!known)
		return -ENOMEM;
	snprintf(known->key, sizeof(known->key), "%s", key);
	known->id = (uint32_t)nid;
	*id = known->id;
	return 0;
}

static long find_listener(const struct sync_state *s, const struct gw_vip *v)
{
	size_t i;

	for (i = 0; i < s->nlisteners; i++)
		if (s->listeners[i].vip.port == v->port &&
		    !strcmp(s->listeners[i].vip.addr, v->addr))
			return (long)i;
	return -1;
}

/* Listener ids for every VIP; new ones are written to the map later,
 * once their routes are in place. */
static int assign_listeners(struct sync_state *s, const struct gw_out *out,
			    uint8_t *is_new)
{
	size_t i;

	for (i = 0; i < out->nvips; i++) {
		long at = find_listener(s, &out->vips[i]);
		struct sync_listener *l;
		uint32_t *used;
		long id;

		if (at >= 0) {
			s->listener_of[i] = s->listeners[at].id;
			continue;
		}
		used = IDS_OF(s->listeners, s->nlisteners, id);
		if (!used)
			return -ENOMEM;
		id = free_id(used, s->nlisteners, SNILB_MAX_LISTENERS);
		free(used);
		if (id < 0)
			return (int)id;
		l = PUSH(s->listeners, s->nlisteners);
		if (!l)
			return -ENOMEM;
		l->vip = out->vips[i];
		l->id = (uint32_t)id;
		s->listener_of[i] = l->id;
		is_new[i] = 1;
	}
	return 0;
}

static int apply_routes(struct sync_state *s, const struct gw_out *out,
			struct sync_result *res)
{
	size_t i;
	int err;

	for (i = 0; i < out->nentries; i++) {
		const struct gw_entry *e = &out->entries[i];
		const struct gw_route *r = &out->routes[e->route];
		uint32_t lid = s->listener_of[e->vip];
		uint32_t rid = s->route_of[e->route], set = s->set_of[e->set];
		struct dp_route cur;

		if (e->shadowed_by >= 0)
			continue;
		if (!dp_route_get(s->dp, lid, e->hostname, &cur) &&
		    cur.id == rid && cur.set == set)
			continue;	/* already so */
		err = dp_route_add(s->dp, lid, e->hostname, rid, set);
		if (err) {
			fail(res, err, "route %s on %s:%u (TLSRoute %s/%s)",
			     e->hostname, out->vips[e->vip].addr,
			     out->vips[e->vip].port, r->ns, r->name);
			if (err != -EEXIST)
				return err;
			continue;	/* a hash collision: this one only */
		}
		res->routes_set++;
	}
	return 0;
}

static int wanted_route(const struct sync_state *s, const struct gw_out *out,
			const struct dp_route *r)
{
	size_t i;

	for (i = 0; i < out->nentries; i++) {
		const struct gw_entry *e = &out->entries[i];

		if (e->shadowed_by < 0 &&
		    s->listener_of[e->vip] == r->listener &&
		    !strcmp(e->hostname, r->hostname))
			return 1;
	}
	return 0;
}

static void delete_routes(struct sync_state *s, const struct gw_out *out,
			  struct sync_result *res)
{
	struct dp_route *rs;
	size_t n, i;
	int err = dp_routes(s->dp, &rs, &n);

	if (err) {
		fail(res, err, "reading the routes back to delete the old");
		return;
	}
	for (i = 0; i < n; i++) {
		if (wanted_route(s, out, &rs[i]))
			continue;
		err = dp_route_del(s->dp, rs[i].listener, rs[i].hostname);
		if (err)
			fail(res, err, "deleting route %s", rs[i].hostname);
		else
			res->routes_deleted++;
	}
	free(rs);
}

static int apply_listeners(struct sync_state *s, const struct gw_out *out,
			   const uint8_t *is_new, struct sync_result *res)
{
	size_t i;
	int err;

	for (i = 0; i < out->nvips; i++) {
		const struct gw_vip *v = &out->vips[i];

		if (!is_new[i])
			continue;
		err = dp_listener_add(s->dp, v->addr, v->port,
				      s->listener_of[i]);
		if (err) {
			fail(res, err, "listener %s:%u", v->addr, v->port);
			return err;
		}
		res->listeners_added++;
	}
	return 0;
}

static int port_wanted(const struct gw_out *out, uint16_t port)
{
	size_t i;

	for (i = 0; i < out->nvips; i++)
		if (out->vips[i].port == port)
			return 1;
	return 0;
}

static void delete_listeners(struct sync_state *s, const struct gw_out *out,
			     struct sync_result *res)
{
	size_t i = 0, j;

	while (i < s->nlisteners) {
		struct sync_listener *l = &s->listeners[i];
		int keep = 0, err;

		for (j = 0; j < out->nvips && !keep; j++)
			keep = s->listener_of[j] == l->id;
		if (keep) {
			i++;
			continue;
		}
		err = dp_listener_del(s->dp, l->vip.addr, l->vip.port);
		if (err) {
			fail(res, err, "deleting listener %s:%u", l->vip.addr,
			     l->vip.port);
			i++;
			continue;
		}
		/* The port filter last, and only for a port nobody uses. */
		if (!port_wanted(out, l->vip.port))
			dp_port_set(s->dp, l->vip.port, 0);
		res->listeners_deleted++;
		*l = s->listeners[--s->nlisteners];
	}
}

/* Sets no route uses now are retired, and backends no live set uses. */
static void retire(struct sync_state *s, const struct gw_out *out,
		   uint64_t now_ns)
{
	size_t i, j, k;

	for (i = 0; i < s->nsets; i++) {
		int used = 0;

		for (j = 0; j < out->nsets && !used; j++)
			used = s->set_of[j] == s->sets[i].id;
		if (!used && !s->sets[i].retired_ns)
			s->sets[i].retired_ns = now_ns;
		if (used)
			s->sets[i].retired_ns = 0;
	}
	for (i = 0; i < s->nbackends; i++) {
		struct sync_backend *b = &s->backends[i];
		int used = 0;

		for (j = 0; j < s->nsets && !used; j++) {
			const struct sync_set *ss = &s->sets[j];

			for (k = 0; !ss->retired_ns && k < ss->content.neps; k++)
				used |= ss->content.eps[k].port == b->port &&
					!strcmp(ss->content.eps[k].addr, b->addr);
		}
		if (!used && !b->retired_ns)
			b->retired_ns = now_ns;
		if (used)
			b->retired_ns = 0;
	}
}

static int realloc_maps(struct sync_state *s, const struct gw_out *out)
{
	free(s->set_of);
	free(s->listener_of);
	free(s->route_of);
	s->set_of = calloc(out->nsets + 1, sizeof(uint32_t));
	s->listener_of = calloc(out->nvips + 1, sizeof(uint32_t));
	s->route_of = calloc(out->nroutes + 1, sizeof(uint32_t));
	return s->set_of && s->listener_of && s->route_of ? 0 : -ENOMEM;
}

int sync_apply(struct sync_state *s, const struct gw_out *out,
	       uint64_t now_ns, struct sync_result *res)
{
	uint8_t *is_new = calloc(out->nvips + 1, 1);
	size_t i;
	int err;

	memset(res, 0, sizeof(*res));
	err = is_new ? realloc_maps(s, out) : -ENOMEM;
	if (!err)
		err = apply_sets(s, out, res);
	if (!err)
		err = assign_listeners(s, out, is_new);
	/* After the listeners: an adopted route's id is found by its
	 * listener and hostname. */
	for (i = 0; !err && i < out->nroutes; i++)
		err = route_id(s, out, i, &s->route_of[i]);
	if (!err)
		err = apply_routes(s, out, res);
	if (!err)
		err = apply_listeners(s, out, is_new, res);
	if (!err) {
		delete_listeners(s, out, res);
		delete_routes(s, out, res);
		retire(s, out, now_ns);
	}
	if (err == -ENOMEM)
		fail(res, err, "out of memory");
	free(is_new);
	if (!err && res->err[0])
		err = -EEXIST;	/* only hash collisions: the rest applied */
	return err;
}

int sync_dry(struct sync_state *s, const struct gw_out *out)
{
	size_t i;

	if (realloc_maps(s, out))
		return -ENOMEM;
	for (i = 0; i < out->nsets; i++)
		s->set_of[i] = (uint32_t)i;
	for (i = 0; i < out->nvips; i++)
		s->listener_of[i] = (uint32_t)i;
	for (i = 0; i < out->nroutes; i++)
		s->route_of[i] = (uint32_t)i;
	return 0;
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
			long id = sync_backend_id(s, ss->content.eps[k].addr,
						  ss->content.eps[k].port);

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

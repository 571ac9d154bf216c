// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The maps follow the computed state, in sync.h's order: sync_apply() and
 * the routes and listeners. Backends and sets are sync_sets.c's; the
 * state adopted from the kernel and its reclaim, sync_state.c's.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maglev.h"
#include "sync.h"
#include "sync_int.h"
#include "vec.h"

void sync_fail(struct sync_result *res, int err, const char *fmt, ...)
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


/* --- routes and listeners --------------------------------------------------- */

const char *sync_route_name(const struct sync_state *s, uint32_t id)
{
	size_t i;

	for (i = 0; i < s->nroute_ids; i++)
		if (s->route_ids[i].id == id)
			return s->route_ids[i].key;
	return NULL;
}

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
	id = sync_free_id(used, n, SNILB_MAX_ROUTES);
	free(used);
	return id;
}

/* The known route ids sorted by key, for one sync_apply() (indexes:
 * route_ids may move as it grows; only keys known before are looked
 * up). */
static const struct sync_route_id *ids_base;

static int ids_cmp(const void *a, const void *b)
{
	return strcmp(ids_base[*(const size_t *)a].key,
		      ids_base[*(const size_t *)b].key);
}

static size_t *ids_index(const struct sync_state *s)
{
	size_t *ix = malloc((s->nroute_ids + 1) * sizeof(*ix)), i;

	for (i = 0; ix && i < s->nroute_ids; i++)
		ix[i] = i;
	ids_base = s->route_ids;
	if (ix && s->nroute_ids)
		qsort(ix, s->nroute_ids, sizeof(*ix), ids_cmp);
	return ix;
}

static long ids_find(const struct sync_state *s, const size_t *ix, size_t n,
		     const char *key)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(s->route_ids[ix[mid]].key, key);

		if (!c)
			return (long)ix[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* Route @ri's id: the one it had (@ix: the @nix known before this sync,
 * sorted), or a new one. */
static int route_id(struct sync_state *s, const struct gw_out *out,
		    size_t ri, const size_t *ix, size_t nix, uint32_t *id)
{
	const struct gw_route *r = &out->routes[ri];
	char key[sizeof(s->route_ids[0].key)];
	struct sync_route_id *known;
	long nid, at;

	snprintf(key, sizeof(key), "%s/%s", r->ns, r->name);
	at = ids_find(s, ix, nix, key);
	if (at >= 0) {
		*id = s->route_ids[at].id;
		return 0;
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
		id = sync_free_id(used, s->nlisteners, SNILB_MAX_LISTENERS);
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

/* Trusted for this long; then the maps are read back once (someone may
 * have changed them: they are the truth). */
#define WRITTEN_TTL_NS	(60ull * 1000000000ull)

static int written_cmp(const void *a, const void *b)
{
	const struct sync_written *x = a, *y = b;

	if (x->listener != y->listener)
		return x->listener < y->listener ? -1 : 1;
	return strcmp(x->hostname, y->hostname);
}

static const struct sync_written *written_find(const struct sync_state *s,
					       uint32_t listener,
					       const char *hostname)
{
	struct sync_written key = { .listener = listener };

	if (!s->written || !s->nwritten)
		return NULL;
	snprintf(key.hostname, sizeof(key.hostname), "%s", hostname);
	return bsearch(&key, s->written, s->nwritten, sizeof(key),
		       written_cmp);
}

static void written_forget(struct sync_state *s)
{
	free(s->written);
	s->written = NULL;
	s->nwritten = 0;
}

/* After a clean sync: what the maps hold now is what @out says. */
static void written_remember(struct sync_state *s, const struct gw_out *out)
{
	struct sync_written *w;
	size_t i, n = 0;

	written_forget(s);
	w = malloc((out->nentries + 1) * sizeof(*w));
	for (i = 0; w && i < out->nentries; i++) {
		const struct gw_entry *e = &out->entries[i];

		if (e->shadowed_by >= 0)
			continue;
		w[n].listener = s->listener_of[e->vip];
		w[n].id = s->route_of[e->route];
		w[n].set = s->set_of[e->set];
		snprintf(w[n++].hostname, sizeof(w->hostname), "%s",
			 e->hostname);
	}
	if (w && n)
		qsort(w, n, sizeof(*w), written_cmp);
	s->written = w;
	s->nwritten = w ? n : 0;
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
		const struct sync_written *w;
		struct dp_route cur;

		if (e->shadowed_by >= 0)
			continue;
		w = written_find(s, lid, e->hostname);
		if (w && w->id == rid && w->set == set)
			continue;	/* written so by the last sync */
		if (!s->written && !dp_route_get(s->dp, lid, e->hostname,
						 &cur) &&
		    cur.id == rid && cur.set == set)
			continue;	/* already so */
		err = dp_route_add(s->dp, lid, e->hostname, rid, set);
		if (err) {
			sync_fail(res, err,
				  "route %s on %s:%u (TLSRoute %s/%s)",
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

/* The programmed entries by listener and hostname, for a lookup per
 * kernel route (10,000 routes: no scan for each). */
struct wanted {
	uint32_t listener;
	const char *hostname;
};

static int wanted_cmp(const void *a, const void *b)
{
	const struct wanted *x = a, *y = b;

	if (x->listener != y->listener)
		return x->listener < y->listener ? -1 : 1;
	return strcmp(x->hostname, y->hostname);
}

static struct wanted *wanted_make(const struct sync_state *s,
				  const struct gw_out *out, size_t *n)
{
	struct wanted *w = malloc((out->nentries + 1) * sizeof(*w));
	size_t i;

	*n = 0;
	for (i = 0; w && i < out->nentries; i++) {
		const struct gw_entry *e = &out->entries[i];

		if (e->shadowed_by >= 0)
			continue;
		w[*n].listener = s->listener_of[e->vip];
		w[(*n)++].hostname = e->hostname;
	}
	if (w)
		qsort(w, *n, sizeof(*w), wanted_cmp);
	return w;
}

/* The routes to look at for deletion: those written by the last clean
 * sync, else every one the maps hold. */
static int routes_now(const struct sync_state *s, struct dp_route **rs,
		      size_t *n)
{
	size_t i;

	if (!s->written)
		return dp_routes(s->dp, rs, n);
	*rs = calloc(s->nwritten + 1, sizeof(**rs));
	if (!*rs)
		return -ENOMEM;
	for (i = 0; i < s->nwritten; i++) {
		(*rs)[i].listener = s->written[i].listener;
		snprintf((*rs)[i].hostname, sizeof((*rs)[i].hostname), "%s",
			 s->written[i].hostname);
	}
	*n = s->nwritten;
	return 0;
}

static void delete_routes(struct sync_state *s, const struct gw_out *out,
			  struct sync_result *res)
{
	struct dp_route *rs;
	struct wanted *w, key;
	size_t n, nw, i;
	int err = routes_now(s, &rs, &n);

	if (err) {
		sync_fail(res, err,
			  "reading the routes back to delete the old");
		return;
	}
	w = wanted_make(s, out, &nw);
	if (!w) {
		sync_fail(res, -ENOMEM, "deleting the old routes");
		free(rs);
		return;
	}
	for (i = 0; i < n; i++) {
		key.listener = rs[i].listener;
		key.hostname = rs[i].hostname;
		if (nw && bsearch(&key, w, nw, sizeof(*w), wanted_cmp))
			continue;
		err = dp_route_del(s->dp, rs[i].listener, rs[i].hostname);
		if (err)
			sync_fail(res, err, "deleting route %s",
				  rs[i].hostname);
		else
			res->routes_deleted++;
	}
	free(w);
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
			sync_fail(res, err, "listener %s:%u", v->addr, v->port);
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
			sync_fail(res, err, "deleting listener %s:%u",
				  l->vip.addr, l->vip.port);
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
					sync_backend_flags(&ss->content.eps[k]) ==
					b->flags &&
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
	size_t i, nix = s->nroute_ids, *ix = NULL;
	int err;

	if (now_ns - s->written_ns >= WRITTEN_TTL_NS) {
		written_forget(s);	/* the maps read back this time */
		s->written_ns = now_ns;
	}
	memset(res, 0, sizeof(*res));
	err = is_new ? realloc_maps(s, out) : -ENOMEM;
	if (!err)
		err = sync_apply_sets(s, out, res);
	if (!err)
		err = assign_listeners(s, out, is_new);
	/* After the listeners: an adopted route's id is found by its
	 * listener and hostname. */
	if (!err && !(ix = ids_index(s)))
		err = -ENOMEM;
	for (i = 0; !err && i < out->nroutes; i++)
		err = route_id(s, out, i, ix, nix, &s->route_of[i]);
	free(ix);
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
		sync_fail(res, err, "out of memory");
	free(is_new);
	if (!err && res->err[0])
		err = -EEXIST;	/* only hash collisions: the rest applied */
	if (err)
		written_forget(s);	/* unsure: read back next time */
	else
		written_remember(s, out);
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

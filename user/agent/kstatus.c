// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Status write-back (see kstatus.h). Each object is read, its status
 * merged, compared without timestamps, and written with a PUT to the
 * status subresource carrying the resourceVersion read: a concurrent
 * writer makes it fail with 409 and the next sync tries again. A cache of
 * what was last written (by object and generation) spares the read when
 * nothing changed.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "kstatus.h"
#include "log.h"

#define CACHE_MAX	65536

struct kstatus_cache {
	char **keys;		/* "kind/ns/name" */
	char **want;		/* the status we last saw in place */
	size_t n;
};

struct kstatus_cache *kstatus_cache_new(void)
{
	return calloc(1, sizeof(struct kstatus_cache));
}

void kstatus_cache_free(struct kstatus_cache *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->n; i++) {
		free(c->keys[i]);
		free(c->want[i]);
	}
	free(c->keys);
	free(c->want);
	free(c);
}

static char **cache_slot(struct kstatus_cache *c, const char *key)
{
	char **k, **w;
	size_t i;

	for (i = 0; i < c->n; i++)
		if (!strcmp(c->keys[i], key))
			return &c->want[i];
	if (c->n == CACHE_MAX)
		return NULL;
	k = realloc(c->keys, (c->n + 1) * sizeof(*k));
	if (k)
		c->keys = k;
	w = realloc(c->want, (c->n + 1) * sizeof(*w));
	if (w)
		c->want = w;
	if (!k || !w || !(c->keys[c->n] = strdup(key)))
		return NULL;
	c->want[c->n] = NULL;
	return &c->want[c->n++];
}

static void now_rfc3339(char *buf, size_t len)
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* --- conditions ----------------------------------------------------------- */

static json_t *find_cond(json_t *conds, const char *type)
{
	json_t *c;
	size_t i;

	json_array_foreach(conds, i, c)
		if (!strcmp(json_string_value(json_object_get(c, "type")) ?: "",
			    type))
			return c;
	return NULL;
}

/* A condition as the API wants it; lastTransitionTime from @old when the
 * status is unchanged. */
static json_t *cond_json(const struct gw_cond *c, int64_t gen, json_t *old,
			 const char *now)
{
	const char *st = c->status ? "True" : "False";
	json_t *prev = old ? find_cond(old, c->type) : NULL;
	const char *ltt = now;

	if (prev && !strcmp(json_string_value(json_object_get(prev, "status"))
			    ?: "", st))
		ltt = json_string_value(json_object_get(prev,
					"lastTransitionTime")) ?: now;
	return json_pack("{s:s,s:s,s:I,s:s,s:s,s:s}", "type", c->type,
			 "status", st, "observedGeneration", (json_int_t)gen,
			 "lastTransitionTime", ltt, "reason", c->reason,
			 "message", c->msg);
}

static json_t *conds_json(const struct gw_cond *c, size_t n, int64_t gen,
			  json_t *old, const char *now)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a && i < n; i++)
		if (c[i].type)
			json_array_append_new(a, cond_json(&c[i], gen, old,
							   now));
	return a;
}

/* Equal as JSON. (lastTransitionTime needs no special case: it is copied
 * from the old condition whenever the status stays.) */
static int json_same(json_t *a, json_t *b)
{
	char *x, *y;
	int eq;

	if (!a || !b)
		return a == b;
	x = json_dumps(a, JSON_COMPACT | JSON_SORT_KEYS);
	y = json_dumps(b, JSON_COMPACT | JSON_SORT_KEYS);
	eq = x && y && !strcmp(x, y);
	free(x);
	free(y);
	return eq;
}

/* --- TLSRoute --------------------------------------------------------------- */

static json_t *parent_ref_json(const struct m_parent_ref *p)
{
	json_t *o = json_pack("{s:s,s:s,s:s}", "group",
			      p->group ? p->group : GW_GROUP, "kind",
			      p->kind ? p->kind : "Gateway", "name", p->name);

	if (o && p->ns)
		json_object_set_new(o, "namespace", json_string(p->ns));
	if (o && p->section)
		json_object_set_new(o, "sectionName", json_string(p->section));
	if (o && p->port)
		json_object_set_new(o, "port", json_integer(p->port));
	return o;
}

json_t *kstatus_route_parents(const struct gw_route *route,
			      const char *controller, json_t *current,
			      const char *now)
{
	json_t *out = json_array(), *e;
	size_t i, j;

	/* Other controllers' entries first, untouched. */
	json_array_foreach(current, i, e)
		if (strcmp(json_string_value(json_object_get(e,
				"controllerName")) ?: "", controller))
			json_array_append(out, e);
	for (i = 0; out && i < route->nparents; i++) {
		const struct gw_parent *p = &route->parents[i];
		json_t *ref = parent_ref_json(p->ref), *old = NULL;

		json_array_foreach(current, j, e)
			if (json_same(json_object_get(e, "parentRef"), ref))
				old = json_object_get(e, "conditions");
		json_array_append_new(out, json_pack("{s:o,s:s,s:o}",
			"parentRef", ref, "controllerName", controller,
			"conditions", conds_json(p->conds, GW_ROUTE_CONDS,
						 route->src->meta.generation,
						 old, now)));
	}
	return out;
}

/* --- requests --------------------------------------------------------------- */

__attribute__((format(printf, 2, 3)))
static void fail(struct kstatus_result *res, const char *fmt, ...)
{
	va_list ap;

	res->failed++;
	if (res->err[0])
		return;
	va_start(ap, fmt);
	vsnprintf(res->err, sizeof(res->err), fmt, ap);
	va_end(ap);
}

static json_t *get_object(struct kube *k, const char *path,
			  struct kstatus_result *res)
{
	char err[256], *body = NULL;
	long code = kube_request(k, "GET", path, NULL, &body, err,
				 sizeof(err));
	json_t *o = NULL;

	if (code == 200)
		o = json_loads(body ? body : "", 0, NULL);
	else if (code != 404)	/* gone meanwhile: nothing to write */
		fail(res, "GET %s: %s", path, code ? "HTTP error" : err);
	free(body);
	return o;
}

static int put_status(struct kube *k, const char *path, json_t *obj,
		      struct kstatus_result *res)
{
	char err[256], *body = json_dumps(obj, JSON_COMPACT), *resp = NULL;
	char spath[1024];
	long code;

	snprintf(spath, sizeof(spath), "%s/status", path);
	code = body ? kube_request(k, "PUT", spath, body, &resp, err,
				   sizeof(err)) : 0;
	free(body);
	free(resp);
	if (code == 200 || code == 201)
		return 0;
	if (code == 409)	/* changed under us: the next sync again */
		fail(res, "PUT %s: conflict", spath);
	else
		fail(res, "PUT %s: %s", spath, code ? "HTTP error" : err);
	return -EIO;
}

/* What snilb wants of an object's status, without time stamps and
 * without other controllers' parts: @fill on an empty object. */
static char *signature(json_t *(*fill)(json_t *obj, void *ctx), void *ctx)
{
	char saved[32], *sig;
	json_t *probe = json_object();

	memcpy(saved, ctx, sizeof(saved));
	snprintf(ctx, sizeof(saved), "%s", "-");
	sig = probe ? json_dumps(fill(probe, ctx),
				 JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	memcpy(ctx, saved, sizeof(saved));
	json_decref(probe);
	return sig;
}

/*
 * Read @path, let @fill put the desired status into it, write it when it
 * differs. The cache holds, per object, the signature of the status last
 * found in place or written: while it stays, the object is not read.
 */
static void update(struct kube *k, struct kstatus_cache *c, const char *key,
		   const char *path, json_t *(*fill)(json_t *obj, void *ctx),
		   void *ctx, struct kstatus_result *res)
{
	char **slot = cache_slot(c, key), *sig = signature(fill, ctx);
	json_t *obj, *old, *want;
	unsigned int failed = res->failed;

	if (slot && sig && *slot && !strcmp(*slot, sig)) {
		res->unchanged++;
		free(sig);
		return;
	}
	obj = get_object(k, path, res);
	if (!obj) {
		free(sig);
		return;
	}
	old = json_deep_copy(json_object_get(obj, "status"));
	want = fill(obj, ctx);
	if (json_same(old, want))
		res->unchanged++;
	else if (!put_status(k, path, obj, res))
		res->written++;
	if (slot && res->failed == failed) {
		free(*slot);
		*slot = sig;
		sig = NULL;
	}
	free(sig);
	json_decref(old);
	json_decref(obj);
}

/* --- fillers ------------------------------------------------------------------ */

/* Every filler's context starts with the time it stamps. */
struct route_ctx {
	char now[32];
	const struct gw_route *r;
	const char *controller;
};

static json_t *fill_route(json_t *obj, void *ctx)
{
	struct route_ctx *rc = ctx;
	json_t *st = json_object_get(obj, "status"), *parents;

	if (!json_is_object(st)) {
		st = json_object();
		json_object_set_new(obj, "status", st);
	}
	parents = kstatus_route_parents(rc->r, rc->controller,
					json_object_get(st, "parents"),
					rc->now);
	json_object_set_new(st, "parents", parents);
	return st;
}

struct gw_ctx {
	char now[32];
	const struct gw_gateway_status *g;
};

static json_t *listener_json(const struct gw_listener_status *l, int64_t gen,
			     json_t *old, const char *now)
{
	json_t *kinds = json_array();

	if (l->tlsroute_ok)
		json_array_append_new(kinds, json_pack("{s:s,s:s}", "group",
						       GW_GROUP, "kind",
						       "TLSRoute"));
	return json_pack("{s:s,s:o,s:i,s:o}", "name", l->name,
			 "supportedKinds", kinds, "attachedRoutes", l->attached,
			 "conditions", conds_json(l->conds, l->nconds, gen, old,
						  now));
}

static json_t *old_listener_conds(json_t *st, const char *name)
{
	json_t *l;
	size_t i;

	json_array_foreach(json_object_get(st, "listeners"), i, l)
		if (!strcmp(json_string_value(json_object_get(l, "name")) ?: "",
			    name))
			return json_object_get(l, "conditions");
	return NULL;
}

static json_t *fill_gateway(json_t *obj, void *ctx)
{
	struct gw_ctx *gc = ctx;
	const struct gw_gateway_status *g = gc->g;
	int64_t gen = g->src->meta.generation;
	json_t *old = json_object_get(obj, "status"), *st, *addrs, *ls;
	size_t i;

	addrs = json_array();
	for (i = 0; i < g->naddresses; i++)
		json_array_append_new(addrs, json_pack(
			"{s:s,s:s}", "type", "IPAddress", "value",
			g->addresses[i]));
	ls = json_array();
	for (i = 0; i < g->nlisteners; i++)
		json_array_append_new(ls, listener_json(&g->listeners[i], gen,
			old_listener_conds(old, g->listeners[i].name), gc->now));
	st = json_pack("{s:o,s:o,s:o}", "addresses", addrs, "conditions",
		       conds_json(g->conds, 2, gen,
				  json_object_get(old, "conditions"), gc->now),
		       "listeners", ls);
	json_object_set_new(obj, "status", st);
	return st;
}

struct class_ctx {
	char now[32];
	int64_t gen;
};

static json_t *fill_class(json_t *obj, void *ctx)
{
	struct class_ctx *cc = ctx;
	json_t *old = json_object_get(obj, "status"), *st;
	struct gw_cond acc = { .type = "Accepted", .status = 1,
			       .reason = "Accepted" };

	st = json_object();
	json_object_set_new(st, "conditions", json_pack("[o]", cond_json(
		&acc, cc->gen, json_object_get(old, "conditions"), cc->now)));
	json_object_set_new(obj, "status", st);
	return st;
}

/* --- the pass ----------------------------------------------------------------- */

int kstatus_write(struct kube *k, struct kstatus_cache *c,
		  const struct model *m, const struct gw_out *out,
		  const char *controller, const char *tlsroute_version,
		  struct kstatus_result *res)
{
	char path[1024], key[600];
	size_t i;

	memset(res, 0, sizeof(*res));
	for (i = 0; i < m->nclasses; i++) {
		struct class_ctx cc = { .gen = m->classes[i].meta.generation };

		if (!m->classes[i].controller ||
		    strcmp(m->classes[i].controller, controller))
			continue;
		now_rfc3339(cc.now, sizeof(cc.now));
		snprintf(path, sizeof(path), "/apis/%s/v1/gatewayclasses/%s",
			 GW_GROUP, m->classes[i].meta.name);
		snprintf(key, sizeof(key), "GatewayClass//%s",
			 m->classes[i].meta.name);
		update(k, c, key, path, fill_class, &cc, res);
	}
	for (i = 0; i < out->ngateways; i++) {
		struct gw_ctx gc = { .g = &out->gateways[i] };

		now_rfc3339(gc.now, sizeof(gc.now));
		snprintf(path, sizeof(path),
			 "/apis/%s/v1/namespaces/%s/gateways/%s", GW_GROUP,
			 gc.g->ns, gc.g->name);
		snprintf(key, sizeof(key), "Gateway/%s/%s", gc.g->ns,
			 gc.g->name);
		update(k, c, key, path, fill_gateway, &gc, res);
	}
	for (i = 0; tlsroute_version && i < out->nroutes; i++) {
		struct route_ctx rc = { .r = &out->routes[i],
					.controller = controller };

		now_rfc3339(rc.now, sizeof(rc.now));
		snprintf(path, sizeof(path),
			 "/apis/%s/%s/namespaces/%s/tlsroutes/%s", GW_GROUP,
			 tlsroute_version, rc.r->ns, rc.r->name);
		snprintf(key, sizeof(key), "TLSRoute/%s/%s", rc.r->ns,
			 rc.r->name);
		update(k, c, key, path, fill_route, &rc, res);
	}
	return res->failed ? -EIO : 0;
}

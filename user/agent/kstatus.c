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
#include <search.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "gwstatus.h"
#include "klbsvc.h"
#include "kstatus.h"
#include "log.h"

#define CACHE_MAX	65536

/* By key, in a tree: a pass over 10,000 routes looks each one up. */
struct kstatus_cache {
	void *root;
	size_t n;
};

struct centry {
	char *key;		/* "kind/ns/name" */
	char *want;		/* the status we last saw in place */
};

static int centry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct centry *)a)->key,
		      ((const struct centry *)b)->key);
}

static void centry_free(void *p)
{
	struct centry *e = p;

	free(e->key);
	free(e->want);
	free(e);
}

struct kstatus_cache *kstatus_cache_new(void)
{
	return calloc(1, sizeof(struct kstatus_cache));
}

void kstatus_cache_free(struct kstatus_cache *c)
{
	if (!c)
		return;
	tdestroy(c->root, centry_free);
	free(c);
}

char **kstatus_cache_slot(struct kstatus_cache *c, const char *key)
{
	struct centry probe = { .key = (char *)key }, *e, **at;

	at = tfind(&probe, &c->root, centry_cmp);
	if (at)
		return &(*at)->want;
	if (c->n == CACHE_MAX || !(e = calloc(1, sizeof(*e))))
		return NULL;
	e->key = strdup(key);
	at = e->key ? tsearch(e, &c->root, centry_cmp) : NULL;
	if (!at) {
		free(e->key);
		free(e);
		return NULL;
	}
	c->n++;
	return &e->want;
}

/* --- requests --------------------------------------------------------------- */

void kstatus_fail(struct kstatus_result *res, const char *fmt, ...)
{
	va_list ap;

	res->failed++;
	if (res->err[0])
		return;
	va_start(ap, fmt);
	vsnprintf(res->err, sizeof(res->err), fmt, ap);
	va_end(ap);
}

static json_t *get_object(struct kube_conn *k, const char *path,
			  struct kstatus_result *res)
{
	char err[256], *body = NULL;
	long code = kube_conn_request(k, "GET", path, NULL, &body, err,
				 sizeof(err));
	json_t *o = NULL;

	if (code == 200)
		o = json_loads(body ? body : "", 0, NULL);
	else if (code != 404)	/* gone meanwhile: nothing to write */
		kstatus_fail(res, "GET %s: %s", path,
			     code ? "HTTP error" : err);
	free(body);
	return o;
}

static int put_status(struct kube_conn *k, const char *path, json_t *obj,
		      struct kstatus_result *res)
{
	char err[256], *body = json_dumps(obj, JSON_COMPACT), *resp = NULL;
	char spath[1024];
	long code;

	snprintf(spath, sizeof(spath), "%s/status", path);
	code = body ? kube_conn_request(k, "PUT", spath, body, &resp, err,
				   sizeof(err)) : 0;
	free(body);
	free(resp);
	if (code == 200 || code == 201)
		return 0;
	if (code == 409)	/* changed under us: the next sync again */
		kstatus_fail(res, "PUT %s: conflict", spath);
	else
		kstatus_fail(res, "PUT %s: %s", spath,
			     code ? "HTTP error" : err);
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
static void update(struct kstatus_pass *p, const char *key, const char *path,
		   json_t *(*fill)(json_t *obj, void *ctx), void *ctx)
{
	struct kstatus_result *res = p->res;
	struct kube_conn *k = p->conn;
	char **slot = kstatus_cache_slot(p->cache, key);
	char *sig = signature(fill, ctx);
	json_t *obj, *old, *want;
	unsigned int failed = res->failed;

	if (slot && sig && *slot && !strcmp(*slot, sig)) {
		res->unchanged++;
		free(sig);
		return;
	}
	if (p->interrupt && p->interrupt(p->ictx)) {
		res->interrupted = 1;	/* before any request: again later */
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
	if (gws_json_same(old, want))
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
	parents = gws_route_parents(rc->r, rc->controller,
				    json_object_get(st, "parents"), rc->now);
	json_object_set_new(st, "parents", parents);
	return st;
}

struct gw_ctx {
	char now[32];
	const struct gw_gateway_status *g;
};

static json_t *fill_gateway(json_t *obj, void *ctx)
{
	struct gw_ctx *gc = ctx;
	json_t *st = gws_gateway(gc->g, json_object_get(obj, "status"),
				 gc->now);

	json_object_set_new(obj, "status", st);
	return st;
}

struct class_ctx {
	char now[32];
	const struct gw_class_status *c;
};

static json_t *fill_class(json_t *obj, void *ctx)
{
	struct class_ctx *cc = ctx;
	json_t *st = gws_class(cc->c, json_object_get(obj, "status"),
			       cc->now);

	json_object_set_new(obj, "status", st);
	return st;
}

/* --- the pass ----------------------------------------------------------------- */

static void classes(struct kstatus_pass *p, const struct gw_out *out)
{
	char path[1024], key[600];
	size_t i;

	for (i = 0; i < out->nclasses && !p->res->interrupted; i++) {
		struct class_ctx cc = { .c = &out->classes[i] };

		gws_now(cc.now, sizeof(cc.now));
		snprintf(path, sizeof(path), "/apis/%s/v1/gatewayclasses/%s",
			 GW_GROUP, cc.c->name);
		snprintf(key, sizeof(key), "GatewayClass//%s", cc.c->name);
		update(p, key, path, fill_class, &cc);
	}
}

static void gateways(struct kstatus_pass *p, const struct gw_out *out)
{
	char path[1024], key[600];
	size_t i;

	for (i = 0; i < out->ngateways && !p->res->interrupted; i++) {
		struct gw_ctx gc = { .g = &out->gateways[i] };

		gws_now(gc.now, sizeof(gc.now));
		snprintf(path, sizeof(path),
			 "/apis/%s/v1/namespaces/%s/gateways/%s", GW_GROUP,
			 gc.g->ns, gc.g->name);
		snprintf(key, sizeof(key), "Gateway/%s/%s", gc.g->ns,
			 gc.g->name);
		update(p, key, path, fill_gateway, &gc);
	}
}

static void routes(struct kstatus_pass *p, const struct gw_out *out)
{
	char path[1024], key[600];
	size_t i;

	for (i = 0; p->tlsroute_version && i < out->nroutes &&
		    !p->res->interrupted; i++) {
		struct route_ctx rc = { .r = &out->routes[i],
					.controller = p->controller };

		gws_now(rc.now, sizeof(rc.now));
		snprintf(path, sizeof(path),
			 "/apis/%s/%s/namespaces/%s/tlsroutes/%s", GW_GROUP,
			 p->tlsroute_version, rc.r->ns, rc.r->name);
		snprintf(key, sizeof(key), "TLSRoute/%s/%s", rc.r->ns,
			 rc.r->name);
		update(p, key, path, fill_route, &rc);
	}
}

int kstatus_write(struct kstatus_pass *p, const struct gw_out *out)
{
	memset(p->res, 0, sizeof(*p->res));
	classes(p, out);
	klbsvc_write(p, out);
	gateways(p, out);
	routes(p, out);
	return p->res->failed ? -EIO : 0;
}

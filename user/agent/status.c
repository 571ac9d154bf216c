// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The agent's status document: what it programmed and why, for `snilb
 * routes/status`. Written whole to a temporary file and renamed, so a
 * reader never sees half.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gwstatus.h"
#include "status.h"

static json_t *errors_json(const struct model *m)
{
	json_t *a = json_array();
	char obj[512];
	size_t i;

	for (i = 0; a && i < m->ndiags; i++) {
		const struct m_diag *d = &m->diags[i];
		json_t *e = json_pack("{s:s,s:i,s:s}", "file", d->file ? d->file : "",
				      "line", d->line, "message", d->msg ? d->msg : "");

		if (!e)
			continue;
		if (d->field)
			json_object_set_new(e, "field", json_string(d->field));
		if (d->kind) {
			snprintf(obj, sizeof(obj), "%s %s%s%s", d->kind,
				 d->ns ? d->ns : "", d->ns ? "/" : "",
				 d->name ? d->name : "?");
			json_object_set_new(e, "object", json_string(obj));
		}
		json_array_append_new(a, e);
	}
	return a;
}

/* The entry of @prev's array @key named @ns/@name (@ns NULL: by name). */
static json_t *prev_entry(json_t *prev, const char *key, const char *ns,
			  const char *name)
{
	json_t *e;
	size_t i;

	json_array_foreach(json_object_get(prev, key), i, e) {
		const char *n = json_string_value(json_object_get(e, "name"));
		const char *s = json_string_value(json_object_get(e,
							"namespace"));

		if (n && !strcmp(n, name) &&
		    (!ns || (s && !strcmp(s, ns))))
			return e;
	}
	return NULL;
}

/* The GatewayClasses of snilb's controller: name, controller and the
 * status the API server would hold (gwstatus.h). */
static json_t *classes_json(const struct gw_out *out, json_t *prev,
			    const char *now)
{
	json_t *a = json_array(), *o;
	size_t i;

	for (i = 0; a && i < out->nclasses; i++) {
		const struct gw_class_status *c = &out->classes[i];

		o = json_pack("{s:s,s:s}", "name", c->name, "controller",
			      c->src->controller);
		json_object_update_new(o, gws_class(c, prev_entry(prev,
				       "gatewayclasses", NULL, c->name), now));
		json_array_append_new(a, o);
	}
	return a;
}

/* Each Gateway: namespace, name, class, then its API status, each
 * listener with its port and hostname too. */
static json_t *gateways_json(const struct gw_out *out, json_t *prev,
			     const char *now)
{
	json_t *a = json_array(), *o, *l;
	size_t i, j;

	for (i = 0; a && i < out->ngateways; i++) {
		const struct gw_gateway_status *g = &out->gateways[i];

		o = json_pack("{s:s,s:s,s:s}", "namespace", g->ns, "name",
			      g->name, "class", g->class_name);
		json_object_update_new(o, gws_gateway(g, prev_entry(prev,
				       "gateways", g->ns, g->name), now));
		json_array_foreach(json_object_get(o, "listeners"), j, l) {
			json_object_set_new(l, "port", json_integer(
					    g->listeners[j].port));
			json_object_set_new(l, "hostname", json_string(
					    g->listeners[j].hostname));
		}
		json_array_append_new(a, o);
	}
	return a;
}

static int same_addr(const char *a, const char *b)
{
	unsigned char x[16] = {}, y[16] = {};
	int fa = strchr(a, ':') ? AF_INET6 : AF_INET;
	int fb = strchr(b, ':') ? AF_INET6 : AF_INET;

	return fa == fb && inet_pton(fa, a, x) == 1 &&
	       inet_pton(fb, b, y) == 1 && !memcmp(x, y, sizeof(x));
}

/* The Gateways ("ns/name") that put @v in the data plane. */
static json_t *vip_gateways(const struct gw_out *out, const struct gw_vip *v)
{
	json_t *a = json_array();
	char who[600];
	size_t i, j, k;

	for (i = 0; a && i < out->ngateways; i++) {
		const struct gw_gateway_status *g = &out->gateways[i];
		int on = 0;

		for (j = 0; j < g->src->naddresses && !on; j++)
			for (k = 0; k < g->nlisteners && !on; k++)
				on = g->listeners[k].port == v->port &&
				     same_addr(g->src->addresses[j].value,
					       v->addr);
		if (!on)
			continue;
		snprintf(who, sizeof(who), "%s/%s", g->ns, g->name);
		json_array_append_new(a, json_string(who));
	}
	return a;
}

static json_t *vip_json(const struct gw_out *out, const struct sync_state *s)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a && i < out->nvips; i++)
		json_array_append_new(a, json_pack(
			"{s:i,s:s,s:i,s:o}", "id", s->listener_of[i],
			"address", out->vips[i].addr, "port",
			out->vips[i].port, "gateways",
			vip_gateways(out, &out->vips[i])));
	return a;
}

static json_t *eps_json(const struct gw_endpoint *e, size_t n,
			const struct sync_state *s, int weights)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a && i < n; i++) {
		json_t *o = json_pack("{s:s,s:i,s:I}", "address", e[i].addr,
				      "port", e[i].port, "backend",
				      (json_int_t)sync_backend_id(s, &e[i]));

		if (o && e[i].proxy_v2)
			json_object_set_new(o, "proxy_protocol",
					    json_string("v2"));

		if (o && weights)
			json_object_set_new(o, "weight",
					    json_integer(e[i].weight));
		json_array_append_new(a, o);
	}
	return a;
}

/* The previous document's routes, sorted by namespace and name. */
struct prev_ix {
	const char *ns, *name;
	json_t *e;
};

static int prev_cmp(const void *a, const void *b)
{
	const struct prev_ix *x = a, *y = b;
	int c = strcmp(x->ns, y->ns);

	return c ? c : strcmp(x->name, y->name);
}

static struct prev_ix *prev_index(json_t *prev, size_t *n)
{
	json_t *routes = json_object_get(prev, "routes"), *e;
	struct prev_ix *ix = malloc((json_array_size(routes) + 1) *
				    sizeof(*ix));
	size_t i;

	*n = 0;
	json_array_foreach(routes, i, e) {
		const char *name = json_string_value(json_object_get(e,
								     "name"));
		const char *ns = json_string_value(json_object_get(e,
							"namespace"));

		if (!ix || !name || !ns)
			continue;
		ix[*n].ns = ns;
		ix[*n].name = name;
		ix[(*n)++].e = e;
	}
	if (ix && *n)
		qsort(ix, *n, sizeof(*ix), prev_cmp);
	return ix;
}

/* Route @r's entry in the previous document, or NULL. */
static json_t *prev_route(const struct prev_ix *ix, size_t n,
			  const struct gw_route *r)
{
	struct prev_ix key = { .ns = r->ns, .name = r->name }, *at;

	at = ix && n ? bsearch(&key, ix, n, sizeof(*ix), prev_cmp) : NULL;
	return at ? at->e : NULL;
}

/* A route's status.parents, as the API server would hold them, each
 * entry with the Gateway's ns/name and the section. */
static json_t *parents_json(const struct gw_route *r, json_t *old_route,
			    const char *controller, const char *now)
{
	json_t *old = json_object_get(old_route, "parents");
	json_t *a = gws_route_parents(r, controller, old, now), *p;
	size_t i;

	/* The document holds no other controller's entries: entry i is
	 * parent i. */
	json_array_foreach(a, i, p) {
		if (i >= r->nparents)
			break;
		json_object_set_new(p, "gateway",
				    json_string(r->parents[i].gateway));
		json_object_set_new(p, "section",
				    json_string(r->parents[i].section));
	}
	return a;
}

/* Each route's entries, in order: @head[route], then @next[entry]
 * (NONE ends), so that the document is built in one pass at 10,000
 * routes. */
#define NONE	((size_t)-1)

struct by_route {
	size_t *head, *next;
	struct prev_ix *prev;	/* the previous document's routes */
	size_t nprev;
};

static int by_route_init(struct by_route *b, const struct gw_out *out)
{
	size_t i;

	b->head = malloc((out->nroutes + 1) * sizeof(size_t));
	b->next = malloc((out->nentries + 1) * sizeof(size_t));
	if (!b->head || !b->next)
		return -ENOMEM;
	for (i = 0; i < out->nroutes; i++)
		b->head[i] = NONE;
	for (i = out->nentries; i-- > 0;) {
		b->next[i] = b->head[out->entries[i].route];
		b->head[out->entries[i].route] = i;
	}
	return 0;
}

static json_t *route_json(const struct gw_out *out, size_t ri,
			  const struct by_route *br,
			  const struct sync_state *s,
			  const struct status_agent *ag, const char *now)
{
	const struct gw_route *r = &out->routes[ri];
	json_t *entries = json_array(), *refs = json_array();
	json_t *parents = parents_json(r, prev_route(br->prev, br->nprev, r),
				       ag->controller, now);
	size_t i;

	for (i = br->head[ri]; entries && i != NONE; i = br->next[i]) {
		const struct gw_entry *e = &out->entries[i];
		json_t *o;

		o = json_pack("{s:i,s:s,s:i}", "listener",
			      s->listener_of[e->vip], "hostname", e->hostname,
			      "set", s->set_of[e->set]);
		if (o && e->shadowed_by >= 0) {
			const struct gw_route *w = &out->routes[e->shadowed_by];
			char by[sizeof(w->ns) + sizeof(w->name) + 2];

			snprintf(by, sizeof(by), "%s/%s", w->ns, w->name);
			json_object_set_new(o, "shadowed_by", json_string(by));
		}
		json_array_append_new(entries, o);
	}
	for (i = 0; refs && i < r->nrefs; i++)
		json_array_append_new(refs, json_pack(
			"{s:s,s:i,s:i,s:s,s:o}", "service", r->refs[i].service,
			"port", r->refs[i].port, "weight", r->refs[i].weight,
			"proxy_protocol", r->refs[i].proxy_v2 ? "v2" : "none",
			"endpoints", eps_json(r->refs[i].eps, r->refs[i].neps,
					      s, 0)));
	return json_pack("{s:s,s:s,s:i,s:o,s:o,s:o}", "namespace", r->ns,
			 "name", r->name, "id", s->route_of[ri], "parents",
			 parents, "entries", entries, "backends", refs);
}

static json_t *sets_json(const struct gw_out *out, const struct sync_state *s)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a && i < out->nsets; i++)
		json_array_append_new(a, json_pack(
			"{s:i,s:i,s:o,s:i}", "id", s->set_of[i], "size",
			out->sets[i].neps ? s->maglev_size : 0, "backends",
			eps_json(out->sets[i].eps, out->sets[i].neps, s, 1),
			"reset", out->sets[i].reset));
	return a;
}

json_t *status_build(const struct status_agent *ag, const struct model *m,
		     const struct gw_out *out, const struct sync_state *s,
		     json_t *prev)
{
	json_t *routes = json_array(), *ifaces = json_array();
	struct by_route br;
	char now[32];
	size_t i;

	gws_now(now, sizeof(now));
	br.prev = prev_index(prev, &br.nprev);
	if (by_route_init(&br, out)) {
		json_decref(routes);
		routes = NULL;
	}
	for (i = 0; routes && i < out->nroutes; i++)
		json_array_append_new(routes, route_json(out, i, &br, s, ag,
							 now));
	free(br.head);
	free(br.next);
	free(br.prev);
	for (i = 0; ifaces && i < ag->nifaces; i++)
		json_array_append_new(ifaces, json_string(ag->ifaces[i]));
	return json_pack(
		"{s:{s:i,s:f,s:f,s:I,s:I,s:s,s:o,s:s,s:s,s:s},"
		"s:o,s:o,s:o,s:o,s:o,s:o}",
		"agent", "pid", (int)getpid(), "started", ag->started,
		"last_sync", ag->last_sync, "syncs", (json_int_t)ag->syncs,
		"sync_errors", (json_int_t)ag->sync_errors, "manifests",
		ag->manifests, "ifaces", ifaces, "pin_path", ag->pin_path,
		"controller", ag->controller, "last_error", ag->last_error,
		"errors", errors_json(m), "listeners", vip_json(out, s),
		"gatewayclasses", classes_json(out, prev, now),
		"gateways", gateways_json(out, prev, now), "routes", routes,
		"sets", sets_json(out, s));
}

int status_metrics(const struct status_agent *ag, const struct model *m,
		   const struct gw_out *out, const struct sync_state *s,
		   struct metrics_snapshot *snap)
{
	size_t i;

	memset(snap, 0, sizeof(*snap));
	snap->syncs = ag->syncs;
	snap->sync_errors = ag->sync_errors;
	snap->last_sync = ag->last_sync;
	snap->errors = m->ndiags;
	snap->routes = calloc(out->nroutes + 1, sizeof(*snap->routes));
	if (!snap->routes)
		return -ENOMEM;
	for (i = 0; i < out->nroutes; i++) {
		struct metrics_route *r = &snap->routes[i];

		r->id = s->route_of[i];
		snprintf(r->ns, sizeof(r->ns), "%s", out->routes[i].ns);
		snprintf(r->name, sizeof(r->name), "%s", out->routes[i].name);
	}
	snap->nroutes = out->nroutes;
	return 0;
}

static int mkdirs(const char *dir)
{
	char buf[4096], *p;

	snprintf(buf, sizeof(buf), "%s", dir);
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

int status_write(const char *path, json_t *st)
{
	char tmp[4096], dir[4096];
	int err;

	snprintf(dir, sizeof(dir), "%s", path);
	err = mkdirs(dirname(dir));
	if (err)
		return err;
	snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid());
	if (json_dump_file(st, tmp, JSON_INDENT(1) | JSON_PRESERVE_ORDER))
		return -EIO;
	if (rename(tmp, path)) {
		err = -errno;
		unlink(tmp);
		return err;
	}
	return 0;
}

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Gateway API status objects from the gwapi result (gwstatus.h). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gwstatus.h"

void gws_now(char *buf, size_t len)
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int gws_json_same(json_t *a, json_t *b)
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

static const char *str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

/* The element of array @a whose @key is @val. */
static json_t *find_by(json_t *a, const char *key, const char *val)
{
	json_t *e;
	size_t i;

	json_array_foreach(a, i, e)
		if (!strcmp(str(e, key), val))
			return e;
	return NULL;
}

/* --- conditions ----------------------------------------------------------- */

static json_t *cond_json(const struct gw_cond *c, int64_t gen, json_t *old,
			 const char *now)
{
	const char *st = c->status ? "True" : "False";
	json_t *prev = find_by(old, "type", c->type);
	const char *ltt = now;

	if (prev && !strcmp(str(prev, "status"), st) &&
	    *str(prev, "lastTransitionTime"))
		ltt = str(prev, "lastTransitionTime");
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

/* --- GatewayClass and Gateway ------------------------------------------------ */

json_t *gws_class(const struct gw_class_status *c, json_t *old,
		  const char *now)
{
	return json_pack("{s:o}", "conditions", conds_json(c->conds, 1,
			 c->src->meta.generation,
			 json_object_get(old, "conditions"), now));
}

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

json_t *gws_gateway(const struct gw_gateway_status *g, json_t *old,
		    const char *now)
{
	int64_t gen = g->src->meta.generation;
	json_t *addrs = json_array(), *ls = json_array(), *ol;
	size_t i;

	for (i = 0; addrs && i < g->naddresses; i++)
		json_array_append_new(addrs, json_pack(
			"{s:s,s:s}", "type", "IPAddress", "value",
			g->addresses[i]));
	for (i = 0; ls && i < g->nlisteners; i++) {
		ol = find_by(json_object_get(old, "listeners"), "name",
			     g->listeners[i].name);
		json_array_append_new(ls, listener_json(&g->listeners[i], gen,
			json_object_get(ol, "conditions"), now));
	}
	return json_pack("{s:o,s:o,s:o}", "addresses", addrs, "conditions",
			 conds_json(g->conds, GW_G_NCONDS, gen,
				    json_object_get(old, "conditions"), now),
			 "listeners", ls);
}

/* --- TLSRoute ------------------------------------------------------------------ */

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

json_t *gws_route_parents(const struct gw_route *route,
			  const char *controller, json_t *current,
			  const char *now)
{
	json_t *out = json_array(), *e;
	size_t i, j;

	json_array_foreach(current, i, e)
		if (strcmp(str(e, "controllerName"), controller))
			json_array_append(out, e);
	for (i = 0; out && i < route->nparents; i++) {
		const struct gw_parent *p = &route->parents[i];
		json_t *ref = parent_ref_json(p->ref), *old = NULL;

		json_array_foreach(current, j, e)
			if (gws_json_same(json_object_get(e, "parentRef"), ref))
				old = json_object_get(e, "conditions");
		json_array_append_new(out, json_pack("{s:o,s:s,s:o}",
			"parentRef", ref, "controllerName", controller,
			"conditions", conds_json(p->conds, GW_ROUTE_CONDS,
						 route->src->meta.generation,
						 old, now)));
	}
	return out;
}

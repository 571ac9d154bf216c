// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * TLSRoutes: which are ours, the listeners each parentRef attaches them
 * to (hostname -> route entries per VIP, with the route's Accepted
 * condition), and which route wins a hostname two of them claim.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gwapi_int.h"
#include "vec.h"

static const struct m_gateway *find_gw(const struct model *m, const char *ns,
				       const char *name)
{
	size_t i;

	for (i = 0; i < m->ngateways; i++)
		if (streq(m->gateways[i].meta.ns, ns) &&
		    streq(m->gateways[i].meta.name, name))
			return &m->gateways[i];
	return NULL;
}

static int add_entry(struct gw_out *out, size_t vip, const char *host,
		     size_t route)
{
	struct gw_entry *e;
	size_t i;

	/* A route's entries are the last ones: only they can repeat. */
	for (i = out->nentries; i-- > 0 && out->entries[i].route == route;)
		if (out->entries[i].vip == vip &&
		    !strcmp(out->entries[i].hostname, host))
			return 0;
	e = PUSH(out->entries, out->nentries);
	if (!e)
		return -ENOMEM;
	e->vip = vip;
	e->route = route;
	e->set = out->routes[route].set[out->vips[vip].family == 6];
	e->shadowed_by = -1;
	snprintf(e->hostname, sizeof(e->hostname), "%s", host);
	return 0;
}

/* The route's hostnames that meet the listener's, as entries. Returns the
 * number of names that matched, or a negative errno. */
static int attach(struct gw_out *out, const struct lview *v,
		  const struct m_tlsroute *rt, size_t route)
{
	char host[GW_NAME_MAX];
	size_t i, j, n = rt->nhostnames ? rt->nhostnames : 1;
	int matched = 0, err;

	for (i = 0; i < n; i++) {
		const char *h = rt->nhostnames ? rt->hostnames[i] : NULL;

		if (!gw_intersect(v->l->hostname, h, host, sizeof(host)))
			continue;
		matched++;
		for (j = 0; j < v->nvips; j++)
			if ((err = add_entry(out, v->vips[j], host, route)))
				return err;
	}
	return matched;
}

enum { MISS_NONE, MISS_NOT_ALLOWED, MISS_HOSTNAME, MISS_PARENT };

/* Attach the route to the listeners its parentRef selects. */
static int add_parent(const struct model *m, struct gw_out *out,
		      struct lview *views, size_t nviews,
		      const struct m_parent_ref *p, size_t route,
		      struct gw_parent *gp, int *attached_any)
{
	const struct m_tlsroute *rt = out->routes[route].src;
	int why = MISS_PARENT, n;
	size_t i;

	for (i = 0; i < nviews; i++) {
		struct lview *v = &views[i];

		if (strcmp(v->gw->meta.ns, or(p->ns, rt->meta.ns)) ||
		    strcmp(v->gw->meta.name, p->name) ||
		    (p->section && !streq(v->l->name, p->section)) ||
		    (p->port && v->l->port != p->port))
			continue;
		if (why == MISS_PARENT)
			why = MISS_NOT_ALLOWED;
		if (!v->usable || !v->kinds_ok ||
		    !gw_ns_allowed(m, v, rt->meta.ns))
			continue;
		n = attach(out, v, rt, route);
		if (n < 0)
			return n;
		if (!n) {
			why = MISS_HOSTNAME;
			continue;
		}
		why = MISS_NONE;
		v->st->attached++;
	}
	if (why == MISS_NONE) {
		gw_cond_set(&gp->conds[0], "Accepted", 1, "Accepted", "%s", "");
		*attached_any = 1;
	} else if (why == MISS_HOSTNAME) {
		gw_cond_set(&gp->conds[0], "Accepted", 0,
			    "NoMatchingListenerHostname", "no hostname of the "
			    "route meets a listener's hostname");
	} else if (why == MISS_NOT_ALLOWED) {
		gw_cond_set(&gp->conds[0], "Accepted", 0,
			    "NotAllowedByListeners", "no matching "
			    "listener is usable and admits TLSRoutes from "
			    "namespace %s", rt->meta.ns);
	} else {
		gw_cond_set(&gp->conds[0], "Accepted", 0, "NoMatchingParent",
			    "Gateway %s/%s has no listener%s%s%s%.0u", or(p->ns,
			    rt->meta.ns), p->name, p->section ? " named " : "",
			    or(p->section, ""), p->port ? " on that port" : "",
			    p->port);
	}
	return 0;
}

static int ours(const struct model *m, const struct m_parent_ref *p,
		const char *route_ns, const char *controller)
{
	const struct m_gateway *gw;

	if (!streq(or(p->group, GW_GROUP), GW_GROUP) ||
	    !streq(or(p->kind, "Gateway"), "Gateway"))
		return 0;
	gw = find_gw(m, or(p->ns, route_ns), p->name);
	return gw && gw_class_ours(m, gw->class, controller);
}

int gw_add_route(const struct model *m, const char *controller,
		 struct gw_out *out, struct lview *views, size_t nviews,
		 const struct m_tlsroute *rt, uint32_t maglev_size)
{
	struct gw_cond rr;
	struct gw_route *r;
	size_t i, idx;
	int err, any = 0;

	for (i = 0; i < rt->nparents; i++)
		any |= ours(m, &rt->parents[i], rt->meta.ns, controller);
	if (!any)
		return 0;	/* another implementation's route */
	r = PUSH(out->routes, out->nroutes);
	if (!r)
		return -ENOMEM;
	idx = out->nroutes - 1;
	r->src = rt;
	snprintf(r->ns, sizeof(r->ns), "%s", rt->meta.ns);
	snprintf(r->name, sizeof(r->name), "%s", rt->meta.name);
	if ((err = gw_route_backends(m, out, r, maglev_size, &rr)))
		return err;
	any = 0;
	for (i = 0; i < rt->nparents; i++) {
		struct gw_parent *gp;

		if (!ours(m, &rt->parents[i], rt->meta.ns, controller))
			continue;
		gp = PUSH(r->parents, r->nparents);
		if (!gp)
			return -ENOMEM;
		gp->ref = &rt->parents[i];
		snprintf(gp->gateway, sizeof(gp->gateway), "%s/%s",
			 or(rt->parents[i].ns, rt->meta.ns),
			 rt->parents[i].name);
		snprintf(gp->section, sizeof(gp->section), "%s",
			 or(rt->parents[i].section, ""));
		gp->conds[1] = rr;
		err = add_parent(m, out, views, nviews, &rt->parents[i], idx,
				 gp, &any);
		if (err)
			return err;
	}
	return 0;
}

/* Conflict precedence: the oldest route, then by namespace/name. */
static int route_before(const struct gw_route *a, const struct gw_route *b)
{
	int c;

	if (a->src->meta.created != b->src->meta.created)
		return a->src->meta.created < b->src->meta.created;
	c = strcmp(a->ns, b->ns);
	if (c)
		return c < 0;
	return strcmp(a->name, b->name) < 0;
}

/* Entries sorted by VIP and hostname, for one pass over each group of
 * rivals (10,000 routes: no comparison of every pair). */
static const struct gw_entry *rivals_base;

static int rivals_cmp(const void *a, const void *b)
{
	const struct gw_entry *x = &rivals_base[*(const size_t *)a];
	const struct gw_entry *y = &rivals_base[*(const size_t *)b];

	if (x->vip != y->vip)
		return x->vip < y->vip ? -1 : 1;
	return strcmp(x->hostname, y->hostname);
}

/* Every entry of a group but the oldest route's is shadowed by it. */
static void resolve_group(struct gw_out *out, const size_t *ix, size_t n)
{
	size_t i, win = ix[0];

	for (i = 1; i < n; i++)
		if (route_before(&out->routes[out->entries[ix[i]].route],
				 &out->routes[out->entries[win].route]))
			win = ix[i];
	for (i = 0; i < n; i++)
		out->entries[ix[i]].shadowed_by = ix[i] == win ? -1 :
			(long)out->entries[win].route;
}

int gw_resolve_conflicts(struct gw_out *out)
{
	size_t *ix = malloc((out->nentries + 1) * sizeof(*ix)), i, j;

	if (!ix)
		return -ENOMEM;
	for (i = 0; i < out->nentries; i++)
		ix[i] = i;
	rivals_base = out->entries;
	qsort(ix, out->nentries, sizeof(*ix), rivals_cmp);
	for (i = 0; i < out->nentries; i = j) {
		for (j = i + 1; j < out->nentries &&
		     !rivals_cmp(&ix[i], &ix[j]); j++)
			;
		resolve_group(out, ix + i, j - i);
	}
	free(ix);
	return 0;
}

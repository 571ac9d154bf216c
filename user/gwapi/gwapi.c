// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Gateway API semantics for TLSRoute passthrough (see gwapi.h). The rules
 * come from the Gateway API specification (v1.x) and its conformance
 * tests; docs/agent.md lists every decision, including where the spec
 * leaves a choice to the implementation.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gwapi.h"
#include "vec.h"

static int streq(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

static const char *or(const char *s, const char *dflt)
{
	return s && *s ? s : dflt;
}

__attribute__((format(printf, 5, 6)))
static void cond_set(struct gw_cond *c, const char *type, int status,
		     const char *reason, const char *fmt, ...)
{
	va_list ap;

	c->type = type;
	c->status = status;
	c->reason = reason;
	va_start(ap, fmt);
	vsnprintf(c->msg, sizeof(c->msg), fmt, ap);
	va_end(ap);
}

/* --- hostnames ---------------------------------------------------------- */

/* Does the exact name @h fall under the wildcard @w ("*.example.com")?
 * At least one label must stand in for the '*'. */
static int wild_covers(const char *w, const char *h)
{
	size_t wl = strlen(w) - 1, hl = strlen(h);	/* ".example.com" */

	return hl > wl && !strcmp(h + hl - wl, w + 1);
}

static void put(char *out, size_t outlen, const char *s)
{
	snprintf(out, outlen, "%s", s);
}

int gw_intersect(const char *l, const char *r, char *out, size_t outlen)
{
	int lw = l && l[0] == '*', rw = r && r[0] == '*';

	if (!l && !r) {
		put(out, outlen, "*");
		return 1;
	}
	if (!l || !r) {
		put(out, outlen, l ? l : r);
		return 1;
	}
	if (!lw && !rw) {
		if (strcmp(l, r))
			return 0;
		put(out, outlen, r);
		return 1;
	}
	if (lw && !rw) {
		if (!wild_covers(l, r))
			return 0;
		put(out, outlen, r);
		return 1;
	}
	if (!lw && rw) {
		if (!wild_covers(r, l))
			return 0;
		put(out, outlen, l);
		return 1;
	}
	/* Both wildcards: the narrower one, if it lies within the other. */
	if (!strcmp(l, r) || wild_covers(l, r + 2)) {
		put(out, outlen, r);
		return 1;
	}
	if (wild_covers(r, l + 2)) {
		put(out, outlen, l);
		return 1;
	}
	return 0;
}

/* --- labels --------------------------------------------------------------- */

static const char *label_get(const struct m_label *l, size_t n,
			     const char *key)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(l[i].key, key))
			return l[i].value ? l[i].value : "";
	return NULL;
}

static int expr_matches(const struct m_sel_expr *e, const struct m_label *l,
			size_t n)
{
	const char *v = label_get(l, n, e->key);
	size_t i;
	int in = 0;

	switch (e->op) {
	case M_SEL_EXISTS:
		return v != NULL;
	case M_SEL_NOT_EXIST:
		return v == NULL;
	case M_SEL_IN:
	case M_SEL_NOT_IN:
		for (i = 0; v && i < e->nvalues; i++)
			in |= !strcmp(v, e->values[i]);
		return e->op == M_SEL_IN ? in : !in;
	}
	return 0;
}

int gw_selector_matches(const struct m_selector *sel,
			const struct m_label *labels, size_t nlabels)
{
	size_t i;

	for (i = 0; i < sel->nmatch; i++)
		if (!streq(label_get(labels, nlabels, sel->match[i].key),
			   or(sel->match[i].value, "")))
			return 0;
	for (i = 0; i < sel->nexprs; i++)
		if (!expr_matches(&sel->exprs[i], labels, nlabels))
			return 0;
	return 1;
}

/* A Service selector: every label equal; an empty one selects nothing
 * (Kubernetes makes no endpoints for it). */
static int svc_selects(const struct m_service *s, const struct m_pod *p)
{
	size_t i;

	if (!s->has_selector || !s->nselector)
		return 0;
	for (i = 0; i < s->nselector; i++)
		if (!streq(label_get(p->meta.labels, p->meta.nlabels,
				     s->selector[i].key),
			   or(s->selector[i].value, "")))
			return 0;
	return 1;
}

/* --- lookups -------------------------------------------------------------- */

static const struct m_namespace *find_ns(const struct model *m,
					 const char *name)
{
	size_t i;

	for (i = 0; i < m->nnamespaces; i++)
		if (streq(m->namespaces[i].meta.name, name))
			return &m->namespaces[i];
	return NULL;
}

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

static const struct m_service *find_svc(const struct model *m,
					const char *ns, const char *name)
{
	size_t i;

	for (i = 0; i < m->nservices; i++)
		if (streq(m->services[i].meta.ns, ns) &&
		    streq(m->services[i].meta.name, name))
			return &m->services[i];
	return NULL;
}

static int class_ours(const struct model *m, const char *name,
		      const char *controller)
{
	size_t i;

	for (i = 0; i < m->nclasses; i++)
		if (streq(m->classes[i].meta.name, name))
			return streq(m->classes[i].controller, controller);
	return 0;
}

/* --- gateways --------------------------------------------------------------- */

/* What one Gateway listener admits, computed once per sync. */
struct lview {
	const struct m_gateway *gw;
	const struct m_listener *l;
	struct gw_listener_status *st;
	int usable;		/* accepted, not conflicted */
	int kinds_ok;		/* TLSRoute among allowed kinds */
	size_t gw_index;	/* into out->gateways */
	size_t *vips;		/* its VIPs (address x port) */
	size_t nvips;
};

static int canon_addr(const char *s, int *family, char *out)
{
	unsigned char a[16];

	if (inet_pton(AF_INET, s, a) == 1) {
		*family = 4;
		inet_ntop(AF_INET, a, out, GW_ADDR_MAX);
		return 0;
	}
	if (inet_pton(AF_INET6, s, a) == 1) {
		*family = 6;
		inet_ntop(AF_INET6, a, out, GW_ADDR_MAX);
		return 0;
	}
	return -EINVAL;
}

static long vip_index(struct gw_out *out, const char *addr, uint16_t port)
{
	struct gw_vip v = { .port = port }, *nv;
	size_t i;

	if (canon_addr(addr, &v.family, v.addr))
		return -EINVAL;
	for (i = 0; i < out->nvips; i++)
		if (out->vips[i].port == port &&
		    !strcmp(out->vips[i].addr, v.addr))
			return (long)i;
	nv = PUSH(out->vips, out->nvips);
	if (!nv)
		return -ENOMEM;
	*nv = v;
	return (long)out->nvips - 1;
}

static int same_host(const char *a, const char *b)
{
	return (!a && !b) || streq(a, b);
}

static void check_listener(struct lview *v, const struct m_gateway *gw,
			   size_t idx)
{
	const struct m_listener *l = v->l;
	struct gw_listener_status *st = v->st;
	size_t i, bad_kinds = 0;

	v->kinds_ok = !l->nkinds;
	for (i = 0; i < l->nkinds; i++) {
		if (streq(l->kinds[i].kind, "TLSRoute") &&
		    streq(or(l->kinds[i].group, GW_GROUP), GW_GROUP))
			v->kinds_ok = 1;
		else
			bad_kinds++;
	}
	st->nconds = 3;
	if (bad_kinds)
		cond_set(&st->conds[1], "ResolvedRefs", 0, "InvalidRouteKinds",
			 "only TLSRoute routes attach to a TLS listener");
	else
		cond_set(&st->conds[1], "ResolvedRefs", 1, "ResolvedRefs", "%s",
			 "");
	cond_set(&st->conds[2], "Conflicted", 0, "NoConflicts", "%s", "");
	for (i = 0; i < gw->nlisteners; i++) {
		const struct m_listener *o = &gw->listeners[i];

		if (i == idx || o->port != l->port)
			continue;
		if (same_host(o->hostname, l->hostname)) {
			cond_set(&st->conds[2], "Conflicted", 1,
				 "HostnameConflict", "listener \"%s\" has "
				 "the same port and hostname", o->name);
			break;
		}
	}
	if (!streq(l->protocol, "TLS")) {
		cond_set(&st->conds[0], "Accepted", 0, "UnsupportedProtocol",
			 "protocol %s: snilb serves protocol TLS only",
			 or(l->protocol, "(none)"));
		return;
	}
	if (l->tls_mode && !streq(l->tls_mode, "Passthrough")) {
		cond_set(&st->conds[0], "Accepted", 0, "UnsupportedProtocol",
			 "tls.mode %s: snilb passes TLS through, it never "
			 "terminates it", l->tls_mode);
		return;
	}
	cond_set(&st->conds[0], "Accepted", 1, "Accepted", "%s", "");
	v->usable = !st->conds[2].status;
}

static int add_gateway(const struct model *m, const struct m_gateway *gw,
		       struct gw_out *out, struct lview **views,
		       size_t *nviews)
{
	struct gw_gateway_status *gs = PUSH(out->gateways, out->ngateways);
	size_t i, j, nips = 0;
	const char *bad = NULL;

	(void)m;
	if (!gs)
		return -ENOMEM;
	gs->src = gw;
	snprintf(gs->ns, sizeof(gs->ns), "%s", gw->meta.ns);
	snprintf(gs->name, sizeof(gs->name), "%s", gw->meta.name);
	snprintf(gs->class_name, sizeof(gs->class_name), "%s", gw->class);
	gs->listeners = calloc(gw->nlisteners ? gw->nlisteners : 1,
			       sizeof(*gs->listeners));
	if (!gs->listeners)
		return -ENOMEM;
	gs->nlisteners = gw->nlisteners;
	for (i = 0; i < gw->naddresses; i++) {
		const struct m_address *a = &gw->addresses[i];

		if (a->type && strcmp(a->type, "IPAddress"))
			bad = a->type;
		else
			nips++;
	}
	if (bad)
		cond_set(&gs->conds[0], "Accepted", 0, "UnsupportedAddress",
			 "address type %s: snilb needs IPAddress VIPs", bad);
	else
		cond_set(&gs->conds[0], "Accepted", 1, "Accepted", "%s", "");
	if (!nips)
		cond_set(&gs->conds[1], "Programmed", 0, "AddressNotAssigned",
			 "spec.addresses names no IPAddress: there is no VIP "
			 "to listen on");
	else
		cond_set(&gs->conds[1], "Programmed", 1, "Programmed", "%s",
			 "");
	for (i = 0; i < gw->nlisteners; i++) {
		struct lview *v = PUSH(*views, *nviews);

		if (!v)
			return -ENOMEM;
		v->gw = gw;
		v->l = &gw->listeners[i];
		v->gw_index = out->ngateways - 1;
		v->st = &gs->listeners[i];
		snprintf(v->st->name, sizeof(v->st->name), "%s", v->l->name);
		v->st->port = v->l->port;
		snprintf(v->st->hostname, sizeof(v->st->hostname), "%s",
			 or(v->l->hostname, ""));
		check_listener(v, gw, i);
		if (!v->usable || bad)
			continue;
		v->vips = calloc(gw->naddresses ? gw->naddresses : 1,
				 sizeof(*v->vips));
		if (!v->vips)
			return -ENOMEM;
		for (j = 0; j < gw->naddresses; j++) {
			long vi = vip_index(out, gw->addresses[j].value,
					    v->l->port);

			if (vi == -ENOMEM)
				return -ENOMEM;
			if (vi >= 0)
				v->vips[v->nvips++] = (size_t)vi;
		}
	}
	return 0;
}

/* --- backends --------------------------------------------------------------- */

static int grant_allows(const struct model *m, const char *from_ns,
			const char *to_ns, const char *svc)
{
	size_t i, j, k;

	for (i = 0; i < m->ngrants; i++) {
		const struct m_refgrant *g = &m->grants[i];
		int from = 0;

		if (!streq(g->meta.ns, to_ns))
			continue;
		for (j = 0; j < g->nfrom; j++)
			from |= streq(or(g->from[j].group, ""), GW_GROUP) &&
				streq(g->from[j].kind, "TLSRoute") &&
				streq(g->from[j].ns, from_ns);
		if (!from)
			continue;
		for (k = 0; k < g->nto; k++)
			if (!*or(g->to[k].group, "") &&
			    streq(g->to[k].kind, "Service") &&
			    (!g->to[k].name || streq(g->to[k].name, svc)))
				return 1;
	}
	return 0;
}

static int ep_push(struct gw_ref *r, const char *addr, uint16_t port)
{
	struct gw_endpoint *e;
	int family;
	char canon[GW_ADDR_MAX];
	size_t i;

	if (!port || canon_addr(addr, &family, canon))
		return 0;	/* FQDN endpoints and the like: skipped */
	for (i = 0; i < r->neps; i++)
		if (r->eps[i].port == port && !strcmp(r->eps[i].addr, canon))
			return 0;
	e = PUSH(r->eps, r->neps);
	if (!e)
		return -ENOMEM;
	snprintf(e->addr, sizeof(e->addr), "%s", canon);
	e->port = port;
	return 0;
}

static int slice_port_matches(const struct m_eps_port *p,
			      const struct m_svc_port *sp)
{
	return streq(or(p->name, ""), or(sp->name, "")) &&
	       streq(or(p->protocol, "TCP"), "TCP");
}

/*
 * Endpoints from EndpointSlices: ready ones; when none is ready, the
 * serving ones that are terminating (kube-proxy's fallback, so a rolling
 * update that leaves only terminating pods does not black-hole).
 */
static int slice_endpoints(const struct model *m, const struct m_service *s,
			   const struct m_svc_port *sp, struct gw_ref *r,
			   int *found)
{
	int pass, err;
	size_t i, j, k, a;

	for (pass = 0; pass < 2 && !r->neps; pass++) {
		for (i = 0; i < m->nslices; i++) {
			const struct m_endpointslice *es = &m->slices[i];
			uint16_t port = 0;

			if (!streq(es->meta.ns, s->meta.ns) ||
			    !streq(es->service, s->meta.name))
				continue;
			*found = 1;
			for (k = 0; k < es->nports; k++)
				if (slice_port_matches(&es->ports[k], sp))
					port = es->ports[k].port;
			for (j = 0; port && j < es->nendpoints; j++) {
				const struct m_endpoint *e = &es->endpoints[j];
				int use = pass == 0 ? e->ready != M_FALSE :
					  e->serving == M_TRUE &&
					  e->terminating == M_TRUE;

				for (a = 0; use && a < e->naddresses; a++)
					if ((err = ep_push(r, e->addresses[a],
							   port)))
						return err;
			}
		}
	}
	return 0;
}

static uint16_t pod_port(const struct m_pod *p, const struct m_svc_port *sp)
{
	size_t i;

	if (sp->target_port)
		return sp->target_port;
	if (!sp->target_name)
		return sp->port;
	for (i = 0; i < p->nports; i++)
		if (streq(p->ports[i].name, sp->target_name))
			return p->ports[i].port;
	return 0;	/* this pod does not have the named port */
}

static int pod_endpoints(const struct model *m, const struct m_service *s,
			 const struct m_svc_port *sp, struct gw_ref *r)
{
	size_t i, j;
	int err;

	for (i = 0; i < m->npods; i++) {
		const struct m_pod *p = &m->pods[i];

		if (!streq(p->meta.ns, s->meta.ns) || !svc_selects(s, p) ||
		    !p->ready || p->terminating)
			continue;
		for (j = 0; j < p->nips; j++)
			if ((err = ep_push(r, p->ips[j], pod_port(p, sp))))
				return err;
	}
	return 0;
}

/* Resolve one backendRef; on failure set @rr (ResolvedRefs=False). */
static int resolve_ref(const struct model *m, const struct m_tlsroute *rt,
		       const struct m_backend_ref *b, struct gw_ref *r,
		       struct gw_cond *rr)
{
	const char *ns = or(b->ns, rt->meta.ns);
	const struct m_service *s;
	const struct m_svc_port *sp = NULL;
	size_t i;
	int found = 0, err;

	snprintf(r->service, sizeof(r->service), "%s/%s", ns, b->name);
	r->port = b->port;
	r->weight = b->weight;
	if (*or(b->group, "") || !streq(or(b->kind, "Service"), "Service")) {
		cond_set(rr, "ResolvedRefs", 0, "InvalidKind",
			 "backendRef %s: kind %s/%s is not supported (core "
			 "Service only)", b->name, or(b->group, "core"),
			 or(b->kind, "Service"));
		return 0;
	}
	if (strcmp(ns, rt->meta.ns) &&
	    !grant_allows(m, rt->meta.ns, ns, b->name)) {
		cond_set(rr, "ResolvedRefs", 0, "RefNotPermitted",
			 "backendRef %s in namespace %s: no ReferenceGrant "
			 "there allows TLSRoutes from %s", b->name, ns,
			 rt->meta.ns);
		return 0;
	}
	s = find_svc(m, ns, b->name);
	if (!s) {
		cond_set(rr, "ResolvedRefs", 0, "BackendNotFound",
			 "Service %s/%s not found", ns, b->name);
		return 0;
	}
	for (i = 0; i < s->nports; i++)
		if (s->ports[i].port == b->port)
			sp = &s->ports[i];
	if (!sp) {
		cond_set(rr, "ResolvedRefs", 0, "BackendNotFound",
			 b->port ? "Service %s/%s has no port %u" :
			 "backendRef to Service %s/%s names no port%.0u",
			 ns, b->name, b->port);
		return 0;
	}
	if ((err = slice_endpoints(m, s, sp, r, &found)))
		return err;
	if (!found)
		err = pod_endpoints(m, s, sp, r);
	return err;
}

/* --- weights ---------------------------------------------------------------- */

static uint64_t gcd(uint64_t a, uint64_t b)
{
	while (b) {
		uint64_t t = a % b;

		a = b;
		b = t;
	}
	return a;
}

static int ep_cmp(const void *a, const void *b)
{
	const struct gw_endpoint *x = a, *y = b;
	int c = strcmp(x->addr, y->addr);

	return c ? c : (int)x->port - (int)y->port;
}

/*
 * A route's set: each ref's weight shared evenly by its endpoints, the
 * same endpoint in two refs summed, then reduced by the common divisor
 * and scaled down so one Maglev round stays a small part of the table
 * (weights are slots claimed per round).
 */
static int is_v6(const struct gw_endpoint *e)
{
	return strchr(e->addr, ':') != NULL;
}

static size_t neps_of(const struct gw_ref *ref, int v6)
{
	size_t i, n = 0;

	for (i = 0; i < ref->neps; i++)
		n += is_v6(&ref->eps[i]) == v6;
	return n;
}

static int build_set(struct gw_route *r, uint32_t maglev_size, int v6,
		     struct gw_set *set)
{
	uint64_t l = 1, g = 0, sum = 0, cap = maglev_size / 8 ? maglev_size / 8 : 1;
	uint64_t *w;
	size_t i, j, k, n = 0;

	for (i = 0; i < r->nrefs; i++) {
		size_t m = neps_of(&r->refs[i], v6);

		if (r->refs[i].weight > 0 && m) {
			l = l / gcd(l, m) * m;
			if (l > 1000000)
				l = 1000000;	/* approximate shares */
			n += m;
		}
	}
	set->eps = calloc(n ? n : 1, sizeof(*set->eps));
	w = calloc(n ? n : 1, sizeof(*w));
	if (!set->eps || !w) {
		free(w);
		return -ENOMEM;
	}
	for (i = 0; i < r->nrefs; i++) {
		const struct gw_ref *ref = &r->refs[i];
		uint64_t each;

		size_t m = neps_of(ref, v6);

		if (ref->weight <= 0 || !m)
			continue;
		each = (uint64_t)ref->weight * l / m;
		for (j = 0; j < ref->neps; j++) {
			if (is_v6(&ref->eps[j]) != v6)
				continue;
			for (k = 0; k < set->neps; k++)
				if (!ep_cmp(&set->eps[k], &ref->eps[j]))
					break;
			if (k == set->neps)
				set->eps[set->neps++] = ref->eps[j];
			w[k] += each ? each : 1;
		}
	}
	for (k = 0; k < set->neps; k++)
		g = gcd(g, w[k]);
	for (k = 0; k < set->neps; k++)
		sum += (w[k] /= g);
	for (k = 0; k < set->neps; k++) {
		uint64_t x = sum > cap ? (w[k] * cap + sum / 2) / sum : w[k];

		set->eps[k].weight = (uint32_t)(x ? x : 1);
	}
	free(w);
	qsort(set->eps, set->neps, sizeof(*set->eps), ep_cmp);
	return 0;
}

int gw_set_equal(const struct gw_set *a, const struct gw_set *b)
{
	size_t i;

	if (a->neps != b->neps)
		return 0;
	for (i = 0; i < a->neps; i++)
		if (ep_cmp(&a->eps[i], &b->eps[i]) ||
		    a->eps[i].weight != b->eps[i].weight)
			return 0;
	return 1;
}

static int add_set(struct gw_out *out, struct gw_route *r,
		   uint32_t maglev_size, int v6)
{
	struct gw_set s = {}, *ns;
	size_t i;
	int err = build_set(r, maglev_size, v6, &s);

	if (err)
		return err;
	for (i = 0; i < out->nsets; i++) {
		if (gw_set_equal(&out->sets[i], &s)) {
			free(s.eps);
			r->set[v6] = i;
			return 0;
		}
	}
	ns = PUSH(out->sets, out->nsets);
	if (!ns) {
		free(s.eps);
		return -ENOMEM;
	}
	*ns = s;
	r->set[v6] = out->nsets - 1;
	return 0;
}

/* --- routes ----------------------------------------------------------------- */

static int ns_allowed(const struct model *m, const struct lview *v,
		      const char *route_ns)
{
	const struct m_namespace *n;

	switch (v->l->from) {
	case M_FROM_ALL:
		return 1;
	case M_FROM_SAME:
		return streq(v->gw->meta.ns, route_ns);
	case M_FROM_SELECTOR:
		n = find_ns(m, route_ns);
		if (!n)	/* unknown namespace: only its implicit name label */
			return 0;
		return gw_selector_matches(&v->l->selector, n->meta.labels,
					   n->meta.nlabels);
	}
	return 0;
}

static int add_entry(struct gw_out *out, size_t vip, const char *host,
		     size_t route)
{
	struct gw_entry *e;
	size_t i;

	for (i = 0; i < out->nentries; i++)
		if (out->entries[i].vip == vip && out->entries[i].route == route &&
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
		    !ns_allowed(m, v, rt->meta.ns))
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
		cond_set(&gp->conds[0], "Accepted", 1, "Accepted", "%s", "");
		*attached_any = 1;
	} else if (why == MISS_HOSTNAME) {
		cond_set(&gp->conds[0], "Accepted", 0,
			 "NoMatchingListenerHostname", "no hostname of the "
			 "route meets a listener's hostname");
	} else if (why == MISS_NOT_ALLOWED) {
		cond_set(&gp->conds[0], "Accepted", 0, "NotAllowedByListeners",
			 "no matching listener is usable and admits TLSRoutes "
			 "from namespace %s", rt->meta.ns);
	} else {
		cond_set(&gp->conds[0], "Accepted", 0, "NoMatchingParent",
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
	return gw && class_ours(m, gw->class, controller);
}

static int add_route(const struct model *m, const char *controller,
		     struct gw_out *out, struct lview *views, size_t nviews,
		     const struct m_tlsroute *rt, uint32_t maglev_size)
{
	struct gw_cond rr;
	struct gw_route *r;
	size_t i, j, idx;
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
	cond_set(&rr, "ResolvedRefs", 1, "ResolvedRefs", "%s", "");
	for (i = 0; i < rt->nrules; i++) {
		for (j = 0; j < rt->rules[i].nrefs; j++) {
			struct gw_ref *ref = PUSH(r->refs, r->nrefs);
			struct gw_cond c;

			if (!ref)
				return -ENOMEM;
			c.status = 1;
			err = resolve_ref(m, rt, &rt->rules[i].refs[j], ref, &c);
			if (err)
				return err;
			if (!c.status && rr.status)
				rr = c;
		}
	}
	if ((err = add_set(out, r, maglev_size, 0)) ||
	    (err = add_set(out, r, maglev_size, 1)))
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

static void resolve_conflicts(struct gw_out *out)
{
	size_t i, j;

	for (i = 0; i < out->nentries; i++) {
		struct gw_entry *a = &out->entries[i];

		for (j = i + 1; j < out->nentries; j++) {
			struct gw_entry *b = &out->entries[j];

			if (a->vip != b->vip || strcmp(a->hostname, b->hostname))
				continue;
			if (route_before(&out->routes[a->route],
					 &out->routes[b->route]))
				b->shadowed_by = (long)a->route;
			else if (a->shadowed_by < 0)
				a->shadowed_by = (long)b->route;
		}
	}
	/* A loser may have beaten a third route: point at the winner. */
	for (i = 0; i < out->nentries; i++) {
		struct gw_entry *a = &out->entries[i];

		if (a->shadowed_by < 0)
			continue;
		for (j = 0; j < out->nentries; j++) {
			struct gw_entry *b = &out->entries[j];

			if (b->vip == a->vip && b->shadowed_by < 0 &&
			    !strcmp(a->hostname, b->hostname))
				a->shadowed_by = (long)b->route;
		}
	}
}

int gw_compute(const struct model *m, const char *controller,
	       uint32_t maglev_size, struct gw_out *out)
{
	struct lview *views = NULL;
	size_t nviews = 0, i;
	int err = 0;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < m->ngateways && !err; i++)
		if (class_ours(m, m->gateways[i].class, controller))
			err = add_gateway(m, &m->gateways[i], out, &views,
					  &nviews);
	for (i = 0; i < m->nroutes && !err; i++)
		err = add_route(m, controller, out, views, nviews,
				&m->routes[i], maglev_size);
	if (!err)
		resolve_conflicts(out);
	for (i = 0; i < nviews; i++)
		free(views[i].vips);
	free(views);
	if (err)
		gw_out_free(out);
	return err;
}

void gw_out_free(struct gw_out *out)
{
	size_t i, j;

	for (i = 0; i < out->nsets; i++)
		free(out->sets[i].eps);
	for (i = 0; i < out->nroutes; i++) {
		for (j = 0; j < out->routes[i].nrefs; j++)
			free(out->routes[i].refs[j].eps);
		free(out->routes[i].refs);
		free(out->routes[i].parents);
	}
	for (i = 0; i < out->ngateways; i++)
		free(out->gateways[i].listeners);
	free(out->vips);
	free(out->sets);
	free(out->routes);
	free(out->entries);
	free(out->gateways);
	memset(out, 0, sizeof(*out));
}

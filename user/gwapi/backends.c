// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * A route's backendRefs: each resolved to the endpoints of its Service
 * (EndpointSlices, else the Pods it selects), ReferenceGrants checked
 * across namespaces; then the route's weighted endpoint sets, one per
 * address family, shared by every route with the same ones.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gwapi_int.h"
#include "vec.h"

/* --- backendRefs to endpoints --------------------------------------------- */

const struct m_service *gw_find_svc(const struct model *m, const char *ns,
				    const char *name)
{
	size_t i;

	for (i = 0; i < m->nservices; i++)
		if (streq(m->services[i].meta.ns, ns) &&
		    streq(m->services[i].meta.name, name))
			return &m->services[i];
	return NULL;
}

/* A Service selector: every label equal; an empty one selects nothing
 * (Kubernetes makes no endpoints for it). */
static int svc_selects(const struct m_service *s, const struct m_pod *p)
{
	size_t i;

	if (!s->has_selector || !s->nselector)
		return 0;
	for (i = 0; i < s->nselector; i++)
		if (!streq(gw_label_get(p->meta.labels, p->meta.nlabels,
					s->selector[i].key),
			   or(s->selector[i].value, "")))
			return 0;
	return 1;
}

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

	if (!port || gw_canon_addr(addr, &family, canon))
		return 0;	/* FQDN endpoints and the like: skipped */
	for (i = 0; i < r->neps; i++)
		if (r->eps[i].port == port && !strcmp(r->eps[i].addr, canon))
			return 0;
	e = PUSH(r->eps, r->neps);
	if (!e)
		return -ENOMEM;
	snprintf(e->addr, sizeof(e->addr), "%s", canon);
	e->port = port;
	e->proxy_v2 = (uint8_t)r->proxy_v2;
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
		gw_cond_set(rr, "ResolvedRefs", 0, "InvalidKind",
			    "backendRef %s: kind %s/%s is not supported (core "
			    "Service only)", b->name, or(b->group, "core"),
			    or(b->kind, "Service"));
		return 0;
	}
	if (strcmp(ns, rt->meta.ns) &&
	    !grant_allows(m, rt->meta.ns, ns, b->name)) {
		gw_cond_set(rr, "ResolvedRefs", 0, "RefNotPermitted",
			    "backendRef %s in namespace %s: no ReferenceGrant "
			    "there allows TLSRoutes from %s", b->name, ns,
			    rt->meta.ns);
		return 0;
	}
	s = gw_find_svc(m, ns, b->name);
	if (!s) {
		gw_cond_set(rr, "ResolvedRefs", 0, "BackendNotFound",
			    "Service %s/%s not found", ns, b->name);
		return 0;
	}
	for (i = 0; i < s->nports; i++)
		if (s->ports[i].port == b->port)
			sp = &s->ports[i];
	if (!sp) {
		gw_cond_set(rr, "ResolvedRefs", 0, "BackendNotFound",
			    b->port ? "Service %s/%s has no port %u" :
			    "backendRef to Service %s/%s names no port%.0u",
			    ns, b->name, b->port);
		return 0;
	}
	r->proxy_v2 = s->proxy_v2;
	if ((err = slice_endpoints(m, s, sp, r, &found)))
		return err;
	if (!found)
		err = pod_endpoints(m, s, sp, r);
	return err;
}

/* --- weights -------------------------------------------------------------- */

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

	if (c)
		return c;
	if (x->port != y->port)
		return (int)x->port - (int)y->port;
	return (int)x->proxy_v2 - (int)y->proxy_v2;
}

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

/* The family a ref's endpoints are taken from for a set of family @v6:
 * its own when it has endpoints of it, else the other (the data plane
 * translates: NAT46/64), so a single-stack Service serves both. */
static int ref_family(const struct gw_ref *ref, int v6)
{
	return neps_of(ref, v6) ? v6 : !v6;
}

/*
 * A route's set: each ref's weight shared evenly by its endpoints of the
 * family (ref_family()), the same endpoint in two refs summed; the weight
 * of a ref with none (invalid, or no endpoint at all) is the reset share, as the
 * spec has it ("if an invalid backend is requested to have 80% of
 * requests, then 80% of requests must be rejected instead"). Then all is
 * reduced by the common divisor and scaled down so one Maglev round stays
 * a small part of the table (weights are slots claimed per round).
 */
static uint64_t set_lcm(const struct gw_route *r, int v6, size_t *n)
{
	uint64_t l = 1;
	size_t i, m;

	*n = 0;
	for (i = 0; i < r->nrefs; i++) {
		m = neps_of(&r->refs[i], ref_family(&r->refs[i], v6));
		if (r->refs[i].weight > 0 && m) {
			l = l / gcd(l, m) * m;
			if (l > 1000000)
				l = 1000000;	/* approximate shares */
			*n += m;
		}
	}
	return l;
}

/* Weights @w of @n endpoints and @reset, reduced by their common divisor
 * and capped: one Maglev round is at most an eighth of the table. */
static void scale(uint64_t *w, size_t n, uint64_t *reset,
		  uint32_t maglev_size)
{
	uint64_t cap = maglev_size / 8 ? maglev_size / 8 : 1;
	uint64_t g = *reset, sum = 0, x, *v;
	size_t k;

	for (k = 0; k < n; k++)
		g = gcd(g, w[k]);
	if (!g)
		return;		/* nothing weighs anything */
	for (k = 0; k <= n; k++) {
		v = k < n ? &w[k] : reset;
		sum += (*v /= g);
	}
	for (k = 0; k <= n; k++) {
		v = k < n ? &w[k] : reset;
		if (!*v)
			continue;
		x = sum > cap ? (*v * cap + sum / 2) / sum : *v;
		*v = x ? x : 1;
	}
}

static int build_set(struct gw_route *r, uint32_t maglev_size, int v6,
		     struct gw_set *set)
{
	uint64_t l, reset = 0, *w;
	size_t i, j, k, n;

	l = set_lcm(r, v6, &n);
	set->eps = calloc(n ? n : 1, sizeof(*set->eps));
	w = calloc(n ? n : 1, sizeof(*w));
	if (!set->eps || !w) {
		free(w);
		return -ENOMEM;
	}
	for (i = 0; i < r->nrefs; i++) {
		const struct gw_ref *ref = &r->refs[i];
		int fam = ref_family(ref, v6);
		size_t m = neps_of(ref, fam);
		uint64_t each;

		if (ref->weight <= 0)
			continue;
		if (!m) {
			reset += (uint64_t)ref->weight * l;
			continue;
		}
		each = (uint64_t)ref->weight * l / m;
		for (j = 0; j < ref->neps; j++) {
			if (is_v6(&ref->eps[j]) != fam)
				continue;
			for (k = 0; k < set->neps; k++)
				if (!ep_cmp(&set->eps[k], &ref->eps[j]))
					break;
			if (k == set->neps)
				set->eps[set->neps++] = ref->eps[j];
			w[k] += each ? each : 1;
		}
	}
	if (!set->neps)
		reset = 0;	/* an empty set resets everything anyway */
	scale(w, set->neps, &reset, maglev_size);
	for (k = 0; k < set->neps; k++)
		set->eps[k].weight = (uint32_t)w[k];
	set->reset = (uint32_t)reset;
	free(w);
	qsort(set->eps, set->neps, sizeof(*set->eps), ep_cmp);
	return 0;
}

int gw_set_equal(const struct gw_set *a, const struct gw_set *b)
{
	size_t i;

	if (a->neps != b->neps || a->reset != b->reset)
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

int gw_route_backends(const struct model *m, struct gw_out *out,
		      struct gw_route *r, uint32_t maglev_size,
		      struct gw_cond *rr)
{
	const struct m_tlsroute *rt = r->src;
	size_t i, j;
	int err;

	gw_cond_set(rr, "ResolvedRefs", 1, "ResolvedRefs", "%s", "");
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
			if (!c.status && rr->status)
				*rr = c;
		}
	}
	if ((err = add_set(out, r, maglev_size, 0)))
		return err;
	return add_set(out, r, maglev_size, 1);
}

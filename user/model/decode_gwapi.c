// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The fields of the Gateway API kinds (GatewayClass, Gateway, TLSRoute,
 * ReferenceGrant), decoded and checked as their CRDs check them: enums,
 * names, hostnames, the bounds of their lists (decode_kinds.c has the
 * rest of the decoder's kinds).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode_int.h"
#include "validate.h"

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

/*
 * The length of list @key of @map, @n items, against the CRD's bounds
 * @lo..@hi; @what says whose bounds they are. Absent is refused when @lo
 * is not 0.
 */
static void check_count(struct dec *d, yaml_node_t *map, const char *pre,
			const char *key, size_t n, size_t lo, size_t hi,
			const char *what)
{
	yaml_node_t *v = ylookup(d, map, key);
	char path[FIELD_MAX];

	char range[48];

	path_key(path, pre, key);
	if (lo == hi)
		snprintf(range, sizeof(range), "exactly %zu", lo);
	else
		snprintf(range, sizeof(range), "%zu to %zu", lo, hi);
	if (!v) {
		if (lo)
			dec_diag(d, map ? yline(map) : d->line, path,
				 "%s is required: %s takes %s", key, what,
				 range);
		return;
	}
	if (v->type == YAML_SEQUENCE_NODE && (n < lo || n > hi))
		dec_diag(d, yline(v), path, "%zu items: %s takes %s", n, what,
			 range);
}

static void dec_sel_expr(struct dec *d, yaml_node_t *n, const char *pre,
			 struct m_sel_expr *e)
{
	static const char *const ops[] = { "In", "NotIn", "Exists",
					   "DoesNotExist", NULL };
	char *op = NULL, path[FIELD_MAX], vpath[FIELD_MAX];
	yaml_node_t *vals;
	size_t i;
	int r;

	f_required(d, n, pre, "key", f_str(d, n, pre, "key", &e->key));
	r = f_oneof(d, n, pre, "operator", "a selector operator", ops, &op);
	f_required(d, n, pre, "operator", r);
	if (r > 0) {
		for (i = 0; strcmp(ops[i], op); i++)
			;
		e->op = (enum m_sel_op)i;
	}
	free(op);
	vals = f_seq(d, n, pre, "values");
	path_key(path, pre, "values");
	for (i = 0; vals && i < ylen(vals); i++) {
		char **v = APPEND(d, e->values, e->nvalues);

		if (!v)
			return;
		f_val_str(d, yitem(d, vals, i), path_idx(vpath, path, i), v);
	}
	if (r <= 0)
		return;
	if ((e->op == M_SEL_IN || e->op == M_SEL_NOT_IN) && !e->nvalues)
		dec_diag(d, yline(n), path, "%s needs at least one value",
			 ops[e->op]);
	if ((e->op == M_SEL_EXISTS || e->op == M_SEL_NOT_EXIST) && e->nvalues)
		dec_diag(d, yline(n), path, "%s takes no values",
			 ops[e->op]);
}

static void dec_selector(struct dec *d, yaml_node_t *n, const char *pre,
			 struct m_selector *s)
{
	char path[FIELD_MAX], ipath[FIELD_MAX];
	yaml_node_t *ml = f_map(d, n, pre, "matchLabels");
	yaml_node_t *me = f_seq(d, n, pre, "matchExpressions");
	size_t i;

	if (ml)
		dec_labels(d, ml, path_key(path, pre, "matchLabels"), &s->match,
			   &s->nmatch);
	path_key(path, pre, "matchExpressions");
	for (i = 0; me && i < ylen(me); i++) {
		yaml_node_t *it = yitem(d, me, i);
		struct m_sel_expr *e;

		path_idx(ipath, path, i);
		if (!f_item_map(d, it, ipath))
			continue;
		e = APPEND(d, s->exprs, s->nexprs);
		if (!e)
			return;
		dec_sel_expr(d, it, ipath, e);
	}
}

void dec_class(struct dec *d, yaml_node_t *obj, void *out)
{
	struct m_gatewayclass *c = out;
	yaml_node_t *spec = f_map(d, obj, "", "spec");

	f_required(d, spec, "spec", "controllerName",
		   f_str(d, spec, "spec", "controllerName", &c->controller));
}

static void dec_address(struct dec *d, yaml_node_t *n, const char *pre,
			struct m_address *a)
{
	int r = f_str(d, n, pre, "value", &a->value);

	f_str(d, n, pre, "type", &a->type);
	dflt(d, &a->type, "IPAddress");
	f_required(d, n, pre, "value", r);
	if (r > 0 && a->type && !strcmp(a->type, "IPAddress") &&
	    !valid_ip(a->value))
		f_bad(d, n, pre, "value", "\"%s\" is not an IP address",
		      a->value);
}

static void dec_route_kind(struct dec *d, yaml_node_t *n, const char *pre,
			   struct m_route_kind *k)
{
	f_required(d, n, pre, "kind", f_str(d, n, pre, "kind", &k->kind));
	f_str(d, n, pre, "group", &k->group);
	dflt(d, &k->group, GW_GROUP);
}

/* Gateway API SectionName: a subdomain-like name of up to 253. */
static void check_section(struct dec *d, yaml_node_t *n, const char *pre,
			  const char *key, const char *s)
{
	if (!valid_object_name(s))
		f_bad(d, n, pre, key,
		      "\"%s\" is not a valid section name (lower-case RFC 1123: a-z, 0-9, '-', '.')",
		      s);
}

static void check_hostname(struct dec *d, int line, const char *path,
			   const char *h)
{
	if (!valid_hostname(h, 1))
		dec_diag(d, line, path,
			 "\"%s\" is not a valid hostname (lower-case RFC 1123, optional leading \"*.\")",
			 h);
}

/* allowedRoutes (@ar, at @path) of listener @l. */
static void dec_allowed(struct dec *d, yaml_node_t *ar, const char *path,
			struct m_listener *l)
{
	static const char *const froms[] = { "Same", "All", "Selector", NULL };
	char npath[FIELD_MAX], spath[FIELD_MAX];
	yaml_node_t *ns, *sel;
	char *from = NULL;

	FOR_ITEMS(d, ar, path, "kinds", l->kinds, l->nkinds, dec_route_kind);
	ns = f_map(d, ar, path, "namespaces");
	if (!ns)
		return;
	path_key(npath, path, "namespaces");
	if (f_oneof(d, ns, npath, "from", "a namespace source", froms,
		    &from) > 0)
		l->from = !strcmp(from, "All") ? M_FROM_ALL :
			  !strcmp(from, "Selector") ? M_FROM_SELECTOR :
			  M_FROM_SAME;
	free(from);
	sel = f_map(d, ns, npath, "selector");
	if (sel)
		dec_selector(d, sel, path_key(spath, npath, "selector"),
			     &l->selector);
	if (l->from == M_FROM_SELECTOR && !sel)
		f_bad(d, ns, npath, "from",
		      "from: Selector needs a selector");
}

static void dec_listener(struct dec *d, yaml_node_t *n, const char *pre,
			 struct m_listener *l)
{
	static const char *const modes[] = { "Passthrough", "Terminate",
					     NULL };
	char path[FIELD_MAX];
	yaml_node_t *tls, *ar;
	int r;

	l->line = yline(n);
	r = f_str(d, n, pre, "name", &l->name);
	f_required(d, n, pre, "name", r);
	if (r > 0)
		check_section(d, n, pre, "name", l->name);
	if (f_str(d, n, pre, "hostname", &l->hostname) > 0)
		check_hostname(d, yline(ylookup(d, n, "hostname")),
			       path_key(path, pre, "hostname"), l->hostname);
	f_required(d, n, pre, "port", f_port(d, n, pre, "port", &l->port));
	f_required(d, n, pre, "protocol",
		   f_str(d, n, pre, "protocol", &l->protocol));
	tls = f_map(d, n, pre, "tls");
	if (tls) {
		/* The CRD's default when tls is given without a mode. */
		f_oneof(d, tls, path_key(path, pre, "tls"), "mode",
			"a TLS mode", modes, &l->tls_mode);
		dflt(d, &l->tls_mode, "Terminate");
	}
	ar = f_map(d, n, pre, "allowedRoutes");
	if (ar)
		dec_allowed(d, ar, path_key(path, pre, "allowedRoutes"), l);
}

/* spec.infrastructure.parametersRef: group, kind and name, all required. */
static void dec_params(struct dec *d, yaml_node_t *spec, struct m_local_ref *r)
{
	static const char pre[] = "spec.infrastructure.parametersRef";
	yaml_node_t *inf = f_map(d, spec, "spec", "infrastructure"), *pr;

	pr = inf ? f_map(d, inf, "spec.infrastructure", "parametersRef") :
		   NULL;
	if (!pr)
		return;
	f_required(d, pr, pre, "group", f_str(d, pr, pre, "group",
					      &r->group));
	f_required(d, pr, pre, "kind", f_str(d, pr, pre, "kind", &r->kind));
	f_required(d, pr, pre, "name", f_str(d, pr, pre, "name", &r->name));
}

/* The CRD's rules "Listener name must be unique within the Gateway" and
 * "IPAddress values must be unique": a status names each listener once. */
static void check_unique(struct dec *d, yaml_node_t *spec,
			 const struct m_gateway *g)
{
	yaml_node_t *addrs = ylookup(d, spec, "addresses");
	char path[FIELD_MAX];
	size_t i, j;

	for (i = 0; i < g->nlisteners; i++)
		for (j = 0; j < i; j++)
			if (g->listeners[i].name && g->listeners[j].name &&
			    !strcmp(g->listeners[i].name,
				    g->listeners[j].name)) {
				snprintf(path, sizeof(path),
					 "spec.listeners[%zu].name", i);
				dec_diag(d, g->listeners[i].line, path,
					 "listener name \"%s\" is used twice "
					 "(listeners[%zu])",
					 g->listeners[i].name, j);
				break;
			}
	for (i = 0; i < g->naddresses; i++)
		for (j = 0; j < i; j++)
			if (g->addresses[i].value && g->addresses[j].value &&
			    !strcmp(or_empty(g->addresses[i].type),
				    or_empty(g->addresses[j].type)) &&
			    !strcmp(g->addresses[i].value,
				    g->addresses[j].value)) {
				snprintf(path, sizeof(path),
					 "spec.addresses[%zu].value", i);
				/* Item i of the list, when every item was
				 * a map (else there is a diag already). */
				dec_diag(d, ylen(addrs) == g->naddresses ?
					 yline(yitem(d, addrs, i)) :
					 yline(addrs), path,
					 "address %s is given twice",
					 g->addresses[i].value);
				break;
			}
}

void dec_gateway(struct dec *d, yaml_node_t *obj, void *out)
{
	struct m_gateway *g = out;
	yaml_node_t *spec = f_map(d, obj, "", "spec");

	f_required(d, spec, "spec", "gatewayClassName",
		   f_str(d, spec, "spec", "gatewayClassName", &g->class));
	dec_params(d, spec, &g->params);
	FOR_ITEMS(d, spec, "spec", "addresses", g->addresses, g->naddresses,
		  dec_address);
	FOR_ITEMS(d, spec, "spec", "listeners", g->listeners, g->nlisteners,
		  dec_listener);
	check_count(d, spec, "spec", "addresses", g->naddresses, 0, 16,
		    "a Gateway");
	check_count(d, spec, "spec", "listeners", g->nlisteners, 1, 64,
		    "a Gateway");
	check_unique(d, spec, g);
}

static void dec_parent(struct dec *d, yaml_node_t *n, const char *pre,
		       struct m_parent_ref *p)
{
	p->line = yline(n);
	f_required(d, n, pre, "name", f_str(d, n, pre, "name", &p->name));
	f_str(d, n, pre, "group", &p->group);
	dflt(d, &p->group, GW_GROUP);
	f_str(d, n, pre, "kind", &p->kind);
	dflt(d, &p->kind, "Gateway");
	if (f_str(d, n, pre, "namespace", &p->ns) > 0)
		check_ns(d, n, pre, "namespace", p->ns);
	if (f_str(d, n, pre, "sectionName", &p->section) > 0)
		check_section(d, n, pre, "sectionName", p->section);
	f_port(d, n, pre, "port", &p->port);
}

static void dec_backend(struct dec *d, yaml_node_t *n, const char *pre,
			struct m_backend_ref *b)
{
	long long w;
	int port;

	b->line = yline(n);
	f_required(d, n, pre, "name", f_str(d, n, pre, "name", &b->name));
	f_str(d, n, pre, "group", &b->group);
	dflt(d, &b->group, "");
	f_str(d, n, pre, "kind", &b->kind);
	dflt(d, &b->kind, "Service");
	if (f_str(d, n, pre, "namespace", &b->ns) > 0)
		check_ns(d, n, pre, "namespace", b->ns);
	port = f_port(d, n, pre, "port", &b->port);
	/* The CRD's rule: "Must have port for Service reference". */
	if (!port && b->group && !*b->group && b->kind &&
	    !strcmp(b->kind, "Service"))
		f_required(d, n, pre, "port", 0);
	b->weight = 1;
	if (f_int(d, n, pre, "weight", 0, 1000000, &w) > 0)
		b->weight = (int32_t)w;
}

static void dec_rule(struct dec *d, yaml_node_t *n, const char *pre,
		     struct m_rule *r)
{
	r->line = yline(n);
	FOR_ITEMS(d, n, pre, "backendRefs", r->refs, r->nrefs, dec_backend);
	check_count(d, n, pre, "backendRefs", r->nrefs, 1, 16, "a rule");
}

/*
 * The CRD's bounds on a TLSRoute's lists. TLSRoute v1 (standard since
 * Gateway API v1.5) and v1alpha3 need hostnames and exactly one rule;
 * v1alpha2 takes no hostname (every name) and up to 16 rules.
 */
static void check_route_lists(struct dec *d, yaml_node_t *spec,
			      const struct m_tlsroute *t)
{
	const char *v = strrchr(or_empty(d->api_version), '/');
	int alpha2 = v && !strcmp(v, "/v1alpha2");
	const char *what = alpha2 ? "TLSRoute v1alpha2" :
			   "TLSRoute v1 (and v1alpha3)";

	if (!v || (!alpha2 && strcmp(v, "/v1") && strcmp(v, "/v1alpha3")))
		return;		/* an apiVersion diag already */
	check_count(d, spec, "spec", "parentRefs", t->nparents, 0, 32, what);
	check_count(d, spec, "spec", "hostnames", t->nhostnames,
		    alpha2 ? 0 : 1, 1024, what);
	check_count(d, spec, "spec", "rules", t->nrules, 1, alpha2 ? 16 : 1,
		    what);
}

void dec_route(struct dec *d, yaml_node_t *obj, void *out)
{
	struct m_tlsroute *t = out;
	yaml_node_t *spec = f_map(d, obj, "", "spec"), *hs;
	char path[FIELD_MAX];
	size_t i;

	if (d->api_version)	/* else a diag already */
		t->api_version = dec_strdup(d, d->api_version);
	FOR_ITEMS(d, spec, "spec", "parentRefs", t->parents, t->nparents,
		  dec_parent);
	hs = dec_strv(d, spec, "spec", "hostnames", &t->hostnames,
		      &t->nhostnames);
	for (i = 0; hs && i < t->nhostnames; i++)
		if (t->hostnames[i])
			check_hostname(d, yline(yitem(d, hs, i)),
				       path_idx(path, "spec.hostnames", i),
				       t->hostnames[i]);
	FOR_ITEMS(d, spec, "spec", "rules", t->rules, t->nrules, dec_rule);
	check_route_lists(d, spec, t);
}

static void dec_grant_from(struct dec *d, yaml_node_t *n, const char *pre,
			   struct m_grant_from *f)
{
	f_str(d, n, pre, "group", &f->group);
	dflt(d, &f->group, "");
	f_required(d, n, pre, "kind", f_str(d, n, pre, "kind", &f->kind));
	f_required(d, n, pre, "namespace",
		   f_str(d, n, pre, "namespace", &f->ns));
	check_ns(d, n, pre, "namespace", f->ns);
}

static void dec_grant_to(struct dec *d, yaml_node_t *n, const char *pre,
			 struct m_grant_to *t)
{
	f_str(d, n, pre, "group", &t->group);
	dflt(d, &t->group, "");
	f_required(d, n, pre, "kind", f_str(d, n, pre, "kind", &t->kind));
	f_str(d, n, pre, "name", &t->name);
}

void dec_grant(struct dec *d, yaml_node_t *obj, void *out)
{
	struct m_refgrant *g = out;
	yaml_node_t *spec = f_map(d, obj, "", "spec");

	FOR_ITEMS(d, spec, "spec", "from", g->from, g->nfrom, dec_grant_from);
	FOR_ITEMS(d, spec, "spec", "to", g->to, g->nto, dec_grant_to);
}

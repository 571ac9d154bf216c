// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The fields of each kind, decoded into its struct of model.h and checked
 * as the API server checks them (names, addresses, enums, ranges). Every
 * invalid field is a diag; the decoder carries on, so that one run names
 * every problem of an object.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode_int.h"
#include "validate.h"

/* --- common pieces ---------------------------------------------------- */

static const char *const protocols[] = { "TCP", "UDP", "SCTP", NULL };

/* A map of strings (labels, a selector) into @out. */
static void dec_labels(struct dec *d, yaml_node_t *map, const char *path,
		       struct m_label **out, size_t *n)
{
	char kpath[FIELD_MAX];
	yaml_node_pair_t *p;

	for (p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = ynode(d, p->key), *v = ynode(d, p->value);
		struct m_label *l;

		if (k->type != YAML_SCALAR_NODE) {
			f_type_err(d, k, path, "a string key");
			continue;
		}
		path_key(kpath, path, ytext(k));
		/* A null value is "" to kubectl; anything else not a string
		 * is refused by the API server. */
		if (!yis(v, SC_NULL) && !yis(v, SC_STR)) {
			f_type_err(d, v, kpath, "a string");
			continue;
		}
		l = APPEND(d, *out, *n);
		if (!l)
			return;
		l->key = dec_strdup(d, ytext(k));
		l->value = dec_strdup(d, yis(v, SC_NULL) ? "" : ytext(v));
	}
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

/* Every string of list @key of @map into @out; returns the list. */
static yaml_node_t *dec_strv(struct dec *d, yaml_node_t *map, const char *pre,
			     const char *key, char ***out, size_t *n)
{
	char path[FIELD_MAX], ipath[FIELD_MAX];
	yaml_node_t *seq = f_seq(d, map, pre, key);
	size_t i;

	path_key(path, pre, key);
	for (i = 0; seq && i < ylen(seq); i++) {
		char **s = APPEND(d, *out, *n);

		if (!s)
			break;
		f_val_str(d, yitem(d, seq, i), path_idx(ipath, path, i), s);
	}
	return seq;
}

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

/* Default @s to @def when the manifest had none. */
static void dflt(struct dec *d, char **s, const char *def)
{
	if (!*s)
		*s = dec_strdup(d, def);
}

/*
 * Calls @fn on every item of list @key of @map that is a map, with its
 * path, after appending a zeroed element for it to @arr.
 */
#define FOR_ITEMS(d, map, pre, key, arr, n, fn) do {			\
	char path_[FIELD_MAX], ipath_[FIELD_MAX];			\
	yaml_node_t *seq_ = f_seq((d), (map), (pre), (key));		\
	size_t i_;							\
									\
	path_key(path_, (pre), (key));					\
	for (i_ = 0; seq_ && i_ < ylen(seq_); i_++) {		\
		yaml_node_t *it_ = yitem((d), seq_, i_);		\
		void *e_;						\
									\
		path_idx(ipath_, path_, i_);				\
		if (!f_item_map((d), it_, ipath_))			\
			continue;					\
		e_ = APPEND((d), (arr), (n));				\
		if (!e_)						\
			break;						\
		fn((d), it_, ipath_, e_);				\
	}								\
} while (0)

/* --- the kinds -------------------------------------------------------- */

/*
 * The API server gives every Namespace the label
 * kubernetes.io/metadata.name, its name, and keeps it so; a directory of
 * manifests gets the same, so that selectors on it match in both.
 */
static void dec_namespace(struct dec *d, yaml_node_t *obj, void *out)
{
	struct m_meta *m = &((struct m_namespace *)out)->meta;
	struct m_label *l = NULL;
	size_t i;

	(void)obj;
	if (!m->name)
		return;
	for (i = 0; i < m->nlabels && !l; i++)
		if (!strcmp(m->labels[i].key, M_NS_NAME_LABEL))
			l = &m->labels[i];
	if (!l) {
		l = APPEND(d, m->labels, m->nlabels);
		if (!l)
			return;
		l->key = dec_strdup(d, M_NS_NAME_LABEL);
	}
	free(l->value);
	l->value = dec_strdup(d, m->name);
}

static void dec_class(struct dec *d, yaml_node_t *obj, void *out)
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

static void dec_gateway(struct dec *d, yaml_node_t *obj, void *out)
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
	if (!ylookup(d, spec, "listeners"))
		f_required(d, spec, "spec", "listeners", 0);
}

static void check_ns(struct dec *d, yaml_node_t *n, const char *pre,
		     const char *key, const char *ns)
{
	if (ns && !valid_dns_label(ns))
		f_bad(d, n, pre, key,
		      "\"%s\" is not a valid namespace (lower-case RFC 1123 label)",
		      ns);
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

static void dec_route(struct dec *d, yaml_node_t *obj, void *out)
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

/* targetPort: a number, or the name of a Pod's port. */
static void dec_target_port(struct dec *d, yaml_node_t *n, const char *pre,
			    struct m_svc_port *p)
{
	yaml_node_t *v = ylookup(d, n, "targetPort");
	const char *s;
	long port;

	if (!v || !yis(v, SC_STR)) {
		f_port(d, n, pre, "targetPort", &p->target_port);
		return;
	}
	s = ytext(v);
	/* A quoted number is a number to kubectl's int-or-string too. */
	if (*s && strspn(s, "0123456789") == strlen(s)) {
		port = strlen(s) > 5 ? 0 : strtol(s, NULL, 10);
		if (port < 1 || port > 65535)
			f_bad(d, n, pre, "targetPort",
			      "targetPort %s is out of range 1..65535", s);
		else
			p->target_port = (uint16_t)port;
		return;
	}
	if (f_str(d, n, pre, "targetPort", &p->target_name) > 0 &&
	    !valid_port_name(p->target_name))
		f_bad(d, n, pre, "targetPort",
		      "\"%s\" is not a valid port name (1-15 of a-z, 0-9, '-', with a letter)",
		      p->target_name);
}

static void dec_svc_port(struct dec *d, yaml_node_t *n, const char *pre,
			 struct m_svc_port *p)
{
	if (f_str(d, n, pre, "name", &p->name) > 0 && !valid_dns_label(p->name))
		f_bad(d, n, pre, "name",
		      "\"%s\" is not a valid port name (lower-case RFC 1123 label)",
		      p->name);
	f_required(d, n, pre, "port", f_port(d, n, pre, "port", &p->port));
	dec_target_port(d, n, pre, p);
	f_oneof(d, n, pre, "protocol", "a protocol", protocols, &p->protocol);
	dflt(d, &p->protocol, "TCP");
}

static void dec_service(struct dec *d, yaml_node_t *obj, void *out)
{
	struct m_service *s = out;
	yaml_node_t *spec = f_map(d, obj, "", "spec"), *sel;

	sel = f_map(d, spec, "spec", "selector");
	if (sel)
		dec_labels(d, sel, "spec.selector", &s->selector,
			   &s->nselector);
	/* The API server stores an empty selector as none. */
	s->has_selector = s->nselector > 0;
	FOR_ITEMS(d, spec, "spec", "ports", s->ports, s->nports,
		  dec_svc_port);
}

static void dec_endpoint(struct dec *d, yaml_node_t *n, const char *pre,
			 struct m_endpoint *e)
{
	char path[FIELD_MAX];
	yaml_node_t *c;

	e->ready = e->serving = e->terminating = M_UNSET;
	if (!dec_strv(d, n, pre, "addresses", &e->addresses, &e->naddresses))
		f_required(d, n, pre, "addresses", 0);
	c = f_map(d, n, pre, "conditions");
	path_key(path, pre, "conditions");
	f_bool(d, c, path, "ready", &e->ready);
	f_bool(d, c, path, "serving", &e->serving);
	f_bool(d, c, path, "terminating", &e->terminating);
}

static void dec_eps_port(struct dec *d, yaml_node_t *n, const char *pre,
			 struct m_eps_port *p)
{
	f_str(d, n, pre, "name", &p->name);
	f_port(d, n, pre, "port", &p->port);
	f_oneof(d, n, pre, "protocol", "a protocol", protocols, &p->protocol);
	dflt(d, &p->protocol, "TCP");
}

/* Each endpoint address must be of the slice's addressType. */
static void check_eps_addresses(struct dec *d, yaml_node_t *obj,
				struct m_endpointslice *s)
{
	yaml_node_t *eps = ylookup(d, obj, "endpoints"), *addrs;
	char path[FIELD_MAX];
	unsigned char buf[16];
	size_t i, j;
	int af = !strcmp(s->address_type, "IPv4") ? AF_INET :
		 !strcmp(s->address_type, "IPv6") ? AF_INET6 : 0;

	for (i = 0; i < s->nendpoints; i++) {
		addrs = ylookup(d, yitem(d, eps, i), "addresses");
		for (j = 0; j < s->endpoints[i].naddresses; j++) {
			const char *a = s->endpoints[i].addresses[j];

			if (!a || (af ? inet_pton(af, a, buf) == 1 :
				   valid_dns_subdomain(a)))
				continue;
			snprintf(path, sizeof(path),
				 "endpoints[%zu].addresses[%zu]", i, j);
			dec_diag(d, yline(yitem(d, addrs, j)), path,
				 "\"%s\" is not an %s address", a,
				 s->address_type);
		}
	}
}

static void dec_slice(struct dec *d, yaml_node_t *obj, void *out)
{
	static const char *const types[] = { "IPv4", "IPv6", "FQDN", NULL };
	struct m_endpointslice *s = out;
	size_t i;
	int r;

	for (i = 0; i < s->meta.nlabels; i++)
		if (!strcmp(s->meta.labels[i].key,
			    "kubernetes.io/service-name"))
			s->service = dec_strdup(d, s->meta.labels[i].value);
	r = f_oneof(d, obj, "", "addressType", "an address type", types,
		    &s->address_type);
	f_required(d, obj, "", "addressType", r);
	FOR_ITEMS(d, obj, "", "endpoints", s->endpoints, s->nendpoints,
		  dec_endpoint);
	FOR_ITEMS(d, obj, "", "ports", s->ports, s->nports, dec_eps_port);
	/* Only when every endpoint was a map: then endpoints[i] is item i. */
	if (r > 0 && !d->errors)
		check_eps_addresses(d, obj, s);
}

static void dec_container_port(struct dec *d, yaml_node_t *n,
			       const char *pre, struct m_container_port *p)
{
	if (f_str(d, n, pre, "name", &p->name) > 0 && !valid_port_name(p->name))
		f_bad(d, n, pre, "name",
		      "\"%s\" is not a valid port name (1-15 of a-z, 0-9, '-', with a letter)",
		      p->name);
	f_required(d, n, pre, "containerPort",
		   f_port(d, n, pre, "containerPort", &p->port));
	f_oneof(d, n, pre, "protocol", "a protocol", protocols, &p->protocol);
	dflt(d, &p->protocol, "TCP");
}

static void add_pod_ip(struct dec *d, struct m_pod *p, yaml_node_t *n,
		       const char *path)
{
	char *ip = NULL, **slot;
	size_t i;

	if (f_val_str(d, n, path, &ip))
		return;
	if (!valid_ip(ip)) {
		dec_diag(d, yline(n), path, "\"%s\" is not an IP address", ip);
		free(ip);
		return;
	}
	for (i = 0; i < p->nips; i++)
		if (!strcmp(p->ips[i], ip)) {
			free(ip);
			return;
		}
	slot = APPEND(d, p->ips, p->nips);
	if (slot)
		*slot = ip;
	else
		free(ip);
}

static void dec_pod_status(struct dec *d, yaml_node_t *st, struct m_pod *p)
{
	char path[FIELD_MAX];
	yaml_node_t *ip = ylookup(d, st, "podIP"), *ips, *conds, *it;
	size_t i;

	if (ip)
		add_pod_ip(d, p, ip, "status.podIP");
	ips = f_seq(d, st, "status", "podIPs");
	for (i = 0; ips && i < ylen(ips); i++) {
		it = yitem(d, ips, i);
		path_idx(path, "status.podIPs", i);
		if (!f_item_map(d, it, path))
			continue;
		ip = ylookup(d, it, "ip");
		snprintf(path, sizeof(path), "status.podIPs[%zu].ip", i);
		if (ip)
			add_pod_ip(d, p, ip, path);
	}
	conds = f_seq(d, st, "status", "conditions");
	for (i = 0; conds && i < ylen(conds); i++) {
		char *type = NULL, *status = NULL;

		it = yitem(d, conds, i);
		path_idx(path, "status.conditions", i);
		if (!f_item_map(d, it, path))
			continue;
		f_str(d, it, path, "type", &type);
		f_str(d, it, path, "status", &status);
		if (type && status && !strcmp(type, "Ready"))
			p->ready = !strcmp(status, "True");
		free(type);
		free(status);
	}
}

static void dec_pod(struct dec *d, yaml_node_t *obj, void *out)
{
	struct m_pod *p = out;
	yaml_node_t *spec = f_map(d, obj, "", "spec"), *cs, *st;
	char path[FIELD_MAX];
	size_t i;

	p->terminating = !!ylookup(d, ylookup(d, obj, "metadata"),
				   "deletionTimestamp");
	cs = f_seq(d, spec, "spec", "containers");
	for (i = 0; cs && i < ylen(cs); i++) {
		yaml_node_t *c = yitem(d, cs, i);

		path_idx(path, "spec.containers", i);
		if (f_item_map(d, c, path))
			FOR_ITEMS(d, c, path, "ports", p->ports, p->nports,
				  dec_container_port);
	}
	st = f_map(d, obj, "", "status");
	if (st)
		dec_pod_status(d, st, p);
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

static void dec_grant(struct dec *d, yaml_node_t *obj, void *out)
{
	struct m_refgrant *g = out;
	yaml_node_t *spec = f_map(d, obj, "", "spec");

	FOR_ITEMS(d, spec, "spec", "from", g->from, g->nfrom, dec_grant_from);
	FOR_ITEMS(d, spec, "spec", "to", g->to, g->nto, dec_grant_to);
}


/* --- metadata, common to every kind ----------------------------------- */

void dec_meta(struct dec *d, yaml_node_t *obj, const struct m_kind *k,
		     struct m_meta *m)
{
	yaml_node_t *md = f_map(d, obj, "", "metadata"), *labels;
	char *ts = NULL;
	long long gen = 0;
	int r;

	m->where.file = dec_strdup(d, d->file);
	m->where.line = d->line;
	r = f_str(d, md, "metadata", "name", &m->name);
	f_required(d, md, "metadata", "name", r);
	if (r > 0 && !(k->label_name ? valid_dns_label(m->name) :
		       valid_object_name(m->name)))
		f_bad(d, md, "metadata", "name",
		      "\"%s\" is not a valid name (lower-case RFC 1123 %s: a-z, 0-9, '-'%s)",
		      m->name, k->label_name ? "label" : "subdomain",
		      k->label_name ? "" : ", '.'");
	if (k->namespaced) {
		if (f_str(d, md, "metadata", "namespace", &m->ns) > 0)
			check_ns(d, md, "metadata", "namespace", m->ns);
		dflt(d, &m->ns, "default");
	}
	if (f_str(d, md, "metadata", "creationTimestamp", &ts) > 0 &&
	    rfc3339_parse(ts, &m->created))
		f_bad(d, md, "metadata", "creationTimestamp",
		      "\"%s\" is not an RFC 3339 time (e.g. 2026-01-02T03:04:05Z)",
		      ts);
	free(ts);
	f_int(d, md, "metadata", "generation", 0, INT64_MAX, &gen);
	m->generation = gen;
	labels = f_map(d, md, "metadata", "labels");
	if (labels)
		dec_labels(d, labels, "metadata.labels", &m->labels,
			   &m->nlabels);
}

/* --- the table -------------------------------------------------------- */

dec_fn *const dec_kinds[M_NKINDS] = {
	[M_NAMESPACE] = dec_namespace,
	[M_GATEWAYCLASS] = dec_class,
	[M_GATEWAY] = dec_gateway,
	[M_TLSROUTE] = dec_route,
	[M_SERVICE] = dec_service,
	[M_ENDPOINTSLICE] = dec_slice,
	[M_POD] = dec_pod,
	[M_REFERENCEGRANT] = dec_grant,
};

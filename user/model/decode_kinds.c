// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The fields of each kind, decoded into its struct of model.h and checked
 * as the API server checks them (names, addresses, enums, ranges). Every
 * invalid field is a diag; the decoder carries on, so that one run names
 * every problem of an object. This file: the core kinds, metadata and
 * the pieces every kind uses; the Gateway API kinds in decode_gwapi.c.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode_int.h"
#include "validate.h"

/* --- common pieces ---------------------------------------------------- */

static const char *const protocols[] = { "TCP", "UDP", "SCTP", NULL };
static const char *const proxy_values[] = { "v2", "none", NULL };

/* A map of strings (labels, a selector) into @out. */
void dec_labels(struct dec *d, yaml_node_t *map, const char *path,
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

/* Every string of list @key of @map into @out; returns the list. */
yaml_node_t *dec_strv(struct dec *d, yaml_node_t *map, const char *pre,
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

void check_ns(struct dec *d, yaml_node_t *n, const char *pre,
	      const char *key, const char *ns)
{
	if (ns && !valid_dns_label(ns))
		f_bad(d, n, pre, key,
		      "\"%s\" is not a valid namespace (lower-case RFC 1123 label)",
		      ns);
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

/* metadata.annotations[M_PROXY_ANNOTATION]: a value it does not know
 * makes the Service invalid (kept at its last good version), as a
 * header a backend did not ask for breaks every connection to it. */
static void dec_proxy(struct dec *d, yaml_node_t *obj, struct m_service *s)
{
	yaml_node_t *md = f_map(d, obj, "", "metadata"), *an;
	char *v = NULL;

	an = md ? f_map(d, md, "metadata", "annotations") : NULL;
	if (an && f_oneof(d, an, "metadata.annotations", M_PROXY_ANNOTATION,
			  "a PROXY protocol version", proxy_values, &v) > 0)
		s->proxy_v2 = !strcmp(v, "v2");
	free(v);
}

/* status.loadBalancer.ingress[].ip: the addresses a load balancer
 * (MetalLB, a cloud's) gave a LoadBalancer Service; hostnames are not
 * VIPs and are left out. */
static void dec_lb_ingress(struct dec *d, yaml_node_t *obj,
			   struct m_service *s)
{
	const char *pre = "status.loadBalancer";
	yaml_node_t *st = f_map(d, obj, "", "status"), *lb, *seq;
	char path[FIELD_MAX], ipath[FIELD_MAX], *ip, **slot;
	size_t i;

	lb = st ? f_map(d, st, "status", "loadBalancer") : NULL;
	seq = lb ? f_seq(d, lb, pre, "ingress") : NULL;
	path_key(path, pre, "ingress");
	for (i = 0; seq && i < ylen(seq); i++) {
		yaml_node_t *it = yitem(d, seq, i);

		path_idx(ipath, path, i);
		ip = NULL;
		if (!f_item_map(d, it, ipath) || f_str(d, it, ipath, "ip",
						       &ip) <= 0)
			continue;
		if (!valid_ip(ip)) {
			f_bad(d, it, ipath, "ip", "\"%s\" is not an IP "
			      "address", ip);
			free(ip);
			continue;
		}
		slot = APPEND(d, s->lb_ips, s->nlb_ips);
		if (!slot) {
			free(ip);
			break;
		}
		*slot = ip;
	}
}

static void dec_service(struct dec *d, yaml_node_t *obj, void *out)
{
	struct m_service *s = out;
	yaml_node_t *spec = f_map(d, obj, "", "spec"), *sel;

	dec_proxy(d, obj, s);
	f_str(d, spec, "spec", "type", &s->type);
	dec_lb_ingress(d, obj, s);

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
	f_str(d, spec, "spec", "nodeName", &p->node_name);
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
	f_str(d, md, "metadata", "uid", &m->uid);
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

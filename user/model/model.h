/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The Kubernetes objects snilb reads, decoded: only the fields the Gateway
 * API semantics (user/gwapi/gwapi.c) need. The manifest decoder (user/model/manifest.c)
 * fills a model from YAML files; the Kubernetes source (a later issue)
 * will fill the same structures from the API server.
 *
 * Every string is owned by the model (model_free() frees them). Absent
 * optional strings are NULL; absent numbers are 0 unless said otherwise.
 * Each object remembers where it came from, so that an error about it can
 * name the file and line.
 */
#ifndef SNILB_USER_MODEL_H
#define SNILB_USER_MODEL_H

#include <stddef.h>
#include <stdint.h>

struct m_where {
	char *file;		/* path as given */
	int line;		/* 1-based line of the object's `kind:` */
};

struct m_label {
	char *key;
	char *value;
};

/* A label selector: matchLabels and matchExpressions. */
enum m_sel_op { M_SEL_IN, M_SEL_NOT_IN, M_SEL_EXISTS, M_SEL_NOT_EXIST };

struct m_sel_expr {
	char *key;
	enum m_sel_op op;
	char **values;
	size_t nvalues;
};

struct m_selector {
	struct m_label *match;	/* matchLabels */
	size_t nmatch;
	struct m_sel_expr *exprs;
	size_t nexprs;
};

struct m_meta {
	char *ns;		/* "default" when the manifest has none */
	char *name;
	int64_t created;	/* creationTimestamp, Unix seconds; 0: absent */
	int64_t generation;	/* metadata.generation; 0: absent */
	struct m_label *labels;
	size_t nlabels;
	struct m_where where;
};

struct m_namespace {
	struct m_meta meta;	/* meta.ns is NULL */
};

struct m_gatewayclass {
	struct m_meta meta;	/* meta.ns is NULL */
	char *controller;	/* spec.controllerName */
};

enum m_from { M_FROM_SAME = 0, M_FROM_ALL, M_FROM_SELECTOR };

struct m_route_kind {
	char *group;		/* default "gateway.networking.k8s.io" */
	char *kind;
};

struct m_listener {
	char *name;
	char *hostname;		/* NULL: any */
	uint16_t port;
	char *protocol;		/* "TLS", "HTTPS", ... as written */
	char *tls_mode;		/* "Passthrough" (default when tls is
				 * absent: NULL), "Terminate" */
	enum m_from from;	/* allowedRoutes.namespaces.from */
	struct m_selector selector;	/* ... .selector, for M_FROM_SELECTOR */
	struct m_route_kind *kinds;	/* allowedRoutes.kinds; none: default */
	size_t nkinds;
	int line;
};

struct m_address {
	char *type;		/* "IPAddress" (default) or other */
	char *value;
};

struct m_gateway {
	struct m_meta meta;
	char *class;		/* spec.gatewayClassName */
	struct m_address *addresses;
	size_t naddresses;
	struct m_listener *listeners;
	size_t nlisteners;
};

struct m_parent_ref {
	char *group;		/* default "gateway.networking.k8s.io" */
	char *kind;		/* default "Gateway" */
	char *ns;		/* NULL: the route's namespace */
	char *name;
	char *section;		/* sectionName, NULL: every listener */
	uint16_t port;		/* 0: any */
	int line;
};

struct m_backend_ref {
	char *group;		/* default "" (core) */
	char *kind;		/* default "Service" */
	char *ns;		/* NULL: the route's namespace */
	char *name;
	uint16_t port;		/* 0: absent (an error for a Service) */
	int32_t weight;		/* default 1; 0..1000000 */
	int line;
};

struct m_rule {
	struct m_backend_ref *refs;
	size_t nrefs;
	int line;
};

struct m_tlsroute {
	struct m_meta meta;
	char *api_version;	/* "gateway.networking.k8s.io/v1alpha2", ... */
	struct m_parent_ref *parents;
	size_t nparents;
	char **hostnames;	/* as written (validated, lower case) */
	size_t nhostnames;
	struct m_rule *rules;
	size_t nrules;
};

struct m_svc_port {
	char *name;		/* NULL when unnamed */
	uint16_t port;
	uint16_t target_port;	/* numeric targetPort; 0 when named/absent */
	char *target_name;	/* named targetPort; NULL when numeric */
	char *protocol;		/* default "TCP" */
};

struct m_service {
	struct m_meta meta;
	struct m_label *selector;	/* spec.selector; none: no Pods */
	size_t nselector;
	int has_selector;
	struct m_svc_port *ports;
	size_t nports;
};

enum m_tristate { M_UNSET = -1, M_FALSE = 0, M_TRUE = 1 };

struct m_endpoint {
	char **addresses;
	size_t naddresses;
	enum m_tristate ready, serving, terminating;	/* conditions */
};

struct m_eps_port {
	char *name;		/* NULL: unnamed */
	uint16_t port;
	char *protocol;		/* default "TCP" */
};

struct m_endpointslice {
	struct m_meta meta;
	char *service;		/* label kubernetes.io/service-name */
	char *address_type;	/* "IPv4", "IPv6", "FQDN" */
	struct m_endpoint *endpoints;
	size_t nendpoints;
	struct m_eps_port *ports;
	size_t nports;
};

struct m_container_port {
	char *name;		/* NULL: unnamed */
	uint16_t port;
	char *protocol;		/* default "TCP" */
};

struct m_pod {
	struct m_meta meta;
	char **ips;		/* status.podIP, then status.podIPs[] not
				 * already listed */
	size_t nips;
	int ready;		/* status.conditions Ready=True */
	int terminating;	/* metadata.deletionTimestamp set */
	struct m_container_port *ports;	/* spec.containers[].ports[] */
	size_t nports;
};

struct m_grant_from {
	char *group;
	char *kind;
	char *ns;
};

struct m_grant_to {
	char *group;
	char *kind;
	char *name;		/* NULL: any */
};

struct m_refgrant {
	struct m_meta meta;
	struct m_grant_from *from;
	size_t nfrom;
	struct m_grant_to *to;
	size_t nto;
};

/*
 * A problem with the input: where it is, which field, what is wrong.
 * @kind/@ns/@name name the object it belongs to when it is known (a YAML
 * syntax error belongs to no object).
 */
struct m_diag {
	char *file;
	int line;
	char *field;		/* "spec.listeners[0].port"; NULL: none */
	char *msg;
	char *kind, *ns, *name;
};

struct model {
	struct m_namespace *namespaces;
	size_t nnamespaces;
	struct m_gatewayclass *classes;
	size_t nclasses;
	struct m_gateway *gateways;
	size_t ngateways;
	struct m_tlsroute *routes;
	size_t nroutes;
	struct m_service *services;
	size_t nservices;
	struct m_endpointslice *slices;
	size_t nslices;
	struct m_pod *pods;
	size_t npods;
	struct m_refgrant *grants;
	size_t ngrants;
	struct m_diag *diags;
	size_t ndiags;
};

void model_free(struct model *m);

#endif /* SNILB_USER_MODEL_H */

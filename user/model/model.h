/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The Kubernetes objects snilb reads, decoded: only the fields the Gateway
 * API semantics (user/gwapi/) need, the one table of their kinds, and
 * every operation on a model. The decoder (decode.h) fills a model from
 * YAML or JSON; both sources (user/source/) hand the agent one.
 *
 * Every string is owned by the model (model_free() frees them). Absent
 * optional strings are NULL; absent numbers are 0 unless said otherwise.
 * Each object remembers where it came from, so that an error about it can
 * name the file and line.
 *
 * A field added to a struct here is also read by the decoder
 * (decode_kinds.c, decode_gwapi.c) and, when it holds a pointer, walked in model.c (which
 * frees and copies it).
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
	char *uid;		/* metadata.uid; NULL: absent (manifests) */
	struct m_label *labels;
	size_t nlabels;
	struct m_where where;
};

/* The label the API server puts on every Namespace: its name. */
#define M_NS_NAME_LABEL	"kubernetes.io/metadata.name"

struct m_namespace {
	struct m_meta meta;	/* meta.ns is NULL; labels include
				 * M_NS_NAME_LABEL */
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

/* A reference to an object in the same namespace, by group and kind. */
struct m_local_ref {
	char *group;		/* "" for the core group */
	char *kind;
	char *name;
};

struct m_gateway {
	struct m_meta meta;
	char *class;		/* spec.gatewayClassName */
	struct m_local_ref params;	/* spec.infrastructure.parametersRef;
					 * kind NULL: none */
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
	int proxy_v2;		/* annotation M_PROXY_ANNOTATION: "v2" */
	char *type;		/* spec.type; NULL: ClusterIP */
	char **lb_ips;		/* status.loadBalancer.ingress[].ip */
	size_t nlb_ips;
};

/*
 * The annotation on a Service whose backends read a PROXY protocol v2
 * header before the client's bytes (docs/agent.md, "PROXY protocol"):
 * "v2", or "none" (as if absent).
 */
#define M_PROXY_ANNOTATION	"snilb.io/proxy-protocol"

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
	char *node_name;	/* spec.nodeName */
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
	/* The source can create Services (the API server): a Gateway
	 * without spec.addresses gets a LoadBalancer Service (gwapi). */
	int lb_services;
};

/* --- the kinds ---------------------------------------------------------- */

#define GW_GROUP	"gateway.networking.k8s.io"

/* In the order of their arrays in struct model. */
enum m_kind_id {
	M_NAMESPACE,
	M_GATEWAYCLASS,
	M_GATEWAY,
	M_TLSROUTE,
	M_SERVICE,
	M_ENDPOINTSLICE,
	M_POD,
	M_REFERENCEGRANT,
	M_NKINDS
};

struct m_walk;

/*
 * A kind of object: how the API names and serves it (for the decoder's
 * apiVersion check and the Kubernetes source's paths) and where its
 * objects are in struct model. Every object struct starts with its
 * struct m_meta.
 */
struct m_kind {
	const char *name;	/* "Gateway" */
	const char *group;	/* GW_GROUP, ...; "": the core group */
	const char *resource;	/* "gateways", in API paths */
	const char *const *versions;	/* served ones, preferred first */
	int crd;		/* defined by a CRD: its version is found by
				 * discovery, and it may be absent */
	int namespaced;
	int label_name;		/* its name is an RFC 1123 label, not a
				 * subdomain */
	size_t arr, count, size;	/* offsets of its array and count
					 * in struct model; one's size */
	void (*walk)(struct m_walk *w, void *obj);	/* model.c */
};

extern const struct m_kind m_kinds[M_NKINDS];

/* The kind named @name ("Gateway"), or NULL. */
const struct m_kind *model_kind(const char *name);

/* The array of kind @k in @m (objects of k->size bytes) and, in *@n, a
 * pointer to its count. */
void *model_array(struct model *m, const struct m_kind *k, size_t **n);

/* --- operations --------------------------------------------------------- */

/* Frees every object, diag and string of @m, and zeroes it. */
void model_free(struct model *m);

/* Frees what one object of kind @k points to (not @obj itself). */
void model_free_object(const struct m_kind *k, void *obj);

/* Appends @obj, of kind @k, to @m: its strings now belong to @m. 0, or
 * -ENOMEM (then @obj is still the caller's). */
int model_append(struct model *m, const struct m_kind *k, const void *obj);

/* Moves every object and diag of @src to the end of @dst; @src is left
 * empty. Out of memory: what could not move is freed, -ENOMEM. */
int model_absorb(struct model *dst, struct model *src);

/*
 * Appends deep copies of every object and diag of the @n models @src to
 * @dst, each array grown once. 0, or -ENOMEM: then @dst holds what was
 * copied, partly, and model_free() frees it all.
 */
int model_copy(struct model *dst, const struct model *const *src, size_t n);

/*
 * Move the object @kind/@ns/@name (@ns NULL for cluster-scoped kinds) from
 * @src to the end of @dst, e.g. to keep the last good version of an object
 * whose new version is bad. @kind is "Gateway", "TLSRoute", ... Returns 0,
 * -ENOENT (no such object, or not a kind of model.h) or -ENOMEM.
 */
int model_move_object(struct model *dst, struct model *src, const char *kind,
		      const char *ns, const char *name);

/*
 * Append shallow copies of every object and diag of @src to @dst: the
 * strings stay owned by @src, which must outlive @dst. Free such a model
 * with model_free_shallow() (arrays only). Returns 0 or -ENOMEM (then @dst
 * may hold part of @src).
 */
int model_concat_shallow(struct model *dst, const struct model *src);
void model_free_shallow(struct model *m);

/* Append a diag (strings copied) to @m: 0 or -ENOMEM. */
int model_add_diag(struct model *m, const char *file, int line,
		   const char *field, const char *msg, const char *kind,
		   const char *ns, const char *name);

#endif /* SNILB_USER_MODEL_H */

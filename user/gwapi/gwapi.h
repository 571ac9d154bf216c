/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Gateway API semantics for TLS passthrough: from the objects in a model
 * to what the data plane must hold (listeners, hostnames -> routes ->
 * weighted endpoint sets) and the status an implementation would write
 * (route and listener conditions, attachedRoutes). Pure computation: no
 * maps, no I/O, so the unit tests can drive it with tables of cases.
 */
#ifndef SNILB_USER_GWAPI_H
#define SNILB_USER_GWAPI_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"

#define GW_CONTROLLER	"snilb.io/gateway-controller"
#define GW_ADDR_MAX	46	/* INET6_ADDRSTRLEN */
#define GW_NAME_MAX	254	/* names, section names, hostnames */
#define GW_NSNAME_MAX	(64 + GW_NAME_MAX)	/* "ns/name" */

struct gw_cond {
	const char *type;	/* "Accepted", "ResolvedRefs", ... */
	int status;		/* 1 True, 0 False */
	const char *reason;
	char msg[256];
};

/* A data plane listener: one VIP and port, shared by every Gateway
 * listener on it. */
struct gw_vip {
	int family;		/* 4 or 6 */
	char addr[GW_ADDR_MAX];	/* canonical text form */
	uint16_t port;
};

struct gw_endpoint {
	char addr[GW_ADDR_MAX];
	uint16_t port;
	uint8_t proxy_v2;	/* its Service asks for a PROXY v2 header:
				 * another backend than the same address
				 * without */
	uint32_t weight;	/* Maglev weight, reduced */
};

/*
 * A backend set: endpoints sorted by address and port, and the weight of
 * the connections to reset instead (the share of backendRefs that are
 * invalid or have no endpoint of the set's family: rejections respect
 * weight). No endpoint: every connection is reset, and @reset is 0. Sets
 * with the same endpoints and weights are one set.
 */
struct gw_set {
	struct gw_endpoint *eps;
	size_t neps;
	uint32_t reset;		/* Maglev weight of the reset share */
};

/* One resolved backendRef of a route, for status and `snilb routes`. */
struct gw_ref {
	char service[GW_NSNAME_MAX];	/* ns/name */
	uint16_t port;
	int32_t weight;
	int proxy_v2;			/* its Service's annotation */
	struct gw_endpoint *eps;	/* this ref's endpoints */
	size_t neps;
};

/* A route parent's conditions: Accepted, ResolvedRefs, and
 * PartiallyInvalid when the route is kept at its last good version
 * (type NULL when not set). */
#define GW_ROUTE_CONDS	3

struct gw_parent {
	const struct m_parent_ref *ref;	/* as the route wrote it */
	char gateway[GW_NSNAME_MAX];	/* ns/name */
	char section[GW_NAME_MAX];	/* "" when the ref names none */
	struct gw_cond conds[GW_ROUTE_CONDS];
};

struct gw_route {
	const struct m_tlsroute *src;
	char ns[64], name[GW_NAME_MAX];
	struct gw_parent *parents;
	size_t nparents;
	struct gw_ref *refs;
	size_t nrefs;
	/* Index into gw_out.sets: the IPv4 endpoints for IPv4 VIPs, the
	 * IPv6 ones for IPv6 VIPs (the data plane does not translate
	 * between families). */
	size_t set[2];
};

/* hostname on a VIP -> route. @shadowed_by: another route won it (index
 * into routes, or -1). Only entries with shadowed_by -1 are programmed. */
struct gw_entry {
	size_t vip;
	size_t set;			/* the route's set for the VIP's family */
	char hostname[GW_NAME_MAX];	/* "*" for every name */
	size_t route;
	long shadowed_by;
};

/* Indexes into gw_listener_status.conds. */
enum { GW_L_ACCEPTED, GW_L_RESOLVED, GW_L_CONFLICTED, GW_L_PROGRAMMED,
       GW_L_NCONDS };

struct gw_listener_status {
	char name[GW_NAME_MAX];
	uint16_t port;
	char hostname[GW_NAME_MAX];
	uint32_t attached;
	/* status.supportedKinds is [TLSRoute] when set, [] otherwise: an
	 * invalid listener, or one whose allowedRoutes.kinds lack it. */
	int tlsroute_ok;
	struct gw_cond conds[GW_L_NCONDS];
	size_t nconds;
};

/* Indexes into gw_gateway_status.conds. */
enum { GW_G_ACCEPTED, GW_G_PROGRAMMED, GW_G_NCONDS };

struct gw_gateway_status {
	const struct m_gateway *src;
	char ns[64], name[GW_NAME_MAX];
	char class_name[GW_NAME_MAX];
	struct gw_cond conds[GW_G_NCONDS];
	/* status.addresses: the VIPs served, as spec.addresses (or the
	 * LoadBalancer Service's status) writes them (strings of the
	 * model); none unless programmed. */
	const char **addresses;
	size_t naddresses;
	struct gw_listener_status *listeners;
	size_t nlisteners;
};

/* A GatewayClass of snilb's controller. */
struct gw_class_status {
	const struct m_gatewayclass *src;
	char name[GW_NAME_MAX];
	struct gw_cond conds[1];	/* Accepted */
};

/*
 * A Gateway without spec.addresses gets its VIPs from a LoadBalancer
 * Service snilb creates for it when the source can (model.lb_services:
 * the API server), as Envoy Gateway and Cilium do: a load balancer
 * (MetalLB, a cloud's) gives it an address, and the Gateway listens
 * there. The Service is snilb's by its label GW_LB_LABEL; one without it
 * is never changed.
 */
#define GW_LB_LABEL	"snilb.io/gateway"
#define GW_LB_PREFIX	"snilb-gw-"
#define GW_LB_PORTS_MAX	64	/* a Gateway's listeners, at most */

struct gw_lbsvc {
	char ns[64];
	char name[64];			/* gw_lb_name() */
	char gateway[GW_NAME_MAX];
	char label[64];			/* GW_LB_LABEL's value */
	const char *gw_uid;	/* the owner's (model); NULL: unknown */
	uint16_t ports[GW_LB_PORTS_MAX];	/* distinct, ascending */
	size_t nports;
	int foreign;	/* that name's Service is not snilb's: untouched */
};

/* A Service of snilb's label that no Gateway wants any more. */
struct gw_svcname {
	char ns[64];
	char name[64];
};

struct gw_out {
	/* The LoadBalancer Services wanted, and those to delete. */
	struct gw_lbsvc *lbsvcs;
	size_t nlbsvcs;
	struct gw_svcname *lbstale;
	size_t nlbstale;
	struct gw_class_status *classes;
	size_t nclasses;
	struct gw_vip *vips;
	size_t nvips;
	struct gw_set *sets;
	size_t nsets;
	struct gw_route *routes;
	size_t nroutes;
	struct gw_entry *entries;
	size_t nentries;
	struct gw_gateway_status *gateways;
	size_t ngateways;
};

/* Compute @out from @m for the GatewayClasses of @controller. Returns 0,
 * or -ENOMEM. */
int gw_compute(const struct model *m, const char *controller,
	       uint32_t maglev_size, struct gw_out *out);
void gw_out_free(struct gw_out *out);

/*
 * The hostname traffic is matched against when a route hostname @r meets
 * a listener hostname @l (either NULL: none). Writes it to @out and
 * returns 1, or returns 0 when they do not intersect. "*" in @out: every
 * name.
 */
int gw_intersect(const char *l, const char *r, char *out, size_t outlen);

/* Do @labels satisfy @sel? An empty selector matches everything. */
int gw_selector_matches(const struct m_selector *sel,
			const struct m_label *labels, size_t nlabels);

/*
 * The name of the LoadBalancer Service of Gateway @gateway into @out (64
 * bytes): GW_LB_PREFIX and the name, a valid DNS-1035 label; a name too
 * long or with dots is cut and ends with 8 hex digits of its hash. The
 * label value (@label, 64 bytes): the name, or cut and hashed the same
 * way when longer than 63.
 */
void gw_lb_name(const char *gateway, char *out, char *label);

/* Same endpoints, same weights, same reset share. */
int gw_set_equal(const struct gw_set *a, const struct gw_set *b);

#endif /* SNILB_USER_GWAPI_H */

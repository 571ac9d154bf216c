/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What the files of the Gateway API rules share, and nothing outside
 * user/gwapi/ needs: gwapi.c (the entry point and common helpers),
 * listeners.c, routes.c, backends.c, fallback.c. gw_compute() runs them
 * in that order: listeners first (what each admits), then every route
 * attached to them and resolved to its backends, then conflicts between
 * routes, then what the status of objects kept at their last good
 * version adds.
 */
#ifndef SNILB_USER_GWAPI_INT_H
#define SNILB_USER_GWAPI_INT_H

#include <stddef.h>
#include <string.h>

#include "gwapi.h"

static inline int streq(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

static inline const char *or(const char *s, const char *dflt)
{
	return s && *s ? s : dflt;
}

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

/* gwapi.c */
__attribute__((format(printf, 5, 6)))
void gw_cond_set(struct gw_cond *c, const char *type, int status,
		 const char *reason, const char *fmt, ...);
const char *gw_label_get(const struct m_label *l, size_t n, const char *key);
/* @s in canonical text form into @out (GW_ADDR_MAX): 0, or -EINVAL when it
 * is not an IP address. */
int gw_canon_addr(const char *s, int *family, char *out);
/* Why the IP address @s cannot be a VIP ("loopback", ...), or NULL when
 * it can. */
const char *gw_addr_unusable(const char *s);
int gw_class_ours(const struct model *m, const char *name,
		  const char *controller);

/* listeners.c: @gw's status into @out, one view per listener into @views. */
int gw_add_gateway(const struct model *m, const struct m_gateway *gw,
		   struct gw_out *out,
		   struct lview **views, size_t *nviews);
/* Does the listener of @v admit routes from namespace @route_ns? */
int gw_ns_allowed(const struct model *m, const struct lview *v,
		  const char *route_ns);

/*
 * lbsvc.c: the VIPs of a Gateway without spec.addresses (@v: its @n
 * listeners' views): its LoadBalancer Service wanted into @out, and its
 * address into @gs->addresses when one is assigned (1), or 0 with
 * Programmed=False and why. -ENOMEM.
 */
int gw_lb_addresses(const struct model *m, const struct m_gateway *gw,
		    const struct lview *v, size_t n, struct gw_out *out,
		    struct gw_gateway_status *gs);
/* The Services of snilb's label that no Gateway wants. 0 or -ENOMEM. */
int gw_lb_stale(const struct model *m, struct gw_out *out);

/* The Service @ns/@name, or NULL (backends.c). */
const struct m_service *gw_find_svc(const struct model *m, const char *ns,
				    const char *name);

/* backends.c: resolve every backendRef of @r (the worst failure into
 * @rr, ResolvedRefs) and give it a set per family in @out. */
int gw_route_backends(const struct model *m, struct gw_out *out,
		      struct gw_route *r, uint32_t maglev_size,
		      struct gw_cond *rr);

/* routes.c */
int gw_add_route(const struct model *m, const char *controller,
		 struct gw_out *out, struct lview *views, size_t nviews,
		 const struct m_tlsroute *rt, uint32_t maglev_size);
/* Two routes on one hostname of one VIP: the older wins. 0 or -ENOMEM. */
int gw_resolve_conflicts(struct gw_out *out);

/* fallback.c: the status of objects kept at their last good version. */
void gw_fall_back(const struct model *m, struct gw_out *out);

#endif /* SNILB_USER_GWAPI_INT_H */

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Gateway API status, written back to the API server by the one agent
 * that holds the Lease: TLSRoute status.parents entries of snilb's
 * controller (Accepted, ResolvedRefs), Gateway addresses, listeners
 * (attachedRoutes, supportedKinds, conditions) and conditions,
 * GatewayClass Accepted. Every condition carries observedGeneration; a
 * condition keeps its lastTransitionTime while its status stays; objects
 * whose status would not change are not written (no churn).
 */
#ifndef SNILB_USER_KSTATUS_H
#define SNILB_USER_KSTATUS_H

#include <stddef.h>

#include <jansson.h>

#include "gwapi.h"
#include "kube.h"
#include "model.h"

struct kstatus_cache;

struct kstatus_cache *kstatus_cache_new(void);
void kstatus_cache_free(struct kstatus_cache *c);

struct kstatus_result {
	unsigned int written, unchanged, failed;
	int interrupted;	/* stopped before the end: see interrupt */
	char err[256];		/* first failure */
};

/* One pass: what it writes with, and to. */
struct kstatus_pass {
	struct kube_conn *conn;
	struct kstatus_cache *cache;
	const char *controller;
	const char *tlsroute_version;	/* "v1", ...; NULL: no routes */
	/* Asked before each object that needs a request: non-zero stops
	 * the pass there (NULL: never). */
	int (*interrupt)(void *ictx);
	void *ictx;
	struct kstatus_result *res;
};

/* The cache's slot for @key ("Kind/ns/name"): the signature of what was
 * last written or found in place (NULL: full, or no memory). */
char **kstatus_cache_slot(struct kstatus_cache *c, const char *key);

/* Count a failure in @res, the first one's message kept. */
__attribute__((format(printf, 2, 3)))
void kstatus_fail(struct kstatus_result *res, const char *fmt, ...);

/*
 * Bring the status of every object snilb owns in @out up to date, in
 * order: GatewayClasses, the LoadBalancer Services of Gateways
 * without addresses (klbsvc.c), Gateways, TLSRoutes. An object whose wanted
 * status is the one the cache holds costs no request, so a pass
 * interrupted and started again on a newer @out writes only what is
 * still out of date. 0, or -EIO when a request failed (@p->res).
 */
int kstatus_write(struct kstatus_pass *p, const struct gw_out *out);

#endif /* SNILB_USER_KSTATUS_H */

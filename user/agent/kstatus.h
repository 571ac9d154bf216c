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
	char err[256];		/* first failure */
};

/*
 * Bring the status of every object snilb owns in @out up to date.
 * @tlsroute_version: the TLSRoute API version served ("v1", ...).
 */
int kstatus_write(struct kube *k, struct kstatus_cache *c,
		  const struct gw_out *out, const char *controller,
		  const char *tlsroute_version,
		  struct kstatus_result *res);

#endif /* SNILB_USER_KSTATUS_H */

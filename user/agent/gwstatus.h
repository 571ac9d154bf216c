/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Gateway API status as the API has it, made from gw_compute()'s result:
 * a GatewayClass's and a Gateway's .status, a TLSRoute's status.parents.
 * The one builder of both places status goes: kstatus.c writes it to the
 * API server, status.c into the status document (manifest mode and
 * Kubernetes mode alike), so the two never disagree.
 *
 * Every condition carries observedGeneration (the object's
 * metadata.generation, 0 when it has none) and lastTransitionTime: @now
 * (RFC 3339), or the time of the same condition in @old (the object's
 * previous .status, NULL for none) while its status stays.
 */
#ifndef SNILB_USER_GWSTATUS_H
#define SNILB_USER_GWSTATUS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "gwapi.h"

/* The time now in RFC 3339 (UTC, seconds) into @buf. */
void gws_now(char *buf, size_t len);

/* {"conditions": [...]} */
json_t *gws_class(const struct gw_class_status *c, json_t *old,
		  const char *now);

/* {"addresses": [...], "conditions": [...], "listeners": [{"name",
 * "supportedKinds", "attachedRoutes", "conditions"}]} */
json_t *gws_gateway(const struct gw_gateway_status *g, json_t *old,
		    const char *now);

/*
 * The status.parents of @route merged into @current (the route's
 * status.parents, NULL for none): other controllers' entries kept first,
 * untouched; snilb's, [{"parentRef", "controllerName", "conditions"}],
 * one per parentRef of snilb's Gateways. A new array.
 */
json_t *gws_route_parents(const struct gw_route *route,
			  const char *controller, json_t *current,
			  const char *now);

/* Equal as JSON (key order aside); both NULL is equal. */
int gws_json_same(json_t *a, json_t *b);

#endif /* SNILB_USER_GWSTATUS_H */

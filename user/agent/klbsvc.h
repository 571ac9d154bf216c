/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The LoadBalancer Services of Gateways without spec.addresses, made to
 * follow what gw_compute() wants (gw_out.lbsvcs, .lbstale) by the agent
 * that holds the Lease, on the status writer's thread: created (POST),
 * brought back to snilb's spec (merge PATCH) when it differs, deleted
 * when no Gateway wants it. A Service without snilb's label
 * (GW_LB_LABEL) is never changed nor deleted. What was last written is
 * cached as status is (kstatus.h): an unchanged Service costs no request.
 */
#ifndef SNILB_USER_KLBSVC_H
#define SNILB_USER_KLBSVC_H

#include <jansson.h>

#include "gwapi.h"
#include "kstatus.h"

/* The pods a Service sends to: the DaemonSet's (deploy/30-daemonset.yaml). */
#define KLB_SELECTOR_KEY	"app.kubernetes.io/name"
#define KLB_SELECTOR_VALUE	"snilb"

/* The Service snilb wants for @s (a new reference). */
json_t *klbsvc_object(const struct gw_lbsvc *s);

/* One pass over @out's Services: counts and failures into @p->res. */
void klbsvc_write(struct kstatus_pass *p, const struct gw_out *out);

#endif /* SNILB_USER_KLBSVC_H */

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* What the data-plane library's files share and its users do not see. */
#ifndef SNILB_USER_DP_INT_H
#define SNILB_USER_DP_INT_H

#include "dataplane.h"

/* Recount every VIP from the listeners (maps.c): at load, maps adopted
 * from an older loader may have none, or stale ones. */
int dp_vips_rebuild(struct dataplane *dp);

#endif /* SNILB_USER_DP_INT_H */

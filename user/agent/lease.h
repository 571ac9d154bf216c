/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Leader election with a coordination.k8s.io/v1 Lease, as client-go does
 * it: the holder renews every few seconds; another agent takes the Lease
 * over only when it has seen no renewal for leaseDurationSeconds by its
 * own clock (so clocks need not agree); every write carries the
 * resourceVersion read, so two agents cannot both win.
 */
#ifndef SNILB_USER_LEASE_H
#define SNILB_USER_LEASE_H

#include <stdint.h>

#include "kube.h"

struct lease {
	const char *ns, *name, *identity;
	int duration_s;		/* leaseDurationSeconds (15) */
	int held;
	/* what we saw last, and when (CLOCK_MONOTONIC) */
	char holder[256];
	char renew_time[40];
	uint64_t seen_change_ns;
	uint64_t renewed_ns;	/* our last successful renewal */
};

/*
 * One round: create, renew, or take over when expired. Call it every
 * couple of seconds. Returns 1 while this agent holds the Lease, 0 when
 * another one does (or on an error: a leader that cannot renew must
 * stop acting as one).
 */
int lease_tick(struct kube_conn *k, struct lease *l, uint64_t now_ns);

/* Give the Lease up (on a clean stop) so another agent takes over now. */
void lease_release(struct kube_conn *k, struct lease *l);

#endif /* SNILB_USER_LEASE_H */

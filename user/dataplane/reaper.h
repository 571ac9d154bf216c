/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The reaper: the timeouts the data plane cannot act on by itself. A BPF
 * program runs only when a packet comes, so a client that sends nothing,
 * or a flow that went quiet, is found by walking the flow table from
 * userspace. Expired handshakes and idle flows get an RST on the client's
 * path (the way the data plane would send it) and their state is freed.
 */
#ifndef SNILB_USER_REAPER_H
#define SNILB_USER_REAPER_H

#include <stdint.h>

#include "dataplane.h"

#define REAP_CLOSE_GRACE_MS	2000	/* after both FINs are acked */
#define REAP_FIN_TIMEOUT_S	120	/* quiet after one FIN (conntrack's
					 * FIN_WAIT) */
#define REAP_RST_GRACE_MS	10000	/* quiet after an RST not exact
					 * (conntrack's CLOSE) */

struct reap_result {
	uint32_t hello_expired;	/* no (complete) hello in time: RST */
	uint32_t bind_expired;	/* no backend answered in time: RST */
	uint32_t idle_expired;	/* spliced but silent: RST */
	uint32_t closed;	/* FINs acknowledged, grace over; or
				 * half-closed or reset, and quiet */
	uint32_t orphans;	/* SNAT claims whose flow was gone */
	uint32_t flows;		/* flows left */
};

/* One pass over the flow table at CLOCK_MONOTONIC @now_ns. */
int dp_reap(struct dataplane *dp, uint64_t now_ns, struct reap_result *res);

/* The same, calling @walked(@arg) between the walk that nominates flows
 * and the acting on them, which judges each again as it is then (tests
 * move a flow on there, as the data plane may). */
int dp_reap_hooked(struct dataplane *dp, uint64_t now_ns,
		   struct reap_result *res, void (*walked)(void *), void *arg);

#endif /* SNILB_USER_REAPER_H */

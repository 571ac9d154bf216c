/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * How often the agent walks the flow table (dp_reap()): each second, or,
 * when one pass takes more than a fifth of that (some 150,000 flows and
 * up; a million take 1.6 s), five times the pass's length after its
 * start. The loop keeps answering changes between passes and
 * the walk never takes more than a fifth of a core; timeouts are acted on
 * that much later (docs/dataplane.md, "Timeouts").
 */
#ifndef SNILB_USER_AGENT_REAPPACE_H
#define SNILB_USER_AGENT_REAPPACE_H

#include <stdint.h>

#define REAP_EVERY_NS	1000000000ull
#define REAP_SHARE	5	/* a pass's length: at most 1/REAP_SHARE */

/* From a pass's start to the next's, for a pass that took @took_ns. */
static inline uint64_t reap_wait_ns(uint64_t took_ns)
{
	uint64_t w = took_ns * REAP_SHARE;

	return w > REAP_EVERY_NS ? w : REAP_EVERY_NS;
}

#endif /* SNILB_USER_AGENT_REAPPACE_H */

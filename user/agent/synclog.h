/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* What a sync logs (synclog.c). */
#ifndef SNILB_AGENT_SYNCLOG_H
#define SNILB_AGENT_SYNCLOG_H

#include <stdint.h>

struct model;
struct gw_out;
struct agent_opts;
struct sync_result;

void synclog_diags(const struct model *m);
void synclog_route_conditions(const struct gw_out *out);
/* A backend of a family with no --snat address: refused (no_backend). */
void synclog_snat_family(const struct agent_opts *o,
			 const struct gw_out *out);
void synclog_sync(const struct sync_result *res, const struct gw_out *out,
		  uint64_t t0, uint64_t kernel_ns, uint64_t now,
		  uint64_t event_ns);

#endif /* SNILB_AGENT_SYNCLOG_H */

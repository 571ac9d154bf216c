// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * What a sync logs (agent.c): the manifests' diagnostics with what was
 * kept, routes' False conditions, backends no --snat address reaches, and
 * the sync's own figures.
 */
#include <stdio.h>
#include <string.h>

#include "gwapi.h"
#include "log.h"
#include "model.h"
#include "options.h"
#include "sync.h"
#include "synclog.h"

void synclog_diags(const struct model *m)
{
	char line[16];
	size_t i;

	for (i = 0; i < m->ndiags; i++) {
		const struct m_diag *d = &m->diags[i];

		snprintf(line, sizeof(line), "%d", d->line);
		log_event("error", "invalid manifest", "file", d->file,
			  "line", line, "field", d->field ? d->field : "",
			  "object", d->name ? d->name : "",
			  "kind", d->kind ? d->kind : "", "error", d->msg,
			  "kept", !d->kind ? "the file's last good objects" :
			  !d->field ? "the first definition" :
			  "the object's last good version", NULL);
	}
}

void synclog_route_conditions(const struct gw_out *out)
{
	size_t i, j, k;
	char who[600];

	for (i = 0; i < out->nroutes; i++) {
		const struct gw_route *r = &out->routes[i];

		snprintf(who, sizeof(who), "%s/%s", r->ns, r->name);
		for (j = 0; j < r->nparents; j++)
			for (k = 0; k < 2; k++)
				if (!r->parents[j].conds[k].status)
					log_event("warn", "route condition",
						  "route", who, "parent",
						  r->parents[j].gateway, "type",
						  r->parents[j].conds[k].type,
						  "status", "False", "reason",
						  r->parents[j].conds[k].reason,
						  "message",
						  r->parents[j].conds[k].msg,
						  NULL);
	}
}

/* A backend of a family with no --snat address: refused (no_backend). */
void synclog_snat_family(const struct agent_opts *o,
			  const struct gw_out *out)
{
	size_t i, j;

	for (i = 0; i < out->nsets; i++)
		for (j = 0; j < out->sets[i].neps; j++) {
			const char *ad = out->sets[i].eps[j].addr;

			if (strchr(ad, ':') ? o->snat6 : o->snat4)
				continue;
			log_event("warn", "no --snat address of the backend's "
				  "family: connections to it are refused",
				  "backend", ad, NULL);
			return;
		}
}

/* @kernel_ns: when the maps were written; @t0: the sync's start; @now:
 * after the status; @event_ns: the change it is for (0: none). */
void synclog_sync(const struct sync_result *res, const struct gw_out *out,
		  uint64_t t0, uint64_t kernel_ns, uint64_t now, uint64_t event_ns)
{
	char n[10][16];

	snprintf(n[0], 16, "%zu", out->nroutes);
	snprintf(n[1], 16, "%zu", out->nentries);
	snprintf(n[2], 16, "%zu", out->nsets);
	snprintf(n[3], 16, "%u", res->routes_set);
	snprintf(n[4], 16, "%u", res->routes_deleted);
	snprintf(n[5], 16, "%u", res->sets_built);
	snprintf(n[6], 16, "%zu", out->nvips);
	snprintf(n[7], 16, "%.1f", (kernel_ns - t0) / 1e6);
	snprintf(n[8], 16, "%.1f", (now - kernel_ns) / 1e6);
	snprintf(n[9], 16, "%.1f", (kernel_ns - event_ns) / 1e6);
	log_event("info", "synced", "routes", n[0], "hostnames", n[1],
		  "sets", n[2], "listeners", n[6], "routes_written", n[3],
		  "routes_deleted", n[4], "sets_built", n[5], "ms", n[7],
		  "status_ms", n[8], event_ns ? "event_ms" : NULL, n[9],
		  NULL);
}

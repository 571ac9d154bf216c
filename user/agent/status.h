/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The agent's status document (schema: docs/agent.md). */
#ifndef SNILB_USER_STATUS_H
#define SNILB_USER_STATUS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "gwapi.h"
#include "metrics.h"
#include "model.h"
#include "sync.h"

struct status_agent {
	double started, last_sync;	/* Unix time */
	uint64_t syncs, sync_errors;
	const char *manifests, *pin_path, *controller;
	const char *last_error;		/* "" when the last sync was clean */
	char **ifaces;
	size_t nifaces;
};

/* The document of one sync. @prev: the previous one (NULL for none),
 * whose conditions keep their lastTransitionTime while they stay. */
json_t *status_build(const struct status_agent *ag, const struct model *m,
		     const struct gw_out *out, const struct sync_state *s,
		     json_t *prev);
/* What /metrics needs of the same (metrics_snapshot_free() it). */
int status_metrics(const struct status_agent *ag, const struct model *m,
		   const struct gw_out *out, const struct sync_state *s,
		   struct metrics_snapshot *snap);
/* Atomically replace @path (creating its directory). */
int status_write(const char *path, json_t *st);

#endif /* SNILB_USER_STATUS_H */

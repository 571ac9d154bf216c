/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Keep the data plane's maps equal to a computed Gateway API state
 * (gwapi.h), in an order that never exposes a half-built state:
 *
 *   backends -> new sets (complete Maglev tables in free ids) -> routes
 *   (each switched to its new set with one map write) -> listeners ->
 *   removals (listeners, routes) -> old sets and backends retired.
 *
 * Retired sets and backends are deleted only once no route and no flow
 * refers to them (sync_reclaim), so a connection that is binding or
 * spliced keeps its backend until it closes.
 */
#ifndef SNILB_USER_SYNC_H
#define SNILB_USER_SYNC_H

#include <stdint.h>

#include "dataplane.h"
#include "gwapi.h"

struct sync_listener {
	struct gw_vip vip;
	uint32_t id;
};

struct sync_backend {
	char addr[GW_ADDR_MAX];
	uint16_t port;
	uint32_t flags;		/* SNILB_BE_*: part of what it is */
	uint32_t id;
	uint64_t retired_ns;	/* 0: in a live set */
};

struct sync_set {
	uint32_t id;
	struct gw_set content;	/* owned; empty when adopted (unknown) */
	int known;		/* content is what the kernel holds */
	uint32_t slots_used;	/* Maglev size (0: empty set) */
	uint64_t retired_ns;	/* 0: used by a route */
};

struct sync_written {
	uint32_t listener, id, set;
	char hostname[SNILB_HOST_MAX + 1];
};

struct sync_route_id {
	char key[GW_NAME_MAX * 2];	/* "ns/name" */
	uint32_t id;
};

struct sync_state {
	struct dataplane *dp;
	uint32_t maglev_size;
	struct sync_listener *listeners;
	size_t nlisteners;
	struct sync_backend *backends;
	size_t nbackends;
	struct sync_set *sets;
	size_t nsets;
	struct sync_route_id *route_ids;
	size_t nroute_ids;
	/* The routes the maps held at start: their ids are kept for the
	 * routes that still have their hostnames (sync.c route_id()). */
	struct dp_route *adopted;
	size_t nadopted;
	/* After the last sync_apply(): gw set index -> set id, gw vip
	 * index -> listener id, gw route index -> route id. */
	uint32_t *set_of, *listener_of, *route_of;
	/* The routes the maps hold, as the last clean sync wrote them
	 * (sorted by listener and hostname; NULL: read them back): a sync
	 * then neither looks each route up nor reads the table back. */
	struct sync_written *written;
	size_t nwritten;
	uint64_t written_ns;	/* when last read back */
};

struct sync_result {
	uint32_t routes_set, routes_deleted;
	uint32_t sets_built, listeners_added, listeners_deleted;
	uint32_t backends_added;
	char err[512];		/* first error; "" when none */
};

/*
 * Start from what the pinned maps already hold (a previous agent's
 * state): listener ids, backends, sets in use, and the routes, whose ids
 * the routes that keep their hostnames keep (so do their counters).
 */
int sync_init(struct sync_state *s, struct dataplane *dp,
	      uint32_t maglev_size);
void sync_free(struct sync_state *s);

/* Make the maps say what @out says. Returns 0, or a negative errno with
 * @res->err saying what failed; every step before it took effect. */
int sync_apply(struct sync_state *s, const struct gw_out *out,
	       uint64_t now_ns, struct sync_result *res);

/* Number everything as sync_apply() would on empty maps, writing
 * nothing (for `snilb agent --check`). */
int sync_dry(struct sync_state *s, const struct gw_out *out);

/* Delete retired sets and backends that nothing refers to any more and
 * that retired over @grace_ns ago. Returns how many were deleted. */
int sync_reclaim(struct sync_state *s, uint64_t now_ns, uint64_t grace_ns);

/* The backend id of endpoint @e (address, port, PROXY v2 or not), or -1. */
long sync_backend_id(const struct sync_state *s, const struct gw_endpoint *e);
/* The backends map's flags of endpoint @e (SNILB_BE_*). */
uint32_t sync_backend_flags(const struct gw_endpoint *e);

/* The name ("ns/name") of the route with id @id, or NULL. */
const char *sync_route_name(const struct sync_state *s, uint32_t id);

#endif /* SNILB_USER_SYNC_H */

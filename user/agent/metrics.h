/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Prometheus metrics: the data plane's counters (read from the pinned
 * maps) and the agent's state (a snapshot it publishes after each sync),
 * as exposition text, and a small HTTP server (libmicrohttpd) answering
 * GET /metrics.
 */
#ifndef SNILB_USER_METRICS_H
#define SNILB_USER_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct pinned;
struct sockaddr_storage;

/* A route's name, for its counters' labels (the maps know its id). */
struct metrics_route {
	uint32_t id;
	char ns[64], name[256];
};

/* Several gateway nodes (--peers, --drain; docs/multinode.md). */
struct metrics_nodes {
	int on;				/* a table or a drain to show */
	uint32_t generation, nodes;
	int member, draining;
	uint32_t drain_flows, drain_left;	/* flows at the drain's start,
						 * and left */
};

/* The flow table's walk (user/agent/reappace.h). */
struct metrics_reaper {
	uint64_t passes;
	double pass_s, wait_s;		/* the last pass's length; from its
					 * start to the next's */
};

/* What the agent knows that the maps do not, as of its last sync. */
struct metrics_snapshot {
	struct metrics_nodes nodes;
	struct metrics_reaper reaper;
	struct metrics_route *routes;
	size_t nroutes;
	uint64_t syncs, sync_errors;
	double last_sync;		/* Unix time */
	size_t errors;			/* invalid objects in the input */
};

/* A deep copy of @src into @dst; -ENOMEM. */
int metrics_snapshot_copy(struct metrics_snapshot *dst,
			  const struct metrics_snapshot *src);
void metrics_snapshot_free(struct metrics_snapshot *s);

/*
 * Write every metric to @out. @p NULL: only the agent's metrics, from
 * @snap; @snap NULL: ids stand in for route names, no agent metrics.
 * Returns 0, or -1 when @out failed.
 */
int metrics_render(FILE *out, struct pinned *p,
		   const struct metrics_snapshot *snap);

/* Escape a label value: backslash, double quote and newline. */
void metrics_label_escape(char *buf, size_t n, const char *s);

struct metrics_source {
	struct pinned *pinned;	/* read-only map handle, shared */
	/*
	 * A copy of the current snapshot into @snap (metrics_snapshot_copy());
	 * non-zero: none yet. Called from the server's thread, once per
	 * scrape: take whatever lock guards it.
	 */
	int (*snapshot)(void *ctx, struct metrics_snapshot *snap);
	/* More metrics, after the rest (NULL: none): the access log's
	 * histograms. From the server's thread; 0 or -1. */
	int (*extra)(void *ctx, FILE *out);
	/* /readyz: 200 when it returns non-zero (NULL: always). */
	int (*ready)(void *ctx);
	void *ctx;
};

struct metrics_server;

/* @listen: "ADDR:PORT", "[V6ADDR]:PORT" or ":PORT" (every address).
 * 0, or -EINVAL. */
int metrics_listen_parse(const char *listen, struct sockaddr_storage *ss);
/* A socket listening on @listen (the agent opens it before it changes
 * anything: a port in use is refused first), or -errno and @err. */
int metrics_bind(const char *listen, char *err, size_t errlen);
/*
 * Serve @src on @fd (metrics_bind()'s, the server's from now on). @src
 * must outlive the server; stop the server before closing src->pinned.
 */
struct metrics_server *metrics_serve(int fd, const struct metrics_source *src,
				     char *err, size_t errlen);
/* Both. */
struct metrics_server *metrics_start(const char *listen,
				     const struct metrics_source *src,
				     char *err, size_t errlen);
void metrics_stop(struct metrics_server *s);

#endif /* SNILB_USER_METRICS_H */

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Prometheus metrics: the data plane's counters (read from the pinned
 * maps) and the agent's state (its status JSON), as exposition text, and
 * a small HTTP server (libmicrohttpd) answering GET /metrics.
 */
#ifndef SNILB_USER_METRICS_H
#define SNILB_USER_METRICS_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

struct pinned;

/*
 * Write every metric to @out. @p NULL: only what @status says (the
 * agent's metrics); @status NULL: ids stand in for route names.
 * Returns 0, or -1 when @out failed.
 */
int metrics_render(FILE *out, struct pinned *p, json_t *status);

/* Escape a label value: backslash, double quote and newline. */
void metrics_label_escape(char *buf, size_t n, const char *s);

struct metrics_source {
	struct pinned *pinned;	/* read-only map handle, shared */
	/*
	 * A new reference to the current status document (the schema of
	 * the agent's status file), or NULL. Called from the server's
	 * thread, once per scrape: take whatever lock guards it.
	 */
	json_t *(*snapshot)(void *ctx);
	/* /readyz: 200 when it returns non-zero (NULL: always). */
	int (*ready)(void *ctx);
	void *ctx;
};

struct metrics_server;

/*
 * Serve @src on @listen: "ADDR:PORT", "[V6ADDR]:PORT" or ":PORT" (every
 * address). @src must outlive the server; stop the server before
 * closing src->pinned.
 */
struct metrics_server *metrics_start(const char *listen,
				     const struct metrics_source *src,
				     char *err, size_t errlen);
void metrics_stop(struct metrics_server *s);

#endif /* SNILB_USER_METRICS_H */

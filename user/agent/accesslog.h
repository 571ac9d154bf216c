/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The access log (docs/observability.md): the data plane's records
 * (dp_log_open()) written as JSON lines or logfmt, one per connection
 * ended and per rejection; rejections limited per reason and second, the
 * rest counted in a summary line; connection ends sampled 1 in N. It
 * keeps the histograms of connection duration and setup time per route
 * that /metrics shows, and the SNIs most rejected (snilb top).
 */
#ifndef SNILB_USER_ACCESSLOG_H
#define SNILB_USER_ACCESSLOG_H

#include <stdint.h>
#include <stdio.h>

#include "snilb_abi.h"

#define ALOG_REJECTS_PER_S	100	/* default, per reason */

struct alog_opts {
	const char *path;		/* FILE, "-": stdout; NULL: no log */
	int logfmt;			/* 0: JSON lines */
	uint32_t rejects_per_s;		/* per reason; 0: all */
	uint32_t sample;		/* 1 in N ends; 0, 1: all */
};

struct alog;

/* A route's name ("ns/name") by its id, or NULL. */
typedef const char *(*alog_route_fn)(void *ctx, uint32_t id);

/* Open @o->path (appended to); NULL and @err when it cannot be. */
struct alog *alog_open(const struct alog_opts *o, alog_route_fn route,
		       void *ctx, char *err, size_t errlen);
void alog_close(struct alog *l);

/* One record (a dp_log_fn, @arg the alog). */
void alog_record(const struct snilb_log_rec *rec, void *arg);
/* Once a second: the rejections not logged, records the data plane lost
 * (its log_lost counter, @lost), flushed. */
void alog_tick(struct alog *l, uint64_t lost);
void alog_flush(struct alog *l);

/* When the SNIs most rejected changed: write them to @path (JSON,
 * replaced in one rename), for `snilb top`. 0 or -errno. */
int alog_write_rejects(struct alog *l, const char *path);

/* The histograms, as Prometheus text (called from the metrics thread). */
int alog_metrics(struct alog *l, FILE *out);

#endif /* SNILB_USER_ACCESSLOG_H */

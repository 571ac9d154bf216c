// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The status writer's thread (see kwriter.h). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kstatus.h"
#include "kwriter.h"
#include "log.h"

#define BACKOFF_MIN_MS	1000L
#define BACKOFF_MAX_MS	30000L

struct ksnap {
	struct model m;
	struct gw_out out;	/* points into @m */
};

struct kwriter {
	struct kube *k;
	struct kube_conn *conn;
	const char *controller;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	/* Under @lock (@pending, @leads and @stop also read without it, as
	 * hints, by interrupted()). */
	struct ksnap *pending;	/* the newest result, not taken yet */
	int leads, forget, stop;
	/* The thread's own. */
	struct ksnap *cur;
	struct kstatus_cache *cache;
	int dirty;		/* @cur not all written */
	struct timespec retry;	/* after failures: not before */
	long backoff_ms;
	struct kstatus_result acc;	/* not logged yet */
	struct timespec logged;
};

static void snap_free(struct ksnap *s)
{
	if (!s)
		return;
	gw_out_free(&s->out);
	model_free(&s->m);
	free(s);
}

void kwriter_submit(struct kwriter *w, struct model *m, struct gw_out *out)
{
	struct ksnap *s = calloc(1, sizeof(*s)), *old;

	if (!s) {
		log_event("warn", "status: cannot queue the result", "error",
			  "out of memory", "kept", "the previous one", NULL);
		return;
	}
	s->m = *m;
	s->out = *out;
	memset(m, 0, sizeof(*m));
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&w->lock);
	old = w->pending;
	__atomic_store_n(&w->pending, s, __ATOMIC_RELEASE);
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	snap_free(old);		/* never taken: a newer one replaces it */
}

void kwriter_lead(struct kwriter *w, int leads, int forget)
{
	pthread_mutex_lock(&w->lock);
	__atomic_store_n(&w->leads, leads, __ATOMIC_RELAXED);
	w->forget |= forget;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

/* Between two objects: stop the pass when a newer result came, the
 * Lease went or the agent stops. */
static int interrupted(void *arg)
{
	struct kwriter *w = arg;

	return __atomic_load_n(&w->pending, __ATOMIC_ACQUIRE) != NULL ||
	       !__atomic_load_n(&w->leads, __ATOMIC_RELAXED) ||
	       __atomic_load_n(&w->stop, __ATOMIC_RELAXED);
}

/* Passes interrupted by newer results come as often as results do:
 * their counts are summed, logged with the pass that completes, or
 * every LOG_EVERY_S. */
#define LOG_EVERY_S	10

static void log_pass(struct kwriter *w, const struct kstatus_result *r)
{
	struct kstatus_result *res = &w->acc;
	struct timespec now;
	char n[3][16];

	res->written += r->written;
	res->unchanged = r->unchanged;
	res->failed += r->failed;
	res->interrupted = r->interrupted;
	if (r->failed && !res->err[0])
		memcpy(res->err, r->err, sizeof(res->err));
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (r->interrupted && now.tv_sec - w->logged.tv_sec < LOG_EVERY_S)
		return;
	w->logged = now;
	if (!res->written && !res->failed)
		return;
	snprintf(n[0], 16, "%u", res->written);
	snprintf(n[1], 16, "%u", res->unchanged);
	snprintf(n[2], 16, "%u", res->failed);
	log_event(res->failed ? "warn" : "info", "status written", "written",
		  n[0], "unchanged", n[1], "failed", n[2], "pass",
		  res->interrupted ? "interrupted" : "complete",
		  res->failed ? "error" : NULL, res->err, NULL);
	memset(res, 0, sizeof(*res));
}

static void add_ms(struct timespec *t, long ms)
{
	clock_gettime(CLOCK_MONOTONIC, t);
	t->tv_sec += ms / 1000;
	t->tv_nsec += (ms % 1000) * 1000000L;
	if (t->tv_nsec >= 1000000000L) {
		t->tv_sec++;
		t->tv_nsec -= 1000000000L;
	}
}

static int due(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > t->tv_sec ||
	       (now.tv_sec == t->tv_sec && now.tv_nsec >= t->tv_nsec);
}

static void pass(struct kwriter *w)
{
	struct kstatus_result res;
	struct kstatus_pass p = {
		.conn = w->conn, .cache = w->cache,
		.controller = w->controller,
		.tlsroute_version = kube_tlsroute_version(w->k),
		.interrupt = interrupted, .ictx = w, .res = &res,
	};

	kstatus_write(&p, &w->cur->out);
	log_pass(w, &res);
	if (res.interrupted)
		return;		/* dirty still: what stopped it says when */
	if (!res.failed) {
		w->dirty = 0;
		w->backoff_ms = 0;
		return;
	}
	w->backoff_ms = w->backoff_ms ? w->backoff_ms * 2 : BACKOFF_MIN_MS;
	if (w->backoff_ms > BACKOFF_MAX_MS)
		w->backoff_ms = BACKOFF_MAX_MS;
	add_ms(&w->retry, w->backoff_ms);
}

/* Under the lock: is there work now? Else how long to wait. */
static int ready(struct kwriter *w)
{
	if (w->pending)
		return 1;
	if (!w->leads || !w->cur)
		return 0;
	return w->forget || (w->dirty && due(&w->retry));
}

static void *kw_main(void *arg)
{
	struct kwriter *w = arg;
	struct ksnap *old = NULL;
	int forget;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (!w->stop && !ready(w)) {
			if (w->dirty && w->leads)
				pthread_cond_timedwait(&w->cond, &w->lock,
						       &w->retry);
			else
				pthread_cond_wait(&w->cond, &w->lock);
		}
		if (w->stop)
			break;
		if (w->pending) {
			old = w->cur;
			w->cur = w->pending;
			__atomic_store_n(&w->pending, NULL, __ATOMIC_RELEASE);
			w->dirty = 1;
			w->backoff_ms = 0;
			clock_gettime(CLOCK_MONOTONIC, &w->retry);
		}
		forget = w->leads && w->forget;
		if (forget)
			w->forget = 0;
		pthread_mutex_unlock(&w->lock);
		snap_free(old);
		old = NULL;
		if (forget) {
			kstatus_cache_free(w->cache);
			w->cache = NULL;
			w->dirty = 1;
		}
		if (!w->cache && !(w->cache = kstatus_cache_new()))
			add_ms(&w->retry, BACKOFF_MAX_MS);	/* no memory */
		else if (w->dirty &&
			 __atomic_load_n(&w->leads, __ATOMIC_RELAXED))
			pass(w);
		pthread_mutex_lock(&w->lock);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

struct kwriter *kwriter_start(struct kube *k, const char *controller)
{
	struct kwriter *w = calloc(1, sizeof(*w));
	pthread_condattr_t ca;
	int err = ENOMEM;

	if (!w)
		goto fail;
	w->k = k;
	w->controller = controller;
	w->conn = kube_conn_new(k, 0);
	w->cache = kstatus_cache_new();
	if (!w->conn || !w->cache)
		goto fail;
	pthread_mutex_init(&w->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cond, &ca);
	pthread_condattr_destroy(&ca);
	err = pthread_create(&w->thread, NULL, kw_main, w);
	if (!err)
		return w;
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
fail:
	log_event("error", "cannot start the status writer", "error",
		  strerror(err), NULL);
	if (w) {
		kube_conn_free(w->conn);
		kstatus_cache_free(w->cache);
	}
	free(w);
	return NULL;
}

void kwriter_stop(struct kwriter *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	__atomic_store_n(&w->stop, 1, __ATOMIC_RELAXED);
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	kube_conn_abort(w->conn);
	pthread_join(w->thread, NULL);
	kube_conn_free(w->conn);
	kstatus_cache_free(w->cache);
	snap_free(w->cur);
	snap_free(w->pending);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
	free(w);
}

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The Kubernetes API server as a source (kube_source.h): snapshots once
 * every kind has been listed; the Lease renewed every other second by a
 * thread of its own, and status written by another (kwriter.h) while this
 * agent holds it, each with its own connection: neither ever makes the
 * loop, which programs the kernel, wait for the API server.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "kube.h"
#include "kwriter.h"
#include "defaults.h"
#include "kube_source.h"
#include "lease.h"
#include "log.h"

#define KCACHE_TTL_NS	(60ull * 1000000000ull)
#define LEASE_EVERY_NS	(2ull * 1000000000ull)
#define LEASE_REQ_S	5L	/* a renewal's request, at most */
#define RELEASE_REQ_S	1L	/* each of the release's two, on a stop */

struct kube_source {
	struct source s;
	struct kube_source_opts o;
	struct kube *kube;		/* NULL until started */
	struct kwriter *writer;		/* NULL: no status written */
	/* The Lease's thread. */
	struct lease lease;
	struct kube_conn *lconn;
	pthread_t lthread;
	int lstarted;
	pthread_mutex_t llock;
	pthread_cond_t lcond;
	int lstop;			/* under llock */
	char node[256];
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * Every other second, whatever the status writer is doing. A new leader,
 * and every leader once a minute, has the writer forget what it believes
 * is written, so that every object's status is checked again (someone
 * may have edited it).
 */
static void *lease_main(void *arg)
{
	struct kube_source *ks = arg;
	uint64_t since = 0, now;
	struct timespec until;
	int was = 0, held;

	pthread_mutex_lock(&ks->llock);
	while (!ks->lstop) {
		pthread_mutex_unlock(&ks->llock);
		now = mono_ns();
		held = lease_tick(ks->lconn, &ks->lease, now);
		if (held && (!was || now - since >= KCACHE_TTL_NS)) {
			since = now;
			kwriter_lead(ks->writer, 1, 1);
		} else if (held != was) {
			kwriter_lead(ks->writer, held, 0);
		}
		was = held;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += LEASE_EVERY_NS / 1000000000ull;
		pthread_mutex_lock(&ks->llock);
		while (!ks->lstop &&
		       pthread_cond_timedwait(&ks->lcond, &ks->llock,
					      &until) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&ks->llock);
	return NULL;
}

/* The writer and the Lease's thread, each with its own connection. */
static int start_status(struct kube_source *ks)
{
	pthread_condattr_t ca;
	int err;

	ks->writer = kwriter_start(ks->kube, ks->o.controller);
	ks->lconn = kube_conn_new(ks->kube, LEASE_REQ_S);
	if (!ks->writer || !ks->lconn) {
		log_event("error", "cannot start the status writer", "error",
			  "out of memory", NULL);
		return -ENOMEM;
	}
	pthread_mutex_init(&ks->llock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&ks->lcond, &ca);
	pthread_condattr_destroy(&ca);
	err = pthread_create(&ks->lthread, NULL, lease_main, ks);
	if (err) {
		log_event("error", "cannot start the Lease's thread", "error",
			  strerror(err), NULL);
		return -err;
	}
	ks->lstarted = 1;
	return 0;
}

/* Threads stopped (the Lease's first: it calls the writer), requests in
 * flight aborted; then the Lease given up (each request at most
 * RELEASE_REQ_S), so another agent takes over now. */
static void stop_status(struct kube_source *ks)
{
	struct kube_conn *c;
	int started = ks->lstarted;

	if (ks->lstarted) {	/* first: it tells the writer */
		pthread_mutex_lock(&ks->llock);
		ks->lstop = 1;
		pthread_cond_signal(&ks->lcond);
		pthread_mutex_unlock(&ks->llock);
		kube_conn_abort(ks->lconn);
		pthread_join(ks->lthread, NULL);
		pthread_mutex_destroy(&ks->llock);
		pthread_cond_destroy(&ks->lcond);
		ks->lstarted = 0;
	}
	kwriter_stop(ks->writer);
	ks->writer = NULL;
	if (started) {
		c = kube_conn_new(ks->kube, RELEASE_REQ_S);
		if (c)
			lease_release(c, &ks->lease);
		kube_conn_free(c);
	}
	kube_conn_free(ks->lconn);
	ks->lconn = NULL;
}

static void identity(struct kube_source *ks)
{
	const char *env = getenv("NODE_NAME");

	if (ks->o.node_name)
		snprintf(ks->node, sizeof(ks->node), "%s", ks->o.node_name);
	else if (env && *env)
		snprintf(ks->node, sizeof(ks->node), "%s", env);
	else if (gethostname(ks->node, sizeof(ks->node) - 1))
		snprintf(ks->node, sizeof(ks->node), "snilb-%d",
			 (int)getpid());
}

/* Credentials that load, before the kernel is changed. */
static int ks_check(struct source *s)
{
	struct kube_source *ks = (struct kube_source *)s;
	struct kube_config kc = { .kubeconfig = ks->o.kubeconfig };
	char err[512];
	int r = kube_check(&kc, err, sizeof(err));

	if (r)
		log_event("error", "cannot read the Kubernetes credentials",
			  "error", err, "option", ks->o.kubeconfig ?
			  "--kubeconfig" : "--in-cluster", NULL);
	return r;
}

static int ks_start(struct source *s)
{
	struct kube_source *ks = (struct kube_source *)s;
	struct kube_config kc = { .kubeconfig = ks->o.kubeconfig };
	const char *ns;
	char err[512];

	s->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->fd < 0) {
		log_event("error", "cannot make an eventfd", "error",
			  strerror(errno), NULL);
		return -errno;
	}
	ks->kube = kube_start(&kc, s->fd, err, sizeof(err));
	if (!ks->kube) {
		log_event("error", "cannot reach the Kubernetes API", "error",
			  err, NULL);
		return -EINVAL;
	}
	identity(ks);
	ns = kube_namespace(ks->kube);
	ks->lease.identity = ks->node;
	ks->lease.name = ks->o.lease_name ? ks->o.lease_name :
			 SNILB_LEASE_NAME;
	ks->lease.ns = ks->o.lease_ns ? ks->o.lease_ns :
		       ns ? ns : SNILB_LEASE_NAMESPACE;
	ks->lease.duration_s = 15;
	log_event("info", "watching the Kubernetes API", "identity", ks->node,
		  "lease", ks->lease.name, "lease_namespace", ks->lease.ns,
		  NULL);
	return ks->o.no_status ? 0 : start_status(ks);
}

/* A copy of the objects, once every kind was listed: before that an
 * empty table would delete live routes. Every call is a snapshot: the
 * eventfd only wakes the agent when something changed. */
static int ks_next(struct source *s, int force, struct model *m)
{
	struct kube_source *ks = (struct kube_source *)s;
	int err;

	(void)force;
	if (!ks->kube || !kube_synced(ks->kube))
		return 0;
	err = kube_model(ks->kube, m);
	if (err) {
		log_event("error", "cannot copy the objects of the API",
			  "error", strerror(-err), "kept",
			  "the current tables", NULL);
		return err;
	}
	m->lb_services = 1;	/* the writer creates them (kwriter.c) */
	return 1;
}

/* The Lease and status are their threads': nothing for the loop. */
static enum source_tick ks_tick(struct source *s, uint64_t n,
				uint64_t now_ns)
{
	(void)s, (void)n, (void)now_ns;
	return SOURCE_IDLE;
}

/* The result goes to the writer, which takes it over: never a wait. */
static int ks_write_back(struct source *s, struct model *m,
			 struct gw_out *out)
{
	struct kube_source *ks = (struct kube_source *)s;

	if (!ks->writer)
		return 0;
	kwriter_submit(ks->writer, m, out);
	return 1;
}

/* The Lease given up on a clean stop, so another agent takes over now. */
static void ks_free(struct source *s)
{
	struct kube_source *ks = (struct kube_source *)s;

	if (ks->kube) {
		stop_status(ks);
		kube_stop(ks->kube);
	}
	if (s->fd >= 0)
		close(s->fd);
	free(ks);
}

static const struct source_ops kube_ops = {
	.check = ks_check,
	.start = ks_start,
	.next = ks_next,
	.tick = ks_tick,
	.write_back = ks_write_back,
	.free = ks_free,
};

struct source *kube_source(const struct kube_source_opts *o)
{
	struct kube_source *ks = calloc(1, sizeof(*ks));

	if (!ks)
		return NULL;
	ks->s.ops = &kube_ops;
	ks->s.name = o->kubeconfig ? o->kubeconfig : "in-cluster";
	ks->s.fd = -1;
	ks->o = *o;
	return &ks->s;
}

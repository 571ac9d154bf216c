// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The Kubernetes API server as a source (kube_source.h): snapshots once
 * every kind has been listed, the Lease ticked every other second, and
 * status written after each sync while this agent holds it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "kstatus.h"
#include "kube.h"
#include "defaults.h"
#include "kube_source.h"
#include "lease.h"
#include "log.h"

#define KCACHE_TTL_NS	(60ull * 1000000000ull)

struct kube_source {
	struct source s;
	struct kube_source_opts o;
	struct kube *kube;		/* NULL until started */
	struct lease lease;
	struct kstatus_cache *kcache;
	uint64_t kcache_since;
	char node[256];
};

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
	ks->kcache = kstatus_cache_new();
	log_event("info", "watching the Kubernetes API", "identity", ks->node,
		  "lease", ks->lease.name, "lease_namespace", ks->lease.ns,
		  NULL);
	return 0;
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
	return 1;
}

/*
 * The Lease, every other second. A new leader, and every leader once a
 * minute, forgets what it believes is written and has the agent sync
 * again, so that every object's status is checked (someone may have
 * edited it).
 */
static enum source_tick ks_tick(struct source *s, uint64_t n,
				uint64_t now_ns)
{
	struct kube_source *ks = (struct kube_source *)s;
	int was = ks->lease.held;

	if (n % 2 || !ks->kube || ks->o.no_status ||
	    !lease_tick(ks->kube, &ks->lease, now_ns))
		return SOURCE_IDLE;
	if (was && now_ns - ks->kcache_since < KCACHE_TTL_NS)
		return SOURCE_IDLE;
	kstatus_cache_free(ks->kcache);
	ks->kcache = kstatus_cache_new();
	ks->kcache_since = now_ns;
	return SOURCE_RESYNC;
}

static void ks_write_back(struct source *s, const struct model *m,
			  const struct gw_out *out)
{
	struct kube_source *ks = (struct kube_source *)s;
	struct kstatus_result res;
	char n[3][16];

	(void)m;	/* @out points into it, and says all status needs */
	if (!ks->kube || ks->o.no_status || !ks->lease.held)
		return;
	kstatus_write(ks->kube, ks->kcache, out, ks->o.controller,
		      kube_tlsroute_version(ks->kube), &res);
	if (!res.written && !res.failed)
		return;
	snprintf(n[0], 16, "%u", res.written);
	snprintf(n[1], 16, "%u", res.unchanged);
	snprintf(n[2], 16, "%u", res.failed);
	log_event(res.failed ? "warn" : "info", "status written", "written",
		  n[0], "unchanged", n[1], "failed", n[2], "error", res.err,
		  NULL);
}

/* The Lease given up on a clean stop, so another agent takes over now. */
static void ks_free(struct source *s)
{
	struct kube_source *ks = (struct kube_source *)s;

	if (ks->kube) {
		lease_release(ks->kube, &ks->lease);
		kube_stop(ks->kube);
	}
	kstatus_cache_free(ks->kcache);
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

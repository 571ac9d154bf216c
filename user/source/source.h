/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Where the agent's objects come from: one interface, two sources. The
 * manifest directory (dir.c) and the Kubernetes API server (the client in
 * kube*.c; its source, which also writes status back under a Lease, is
 * user/agent/kube_source.c, because status is made of the Gateway API
 * result, a layer above this one).
 *
 * The agent makes one, checks it, takes a first snapshot, starts it once
 * it has dropped its privileges, then polls its fd, takes a snapshot after every
 * change and ticks it once a second. A snapshot is always the caller's
 * (model_free()).
 */
#ifndef SNILB_USER_SOURCE_H
#define SNILB_USER_SOURCE_H

#include <stdint.h>

#include "model.h"

struct gw_out;		/* user/gwapi: what the agent made of a snapshot */

/* What a tick asks of the agent. */
enum source_tick {
	SOURCE_IDLE,
	SOURCE_RESCAN,		/* look for changes: next(force 0) */
	SOURCE_RESYNC,		/* evaluate and apply again: next(force 1) */
};

struct source;

struct source_ops {
	/*
	 * Whether the input can be read at all (the directory, the
	 * credentials), before the agent changes anything in the kernel:
	 * 0, or a negative errno (logged, with what to fix). NULL: nothing
	 * to check.
	 */
	int (*check)(struct source *s);
	/* Watch for changes (threads, inotify): after the agent dropped
	 * its privileges, as threads inherit them. 0, or a negative errno
	 * (logged). */
	int (*start)(struct source *s);
	/*
	 * The objects, when they changed since the last snapshot or @force:
	 * 1 and @m filled (the caller's: model_free()); 0 when there is
	 * nothing (new) to evaluate; a negative errno, logged, when they
	 * cannot be read (the agent keeps its tables).
	 */
	int (*next)(struct source *s, int force, struct model *m);
	/* Once a second, @n ticks since the start. */
	enum source_tick (*tick)(struct source *s, uint64_t n,
				 uint64_t now_ns);
	/* What the agent made of the last snapshot @m, for a source that
	 * writes status back (NULL: none does). Returns 1 when it took @m
	 * and @out over (the caller's are left empty, to free or not), 0
	 * when they are still the caller's. Must not wait on I/O: the
	 * caller programs the kernel. */
	int (*write_back)(struct source *s, struct model *m,
			  struct gw_out *out);
	/* Stop watching; free @s. */
	void (*free)(struct source *s);
};

struct source {
	const struct source_ops *ops;
	const char *name;	/* what it reads, for logs and the status:
				 * DIR, a kubeconfig, "in-cluster" */
	int fd;			/* readable after a change; -1 until
				 * started */
};

static inline int source_check(struct source *s)
{
	return s->ops->check ? s->ops->check(s) : 0;
}

static inline int source_start(struct source *s)
{
	return s->ops->start(s);
}

static inline int source_next(struct source *s, int force, struct model *m)
{
	return s->ops->next(s, force, m);
}

static inline enum source_tick source_tick(struct source *s, uint64_t n,
					   uint64_t now_ns)
{
	return s->ops->tick(s, n, now_ns);
}

static inline int source_write_back(struct source *s, struct model *m,
				    struct gw_out *out)
{
	return s->ops->write_back ? s->ops->write_back(s, m, out) : 0;
}

static inline void source_free(struct source *s)
{
	if (s)
		s->ops->free(s);
}

/* The manifest directory @dir (dir.c); NULL when out of memory. */
struct source *source_dir(const char *dir);

#endif /* SNILB_USER_SOURCE_H */

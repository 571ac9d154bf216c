// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * `snilb agent`: keeps the data plane's maps equal to what the Gateway
 * API objects of its source say (source.h: a manifest directory or the
 * API server). One thread: the source's fd (debounced), a 1 s tick for
 * the flow table's timeouts, for reclaiming retired sets and backends and
 * for the source's own, signals through a signalfd. The metrics server
 * (its own thread) reads a snapshot the loop publishes.
 */
#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "agent.h"
#include "caps.h"
#include "cookiekey.h"
#include "dataplane.h"
#include "defaults.h"
#include "gwapi.h"
#include "kube_source.h"
#include "log.h"
#include "metrics.h"
#include "options.h"
#include "opts.h"
#include "pinned.h"
#include "reaper.h"
#include "accesslog.h"
#include "snatports.h"
#include "source.h"
#include "startup.h"
#include "status.h"
#include "statusfile.h"
#include "sync.h"
#include "synclog.h"
#include "peers.h"
#include "reappace.h"

#define RECLAIM_GRACE_NS	(5ull * 1000000000ull)
struct agent {
	struct agent_opts *o;
	struct dataplane *dp;
	struct sync_state sync;
	struct source *src;		/* where the objects come from */
	struct status_agent ag;
	struct startup su;		/* checked, and how to undo it */
	char last_error[512];
	json_t *status;
	struct statusfile *sfile;	/* NULL: written here (before the
					 * threads start) */
	struct metrics_snapshot msnap;	/* guarded by lock */
	int have_msnap;			/* ... synced once */
	pthread_mutex_t lock;
	struct pinned *pinned;		/* for /metrics */
	struct metrics_server *metrics;
	volatile int ready;		/* synced from a complete input */
	uint64_t event_ns;		/* the change this sync is for (0:
					 * none: a tick, a signal) */
	struct alog *alog;		/* --access-log */
	struct cookie_key ck;		/* --cookie-key */
	struct peers *peers;		/* --peers, --drain */
	uint64_t reap_next;		/* the flow table's next walk */
	int drained;			/* drained: stop */
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static double wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* --- sync ------------------------------------------------------------------- */

/* The document, kept for the next one (lastTransitionTime), and the
 * file: by its thread once started. */
static void publish(struct agent *a, json_t *st)
{
	json_t *old = a->status;
	int err;

	a->status = st;
	if (a->o->check) {
		json_decref(old);
		return;
	}
	if (a->sfile && st) {
		statusfile_put(a->sfile, json_incref(st), old);
		return;
	}
	json_decref(old);
	err = status_write(a->o->status_file, st);
	if (err)
		log_event("error", "cannot write the status file", "path",
			  a->o->status_file, "error", strerror(-err), NULL);
}

/* What /metrics shows of the agent: swapped in whole, under the lock the
 * server's thread takes. */
static void publish_metrics(struct agent *a, const struct model *m,
			    const struct gw_out *out)
{
	struct metrics_snapshot snap, old;

	if (a->o->check)
		return;
	if (status_metrics(&a->ag, m, out, &a->sync, &snap)) {
		log_event("warn", "cannot update the metrics", "error",
			  "out of memory", "kept", "the last sync's", NULL);
		return;
	}
	pthread_mutex_lock(&a->lock);
	old = a->msnap;
	snap.nodes = old.nodes;
	snap.reaper = old.reaper;
	a->msnap = snap;
	a->have_msnap = 1;
	pthread_mutex_unlock(&a->lock);
	metrics_snapshot_free(&old);
}

/* Read, evaluate and apply. On any failure the maps keep their last good
 * content (see sync.h for the order). */
static int agent_sync(struct agent *a, int force)
{
	uint64_t t0 = mono_ns(), kernel_ns = 0;
	struct sync_result res = {};
	struct model m;
	struct gw_out out;
	int err = source_next(a->src, force, &m);

	if (err < 0)		/* logged by the source */
		a->ag.sync_errors++;
	if (err <= 0)
		return err;
	if (a->dp)
		peers_model(a->peers, a->dp, &m);
	err = gw_compute(&m, a->o->controller, a->o->cfg.maglev_size, &out);
	if (err) {
		log_event("error", "cannot evaluate the objects", "error",
			  strerror(-err), "kept", "the current tables", NULL);
		model_free(&m);
		return err;
	}
	synclog_diags(&m);
	synclog_route_conditions(&out);
	synclog_snat_family(a->o, &out);
	if (a->dp) {
		err = sync_apply(&a->sync, &out, t0, &res);
		kernel_ns = mono_ns();
		a->ag.syncs++;
		if (err) {
			a->ag.sync_errors++;
			log_event("error", "sync failed", "error", res.err,
				  "kept", "every route not yet switched keeps "
				  "its previous backends", NULL);
		} else {
			a->ready = 1;
		}
		snprintf(a->last_error, sizeof(a->last_error), "%s", res.err);
	} else if (sync_dry(&a->sync, &out)) {
		err = -ENOMEM;
	}
	a->ag.last_sync = wall();
	publish(a, status_build(&a->ag, &m, &out, &a->sync, a->status));
	publish_metrics(a, &m, &out);
	if (kernel_ns && !err)
		synclog_sync(&res, &out, t0, kernel_ns, mono_ns(),
			     a->event_ns);
	err = m.ndiags ? -EINVAL : err;
	if (!source_write_back(a->src, &m, &out)) {
		gw_out_free(&out);
		model_free(&m);
	}
	/* What the load and this sync freed goes back to the kernel: the
	 * agent idles at what its objects need, not at its peak. */
	malloc_trim(0);
	return err;
}

/* --- startup ---------------------------------------------------------------- */

/* Not fatal: exiting now would empty the tail-call table under the
 * program just attached. */
static void pin_progs(struct agent *a)
{
	int err = dp_pin_progs(a->dp, a->o->pin_path);

	if (err)
		log_event("error", "cannot pin the programs", "path",
			  a->o->pin_path, "error", strerror(-err), "effect",
			  "new connections stop being routed if the agent "
			  "exits", NULL);
}

/* Adopted flows on SNAT ports of another range: the backends' packets
 * for them are no longer taken (--snat-ports changed). */
static void warn_snat_outside(struct agent *a)
{
	uint32_t n;
	char num[16];

	if (dp_snat_outside(a->dp, a->o->cfg.port_lo, a->o->cfg.port_hi, &n)
	    || !n)
		return;
	snprintf(num, sizeof(num), "%u", n);
	log_event("warn", "adopted flows use SNAT ports outside --snat-ports",
		  "flows", num, "effect", "their backends' packets reach the "
		  "node's stack: those connections break", NULL);
}

static int open_dataplane(struct agent *a)
{
	struct dp_opts dopts = { .pin_dir = a->o->pin_path,
				 .max_flows = a->o->max_flows,
				 .log_ring = a->o->alog.path ? a->o->alog_ring :
					     DP_LOG_RING_OFF };
	char err[512], mss[2][8];
	int e;

	a->dp = dp_open(&dopts, err, sizeof(err));
	if (!a->dp) {
		log_event("error", "cannot load the data plane", "error", err,
			  NULL);
		return -EINVAL;
	}
	if ((e = startup_configure(&a->su, a->dp)))
		return e;
	a->ck.path = a->o->cookie_key;
	if (cookie_key_load(&a->ck, a->dp, "start"))
		return -EINVAL;
	e = sync_init(&a->sync, a->dp, a->o->cfg.maglev_size);
	if (e)
		return e;
	snprintf(mss[0], sizeof(mss[0]), "%u", a->o->cfg.mss4);
	snprintf(mss[1], sizeof(mss[1]), "%u", a->o->cfg.mss6);
	log_event("info", "data plane loaded", "pin_path", a->o->pin_path,
		  "adopted", a->sync.nlisteners ? "yes" : "no",
		  "program", dp_prog_name(a->dp), "mss4", mss[0],
		  "mss6", mss[1], NULL);
	warn_snat_outside(a);
	return 0;
}

/* --- the loop --------------------------------------------------------------- */

static int snapshot(void *ctx, struct metrics_snapshot *snap)
{
	struct agent *a = ctx;
	int err = -ENOENT;

	pthread_mutex_lock(&a->lock);
	if (a->have_msnap)
		err = metrics_snapshot_copy(snap, &a->msnap);
	pthread_mutex_unlock(&a->lock);
	return err;
}

static int alog_hist(void *ctx, FILE *out)
{
	struct agent *a = ctx;

	return a->alog ? alog_metrics(a->alog, out) : 0;
}

static int is_ready(void *ctx)
{
	return ((struct agent *)ctx)->ready;
}

/* The maps /metrics reads: opened before the attach, as a failure here
 * is one to undo while the agent still may. */
static int open_metrics_maps(struct agent *a)
{
	char err[512];

	if (!a->o->metrics_listen)
		return 0;
	a->pinned = pinned_open(a->o->pin_path, err, sizeof(err));
	if (a->pinned)
		return 0;
	log_event("error", "metrics: cannot open the pinned maps", "error",
		  err, NULL);
	return -EINVAL;
}

/* On the socket the start-up check bound. */
static int start_metrics(struct agent *a)
{
	static struct metrics_source src;
	char err[512];
	int fd = a->su.metrics_fd;

	if (!a->o->metrics_listen)
		return 0;
	src.pinned = a->pinned;
	src.snapshot = snapshot;
	src.ready = is_ready;
	src.extra = alog_hist;
	src.ctx = a;
	a->su.metrics_fd = -1;	/* the server's now */
	a->metrics = metrics_serve(fd, &src, err, sizeof(err));
	if (!a->metrics) {
		log_event("error", "cannot serve metrics", "listen",
			  a->o->metrics_listen, "error", err, NULL);
		return -EINVAL;
	}
	log_event("info", "serving metrics", "listen", a->o->metrics_listen,
		  "path", "/metrics", NULL);
	return 0;
}

/* The SNIs most rejected, for `snilb top`, next to the status file. */
static void write_rejects(struct agent *a)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s" SNILB_REJECTS_SUFFIX,
		 a->o->status_file);
	if (alog_write_rejects(a->alog, path))
		log_event("warn", "cannot write the SNIs most rejected",
			  "path", path, NULL);
}

/* The node table and the drain, for /metrics. */
static void publish_nodes(struct agent *a)
{
	struct peers_info pi;

	peers_info(a->peers, &pi);
	pthread_mutex_lock(&a->lock);
	a->msnap.nodes = (struct metrics_nodes){
		.on = pi.nodes || pi.draining, .generation = pi.generation,
		.nodes = (uint32_t)pi.nodes, .member = pi.member,
		.draining = pi.draining, .drain_flows = pi.drain_flows,
		.drain_left = pi.drain_left,
	};
	pthread_mutex_unlock(&a->lock);
}

/* The flow table's walk, when it is due (reappace.h). */
static void reap(struct agent *a, uint64_t now)
{
	struct reap_result gr;
	uint64_t took;

	if (now < a->reap_next)
		return;
	if (dp_reap(a->dp, now, &gr))
		log_event("warn", "flow table walk failed", "kept",
			  "every flow, until the next walk", NULL);
	else if (peers_drain_done(a->peers, gr.flows))
		a->drained = 1;
	took = mono_ns() - now;
	a->reap_next = now + reap_wait_ns(took);
	pthread_mutex_lock(&a->lock);
	a->msnap.reaper.passes++;
	a->msnap.reaper.pass_s = took / 1e9;
	a->msnap.reaper.wait_s = reap_wait_ns(took) / 1e9;
	pthread_mutex_unlock(&a->lock);
}

static void tick(struct agent *a, uint64_t n)
{
	uint64_t now = mono_ns();

	cookie_key_poll(&a->ck, a->dp);
	reap(a, now);
	peers_apply(a->peers, a->dp);
	publish_nodes(a);
	if (a->alog) {
		uint64_t lost = 0;

		dp_log_read(a->dp);
		dp_log_lost(a->dp, &lost);
		alog_tick(a->alog, lost);
		write_rejects(a);
	}
	/* Not before the first sync: until then the adopted sets and
	 * backends are what routes the traffic. */
	if (a->ready)
		sync_reclaim(&a->sync, now, RECLAIM_GRACE_NS);
	switch (source_tick(a->src, n, now)) {
	case SOURCE_RESCAN:
		agent_sync(a, 0);
		break;
	case SOURCE_RESYNC:
		agent_sync(a, 1);
		break;
	case SOURCE_IDLE:
		break;
	}
}

/*
 * The signals the loop reads from a signalfd, blocked before any thread
 * starts (the API watchers, the metrics server): a thread created with
 * them unblocked would take SIGTERM and die of it, skipping the Lease
 * release.
 */
static void block_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static int setup_signals(int *sfd)
{
	sigset_t set;

	block_signals(&set);
	*sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (*sfd >= 0)
		return 0;
	log_event("error", "cannot make a signalfd", "error", strerror(errno),
		  NULL);
	return -errno;
}

static void drain(int fd)
{
	char buf[4096];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

/*
 * Wait for events; after the first change, wait for --debounce ms of
 * quiet (at most 500 ms after the first) so a burst of edits, like the
 * EndpointSlice controller's several writes, is applied as one.
 */
static int run(struct agent *a, int ifd, int sfd)
{
	uint64_t next_tick = mono_ns(), first = 0, last = 0, now, ticks = 0;
	uint64_t quiet = a->o->debounce_ms * 1000000ull;
	struct pollfd p[3] = { { .fd = ifd, .events = POLLIN },
			       { .fd = sfd, .events = POLLIN },
			       { .fd = a->alog ? dp_log_fd(a->dp) : -1,
				 .events = POLLIN } };

	for (;;) {
		int timeout = 1000, n;

		now = mono_ns();
		if (first) {
			uint64_t due = last + quiet;

			if (due > first + 500000000ull)
				due = first + 500000000ull;
			timeout = due > now ? (int)((due - now) / 1000000) : 0;
		}
		n = poll(p, 3, timeout);
		now = mono_ns();
		if (n > 0 && (p[1].revents & POLLIN)) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) != sizeof(si))
				continue;
			if (si.ssi_signo == SIGTERM && a->o->drain &&
			    !peers_drain(a->peers, a->dp)) {
				continue;
			}
			if (si.ssi_signo != SIGHUP)
				return (int)si.ssi_signo;
			log_event("info", "SIGHUP: full resync", NULL);
			cookie_key_load(&a->ck, a->dp, "SIGHUP");
			agent_sync(a, 1);
		}
		if (n > 0 && (p[2].revents & POLLIN)) {
			dp_log_read(a->dp);
			alog_flush(a->alog);
		}
		if (n > 0 && (p[0].revents & POLLIN)) {
			drain(ifd);
			if (!first)
				first = now;
			last = now;
		}
		if (first && (now >= last + quiet ||
			      now >= first + 500000000ull)) {
			a->event_ns = first;
			first = 0;
			agent_sync(a, 0);
			a->event_ns = 0;
		}
		if (now >= next_tick) {
			tick(a, ++ticks);
			next_tick = now + 1000000000ull;
		}
		if (a->drained)
			return SIGTERM;
	}
}

/* Before any thread starts: capabilities are per thread, and threads
 * inherit their creator's. */
static void drop_privileges(void)
{
	int err = caps_drop_to_runtime();

	if (err)
		log_event("warn", "cannot drop capabilities", "error",
			  strerror(-err), "kept", "the start-up set", NULL);
	else
		log_event("info", "capabilities dropped", "kept",
			  "CAP_BPF (Maglev tables), CAP_NET_RAW (timeout RSTs)",
			  NULL);
}

/* The directory, or the API server with its Lease and status. */
static int open_source(struct agent *a)
{
	struct kube_source_opts ko = {
		.kubeconfig = a->o->kubeconfig, .node_name = a->o->node_name,
		.lease_ns = a->o->lease_ns, .lease_name = a->o->lease_name,
		.controller = a->o->controller, .no_status = a->o->no_status,
	};

	a->src = a->o->manifests ? source_dir(a->o->manifests) :
		 kube_source(&ko);
	if (a->src)
		return 0;
	log_event("error", "cannot open the source", "error",
		  strerror(ENOMEM), NULL);
	return -ENOMEM;
}

static int check_only(struct agent *a)
{
	char *s;
	int err;

	err = agent_sync(a, 1);
	s = json_dumps(a->status, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (s)
		puts(s);
	free(s);
	return err ? EXIT_NOMATCH : 0;
}

/* From a directory, the maps are filled before the program is attached;
 * from the API (nothing before it is started and every kind is listed),
 * in run(). */
static void first_sync(struct agent *a)
{
	int err = agent_sync(a, 1);

	if (err && err != -EINVAL)	/* -EINVAL: bad objects, reported */
		log_event("warn", "first sync incomplete", "error",
			  a->last_error, NULL);
}

static const char *route_name(void *ctx, uint32_t id)
{
	return sync_route_name(ctx, id);
}

/* --access-log: the file, opened before anything changes. */
static int open_alog(struct agent *a)
{
	char err[512];

	if (!a->o->alog.path)
		return 0;
	a->alog = alog_open(&a->o->alog, route_name, &a->sync, err,
			    sizeof(err));
	if (a->alog)
		return 0;
	log_event("error", "cannot open the access log", "error", err, NULL);
	return -1;
}

/* ... and its records from the data plane. */
static int read_alog(struct agent *a)
{
	int e;

	if (!a->alog)
		return 0;
	e = dp_log_open(a->dp, alog_record, a->alog);
	if (!e) {
		uint64_t lost = 0;

		/* What was lost before (pinned counters): not ours. */
		dp_log_lost(a->dp, &lost);
		alog_tick(a->alog, lost);
		log_event("info", "access log", "path", a->o->alog.path,
			  "format", a->o->alog.logfmt ? "logfmt" : "json",
			  NULL);
		return 0;
	}
	log_event("error", "cannot read the data plane's access log",
		  "error", strerror(-e), NULL);
	return -1;
}

/*
 * Everything that can stop the agent is checked before the kernel is
 * changed; a failure after that is undone (startup.h), so that a start
 * that fails leaves the node as it found it.
 */
static int start(struct agent *a, int *sfd)
{
	if (startup_check(&a->su, a->o, a->src) || open_alog(a))
		return -1;
	if (setup_signals(sfd) || startup_prepare(&a->su) ||
	    open_dataplane(a) || read_alog(a) || open_metrics_maps(a))
		goto undo;
	first_sync(a);
	if (peers_apply(a->peers, a->dp) < 0 || startup_attach(&a->su))
		goto undo;
	pin_progs(a);
	drop_privileges();
	/* Threads from here: their failure is one of resources. Without
	 * CAP_NET_ADMIN now, the undo keeps the data plane (logged). */
	if (source_start(a->src) || start_metrics(a) ||
	    !(a->sfile = statusfile_start(a->o->status_file)))
		goto undo;
	startup_done(&a->su);
	return 0;
undo:
	startup_undo(&a->su);
	return -1;
}

int cmd_agent(int argc, char **argv)
{
	struct agent_opts o = {};
	struct agent a = { .o = &o, .lock = PTHREAD_MUTEX_INITIALIZER };
	int sfd = -1, sig, err;
	sigset_t blocked;

	err = agent_options(argc, argv, &o);
	if (err)
		return err < 0 ? EXIT_USAGE : 0;
	if (open_source(&a))
		return 1;
	a.peers = peers_open(o.peers, o.node_name, o.drain_timeout_s);
	if (!a.peers)
		return 1;
	a.ag.started = wall();
	a.ag.manifests = a.src->name;
	a.ag.pin_path = o.pin_path;
	a.ag.controller = o.controller;
	a.ag.last_error = a.last_error;
	a.ag.ifaces = o.ifnames;
	a.ag.nifaces = o.nifaces;
	if (o.check)
		return check_only(&a);
	block_signals(&blocked);
	if (start(&a, &sfd))
		return 1;
	log_event("info", "agent running", "source", a.src->name, NULL);
	sig = run(&a, a.src->fd, sfd);
	log_event("info", "stopping; the data plane stays attached",
		  "signal", strsignal(sig), NULL);
	source_free(a.src);
	statusfile_stop(a.sfile);
	metrics_stop(a.metrics);
	metrics_snapshot_free(&a.msnap);
	pinned_close(a.pinned);
	sync_free(&a.sync);
	peers_free(a.peers);
	if (a.alog)
		dp_log_read(a.dp);
	dp_close(a.dp);
	alog_close(a.alog);
	json_decref(a.status);
	return 0;
}

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * `snilb agent`: keeps the data plane's maps equal to what the Gateway
 * API manifests in a directory say. One thread: inotify on the
 * directory (debounced), a 1 s tick for the flow table's timeouts and for
 * reclaiming retired sets and backends, signals through a signalfd. The
 * metrics server (its own thread) reads a snapshot of the status.
 */
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "agent.h"
#include "caps.h"
#include "dataplane.h"
#include "defaults.h"
#include "gc.h"
#include "gwapi.h"
#include "kstatus.h"
#include "kube.h"
#include "lease.h"
#include "log.h"
#include "decode.h"
#include "manifests.h"
#include "metrics.h"
#include "options.h"
#include "opts.h"
#include "pinned.h"
#include "snatports.h"
#include "status.h"
#include "sync.h"

#define BPF_FS_MAGIC_	0xcafe4a11
#define RECLAIM_GRACE_NS	(5ull * 1000000000ull)
struct agent {
	struct agent_opts *o;
	struct dataplane *dp;
	struct sync_state sync;
	struct mf_dir mf;
	struct status_agent ag;
	char last_error[512];
	json_t *status;			/* guarded by lock */
	pthread_mutex_t lock;
	struct pinned *pinned;		/* for /metrics */
	struct metrics_server *metrics;
	volatile int ready;		/* synced from a complete input */
	/* the Kubernetes source */
	struct kube *kube;
	int kube_fd;			/* eventfd: the store changed */
	struct lease lease;
	struct kstatus_cache *kcache;
	uint64_t kcache_since;
	char node[256];
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

static void log_diags(const struct model *m)
{
	char line[16];
	size_t i;

	for (i = 0; i < m->ndiags; i++) {
		const struct m_diag *d = &m->diags[i];

		snprintf(line, sizeof(line), "%d", d->line);
		log_event("error", "invalid manifest", "file", d->file,
			  "line", line, "field", d->field ? d->field : "",
			  "object", d->name ? d->name : "",
			  "kind", d->kind ? d->kind : "", "error", d->msg,
			  "kept", !d->kind ? "the file's last good objects" :
			  !d->field ? "the first definition" :
			  "the object's last good version", NULL);
	}
}

static void log_route_conditions(const struct gw_out *out)
{
	size_t i, j, k;
	char who[600];

	for (i = 0; i < out->nroutes; i++) {
		const struct gw_route *r = &out->routes[i];

		snprintf(who, sizeof(who), "%s/%s", r->ns, r->name);
		for (j = 0; j < r->nparents; j++)
			for (k = 0; k < 2; k++)
				if (!r->parents[j].conds[k].status)
					log_event("warn", "route condition",
						  "route", who, "parent",
						  r->parents[j].gateway, "type",
						  r->parents[j].conds[k].type,
						  "status", "False", "reason",
						  r->parents[j].conds[k].reason,
						  "message",
						  r->parents[j].conds[k].msg,
						  NULL);
	}
}

static void publish(struct agent *a, json_t *st)
{
	json_t *old;
	int err;

	pthread_mutex_lock(&a->lock);
	old = a->status;
	a->status = st;
	pthread_mutex_unlock(&a->lock);
	json_decref(old);
	if (a->o->check)
		return;
	err = status_write(a->o->status_file, st);
	if (err)
		log_event("error", "cannot write the status file", "path",
			  a->o->status_file, "error", strerror(-err), NULL);
}

static void log_sync(const struct sync_result *res, const struct gw_out *out,
		     uint64_t took_ns)
{
	char n[8][16];

	snprintf(n[0], 16, "%zu", out->nroutes);
	snprintf(n[1], 16, "%zu", out->nentries);
	snprintf(n[2], 16, "%zu", out->nsets);
	snprintf(n[3], 16, "%u", res->routes_set);
	snprintf(n[4], 16, "%u", res->routes_deleted);
	snprintf(n[5], 16, "%u", res->sets_built);
	snprintf(n[6], 16, "%zu", out->nvips);
	snprintf(n[7], 16, "%.1f", took_ns / 1e6);
	log_event("info", "synced", "routes", n[0], "hostnames", n[1],
		  "sets", n[2], "listeners", n[6], "routes_written", n[3],
		  "routes_deleted", n[4], "sets_built", n[5], "ms", n[7],
		  NULL);
}

/* Rescan, recompute and apply. On any failure the maps keep their last
 * good content (see sync.h for the order). */
/* The objects, from the directory or the API server. 1: a model to
 * evaluate (*@owned: free it with model_free()), 0: nothing new. */
static int read_input(struct agent *a, int force, struct model *m,
		      int *owned)
{
	int changed, err;

	*owned = a->kube != NULL;
	if (a->kube) {
		/* Never program a partial picture: before every kind was
		 * listed once, an empty table would delete live routes. */
		if (!kube_synced(a->kube))
			return 0;
		memset(m, 0, sizeof(*m));
		err = kube_model(a->kube, m);
		return err ? err : 1;
	}
	changed = mf_scan(&a->mf);
	if (changed < 0) {
		log_event("error", "cannot read the manifest directory", "dir",
			  a->o->manifests, "error", strerror(-changed), "kept",
			  "the current tables", NULL);
		a->ag.sync_errors++;
		return changed;
	}
	if (!changed && !force)
		return 0;
	err = mf_combine(&a->mf, m);
	return err ? err : 1;
}

static void write_status(struct agent *a, const struct model *m,
			 const struct gw_out *out)
{
	struct kstatus_result res;
	char n[3][16];

	if (!a->kube || a->o->no_status || !a->lease.held)
		return;
	kstatus_write(a->kube, a->kcache, m, out, a->o->controller,
		      kube_tlsroute_version(a->kube), &res);
	if (!res.written && !res.failed)
		return;
	snprintf(n[0], 16, "%u", res.written);
	snprintf(n[1], 16, "%u", res.unchanged);
	snprintf(n[2], 16, "%u", res.failed);
	log_event(res.failed ? "warn" : "info", "status written", "written",
		  n[0], "unchanged", n[1], "failed", n[2], "error", res.err,
		  NULL);
}

/* Read, evaluate and apply. On any failure the maps keep their last good
 * content (see sync.h for the order). */
static int agent_sync(struct agent *a, int force)
{
	uint64_t t0 = mono_ns();
	struct sync_result res = {};
	struct model m;
	struct gw_out out;
	int owned, err = read_input(a, force, &m, &owned);

	if (err <= 0)
		return err;
	err = gw_compute(&m, a->o->controller, a->o->cfg.maglev_size, &out);
	if (err) {
		log_event("error", "cannot evaluate the objects", "error",
			  strerror(-err), "kept", "the current tables", NULL);
		owned ? model_free(&m) : model_free_shallow(&m);
		return err;
	}
	log_diags(&m);
	log_route_conditions(&out);
	if (a->dp) {
		err = sync_apply(&a->sync, &out, t0, &res);
		a->ag.syncs++;
		if (err) {
			a->ag.sync_errors++;
			log_event("error", "sync failed", "error", res.err,
				  "kept", "every route not yet switched keeps "
				  "its previous backends", NULL);
		} else {
			log_sync(&res, &out, mono_ns() - t0);
			a->ready = 1;
		}
		snprintf(a->last_error, sizeof(a->last_error), "%s", res.err);
	} else if (sync_dry(&a->sync, &out)) {
		err = -ENOMEM;
	}
	a->ag.last_sync = wall();
	publish(a, status_build(&a->ag, &m, &out, &a->sync));
	write_status(a, &m, &out);
	err = m.ndiags ? -EINVAL : err;
	gw_out_free(&out);
	owned ? model_free(&m) : model_free_shallow(&m);
	return err;
}

/* --- startup ---------------------------------------------------------------- */

static int ensure_bpffs(const char *pin_path)
{
	struct statfs fs;
	char dir[4096], *slash;

	if (!statfs("/sys/fs/bpf", &fs) && fs.f_type != BPF_FS_MAGIC_ &&
	    mount("bpf", "/sys/fs/bpf", "bpf", 0, NULL)) {
		log_event("error", "cannot mount bpffs", "path", "/sys/fs/bpf",
			  "error", strerror(errno), NULL);
		return -errno;
	}
	snprintf(dir, sizeof(dir), "%s", pin_path);
	for (slash = dir + 1; (slash = strchr(slash, '/')); slash++) {
		*slash = 0;
		mkdir(dir, 0700);
		*slash = '/';
	}
	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	/* Pins on another file system would be refused; pins on a bpffs
	 * that dies with a mount namespace (ip netns exec remounts /sys)
	 * would take the tail-call table with them. */
	if (statfs(dir, &fs) || fs.f_type != BPF_FS_MAGIC_) {
		log_event("error", "the pin path is not on a bpffs", "path",
			  dir, "fix", "mount -t bpf bpf DIR and pass "
			  "--pin-path DIR/snilb", NULL);
		return -ENOTDIR;
	}
	return 0;
}

static int attach_all(struct agent *a)
{
	size_t i;
	int err;

	for (i = 0; i < a->o->nifaces; i++) {
		err = dp_attach(a->dp, (int)if_nametoindex(a->o->ifnames[i]));
		if (err) {
			log_event("error", "cannot attach", "iface",
				  a->o->ifnames[i], "error", strerror(-err),
				  NULL);
			return err;
		}
		log_event("info", "attached", "iface", a->o->ifnames[i],
			  "hook", "tc clsact ingress", NULL);
	}
	/* Not fatal: exiting now would empty the tail-call table under
	 * the program just attached. */
	err = dp_pin_progs(a->dp, a->o->pin_path);
	if (err)
		log_event("error", "cannot pin the programs", "path",
			  a->o->pin_path, "error", strerror(-err), "effect",
			  "new connections stop being routed if the agent "
			  "exits", NULL);
	return 0;
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
				 .max_flows = a->o->max_flows };
	struct sync_route_id *ids = NULL;
	char err[512], mss[2][8];
	size_t nids = 0;
	int e;

	if ((e = ensure_bpffs(a->o->pin_path)))
		return e;
	a->dp = dp_open_opts(&dopts, err, sizeof(err));
	if (!a->dp) {
		log_event("error", "cannot load the data plane", "error", err,
			  NULL);
		return -EINVAL;
	}
	if ((e = dp_config_set(a->dp, &a->o->cfg))) {
		log_event("error", "cannot write the config map", "error",
			  strerror(-e), NULL);
		return e;
	}
	status_route_ids(a->o->status_file, &ids, &nids);
	e = sync_init(&a->sync, a->dp, a->o->cfg.maglev_size, ids, nids);
	free(ids);
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

static json_t *snapshot(void *ctx)
{
	struct agent *a = ctx;
	json_t *st;

	pthread_mutex_lock(&a->lock);
	st = json_incref(a->status);
	pthread_mutex_unlock(&a->lock);
	return st;
}

static int is_ready(void *ctx)
{
	return ((struct agent *)ctx)->ready;
}

static int start_metrics(struct agent *a)
{
	static struct metrics_source src;
	char err[512];

	if (!a->o->metrics_listen)
		return 0;
	a->pinned = pinned_open(a->o->pin_path, err, sizeof(err));
	if (!a->pinned) {
		log_event("error", "metrics: cannot open the pinned maps",
			  "error", err, NULL);
		return -EINVAL;
	}
	src.pinned = a->pinned;
	src.snapshot = snapshot;
	src.ready = is_ready;
	src.ctx = a;
	a->metrics = metrics_start(a->o->metrics_listen, &src, err,
				   sizeof(err));
	if (!a->metrics) {
		log_event("error", "cannot serve metrics", "listen",
			  a->o->metrics_listen, "error", err, NULL);
		return -EINVAL;
	}
	log_event("info", "serving metrics", "listen", a->o->metrics_listen,
		  "path", "/metrics", NULL);
	return 0;
}

#define KCACHE_TTL_NS	(60ull * 1000000000ull)

/*
 * The Lease, every other second. A new leader, and every leader once a
 * minute, forgets what it believes is written and checks every object's
 * status again (someone may have edited it).
 */
static void lease_round(struct agent *a, uint64_t now)
{
	int was = a->lease.held;

	if (a->o->no_status || !lease_tick(a->kube, &a->lease, now))
		return;
	if (was && now - a->kcache_since < KCACHE_TTL_NS)
		return;
	kstatus_cache_free(a->kcache);
	a->kcache = kstatus_cache_new();
	a->kcache_since = now;
	agent_sync(a, 1);
}

static void tick(struct agent *a, uint64_t n)
{
	struct gc_result gr;
	uint64_t now = mono_ns();

	if (dp_gc(a->dp, now, &gr))
		log_event("warn", "flow table walk failed", NULL);
	/* Not before the first sync: until then the adopted sets and
	 * backends are what routes the traffic. */
	if (a->ready)
		sync_reclaim(&a->sync, now, RECLAIM_GRACE_NS);
	if (a->kube && n % 2 == 0)
		lease_round(a, now);
	/* Every 5th tick, a rescan of the directory: an event can be lost
	 * (directory replaced, queue overflow). */
	if (!a->kube && n % 5 == 0)
		agent_sync(a, 0);
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

static int setup_fds(struct agent *a, int *ifd, int *sfd)
{
	sigset_t set;

	block_signals(&set);
	*sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (a->kube) {
		*ifd = a->kube_fd;
		return *sfd < 0 ? -errno : 0;
	}
	*ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (*sfd < 0 || *ifd < 0 ||
	    inotify_add_watch(*ifd, a->o->manifests, IN_CLOSE_WRITE |
			      IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE |
			      IN_CREATE | IN_ATTRIB | IN_DELETE_SELF |
			      IN_MOVE_SELF) < 0) {
		log_event("error", "cannot watch the manifest directory", "dir",
			  a->o->manifests, "error", strerror(errno), NULL);
		return -errno;
	}
	return 0;
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
	struct pollfd p[2] = { { .fd = ifd, .events = POLLIN },
			       { .fd = sfd, .events = POLLIN } };

	for (;;) {
		int timeout = 1000, n;

		now = mono_ns();
		if (first) {
			uint64_t due = last + quiet;

			if (due > first + 500000000ull)
				due = first + 500000000ull;
			timeout = due > now ? (int)((due - now) / 1000000) : 0;
		}
		n = poll(p, 2, timeout);
		now = mono_ns();
		if (n > 0 && (p[1].revents & POLLIN)) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) != sizeof(si))
				continue;
			if (si.ssi_signo != SIGHUP)
				return (int)si.ssi_signo;
			log_event("info", "SIGHUP: full resync", NULL);
			agent_sync(a, 1);
		}
		if (n > 0 && (p[0].revents & POLLIN)) {
			drain(ifd);
			if (!first)
				first = now;
			last = now;
		}
		if (first && (now >= last + quiet ||
			      now >= first + 500000000ull)) {
			first = 0;
			agent_sync(a, 0);
		}
		if (now >= next_tick) {
			tick(a, ++ticks);
			next_tick = now + 1000000000ull;
		}
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

static void identity(struct agent *a)
{
	const char *env = getenv("NODE_NAME");

	if (a->o->node_name)
		snprintf(a->node, sizeof(a->node), "%s", a->o->node_name);
	else if (env && *env)
		snprintf(a->node, sizeof(a->node), "%s", env);
	else if (gethostname(a->node, sizeof(a->node) - 1))
		snprintf(a->node, sizeof(a->node), "snilb-%d", (int)getpid());
}

static int start_kube(struct agent *a)
{
	struct kube_config kc = { .kubeconfig = a->o->kubeconfig };
	char err[512];

	if (!a->o->kubeconfig && !a->o->in_cluster)
		return 0;
	a->kube_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (a->kube_fd < 0)
		return -errno;
	a->kube = kube_start(&kc, a->kube_fd, err, sizeof(err));
	if (!a->kube) {
		log_event("error", "cannot reach the Kubernetes API", "error",
			  err, NULL);
		return -EINVAL;
	}
	identity(a);
	a->lease.identity = a->node;
	a->lease.name = a->o->lease_name;	/* SNILB_LEASE_NAME by default */
	a->lease.ns = a->o->lease_ns ? a->o->lease_ns :
		      kube_namespace(a->kube) ? kube_namespace(a->kube) :
		      SNILB_LEASE_NAMESPACE;
	a->lease.duration_s = 15;
	a->kcache = kstatus_cache_new();
	log_event("info", "watching the Kubernetes API", "identity", a->node,
		  "lease", a->lease.name, "lease_namespace", a->lease.ns, NULL);
	return 0;
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

int cmd_agent(int argc, char **argv)
{
	struct agent_opts o = {};
	struct agent a = { .o = &o, .lock = PTHREAD_MUTEX_INITIALIZER };
	int ifd = -1, sfd = -1, sig, err;
	sigset_t blocked;

	err = agent_options(argc, argv, &o);
	if (err)
		return err < 0 ? EXIT_USAGE : 0;
	a.mf.dir = (char *)o.manifests;
	a.ag.started = wall();
	a.ag.manifests = o.manifests ? o.manifests : o.kubeconfig ?
			 o.kubeconfig : "in-cluster";
	a.ag.pin_path = o.pin_path;
	a.ag.controller = o.controller;
	a.ag.last_error = a.last_error;
	a.ag.ifaces = o.ifnames;
	a.ag.nifaces = o.nifaces;
	if (o.check)
		return check_only(&a);
	block_signals(&blocked);
	/* Before anything is loaded: a refusal leaves the node as it was. */
	if (snat_ports_reserve(SNAT_SYSCTL_DIR, (struct port_range){
		o.cfg.port_lo, o.cfg.port_hi }))
		return 1;
	if (open_dataplane(&a))
		return 1;
	/* From a directory, the maps are filled before the program is
	 * attached; from the API, once every kind is listed (run()). */
	err = o.manifests ? agent_sync(&a, 1) : 0;
	if (err && err != -EINVAL)	/* -EINVAL: bad objects, reported */
		log_event("warn", "first sync incomplete", "error",
			  a.last_error, NULL);
	if (attach_all(&a))
		return 1;
	drop_privileges();
	if (start_kube(&a) || start_metrics(&a) || setup_fds(&a, &ifd, &sfd))
		return 1;
	log_event("info", "agent running", "source", o.manifests ? o.manifests :
		  o.kubeconfig ? o.kubeconfig : "in-cluster", NULL);
	sig = run(&a, ifd, sfd);
	log_event("info", "stopping; the data plane stays attached",
		  "signal", strsignal(sig), NULL);
	if (a.kube) {
		lease_release(a.kube, &a.lease);
		kube_stop(a.kube);
		kstatus_cache_free(a.kcache);
	}
	metrics_stop(a.metrics);
	pinned_close(a.pinned);
	sync_free(&a.sync);
	mf_free(&a.mf);
	dp_close(a.dp);
	json_decref(a.status);
	return 0;
}

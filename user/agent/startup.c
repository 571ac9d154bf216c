// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The agent's start: checked before anything changes, undone when it
 * fails after that (startup.h).
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"
#include "source.h"
#include "startup.h"
#include "cookiekey.h"

#define BPF_FS_MAGIC_	0xcafe4a11
#define SYS_BPF		"/sys/fs/bpf"

/* --- the checks ------------------------------------------------------- */

/* @path's directory, in place: "a/b" -> "a", "/a" -> "/", "a" -> ".". */
static void to_parent(char *path, size_t len)
{
	char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(path, len, ".");
	else if (slash == path)
		path[1] = 0;
	else
		*slash = 0;
}

/*
 * The deepest part of @path that exists, into @part (a directory, or what
 * stands where one is needed), its stat in @st. 0 or -errno.
 */
static int existing_part(const char *path, char *part, size_t len,
			 struct stat *st)
{
	if ((size_t)snprintf(part, len, "%s", path) >= len)
		return -ENAMETOOLONG;
	while (stat(part, st)) {
		if (errno != ENOENT)
			return -errno;
		to_parent(part, len);
	}
	return 0;
}

/* bpffs is not mounted at /sys/fs/bpf: the agent will mount it. */
static bool will_mount_bpffs(void)
{
	struct statfs fs;

	return !statfs(SYS_BPF, &fs) && fs.f_type != BPF_FS_MAGIC_;
}

/*
 * The pin path, or the directory it is to be made in, is on a bpffs (or
 * is /sys/fs/bpf, to be mounted). Pins elsewhere would be refused, and
 * pins on a bpffs that dies with a mount namespace (ip netns exec
 * remounts /sys) would take the tail-call table with them.
 */
static int check_pin_path(const char *path)
{
	char part[4096];
	struct statfs fs;
	struct stat st;
	int e = existing_part(path, part, sizeof(part), &st);

	if (!e && !S_ISDIR(st.st_mode))
		e = -ENOTDIR;
	if (e) {
		log_event("error", "cannot use the pin path", "path", path,
			  "at", part, "error", strerror(-e), "option",
			  "--pin-path", NULL);
		return e;
	}
	if (!statfs(part, &fs) && fs.f_type == BPF_FS_MAGIC_)
		return 0;
	if (!strcmp(part, SYS_BPF) && will_mount_bpffs())
		return 0;
	log_event("error", "the pin path is not on a bpffs", "path", path,
		  "option", "--pin-path", "fix", "mount -t bpf bpf DIR and "
		  "pass --pin-path DIR/snilb", NULL);
	return -ENOTDIR;
}

/* The status file can be written (the CLI, and `snilb detach` to know
 * the agent runs, read it): its directory is or can be made. */
static int check_status_file(struct startup *su)
{
	const char *path = su->o->status_file;
	char dir[4096], *part = su->status_base;
	struct stat st;
	int e = 0;

	snprintf(dir, sizeof(dir), "%s", path);
	to_parent(dir, sizeof(dir));
	if (!stat(path, &st) && S_ISDIR(st.st_mode))
		e = -EISDIR;
	if (!e)
		e = existing_part(dir, part, sizeof(su->status_base), &st);
	if (!e && !S_ISDIR(st.st_mode))
		e = -ENOTDIR;
	if (!e && access(part, W_OK | X_OK))
		e = -errno;
	if (e)
		log_event("error", "cannot write the status file", "path",
			  path, "at", part, "error", strerror(-e), "option",
			  "--status-file", NULL);
	return e;
}

static int check_metrics(struct startup *su)
{
	char err[512];

	if (!su->o->metrics_listen)
		return 0;
	su->metrics_fd = metrics_bind(su->o->metrics_listen, err,
				      sizeof(err));
	if (su->metrics_fd >= 0)
		return 0;
	log_event("error", "cannot serve metrics", "listen",
		  su->o->metrics_listen, "error", err, "option",
		  "--metrics-listen", NULL);
	return su->metrics_fd;
}

/* Each check runs, so that one start says every problem there is. */
int startup_check(struct startup *su, const struct agent_opts *o,
		  struct source *src)
{
	int bad = 0;

	memset(su, 0, sizeof(*su));
	su->o = o;
	su->metrics_fd = -1;
	bad |= source_check(src) != 0;
	bad |= check_status_file(su) != 0;
	bad |= check_pin_path(o->pin_path) != 0;
	bad |= cookie_key_check(o->cookie_key) != 0;
	bad |= snat_ports_verify(SNAT_SYSCTL_DIR, (struct port_range){
		o->cfg.port_lo, o->cfg.port_hi }, &su->snat) != 0;
	if (!bad)	/* last: a bound socket is the one thing to undo */
		bad |= check_metrics(su) != 0;
	if (bad)
		log_event("error", "not started", "changed", "nothing", NULL);
	return bad ? -EINVAL : 0;
}

/* --- the changes, noted ------------------------------------------------ */

/* The whole of @path (malloc'd, *@len bytes), or NULL with errno. */
static char *read_whole(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL, *nb;
	size_t cap = 0, n;

	*len = 0;
	if (!f)
		return NULL;
	do {
		if (*len == cap) {
			cap = cap ? 2 * cap : 65536;
			nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				fclose(f);
				errno = ENOMEM;
				return NULL;
			}
			buf = nb;
		}
		n = fread(buf + *len, 1, cap - *len, f);
		*len += n;
	} while (n);
	if (ferror(f)) {
		free(buf);
		buf = NULL;
		errno = EIO;
	}
	fclose(f);
	return buf;
}

/* The status file as found: the first sync writes it before the attach,
 * and the earlier agent's may describe what still runs. */
static int keep_status(struct startup *su)
{
	su->status = read_whole(su->o->status_file, &su->status_len);
	su->status_was = su->status != NULL;
	su->status_kept = su->status_was || errno == ENOENT;
	if (su->status_kept)
		return 0;
	log_event("error", "cannot read the status file", "path",
		  su->o->status_file, "error", strerror(errno), NULL);
	return -errno;
}

static void note_made(struct startup *su, const char *dir, int rc)
{
	if (!rc && !su->made_dir[0])
		snprintf(su->made_dir, sizeof(su->made_dir), "%s", dir);
}

/* bpffs at /sys/fs/bpf if nothing is mounted there; the pin path's
 * directories, the first one made noted. */
static int make_pin_path(struct startup *su)
{
	struct statfs fs;
	char dir[4096], *slash;
	int rc;

	if (will_mount_bpffs()) {
		if (mount("bpf", SYS_BPF, "bpf", 0, NULL)) {
			log_event("error", "cannot mount bpffs", "path",
				  SYS_BPF, "error", strerror(errno), NULL);
			return -errno;
		}
		su->mounted = true;
	}
	snprintf(dir, sizeof(dir), "%s", su->o->pin_path);
	for (slash = dir + 1; (slash = strchr(slash, '/')); slash++) {
		*slash = 0;
		note_made(su, dir, mkdir(dir, 0700));
		*slash = '/';
	}
	rc = mkdir(dir, 0700);
	if (rc && errno != EEXIST) {
		log_event("error", "cannot make the pin path", "path", dir,
			  "error", strerror(errno), NULL);
		return -errno;
	}
	note_made(su, dir, rc);
	/* Checked before; checked again, now that it exists. */
	if (statfs(dir, &fs) || fs.f_type != BPF_FS_MAGIC_) {
		log_event("error", "the pin path is not on a bpffs", "path",
			  dir, "fix", "mount -t bpf bpf DIR and pass "
			  "--pin-path DIR/snilb", NULL);
		return -ENOTDIR;
	}
	return 0;
}

int startup_prepare(struct startup *su)
{
	int e;

	su->prepared = true;
	e = keep_status(su);

	if (e)
		return e;
	snat_ports_reserve(SNAT_SYSCTL_DIR, (struct port_range){
		su->o->cfg.port_lo, su->o->cfg.port_hi }, &su->snat);
	return make_pin_path(su);
}

int startup_configure(struct startup *su, struct dataplane *dp)
{
	int e = 0;

	su->dp = dp;
	if (dp_adopted(dp)) {
		e = dp_config_get(dp, &su->cfg);
		if (e) {
			log_event("error", "cannot read the adopted config map",
				  "error", strerror(-e), NULL);
			return e;
		}
		su->cfg_saved = true;
	}
	e = dp_config_set(dp, &su->o->cfg);
	if (e)
		log_event("error", "cannot write the config map", "error",
			  strerror(-e), NULL);
	return e;
}

/* --xdp on interface @i: native XDP, or TC alone; what was there held
 * for the undo. An interface without native XDP is an error only for
 * --xdp native. */
static int attach_xdp(struct startup *su, size_t i)
{
	const char *name = su->o->ifnames[i];
	int ifindex = (int)if_nametoindex(name);
	bool native;
	int e;

	su->xdp_prev[i] = dp_xdp_saved(ifindex);
	su->nxdp = i + 1;
	e = dp_xdp_attach(su->dp, ifindex, su->o->xdp, &native);
	if (e) {
		log_event("error", "cannot attach XDP", "iface", name, "mode",
			  dp_xdp_mode_name(su->o->xdp), "error", strerror(-e),
			  "fix", "--xdp auto answers SYNs in TC where the "
			  "driver has no native XDP; another XDP program there "
			  "is left alone", NULL);
		return e;
	}
	log_event("info", "xdp", "iface", name, "mode",
		  native ? "native: SYNs answered in XDP" :
		  su->o->xdp == DP_XDP_OFF ? "off: SYNs answered in TC" :
		  "none (no native XDP, or another program's): SYNs "
		  "answered in TC", NULL);
	return 0;
}

int startup_attach(struct startup *su)
{
	const struct agent_opts *o = su->o;
	size_t i;
	int e;

	for (i = 0; i < o->nifaces; i++) {
		e = dp_attach_saving(su->dp, (int)if_nametoindex(o->ifnames[i]),
				     &su->prev[su->nprev++]);
		if (e) {
			log_event("error", "cannot attach", "iface",
				  o->ifnames[i], "error", strerror(-e), "fix",
				  "clsact ingress priority 1 must be free or "
				  "snilb's: see tc filter show dev IF ingress",
				  NULL);
			return e;
		}
		log_event("info", "attached", "iface", o->ifnames[i], "hook",
			  "tc clsact ingress", NULL);
		if ((e = attach_xdp(su, i)))
			return e;
	}
	return 0;
}

/* --- the undo ----------------------------------------------------------- */

/* Each interface as found: the earlier program back, or nothing. False
 * when one cannot be (no CAP_NET_ADMIN any more): then everything stays,
 * as a stopped agent leaves it. */
static bool undo_attach(struct startup *su)
{
	size_t i = su->nxdp;
	int e;

	while (i--) {
		e = dp_xdp_restore((int)if_nametoindex(su->o->ifnames[i]),
				   su->xdp_prev[i]);
		if (e)
			log_event("error", "cannot undo the XDP attach",
				  "iface", su->o->ifnames[i], "error",
				  strerror(-e), "fix", "snilb detach", NULL);
	}
	su->nxdp = 0;
	i = su->nprev;

	while (i--) {
		struct dp_tc_prev *p = &su->prev[i];
		bool back = p->attached && p->prog_fd >= 0;

		if (!p->attached && !p->made_qdisc)
			continue;
		e = dp_attach_undo(p);
		if (e) {
			log_event("error", "cannot undo the attach", "iface",
				  su->o->ifnames[i], "error", strerror(-e),
				  "kept", "the data plane, attached and pinned",
				  "fix", "snilb detach", NULL);
			return false;
		}
		log_event("info", back ? "earlier program put back" :
			  "detached", "iface", su->o->ifnames[i], NULL);
	}
	return true;
}

/* The settings an earlier agent wrote, and the pins as found. */
static bool undo_pins(struct startup *su)
{
	int e = 0;

	if (!su->dp)
		return true;
	if (su->cfg_saved)
		e = dp_config_set(su->dp, &su->cfg);
	if (e)
		log_event("warn", "cannot put back the earlier settings",
			  "error", strerror(-e), "kept", "this start's", NULL);
	e = dp_unpin_new(su->dp);
	if (e)
		log_event("warn", "cannot remove the pins this start made",
			  "path", su->o->pin_path, "error", strerror(-e),
			  "fix", "snilb detach", NULL);
	return !e;
}

/* The pin path's directories this start made, deepest first; bpffs
 * unmounted from /sys/fs/bpf if it mounted it. */
static void undo_dirs(struct startup *su)
{
	char dir[4096];
	size_t n;

	snprintf(dir, sizeof(dir), "%s", su->o->pin_path);
	while ((n = strlen(dir)) > 1 && dir[n - 1] == '/')
		dir[n - 1] = 0;
	while (su->made_dir[0] && strlen(dir) >= strlen(su->made_dir)) {
		if (rmdir(dir)) {
			log_event("warn", "cannot remove a directory this "
				  "start made", "path", dir, "error",
				  strerror(errno), NULL);
			return;
		}
		to_parent(dir, sizeof(dir));
	}
	if (su->mounted && umount(SYS_BPF))
		log_event("warn", "cannot unmount the bpffs this start "
			  "mounted", "path", SYS_BPF, "error", strerror(errno),
			  NULL);
}

/* The directories the status file was given (status_write() makes
 * them), deepest first, down to the one the check found. */
static void undo_status_dirs(struct startup *su)
{
	char dir[4096];

	snprintf(dir, sizeof(dir), "%s", su->o->status_file);
	to_parent(dir, sizeof(dir));
	while (strlen(dir) > strlen(su->status_base) && !rmdir(dir))
		to_parent(dir, sizeof(dir));
}

/* The status file as found: written back, or removed. */
static void undo_status(struct startup *su)
{
	const char *path = su->o->status_file;
	char tmp[4200];
	size_t len;
	char *now = read_whole(path, &len);
	bool same = now ? su->status_was && len == su->status_len &&
			  !memcmp(now, su->status, len) : !su->status_was;
	bool bad = false;
	FILE *f;

	free(now);
	if (!su->status_kept || same)
		return;
	if (!su->status_was) {
		unlink(path);
		undo_status_dirs(su);
		return;
	}
	snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid());
	f = fopen(tmp, "we");
	if (f) {
		bad = fwrite(su->status, 1, su->status_len, f) !=
		      su->status_len;
		bad |= fclose(f) != 0;
	}
	if (!f || bad || rename(tmp, path)) {
		log_event("warn", "cannot put back the status file", "path",
			  path, "error", strerror(errno), NULL);
		unlink(tmp);
	}
}

void startup_undo(struct startup *su)
{
	bool ok = undo_attach(su) && undo_pins(su);

	if (ok) {
		undo_dirs(su);
		snat_ports_release(SNAT_SYSCTL_DIR, &su->snat);
		undo_status(su);
	}
	if (su->metrics_fd >= 0)
		close(su->metrics_fd);
	su->metrics_fd = -1;
	startup_done(su);
	if (!su->prepared)
		return;		/* nothing was changed */
	if (ok)
		log_event("info", "start-up undone", "node", "as this start "
			  "found it", NULL);
	else
		log_event("error", "start-up not undone", "kept", "the data "
			  "plane as it started", "fix", "snilb detach", NULL);
}

void startup_done(struct startup *su)
{
	size_t i;

	for (i = 0; i < su->nprev; i++)
		dp_attach_keep(&su->prev[i]);
	su->nprev = 0;
	for (i = 0; i < su->nxdp; i++)
		if (su->xdp_prev[i] >= 0)
			close(su->xdp_prev[i]);
	su->nxdp = 0;
	free(su->status);
	su->status = NULL;
}

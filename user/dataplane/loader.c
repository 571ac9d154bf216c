// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The loader: open the BPF object, pick the ingress variant this kernel
 * takes, size and pin the maps, load, and pin the programs once they are
 * attached. The maps' contents are maps.c's; attaching is tc.c's.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "dataplane.h"
#include "dp_int.h"
#include "kver.h"
#include "layout.h"
#include "snilb.skel.h"
#include "snilb_h.skel.h"

struct dataplane {
	struct snilb_bpf *skel;
	struct bpf_program *ingress;	/* the variant loaded */
	bool found[SNILB_MAP_MAX];	/* pinned before the load */
	char *prog_dir;			/* dp_pin_progs()'s */
	int old_progs[2];		/* the pins it replaced; -1: none */
	int pinned_prog;		/* prog_ingress pinned at the open */
	struct dp_log log;		/* the access log's reader (alog.c) */
};

struct dp_log *dp_log_of(struct dataplane *dp)
{
	return &dp->log;
}

static const char *const prog_pins[2] = { "progs", "prog_ingress" };

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_WARN && getenv("SNILB_DEBUG_BPF"))
		return vfprintf(stderr, fmt, ap);
	return 0;
}

/* The skeleton's map @m: the names in SNILB_MAPS must be its own. */
static struct bpf_map *skel_map(struct snilb_bpf *skel, enum snilb_map m)
{
	switch (m) {
#define MAP_CASE(id, name, pin, fill)					\
	case SNILB_MAP_##id:						\
		return skel->maps.name;
	SNILB_MAPS(MAP_CASE)
#undef MAP_CASE
	default:
		return NULL;
	}
}

/* Pin the maps that hold state worth keeping across a restart (the
 * `pin` column of SNILB_MAPS); note the pins that are there already,
 * which the load takes over. */
static int set_pins(struct dataplane *dp, const char *dir)
{
#define MAP_PIN(id, name, pin, fill) [SNILB_MAP_##id] = pin,
	static const int pinned[] = { SNILB_MAPS(MAP_PIN) };
#undef MAP_PIN
	char path[4096];
	int m;

	for (m = 0; m < SNILB_MAP_MAX; m++) {
		struct bpf_map *map = skel_map(dp->skel, (enum snilb_map)m);

		if (!pinned[m])
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir,
			 bpf_map__name(map));
		if (bpf_map__set_pin_path(map, path))
			return -errno;
		dp->found[m] = !access(path, F_OK);
	}
	return 0;
}

/* The first way pinned map @fd differs from what this build makes of @map,
 * as "FIELD PINNED, this build's OURS"; empty when it is the same. */
static void pin_mismatch(int fd, int layouts, const struct bpf_map *map,
			 const struct btf *ours, char *why, size_t len)
{
	struct bpf_map_info info = {};
	__u32 ilen = sizeof(info);

	*why = 0;
	if (bpf_obj_get_info_by_fd(fd, &info, &ilen)) {
		snprintf(why, len, "its info cannot be read: %s",
			 strerror(errno));
		return;
	}
	if (info.type != (__u32)bpf_map__type(map))
		snprintf(why, len, "type %u, this build's %u", info.type,
			 bpf_map__type(map));
	else if (info.key_size != bpf_map__key_size(map))
		snprintf(why, len, "key size %u, this build's %u",
			 info.key_size, bpf_map__key_size(map));
	else if (info.value_size != bpf_map__value_size(map))
		snprintf(why, len, "value size %u, this build's %u",
			 info.value_size, bpf_map__value_size(map));
	else if (info.max_entries != bpf_map__max_entries(map))
		snprintf(why, len, "%u entries, this run's %u (--max-flows?)",
			 info.max_entries, bpf_map__max_entries(map));
	else if (info.map_flags != bpf_map__map_flags(map))
		snprintf(why, len, "flags %#x, this build's %#x",
			 info.map_flags, bpf_map__map_flags(map));
	else
		layout_check(layouts, &info, map, ours, why, len);
}

/*
 * A pinned map that is this build's but for its size, and whose entries
 * a new one may do without: syn_state (sized to the CPUs; SYNs in flight
 * lose their options, as when their state is overwritten), conns (one
 * entry unless the access log is on: the ends of flows made before the
 * restart are logged without their SNI and ALPN) and stats (a version
 * with more counters: they start again from 0, as after a reboot). It is
 * made afresh.
 */
static bool resized(enum snilb_map m, int fd, const struct bpf_map *map)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (m != SNILB_MAP_SYN_STATE && m != SNILB_MAP_CONNS &&
	    m != SNILB_MAP_STATS)
		return false;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return false;
	return info.type == (__u32)bpf_map__type(map) &&
	       info.key_size == bpf_map__key_size(map) &&
	       info.value_size == bpf_map__value_size(map) &&
	       info.map_flags == bpf_map__map_flags(map) &&
	       info.max_entries != bpf_map__max_entries(map);
}

/* Each pin against this build's map (@layouts: the pinned `layouts`
 * map, -1: none); the first that cannot be taken over, into @err. */
static int check_each(struct dataplane *dp, const char *dir,
		      const struct btf *ours, int layouts, char *err,
		      size_t errlen)
{
	char why[192];
	int m, fd;

	for (m = 0; m < SNILB_MAP_MAX; m++) {
		struct bpf_map *map = skel_map(dp->skel, (enum snilb_map)m);

		if (!dp->found[m])
			continue;
		fd = bpf_obj_get(bpf_map__pin_path(map));
		if (fd < 0) {
			snprintf(err, errlen, "cannot open the pinned map %s: "
				 "%s", bpf_map__pin_path(map), strerror(errno));
			return -1;
		}
		if (resized((enum snilb_map)m, fd, map)) {
			close(fd);
			if (unlink(bpf_map__pin_path(map))) {
				snprintf(err, errlen, "cannot replace the "
					 "pinned map %s: %s",
					 bpf_map__pin_path(map),
					 strerror(errno));
				return -1;
			}
			dp->found[m] = false;
			continue;
		}
		pin_mismatch(fd, layouts, map, ours, why, sizeof(why));
		close(fd);
		if (!*why)
			continue;
		snprintf(err, errlen, "the map %s pinned at %s is not this "
			 "build's (%s): pinned by another version of snilb, "
			 "or with other settings; run that version, or remove "
			 "%s and start afresh (the connections it holds are "
			 "lost)", bpf_map__name(map), bpf_map__pin_path(map),
			 why, dir);
		return -1;
	}
	return 0;
}

/* Pins this build cannot take over, named before anything is loaded:
 * libbpf would refuse them at load time with a message of its own. */
static int check_pins(struct dataplane *dp, const char *dir, char *err,
		      size_t errlen)
{
	const char *path = bpf_map__pin_path(dp->skel->maps.layouts);
	int layouts = dp->found[SNILB_MAP_LAYOUTS] ? bpf_obj_get(path) : -1;
	int rv = check_each(dp, dir, bpf_object__btf(dp->skel->obj), layouts,
			    err, errlen);

	if (layouts >= 0)
		close(layouts);
	return rv;
}

/* What every pinned map is laid out as, for the next start's
 * check_pins() (layout.c); after the load, when all are this build's. */
static int record_layouts(struct dataplane *dp)
{
	const struct btf *ours = bpf_object__btf(dp->skel->obj);
	int fd = bpf_map__fd(dp->skel->maps.layouts), m, e;

	for (m = 0; m < SNILB_MAP_MAX; m++) {
		struct bpf_map *map = skel_map(dp->skel, (enum snilb_map)m);

		if (bpf_map__pin_path(map) &&
		    (e = layout_record(fd, map, ours)))
			return e;
	}
	return 0;
}

bool dp_adopted(struct dataplane *dp)
{
	int m;

	for (m = 0; m < SNILB_MAP_MAX; m++)
		if (dp->found[m])
			return true;
	return false;
}

/*
 * Which variant of the ingress program this kernel takes (see
 * bpf/snilb.bpf.c): snilb_ingress reads the skb's checksum state through
 * bpf_cast_to_kern_ctx() (6.3+), snilb_ingress_h asks the helpers.
 * SNILB_BPF_HELPERS=1 forces the second, so one kernel can test both.
 */
static int kernel_reads_skb(void)
{
	const char *force = getenv("SNILB_BPF_HELPERS");
	struct btf *vmlinux;
	int id;

	if (force && *force && strcmp(force, "0"))
		return 0;
	vmlinux = btf__load_vmlinux_btf();
	if (!vmlinux)
		return 0;
	id = btf__find_by_name_kind(vmlinux, "bpf_cast_to_kern_ctx",
				    BTF_KIND_FUNC);
	btf__free(vmlinux);
	return id > 0;
}

/*
 * The skeleton over the object for this kernel: build/snilb.bpf.o where
 * the kernel has the kfunc, build/snilb_h.bpf.o elsewhere, whose maps,
 * programs and data are the same, by name and layout (bpf/snilb.bpf.c).
 */
static struct snilb_bpf *open_skel(int reads_skb)
{
	struct snilb_bpf *obj = calloc(1, sizeof(*obj));
	int err;

	if (!obj)
		return NULL;
	err = snilb_bpf__create_skeleton(obj);
	if (!err && !reads_skb)
		obj->skeleton->data = (void *)snilb_h_bpf__elf_bytes(
			&obj->skeleton->data_sz);
	if (!err)
		err = bpf_object__open_skeleton(obj->skeleton, NULL);
	if (!err)
		return obj;
	snilb_bpf__destroy(obj);
	errno = -err;
	return NULL;
}

static void pick_ingress(struct dataplane *dp, int reads_skb)
{
	struct bpf_program *fast = dp->skel->progs.snilb_ingress;
	struct bpf_program *helpers = dp->skel->progs.snilb_ingress_h;

	bpf_program__set_autoload(fast, reads_skb);
	bpf_program__set_autoload(helpers, !reads_skb);
	dp->ingress = reads_skb ? fast : helpers;
}

/*
 * The flow table's size (and its reverse index's, and the access log's
 * per-flow entries'): a load-time choice; so is allocating all of the
 * first two at the load (@prealloc). Idle, each costs its hash buckets
 * (16 bytes an entry). The ring is one page for a load that never logs.
 */
static int size_flows(struct snilb_bpf *skel, uint32_t n, uint32_t ring,
		      bool prealloc)
{
	struct bpf_map *m[3] = { skel->maps.flows, skel->maps.rev,
				 skel->maps.conns };
	bool logs = ring != DP_LOG_RING_OFF;
	int i;

	if (!logs)
		ring = (uint32_t)sysconf(_SC_PAGESIZE);
	if (ring && bpf_map__set_max_entries(skel->maps.access_log, ring))
		return -errno;
	for (i = 0; i < 2 && prealloc; i++)
		if (bpf_map__set_map_flags(m[i], bpf_map__map_flags(m[i]) &
					   ~(__u32)BPF_F_NO_PREALLOC))
			return -errno;
	for (i = 0; i < 2 && n; i++)
		if (bpf_map__set_max_entries(m[i], n))
			return -errno;
	/* conns: what the log prints of a flow; one entry for a load that
	 * never logs (its buckets are 2 MiB at the default size). */
	if (!logs || n)
		return bpf_map__set_max_entries(m[2], logs ? n : 1) ? -errno : 0;
	return 0;
}

/* syn_state: 2 s of SYN states at the default rate on every CPU, a power
 * of 2 of buckets between SNILB_SYN_BUCKETS_MIN and SNILB_SYN_BUCKETS;
 * the programs index it with syn_mask. */
static int size_syn_state(struct snilb_bpf *skel)
{
	int cpus = libbpf_num_possible_cpus();
	uint64_t want = (uint64_t)(cpus > 0 ? cpus : 1) *
			SNILB_SYN_STATE_RATE * 2 / SNILB_SYN_WAYS;
	uint32_t n = SNILB_SYN_BUCKETS_MIN;

	while (n < want && n < SNILB_SYN_BUCKETS)
		n *= 2;
	skel->rodata->syn_mask = n - 1;
	return bpf_map__set_max_entries(skel->maps.syn_state, n) ? -errno : 0;
}

/* The object pinned at @dir/@name, held: -1 when there is none. */
static int pinned_obj(const char *dir, const char *name)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return bpf_obj_get(path);
}

struct dataplane *dp_open(const struct dp_opts *o, char *err, size_t errlen)
{
	const char *pin_dir = o ? o->pin_dir : NULL;
	uint32_t max_flows = o ? o->max_flows : 0;
	struct dataplane *dp = calloc(1, sizeof(*dp));
	int e, reads_skb;

	if (!dp) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	dp->old_progs[0] = dp->old_progs[1] = -1;
	if (kver_check(err, errlen)) {
		free(dp);
		return NULL;
	}
	/* The program an earlier agent pinned (and attached, likely):
	 * held, so a restart can put it back without opening it by id. */
	dp->pinned_prog = pin_dir ? pinned_obj(pin_dir, prog_pins[1]) : -1;
	libbpf_set_print(quiet);
	reads_skb = kernel_reads_skb();
	dp->skel = open_skel(reads_skb);
	if (!dp->skel) {
		snprintf(err, errlen, "cannot open the data plane: %s",
			 strerror(errno));
		goto fail;
	}
	pick_ingress(dp, reads_skb);
	if ((e = size_flows(dp->skel, max_flows, o ? o->log_ring : 0,
			      o && o->prealloc_flows)) ||
	    (e = size_syn_state(dp->skel))) {
		snprintf(err, errlen, "cannot size the flow table to %u: %s",
			 max_flows, strerror(-e));
		goto fail;
	}
	if (pin_dir && (e = set_pins(dp, pin_dir))) {
		snprintf(err, errlen, "cannot pin maps under %s: %s", pin_dir,
			 strerror(-e));
		goto fail;
	}
	if (pin_dir && check_pins(dp, pin_dir, err, errlen))
		goto fail;
	if (snilb_bpf__load(dp->skel)) {
		snprintf(err, errlen, "cannot load the data plane: %s (needs "
			 "root or CAP_BPF+CAP_NET_ADMIN+CAP_PERFMON; maps "
			 "pinned by an incompatible version or with another "
			 "flow table size must be removed first; "
			 "SNILB_DEBUG_BPF=1 shows the verifier log)",
			 strerror(errno));
		goto fail;
	}
	if (pin_dir && (e = record_layouts(dp))) {
		snprintf(err, errlen, "cannot record the maps' layouts: %s",
			 strerror(-e));
		goto fail;
	}
	if ((e = dp_cookie_key_random(dp, true)) < 0) {
		snprintf(err, errlen, "cannot make a SYN cookie key: %s",
			 strerror(-e));
		goto fail;
	}
	if ((e = dp_vips_rebuild(dp))) {
		snprintf(err, errlen, "cannot rebuild the VIP table from the "
			 "listeners: %s", strerror(-e));
		goto fail;
	}
	return dp;
fail:
	dp_close(dp);
	return NULL;
}

void dp_close(struct dataplane *dp)
{
	int i;

	if (!dp)
		return;
	for (i = 0; i < 2; i++)
		if (dp->old_progs[i] >= 0)
			close(dp->old_progs[i]);
	if (dp->pinned_prog >= 0)
		close(dp->pinned_prog);
	dp_log_close(dp);
	free(dp->prog_dir);
	snilb_bpf__destroy(dp->skel);
	free(dp);
}

int dp_prog_fd(struct dataplane *dp)
{
	return bpf_program__fd(dp->ingress);
}

int dp_xdp_prog_fd(struct dataplane *dp)
{
	return bpf_program__fd(dp->skel->progs.snilb_xdp);
}

int dp_prog_pinned_fd(struct dataplane *dp)
{
	return dp->pinned_prog;
}

const char *dp_prog_name(struct dataplane *dp)
{
	return bpf_program__name(dp->ingress);
}

int dp_map_fd(struct dataplane *dp, enum snilb_map m)
{
	struct bpf_map *map = skel_map(dp->skel, m);

	return map ? bpf_map__fd(map) : -ENOENT;
}

static int repin(int fd, const char *dir, const char *name)
{
	char path[4096], tmp[4100];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s_new", path);	/* bpffs: no dots */
	unlink(tmp);
	if (bpf_obj_pin(fd, tmp))
		return -errno;
	/* bpffs has rename: the old pin is replaced in one step. */
	if (rename(tmp, path)) {
		int err = -errno;

		unlink(tmp);
		return err;
	}
	return 0;
}

int dp_pin_progs(struct dataplane *dp, const char *pin_dir)
{
	int fds[2] = { dp_map_fd(dp, SNILB_MAP_PROGS), dp_prog_fd(dp) };
	int i, err = 0;

	/* Attached: the earlier program is no longer ours to put back. */
	if (dp->pinned_prog >= 0)
		close(dp->pinned_prog);
	dp->pinned_prog = -1;
	free(dp->prog_dir);
	dp->prog_dir = strdup(pin_dir);
	if (!dp->prog_dir)
		return -ENOMEM;
	for (i = 0; i < 2 && !err; i++) {
		if (dp->old_progs[i] < 0)
			dp->old_progs[i] = pinned_obj(pin_dir, prog_pins[i]);
		err = repin(fds[i], pin_dir, prog_pins[i]);
	}
	return err;
}

/* Put the program pins back as dp_pin_progs() found them. */
static int unpin_progs(struct dataplane *dp)
{
	char path[4096];
	int i, e, err = 0;

	for (i = 0; dp->prog_dir && i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", dp->prog_dir,
			 prog_pins[i]);
		if (dp->old_progs[i] >= 0)
			e = repin(dp->old_progs[i], dp->prog_dir,
				  prog_pins[i]);
		else
			e = unlink(path) && errno != ENOENT ? -errno : 0;
		if (e && !err)
			err = e;
	}
	return err;
}

int dp_unpin_new(struct dataplane *dp)
{
	int m, e, err = unpin_progs(dp);

	for (m = 0; m < SNILB_MAP_MAX; m++) {
		struct bpf_map *map = skel_map(dp->skel, (enum snilb_map)m);

		if (dp->found[m] || !bpf_map__is_pinned(map))
			continue;
		e = bpf_map__unpin(map, NULL);
		if (e && !err)
			err = e;
	}
	return err;
}

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "dataplane.h"
#include "pinned.h"

#define MAP(id, name, pin, fill) [SNILB_MAP_##id] = { #name, pin },
static const struct {
	const char *name;
	bool pin;
} maps[] = { SNILB_MAPS(MAP) };

#define FILL_1(name) #name,
#define FILL_0(name)
#define MAP_FILL(id, name, pin, fill) FILL_##fill(name)
const char *const pinned_fill_maps[] = { SNILB_MAPS(MAP_FILL) NULL };

#define NAME(id, name) name,
static const char *const stat_names[] = { SNILB_STATS(NAME) };
static const char *const reject_names[] = {
	CH_REASONS(NAME) SNILB_REJECTS(NAME)
};
#define STAT(id, name) "reject_" name,
static const char *const reject_stats[] = {
	CH_REASONS(STAT) SNILB_REJECTS(STAT)
};

_Static_assert(sizeof(reject_names) / sizeof(reject_names[0]) ==
	       SNILB_REJ_MAX, "reject reasons out of step with their names");

struct pinned {
	int ncpus;
	int fds[SNILB_MAP_MAX];	/* -ENOENT: not pinned */
};

static bool on_bpffs(const char *path)
{
	struct statfs sfs;

	return !statfs(path, &sfs) && sfs.f_type == BPF_FS_MAGIC;
}

/* Why @path holds no maps, in words a user can act on. */
static void explain(const char *path, int e, char *err, size_t errlen)
{
	struct stat st;

	if (e == EACCES || e == EPERM) {
		snprintf(err, errlen, "cannot open the maps under %s: %s "
			 "(needs root or CAP_BPF)", path, strerror(e));
		return;
	}
	if (stat(path, &st)) {
		char parent[4096], *slash;

		snprintf(parent, sizeof(parent), "%s", path);
		slash = strrchr(parent, '/');
		if (slash)	/* the directory it would be in: "/" at the root */
			slash[slash == parent] = 0;
		if (!on_bpffs(parent))
			snprintf(err, errlen, "%s does not exist and bpffs is "
				 "not mounted at %s (mount -t bpf bpf "
				 "/sys/fs/bpf); is the agent running? run it "
				 "with --pin-path", path, parent);
		else
			snprintf(err, errlen, "nothing pinned at %s: is the "
				 "agent running? run it with --pin-path, or "
				 "pass its --pin-path here", path);
		return;
	}
	if (!on_bpffs(path)) {
		snprintf(err, errlen, "%s is not on bpffs (mount -t bpf bpf "
			 "/sys/fs/bpf): is the agent running? run it with "
			 "--pin-path", path);
		return;
	}
	snprintf(err, errlen, "no snilb maps pinned under %s: is the agent "
		 "running? run it with --pin-path, or pass its --pin-path "
		 "here", path);
}

static int open_ro(const char *dir, const char *name)
{
	LIBBPF_OPTS(bpf_obj_get_opts, opts, .file_flags = BPF_F_RDONLY);
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = bpf_obj_get_opts(path, &opts);
	return fd < 0 ? -errno : fd;
}

/* An empty view, its fds to be filled in. */
static struct pinned *pinned_new(char *err, size_t errlen)
{
	struct pinned *p = calloc(1, sizeof(*p));

	if (!p) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	p->ncpus = libbpf_num_possible_cpus();
	return p;
}

struct pinned *pinned_open(const char *pin_path, char *err, size_t errlen)
{
	struct pinned *p = pinned_new(err, errlen);
	int found = 0, first_err = ENOENT;
	size_t i;

	if (!p)
		return NULL;
	for (i = 0; i < SNILB_MAP_MAX; i++) {
		p->fds[i] = maps[i].pin ? open_ro(pin_path, maps[i].name) :
					  -ENOENT;
		if (p->fds[i] >= 0)
			found++;
		else if (p->fds[i] != -ENOENT && first_err == ENOENT)
			first_err = -p->fds[i];
	}
	if (!found || p->ncpus <= 0) {
		explain(pin_path, first_err, err, errlen);
		pinned_close(p);
		return NULL;
	}
	return p;
}

void pinned_close(struct pinned *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < SNILB_MAP_MAX; i++)
		if (p->fds[i] >= 0)
			close(p->fds[i]);
	free(p);
}

struct pinned *pinned_of(struct dataplane *dp, char *err, size_t errlen)
{
	struct pinned *p = pinned_new(err, errlen);
	size_t i;

	if (!p)
		return NULL;
	for (i = 0; i < SNILB_MAP_MAX; i++) {
		int fd = maps[i].pin ? dp_map_fd(dp, (enum snilb_map)i) : -1;

		p->fds[i] = fd < 0 ? -ENOENT : fcntl(fd, F_DUPFD_CLOEXEC, 0);
		if (fd >= 0 && p->fds[i] < 0) {
			snprintf(err, errlen, "cannot duplicate the map of "
				 "%s: %s", maps[i].name, strerror(errno));
			pinned_close(p);
			return NULL;
		}
	}
	if (p->ncpus <= 0) {
		snprintf(err, errlen, "cannot count the CPUs");
		pinned_close(p);
		return NULL;
	}
	return p;
}

/* The map called @name; SNILB_MAP_MAX for none. */
static enum snilb_map map_of(const char *name)
{
	size_t i;

	for (i = 0; i < SNILB_MAP_MAX; i++)
		if (!strcmp(maps[i].name, name))
			break;
	return (enum snilb_map)i;
}

int pinned_map_fd(const struct pinned *p, enum snilb_map m)
{
	return p && m < SNILB_MAP_MAX ? p->fds[m] : -ENOENT;
}

/* Sum a per-CPU value of @n u64 counters at @key of map @m. */
static int sum_percpu(const struct pinned *p, enum snilb_map m, uint32_t key,
		      uint64_t *out, size_t n)
{
	int fd = pinned_map_fd(p, m);
	uint64_t *v;
	size_t c, i;

	memset(out, 0, n * sizeof(*out));
	if (fd < 0)
		return fd;
	v = calloc((size_t)p->ncpus * n, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &key, v)) {
		free(v);
		return -errno;
	}
	for (c = 0; c < (size_t)p->ncpus; c++)
		for (i = 0; i < n; i++)
			out[i] += v[c * n + i];
	free(v);
	return 0;
}

int pinned_stat(const struct pinned *p, uint32_t idx, uint64_t *val)
{
	return sum_percpu(p, SNILB_MAP_STATS, idx, val, 1);
}

int pinned_route_stats(const struct pinned *p, uint32_t route,
		       struct snilb_route_stats *st)
{
	return sum_percpu(p, SNILB_MAP_ROUTE_STATS, route, (uint64_t *)st,
			  sizeof(*st) / sizeof(uint64_t));
}

int pinned_listener_stats(const struct pinned *p, uint32_t listener,
			  struct snilb_listener_stats *st)
{
	uint64_t timeouts = 0;
	int e = sum_percpu(p, SNILB_MAP_LISTENER_STATS, listener,
			   (uint64_t *)st, sizeof(*st) / sizeof(uint64_t));
	int fd = pinned_map_fd(p, SNILB_MAP_LISTENER_TIMEOUTS);

	/* The loader counts these apart (bpf/maps.h); a pin from before
	 * that map was added has none. */
	if (!e && fd >= 0 && !bpf_map_lookup_elem(fd, &listener, &timeouts))
		st->rejected[SNILB_REJ_TIMEOUT] += timeouts;
	return e;
}

static int map_info(int fd, struct bpf_map_info *info)
{
	__u32 len = sizeof(*info);

	memset(info, 0, sizeof(*info));
	if (bpf_obj_get_info_by_fd(fd, info, &len))
		return -errno;
	return 0;
}

static int iter_init(int fd, struct pinned_iter *it)
{
	struct bpf_map_info info;
	int e;

	memset(it, 0, sizeof(*it));
	it->fd = fd;
	if (it->fd < 0)
		return it->fd;
	e = map_info(it->fd, &info);
	if (e)
		return e;
	if (info.key_size > sizeof(it->key))
		return -E2BIG;
	it->key_size = info.key_size;
	it->max = info.max_entries;
	return 0;
}

int pinned_map_iter(const struct pinned *p, enum snilb_map m,
		    struct pinned_iter *it)
{
	return iter_init(pinned_map_fd(p, m), it);
}

int pinned_iter_next(struct pinned_iter *it, void *key, void *val)
{
	/* An entry deleted between two calls restarts the walk at the
	 * first key: the bound keeps a busy table from looping forever. */
	while (it->seen < it->max) {
		if (bpf_map_get_next_key(it->fd, it->started ? it->key : NULL,
					 key))
			return errno == ENOENT ? 0 : -errno;
		it->started = true;
		it->seen++;
		memcpy(it->key, key, it->key_size);
		if (!bpf_map_lookup_elem(it->fd, key, val))
			return 1;
		if (errno != ENOENT)
			return -errno;
		/* deleted under us: go on from its key */
	}
	return 0;
}

/*
 * Read all of array @fd (@max values of @vsize bytes) into @vals: in
 * batches where the kernel has them (5.6), else one lookup each.
 */
static int array_read(int fd, uint32_t max, uint32_t vsize, void *vals)
{
	uint32_t *keys = calloc(max, sizeof(*keys));
	uint32_t done = 0, out = 0, i;
	int e = 0;

	if (!keys)
		return -ENOMEM;
	while (done < max) {
		__u32 n = max - done;

		e = bpf_map_lookup_batch(fd, done ? &out : NULL, &out,
					 keys + done,
					 (char *)vals + (size_t)done * vsize,
					 &n, NULL);
		done += n;
		if (e)
			break;
	}
	free(keys);
	if (!e || (e == -ENOENT && done == max))
		return 0;
	if (done)	/* a batch failed half-way: no partial answers */
		return e;
	for (i = 0; i < max; i++)
		if (bpf_map_lookup_elem(fd, &i, (char *)vals +
					(size_t)i * vsize))
			return -errno;
	return 0;
}

/* All @max values of array map @m, @vsize bytes each, into @vals. */
static int map_array_read(const struct pinned *p, enum snilb_map m,
			  void *vals, uint32_t vsize, uint32_t max)
{
	int fd = pinned_map_fd(p, m);

	return fd < 0 ? fd : array_read(fd, max, vsize, vals);
}

static int count_keys(int fd, uint32_t max, uint32_t *n)
{
	unsigned char k[64], next[64];
	struct bpf_map_info info;
	int e = map_info(fd, &info);

	if (e)
		return e;
	if (info.key_size > sizeof(k))
		return -E2BIG;
	*n = 0;
	while (*n < max && !bpf_map_get_next_key(fd, *n ? k : NULL, next)) {
		memcpy(k, next, info.key_size);
		(*n)++;
	}
	return 0;
}

/* Slots of an array in use: a backend has a family, a set a size. */
static int count_used(int fd, enum snilb_map m, uint32_t max, uint32_t *n)
{
	bool sets = m == SNILB_MAP_SETS;
	uint32_t vsize = sets ? sizeof(struct snilb_set) :
				sizeof(struct snilb_backend);
	char *vals = calloc(max, vsize);
	uint32_t i;
	int e;

	if (!vals)
		return -ENOMEM;
	e = array_read(fd, max, vsize, vals);
	*n = 0;
	for (i = 0; i < max && !e; i++) {
		const char *v = vals + (size_t)i * vsize;

		if (sets ? ((const struct snilb_set *)v)->size != 0 :
			   ((const struct snilb_backend *)v)->family != 0)
			(*n)++;
	}
	free(vals);
	return e;
}

int pinned_map_fill(const struct pinned *p, enum snilb_map m,
		    uint32_t *entries, uint32_t *max)
{
	struct bpf_map_info info;
	int fd = pinned_map_fd(p, m), e;

	*entries = *max = 0;
	if (fd < 0)
		return fd;
	e = map_info(fd, &info);
	if (e)
		return e;
	*max = info.max_entries;
	if (info.type == BPF_MAP_TYPE_ARRAY)
		return count_used(fd, m, info.max_entries, entries);
	return count_keys(fd, info.max_entries, entries);
}

int pinned_fill(const struct pinned *p, const char *name, uint32_t *entries,
		uint32_t *max)
{
	return pinned_map_fill(p, map_of(name), entries, max);
}

int pinned_maglev_slots(const struct pinned *p, uint32_t set,
			uint32_t *slots, uint32_t nslots, uint32_t *size)
{
	LIBBPF_OPTS(bpf_get_fd_by_id_opts, opts, .open_flags = BPF_F_RDONLY);
	int outer = pinned_map_fd(p, SNILB_MAP_MAGLEV), fd, e;
	struct bpf_map_info info;
	uint32_t id, *table, i;

	*size = 0;
	if (outer < 0)
		return outer;
	if (bpf_map_lookup_elem(outer, &set, &id))
		return -errno;	/* ENOENT: no table installed */
	fd = bpf_map_get_fd_by_id_opts(id, &opts);
	if (fd < 0)
		return -errno;
	e = map_info(fd, &info);
	table = e ? NULL : calloc(info.max_entries, sizeof(*table));
	if (!e && !table)
		e = -ENOMEM;
	if (!e)
		e = array_read(fd, info.max_entries, sizeof(*table), table);
	for (i = 0; !e && i < info.max_entries; i++)
		if (table[i] < nslots)
			slots[table[i]]++;
	if (!e)
		*size = info.max_entries;
	free(table);
	close(fd);
	return e;
}

int pinned_listener_key(const struct pinned *p, uint32_t id,
			struct snilb_listener_key *k)
{
	struct snilb_listener v;
	struct pinned_iter it;
	int e = pinned_map_iter(p, SNILB_MAP_LISTENERS, &it);

	if (e)
		return e;
	while ((e = pinned_iter_next(&it, k, &v)) == 1)
		if (v.id == id)
			return 0;
	return e < 0 ? e : -ENOENT;
}

char *pinned_fmt_addr(char *buf, size_t n, unsigned int family,
		      const __be32 *addr, __be16 port)
{
	char a[INET6_ADDRSTRLEN] = "?";

	if (family == SNILB_AF_INET6) {
		inet_ntop(AF_INET6, addr, a, sizeof(a));
		snprintf(buf, n, "[%s]:%u", a, ntohs(port));
		return buf;
	}
	if (family == SNILB_AF_INET)
		inet_ntop(AF_INET, addr, a, sizeof(a));
	snprintf(buf, n, "%s:%u", a, ntohs(port));
	return buf;
}

char *pinned_fmt_age(char *buf, size_t n, uint64_t ns)
{
	uint64_t s = ns / 1000000000ull;

	if (s == 0)
		snprintf(buf, n, "%llums", (unsigned long long)(ns / 1000000));
	else if (s < 60)
		snprintf(buf, n, "%llus", (unsigned long long)s);
	else if (s < 3600)
		snprintf(buf, n, "%llum%02llus", (unsigned long long)(s / 60),
			 (unsigned long long)(s % 60));
	else if (s < 86400)
		snprintf(buf, n, "%lluh%02llum",
			 (unsigned long long)(s / 3600),
			 (unsigned long long)(s / 60 % 60));
	else
		snprintf(buf, n, "%llud%02lluh",
			 (unsigned long long)(s / 86400),
			 (unsigned long long)(s / 3600 % 24));
	return buf;
}

const char *pinned_reject_name(uint32_t reason)
{
	return reason < SNILB_REJ_MAX ? reject_names[reason] : NULL;
}

const char *pinned_stat_name(uint32_t idx)
{
	if (idx < SNILB_ST_REJECT_BASE)
		return stat_names[idx];
	if (idx >= SNILB_ST_MAX)
		return NULL;
	return reject_stats[idx - SNILB_ST_REJECT_BASE];
}

/* --- typed reads for the inspection commands (user/cli) --------------- */

int pinned_routes_init(const struct pinned *p, struct pinned_iter *it)
{
	return pinned_map_iter(p, SNILB_MAP_ROUTES, it);
}

int pinned_routes_next(struct pinned_iter *it, struct snilb_route_key *k,
		       struct snilb_route *r)
{
	int e = pinned_iter_next(it, k, r);

	if (e == 1)
		r->name[sizeof(r->name) - 1] = 0;
	return e;
}

int pinned_listeners_init(const struct pinned *p, struct pinned_iter *it)
{
	return pinned_map_iter(p, SNILB_MAP_LISTENERS, it);
}

int pinned_listeners_next(struct pinned_iter *it,
			  struct snilb_listener_key *k,
			  struct snilb_listener *l)
{
	return pinned_iter_next(it, k, l);
}

int pinned_backends_read(const struct pinned *p, struct snilb_backend *be)
{
	return map_array_read(p, SNILB_MAP_BACKENDS, be, sizeof(*be),
			      SNILB_MAX_BACKENDS);
}

int pinned_sets_read(const struct pinned *p, struct snilb_set *sets)
{
	return map_array_read(p, SNILB_MAP_SETS, sets, sizeof(*sets),
			      SNILB_MAX_SETS);
}

int pinned_config_read(const struct pinned *p, struct snilb_config *cfg)
{
	return map_array_read(p, SNILB_MAP_CONFIG, cfg, sizeof(*cfg), 1);
}

int pinned_rev_lookup(const struct pinned *p, const struct snilb_rev_key *k,
		      struct snilb_rev *v)
{
	int fd = pinned_map_fd(p, SNILB_MAP_REV);

	if (fd < 0)
		return fd;
	return bpf_map_lookup_elem(fd, k, v) ? -errno : 0;
}

/*
 * The encoding is snilb_abi.h's, as the loader writes it. A hostname the
 * loader would refuse ("*x", "") gets the key of its own text, which
 * holds no route: no stored name starts with '*', and "" is only the
 * catch-all's.
 */
const char *pinned_route_key(uint32_t listener, const char *hostname,
			     struct snilb_route_key *k)
{
	const char *name = snilb_route_key_of(k, listener, hostname);

	if (name)
		return name;
	k->hash = snilb_name_hash(hostname, (uint32_t)strlen(hostname));
	return hostname;
}

char *pinned_route_host(const char *stored, char *buf, size_t n)
{
	char host[SNILB_HOST_MAX + 1];
	size_t len = strnlen(stored, CH_SNI_MAX);

	snprintf(buf, n, "%s", snilb_route_host(host, stored, (__u32)len));
	return buf;
}

/* --- the program on an interface's ingress ---------------------------- */

bool pinned_tc_query(const char *ifname, char *state, size_t n,
		     uint32_t *prog_id)
{
	int ifindex = (int)if_nametoindex(ifname);
	struct dp_tc_state st;
	int e;

	*prog_id = 0;
	if (!ifindex) {
		snprintf(state, n, "no such interface");
		return false;
	}
	e = dp_tc_query(ifindex, &st);
	if (e) {
		if (e == -ENOENT)
			snprintf(state, n, "NOT ATTACHED");
		else
			snprintf(state, n, "cannot query tc: %s", strerror(-e));
		return false;
	}
	*prog_id = st.prog_id;
	if (!st.ours) {
		snprintf(state, n, "another program (%s, id %u)", st.name,
			 st.prog_id);
		return false;
	}
	snprintf(state, n, "attached (prog id %u)", st.prog_id);
	return true;
}

int pinned_tc_detach(const char *ifname)
{
	int ifindex = (int)if_nametoindex(ifname);
	int e = dp_detach(ifindex);

	return dp_xdp_detach(ifindex) ?: e;
}

/* "native (prog id N)", "off", "another program (NAME, id N)". */
bool pinned_xdp_query(const char *ifname, char *state, size_t n)
{
	struct dp_xdp_state st;
	int e = dp_xdp_query((int)if_nametoindex(ifname), &st);

	if (e == -ENOENT || (!e && !st.prog_id)) {
		snprintf(state, n, "off (SYNs answered in TC)");
		return false;
	}
	if (e) {
		snprintf(state, n, "cannot query: %s", strerror(-e));
		return false;
	}
	if (!st.ours) {
		snprintf(state, n, "another program (%s, id %u)", st.name,
			 st.prog_id);
		return false;
	}
	snprintf(state, n, "%s (prog id %u)", st.native ? "native" : "generic",
		 st.prog_id);
	return st.native;
}

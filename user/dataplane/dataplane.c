// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <arpa/inet.h>
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
#include "snilb.skel.h"
#include "kver.h"

struct dataplane {
	struct snilb_bpf *skel;
	struct bpf_program *ingress;	/* the variant loaded */
	int ncpus;
};

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
 * `pin` column of SNILB_MAPS). */
static int set_pins(struct snilb_bpf *skel, const char *dir)
{
#define MAP_PIN(id, name, pin, fill) [SNILB_MAP_##id] = pin,
	static const int pinned[] = { SNILB_MAPS(MAP_PIN) };
#undef MAP_PIN
	char path[4096];
	int m;

	for (m = 0; m < SNILB_MAP_MAX; m++) {
		struct bpf_map *map = skel_map(skel, (enum snilb_map)m);

		if (!pinned[m])
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir,
			 bpf_map__name(map));
		if (bpf_map__set_pin_path(map, path))
			return -errno;
	}
	return 0;
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

static void pick_ingress(struct dataplane *dp)
{
	struct bpf_program *fast = dp->skel->progs.snilb_ingress;
	struct bpf_program *helpers = dp->skel->progs.snilb_ingress_h;
	int reads_skb = kernel_reads_skb();

	bpf_program__set_autoload(fast, reads_skb);
	bpf_program__set_autoload(helpers, !reads_skb);
	dp->ingress = reads_skb ? fast : helpers;
}

/* The flow table's size (and its reverse index's): a load-time choice. */
static int size_flows(struct snilb_bpf *skel, uint32_t n)
{
	if (!n)
		return 0;
	if (bpf_map__set_max_entries(skel->maps.flows, n) ||
	    bpf_map__set_max_entries(skel->maps.rev, n))
		return -errno;
	return 0;
}

/* --- VIPs: vips and vip_bits follow listeners (see snilb_abi.h) -------- */

static int same_addr(const struct snilb_listener_key *a,
		     const struct snilb_vip_key *b)
{
	return a->family == b->family && !memcmp(a->addr, b->addr, 16);
}

/* Listeners on @k's address. */
static int vip_listeners(struct dataplane *dp, const struct snilb_vip_key *k,
			 uint32_t *n)
{
	int fd = dp_map_fd(dp, SNILB_MAP_LISTENERS);
	struct snilb_listener_key lk, *prev = NULL;

	*n = 0;
	while (!bpf_map_get_next_key(fd, prev, &lk)) {
		prev = &lk;
		*n += same_addr(&lk, k);
	}
	return errno == ENOENT ? 0 : -errno;
}

/* Does a VIP other than @k have @k's bit? */
static int vip_bit_shared(struct dataplane *dp, const struct snilb_vip_key *k)
{
	int fd = dp_map_fd(dp, SNILB_MAP_VIPS);
	uint32_t h = snilb_vip_hash(k->family, k->addr);
	struct snilb_vip_key o, *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, &o)) {
		prev = &o;
		if (memcmp(&o, k, sizeof(o)) &&
		    snilb_vip_hash(o.family, o.addr) == h)
			return 1;
	}
	return 0;
}

/* The loader is vip_bits' only writer: read, change, write back. */
static int vip_bit_set(struct dataplane *dp, const struct snilb_vip_key *k,
		       int on)
{
	int fd = dp_map_fd(dp, SNILB_MAP_VIP_BITS);
	uint32_t h = snilb_vip_hash(k->family, k->addr);
	uint32_t word = h / 32, bits = 0, bit = 1u << (h % 32);

	if (bpf_map_lookup_elem(fd, &word, &bits))
		return -errno;
	bits = on ? bits | bit : bits & ~bit;
	if (bpf_map_update_elem(fd, &word, &bits, BPF_ANY))
		return -errno;
	return 0;
}

/*
 * Recount @k's listeners into vips. Recounted, not incremented: a
 * listener written twice, or maps adopted from a loader that had no vips
 * map, come out right. The entry goes in before its bit and out after
 * it: a bit the data plane finds set has its entry.
 */
static int vip_sync(struct dataplane *dp, const struct snilb_vip_key *k)
{
	int fd = dp_map_fd(dp, SNILB_MAP_VIPS);
	uint32_t n;
	int err = vip_listeners(dp, k, &n);

	if (err)
		return err;
	if (n) {
		if (bpf_map_update_elem(fd, k, &n, BPF_ANY))
			return -errno;
		return vip_bit_set(dp, k, 1);
	}
	if (!vip_bit_shared(dp, k) && (err = vip_bit_set(dp, k, 0)))
		return err;
	if (bpf_map_delete_elem(fd, k) && errno != ENOENT)
		return -errno;
	return 0;
}

static void vip_key(const struct snilb_listener_key *lk,
		    struct snilb_vip_key *k)
{
	memset(k, 0, sizeof(*k));
	k->family = lk->family;
	memcpy(k->addr, lk->addr, sizeof(k->addr));
}

/* Every VIP recounted: those of adopted maps (some may have no listener
 * left), then the listeners'. The keys are read first: vip_sync() may
 * delete the one a walk would go on from. */
static int vips_rebuild(struct dataplane *dp)
{
	const size_t max = 2 * SNILB_MAX_LISTENERS;
	int vfd = dp_map_fd(dp, SNILB_MAP_VIPS);
	int lfd = dp_map_fd(dp, SNILB_MAP_LISTENERS);
	struct snilb_vip_key *keys = calloc(max, sizeof(*keys)), *prev = NULL;
	struct snilb_listener_key lk, *lprev = NULL;
	size_t n = 0, i;
	int err = 0;

	if (!keys)
		return -ENOMEM;
	while (n < max && !bpf_map_get_next_key(vfd, prev, &keys[n]))
		prev = &keys[n++];
	while (n < max && !bpf_map_get_next_key(lfd, lprev, &lk)) {
		lprev = &lk;
		vip_key(&lk, &keys[n++]);
	}
	for (i = 0; i < n && !err; i++)
		err = vip_sync(dp, &keys[i]);
	free(keys);
	return err;
}

struct dataplane *dp_open_pinned(const char *pin_dir, char *err,
				 size_t errlen)
{
	struct dp_opts o = { .pin_dir = pin_dir };

	return dp_open_opts(&o, err, errlen);
}

struct dataplane *dp_open_opts(const struct dp_opts *o, char *err,
			       size_t errlen)
{
	const char *pin_dir = o->pin_dir;
	struct dataplane *dp = calloc(1, sizeof(*dp));
	int e;

	if (!dp) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (kver_check(err, errlen)) {
		free(dp);
		return NULL;
	}
	libbpf_set_print(quiet);
	dp->ncpus = libbpf_num_possible_cpus();
	dp->skel = snilb_bpf__open();
	if (!dp->skel || dp->ncpus <= 0) {
		snprintf(err, errlen, "cannot open the data plane: %s",
			 strerror(errno));
		goto fail;
	}
	pick_ingress(dp);
	if ((e = size_flows(dp->skel, o->max_flows))) {
		snprintf(err, errlen, "cannot size the flow table to %u: %s",
			 o->max_flows, strerror(-e));
		goto fail;
	}
	if (pin_dir && (e = set_pins(dp->skel, pin_dir))) {
		snprintf(err, errlen, "cannot pin maps under %s: %s", pin_dir,
			 strerror(-e));
		goto fail;
	}
	if (snilb_bpf__load(dp->skel)) {
		snprintf(err, errlen, "cannot load the data plane: %s (needs "
			 "root or CAP_BPF+CAP_NET_ADMIN+CAP_PERFMON; maps "
			 "pinned by an incompatible version or with another "
			 "flow table size must be removed first; "
			 "SNILB_DEBUG_BPF=1 shows the verifier log)",
			 strerror(errno));
		goto fail;
	}
	if ((e = vips_rebuild(dp))) {
		snprintf(err, errlen, "cannot rebuild the VIP table from the "
			 "listeners: %s", strerror(-e));
		goto fail;
	}
	return dp;
fail:
	dp_close(dp);
	return NULL;
}

struct dataplane *dp_open(char *err, size_t errlen)
{
	return dp_open_pinned(NULL, err, errlen);
}

void dp_close(struct dataplane *dp)
{
	if (!dp)
		return;
	snilb_bpf__destroy(dp->skel);
	free(dp);
}

int dp_prog_fd(struct dataplane *dp)
{
	return bpf_program__fd(dp->ingress);
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

/* Map @m's entry @key: read into @val, written from it; 0 or -errno. */
static int map_get(struct dataplane *dp, enum snilb_map m, const void *key,
		   void *val)
{
	return bpf_map_lookup_elem(dp_map_fd(dp, m), key, val) ? -errno : 0;
}

static int map_set(struct dataplane *dp, enum snilb_map m, const void *key,
		   const void *val)
{
	return bpf_map_update_elem(dp_map_fd(dp, m), key, val, BPF_ANY) ?
	       -errno : 0;
}

int dp_attach(struct dataplane *dp, int ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = 1, .priority = 1,
		    .prog_fd = dp_prog_fd(dp), .flags = BPF_TC_F_REPLACE);
	int err = bpf_tc_hook_create(&hook);

	if (err && err != -EEXIST)
		return err;
	return bpf_tc_attach(&hook, &opts);
}

int dp_detach(struct dataplane *dp, int ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = 1, .priority = 1);

	(void)dp;
	return bpf_tc_detach(&hook, &opts);
}

static int parse_addr(const char *s, struct snilb_listener_key *k)
{
	memset(k, 0, sizeof(*k));
	if (inet_pton(AF_INET, s, k->addr) == 1) {
		k->family = SNILB_AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, k->addr) == 1) {
		k->family = SNILB_AF_INET6;
		return 0;
	}
	return -EINVAL;
}

int dp_listener_add(struct dataplane *dp, const char *addr, uint16_t port,
		    uint32_t id)
{
	struct snilb_listener_key k;
	struct snilb_listener v = { .id = id };
	struct snilb_vip_key vk;
	int err;

	if (id >= SNILB_MAX_LISTENERS)
		return -ERANGE;	/* it indexes listener_stats */
	if (parse_addr(addr, &k))
		return -EINVAL;
	k.port = htons(port);
	/* The port filter first: a listener it hides would pass traffic. */
	err = dp_port_set(dp, port, 1);
	if (err)
		return err;
	err = map_set(dp, SNILB_MAP_LISTENERS, &k, &v);
	if (err)
		return err;
	vip_key(&k, &vk);
	return vip_sync(dp, &vk);
}

/* "*.example.com" is stored as ".example.com" (see snilb_abi.h), the
 * catch-all "*" as the empty name. */
static int route_key(uint32_t listener, const char *hostname,
		     struct snilb_route_key *k, const char **name)
{
	size_t len;

	*name = hostname[0] == '*' ? hostname + 1 : hostname;
	len = strlen(*name);
	if (len > CH_SNI_MAX || (hostname[0] == '*' && len &&
				 (*name)[0] != '.'))
		return -EINVAL;
	if (!len && hostname[0] != '*')
		return -EINVAL;
	memset(k, 0, sizeof(*k));
	k->listener = listener;
	k->hash = snilb_name_hash(*name, (uint32_t)len);
	return 0;
}

int dp_route_add(struct dataplane *dp, uint32_t listener,
		 const char *hostname, uint32_t route_id, uint32_t set)
{
	int fd = dp_map_fd(dp, SNILB_MAP_ROUTES);
	struct snilb_route_key k;
	struct snilb_route v, old;
	const char *name;

	if (route_key(listener, hostname, &k, &name))
		return -EINVAL;
	if (route_id >= SNILB_MAX_ROUTES || set >= SNILB_MAX_SETS)
		return -ERANGE;
	memset(&v, 0, sizeof(v));
	v.id = route_id;
	v.set = set;
	v.name_len = (uint32_t)strlen(name);
	memcpy(v.name, name, v.name_len);
	if (!bpf_map_lookup_elem(fd, &k, &old) && strcmp(old.name, v.name))
		return -EEXIST;		/* hash collision with another name */
	if (bpf_map_update_elem(fd, &k, &v, BPF_ANY))
		return -errno;
	return 0;
}

int dp_route_del(struct dataplane *dp, uint32_t listener,
		 const char *hostname)
{
	struct snilb_route_key k;
	const char *name;

	if (route_key(listener, hostname, &k, &name))
		return -EINVAL;
	if (bpf_map_delete_elem(dp_map_fd(dp, SNILB_MAP_ROUTES), &k))
		return -errno;
	return 0;
}

int dp_config_set(struct dataplane *dp, const struct snilb_config *cfg)
{
	__u32 zero = 0;

	return map_set(dp, SNILB_MAP_CONFIG, &zero, cfg);
}

int dp_snat_outside(struct dataplane *dp, uint16_t lo, uint16_t hi,
		    uint32_t *n)
{
	struct snilb_rev_key k, next;
	int fd = dp_map_fd(dp, SNILB_MAP_REV);
	void *prev = NULL;

	*n = 0;
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		uint16_t port = ntohs(next.nport);

		*n += port < lo || port > hi;
		k = next;
		prev = &k;
	}
	return errno == ENOENT ? 0 : -errno;
}

int dp_stat(struct dataplane *dp, uint32_t idx, uint64_t *val)
{
	uint64_t *v = calloc((size_t)dp->ncpus, sizeof(*v));
	int i;

	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(dp_map_fd(dp, SNILB_MAP_STATS), &idx, v)) {
		free(v);
		return -errno;
	}
	*val = 0;
	for (i = 0; i < dp->ncpus; i++)
		*val += v[i];
	free(v);
	return 0;
}

int dp_backend_set(struct dataplane *dp, uint32_t id, const char *addr,
		   uint16_t port)
{
	struct snilb_listener_key k;
	struct snilb_backend be = {};

	if (parse_addr(addr, &k))
		return -EINVAL;
	be.family = k.family;
	be.port = htons(port);
	memcpy(be.addr, k.addr, sizeof(be.addr));
	return map_set(dp, SNILB_MAP_BACKENDS, &id, &be);
}

int dp_set_install(struct dataplane *dp, uint32_t set, const uint32_t *table,
		   uint32_t size, uint32_t nbackends)
{
	struct snilb_set s = { .size = size, .nbackends = nbackends };
	int inner, err = 0;
	uint32_t i;

	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_INNER_MAP);

	/* No live backend: no table, and the data plane answers with an
	 * RST (no_backend). */
	if (!size) {
		if (bpf_map_update_elem(dp_map_fd(dp, SNILB_MAP_SETS), &set, &s,
					BPF_ANY))
			return -errno;
		return 0;
	}

	/* Same flags as the template in bpf/maps.h, or the kernel refuses
	 * it as an inner map. */
	inner = bpf_map_create(BPF_MAP_TYPE_ARRAY, "snilb_maglev", 4, 4, size,
			       &opts);
	if (inner < 0)
		return -errno;
	for (i = 0; i < size && !err; i++)
		if (bpf_map_update_elem(inner, &i, &table[i], BPF_ANY))
			err = -errno;
	if (!err)
		err = map_set(dp, SNILB_MAP_MAGLEV, &set, &inner);
	/* The size last: a reader that sees it finds the table in place. */
	if (!err && bpf_map_update_elem(dp_map_fd(dp, SNILB_MAP_SETS), &set, &s,
					BPF_ANY))
		err = -errno;
	close(inner);
	return err;
}

int dp_listener_del(struct dataplane *dp, const char *addr, uint16_t port)
{
	struct snilb_listener_key k;
	struct snilb_vip_key vk;

	if (parse_addr(addr, &k))
		return -EINVAL;
	k.port = htons(port);
	if (bpf_map_delete_elem(dp_map_fd(dp, SNILB_MAP_LISTENERS), &k) &&
	    errno != ENOENT)
		return -errno;
	vip_key(&k, &vk);
	return vip_sync(dp, &vk);
}

/* The loader is the bitmap's only writer: read, change, write back. */
int dp_port_set(struct dataplane *dp, uint16_t port, int on)
{
	int fd = dp_map_fd(dp, SNILB_MAP_LISTEN_PORT_BITS);
	uint32_t word = port / 32, bits = 0, bit = 1u << (port % 32);

	if (bpf_map_lookup_elem(fd, &word, &bits))
		return -errno;
	bits = on ? bits | bit : bits & ~bit;
	if (bpf_map_update_elem(fd, &word, &bits, BPF_ANY))
		return -errno;
	return 0;
}

int dp_port_get(struct dataplane *dp, uint16_t port)
{
	uint32_t word = port / 32, bits = 0;
	int err = map_get(dp, SNILB_MAP_LISTEN_PORT_BITS, &word, &bits);

	return err ? err : (int)(bits >> (port % 32) & 1);
}

/* backends and sets are arrays: an unused entry is a zeroed one. */
int dp_backend_del(struct dataplane *dp, uint32_t id)
{
	struct snilb_backend none = {};

	if (bpf_map_update_elem(dp_map_fd(dp, SNILB_MAP_BACKENDS), &id, &none,
				BPF_ANY))
		return -errno;
	return 0;
}

int dp_set_del(struct dataplane *dp, uint32_t set)
{
	struct snilb_set none = {};
	/* The size first: a reader then never reaches the table. */
	int err = map_set(dp, SNILB_MAP_SETS, &set, &none);

	if (err)
		return err;
	if (bpf_map_delete_elem(dp_map_fd(dp, SNILB_MAP_MAGLEV), &set) &&
	    errno != ENOENT)
		return -errno;
	return 0;
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
	int err = repin(dp_map_fd(dp, SNILB_MAP_PROGS), pin_dir, "progs");

	if (!err)
		err = repin(dp_prog_fd(dp), pin_dir, "prog_ingress");
	return err;
}

/* Sum a per-CPU value of @n u64 counters at @key of map @m. */
static int sum_percpu(struct dataplane *dp, enum snilb_map m, uint32_t key,
		      uint64_t *out, size_t n)
{
	uint64_t *v = calloc((size_t)dp->ncpus * n, sizeof(*v));
	size_t c, i;

	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(dp_map_fd(dp, m), &key, v)) {
		free(v);
		return -errno;
	}
	memset(out, 0, n * sizeof(*out));
	for (c = 0; c < (size_t)dp->ncpus; c++)
		for (i = 0; i < n; i++)
			out[i] += v[c * n + i];
	free(v);
	return 0;
}

int dp_percpu_add(struct dataplane *dp, enum snilb_map m, uint32_t key,
		  size_t nfields, size_t field, uint64_t delta)
{
	uint64_t *v = calloc((size_t)dp->ncpus * nfields, sizeof(*v));
	int fd = dp_map_fd(dp, m), err = 0;

	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &key, v) ||
	    (v[field] += delta, bpf_map_update_elem(fd, &key, v, BPF_ANY)))
		err = -errno;
	free(v);
	return err;
}

int dp_route_stats(struct dataplane *dp, uint32_t route,
		   struct snilb_route_stats *st)
{
	return sum_percpu(dp, SNILB_MAP_ROUTE_STATS, route, (uint64_t *)st,
			  sizeof(*st) / sizeof(uint64_t));
}

int dp_listener_stats(struct dataplane *dp, uint32_t listener,
		      struct snilb_listener_stats *st)
{
	uint64_t timeouts = 0;
	int e = sum_percpu(dp, SNILB_MAP_LISTENER_STATS, listener,
			   (uint64_t *)st, sizeof(*st) / sizeof(uint64_t));

	if (!e && !bpf_map_lookup_elem(dp_map_fd(dp,
						 SNILB_MAP_LISTENER_TIMEOUTS),
				       &listener, &timeouts))
		st->rejected[SNILB_REJ_TIMEOUT] += timeouts;
	return e;
}

/* The loader is listener_timeouts' only writer (see bpf/maps.h). */
int dp_listener_timeouts_add(struct dataplane *dp, uint32_t listener,
			     uint64_t n)
{
	int fd = dp_map_fd(dp, SNILB_MAP_LISTENER_TIMEOUTS);
	uint64_t v = 0;

	if (bpf_map_lookup_elem(fd, &listener, &v))
		return -errno;
	v += n;
	if (bpf_map_update_elem(fd, &listener, &v, BPF_ANY))
		return -errno;
	return 0;
}

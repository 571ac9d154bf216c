// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The maps' contents: listeners (and the VIPs and port filter that follow
 * them), routes, backends, backend sets and the config. Each write leaves
 * the maps in a state the data plane can use at every step.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "dataplane.h"
#include "dp_int.h"

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
int dp_vips_rebuild(struct dataplane *dp)
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

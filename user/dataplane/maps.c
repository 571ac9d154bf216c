// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The maps' contents: listeners (the VIPs follow them, vips.c), routes,
 * backends, backend sets and the config, written so the data plane can
 * use the maps at every step; and read back for an agent that adopts
 * them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "dp_int.h"
#include "vec.h"

static void addr_text(uint8_t family, const __be32 *a, char *out)
{
	inet_ntop(family == SNILB_AF_INET ? AF_INET : AF_INET6, a, out,
		  DP_ADDR_MAX);
}

/* --- listeners ---------------------------------------------------------- */

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
	return dp_vip_follow(dp, &k);
}

int dp_listener_del(struct dataplane *dp, const char *addr, uint16_t port)
{
	struct snilb_listener_key k;

	if (parse_addr(addr, &k))
		return -EINVAL;
	k.port = htons(port);
	if (bpf_map_delete_elem(dp_map_fd(dp, SNILB_MAP_LISTENERS), &k) &&
	    errno != ENOENT)
		return -errno;
	return dp_vip_follow(dp, &k);
}

/* The loader is the bitmap's only writer: read, change, write back. */
int dp_port_set(struct dataplane *dp, uint16_t port, int on)
{
	uint32_t word = port / 32, bits = 0, bit = 1u << (port % 32);
	int err = map_get(dp, SNILB_MAP_LISTEN_PORT_BITS, &word, &bits);

	if (err)
		return err;
	bits = on ? bits | bit : bits & ~bit;
	return map_set(dp, SNILB_MAP_LISTEN_PORT_BITS, &word, &bits);
}

int dp_port_get(struct dataplane *dp, uint16_t port)
{
	uint32_t word = port / 32, bits = 0;
	int err = map_get(dp, SNILB_MAP_LISTEN_PORT_BITS, &word, &bits);

	return err ? err : (int)(bits >> (port % 32) & 1);
}

int dp_listeners(struct dataplane *dp, struct dp_listener **out, size_t *n)
{
	int fd = dp_map_fd(dp, SNILB_MAP_LISTENERS);
	struct snilb_listener_key k, *prev = NULL;
	struct snilb_listener v;
	struct dp_listener *l;

	*out = NULL;
	*n = 0;
	while (!bpf_map_get_next_key(fd, prev, &k)) {
		prev = &k;
		if (bpf_map_lookup_elem(fd, &k, &v))
			continue;
		l = PUSH(*out, *n);
		if (!l)
			goto nomem;
		l->family = k.family;
		addr_text(k.family, k.addr, l->addr);
		l->port = ntohs(k.port);
		l->id = v.id;
	}
	return 0;
nomem:
	free(*out);
	*out = NULL;
	*n = 0;
	return -ENOMEM;
}

/* --- routes ------------------------------------------------------------- */

static int route_key(uint32_t listener, const char *hostname,
		     struct snilb_route_key *k, const char **name)
{
	*name = snilb_route_key_of(k, listener, hostname);
	return *name ? 0 : -EINVAL;
}

static void route_out(const struct snilb_route_key *k,
		      const struct snilb_route *v, struct dp_route *r)
{
	uint32_t len = v->name_len < CH_SNI_MAX ? v->name_len : CH_SNI_MAX;

	r->listener = k->listener;
	r->id = v->id;
	r->set = v->set;
	snilb_route_host(r->hostname, v->name, len);
}

/* The entry @hostname on @listener is stored in; -ENOENT if none, or
 * if that key holds another name with the same hash. */
static int route_find(struct dataplane *dp, uint32_t listener,
		      const char *hostname, struct snilb_route_key *k,
		      struct snilb_route *v)
{
	const char *name;
	int err = route_key(listener, hostname, k, &name);

	if (!err)
		err = map_get(dp, SNILB_MAP_ROUTES, k, v);
	if (!err && (v->name_len != strlen(name) ||
		     memcmp(v->name, name, v->name_len)))
		err = -ENOENT;
	return err;
}

int dp_route_add(struct dataplane *dp, uint32_t listener,
		 const char *hostname, uint32_t route_id, uint32_t set)
{
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
	if (!map_get(dp, SNILB_MAP_ROUTES, &k, &old) &&
	    strcmp(old.name, v.name))
		return -EEXIST;		/* hash collision with another name */
	return map_set(dp, SNILB_MAP_ROUTES, &k, &v);
}

int dp_route_get(struct dataplane *dp, uint32_t listener,
		 const char *hostname, struct dp_route *r)
{
	struct snilb_route_key k;
	struct snilb_route v;
	int err = route_find(dp, listener, hostname, &k, &v);

	if (!err)
		route_out(&k, &v, r);
	return err;
}

int dp_route_del(struct dataplane *dp, uint32_t listener,
		 const char *hostname)
{
	struct snilb_route_key k;
	struct snilb_route v;
	int err = route_find(dp, listener, hostname, &k, &v);

	if (err)
		return err;
	if (bpf_map_delete_elem(dp_map_fd(dp, SNILB_MAP_ROUTES), &k))
		return -errno;
	return 0;
}

int dp_routes(struct dataplane *dp, struct dp_route **out, size_t *n)
{
	int fd = dp_map_fd(dp, SNILB_MAP_ROUTES);
	struct snilb_route_key k, *prev = NULL;
	struct snilb_route v;
	struct dp_route *r;
	uint32_t seen = 0;

	/* The loader is the only writer: the walk is bounded all the same. */
	*out = NULL;
	*n = 0;
	while (seen++ < SNILB_MAX_ROUTES &&
	       !bpf_map_get_next_key(fd, prev, &k)) {
		prev = &k;
		if (bpf_map_lookup_elem(fd, &k, &v))
			continue;	/* deleted meanwhile */
		r = PUSH(*out, *n);
		if (!r) {
			free(*out);
			*out = NULL;
			*n = 0;
			return -ENOMEM;
		}
		route_out(&k, &v, r);
	}
	return 0;
}

/* --- backends and their sets ------------------------------------------- */

int dp_backend_set(struct dataplane *dp, uint32_t id, const char *addr,
		   uint16_t port, uint32_t flags)
{
	struct snilb_listener_key k;
	struct snilb_backend be = {};

	if (parse_addr(addr, &k) || (flags & ~SNILB_BE_PROXY_V2))
		return -EINVAL;
	be.family = k.family;
	be.flags = flags;
	be.port = htons(port);
	memcpy(be.addr, k.addr, sizeof(be.addr));
	return map_set(dp, SNILB_MAP_BACKENDS, &id, &be);
}

/* backends and sets are arrays: an unused entry is a zeroed one. */
int dp_backend_del(struct dataplane *dp, uint32_t id)
{
	struct snilb_backend none = {};

	return map_set(dp, SNILB_MAP_BACKENDS, &id, &none);
}

int dp_backends(struct dataplane *dp, struct dp_backend **out, size_t *n)
{
	struct snilb_backend v;
	struct dp_backend *b;
	uint32_t id;

	*out = NULL;
	*n = 0;
	for (id = 0; id < SNILB_MAX_BACKENDS; id++) {
		if (map_get(dp, SNILB_MAP_BACKENDS, &id, &v) || !v.family)
			continue;
		b = PUSH(*out, *n);
		if (!b) {
			free(*out);
			*out = NULL;
			*n = 0;
			return -ENOMEM;
		}
		b->id = id;
		addr_text(v.family, v.addr, b->addr);
		b->port = ntohs(v.port);
		b->flags = v.flags;
	}
	return 0;
}

/* SNILB_SET_* of a set whose Maglev @table (@size ids) names backends as
 * the backends map holds them now (they never change while a set uses
 * them): each distinct id read once. -errno if one cannot be read. */
static int set_flags(struct dataplane *dp, const uint32_t *table,
		     uint32_t size, uint32_t *flags)
{
	uint8_t *seen = calloc(SNILB_MAX_BACKENDS / 8 + 1, 1);
	struct snilb_backend be;
	uint32_t i, id;
	int err = 0;

	if (!seen)
		return -ENOMEM;
	*flags = 0;
	for (i = 0; i < size && !err; i++) {
		id = table[i];
		if (id >= SNILB_MAX_BACKENDS || seen[id / 8] & (1u << id % 8))
			continue;	/* SNILB_BACKEND_RESET, or done */
		seen[id / 8] |= 1u << id % 8;
		err = map_get(dp, SNILB_MAP_BACKENDS, &id, &be);
		if (!err && (be.flags & SNILB_BE_PROXY_V2))
			*flags |= SNILB_SET_PROXY_V2;
	}
	free(seen);
	return err;
}

/* A new Maglev table's @size entries, in one batch (one syscall, where
 * an update each made the first sync of 500 sets of 16,381 entries take
 * most of a minute). */
static int table_fill(int fd, const uint32_t *table, uint32_t size)
{
	uint32_t *keys = malloc(size * sizeof(*keys)), i, n = size;
	int err;

	LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = BPF_ANY);

	if (!keys)
		return -ENOMEM;
	for (i = 0; i < size; i++)
		keys[i] = i;
	err = bpf_map_update_batch(fd, keys, table, &n, &opts) ? -errno : 0;
	if (!err && n != size)
		err = -EIO;
	free(keys);
	return err;
}

int dp_set_install(struct dataplane *dp, uint32_t set, const uint32_t *table,
		   uint32_t size, uint32_t nbackends)
{
	struct snilb_set s = { .size = size, .nbackends = nbackends };
	int inner, err = 0;

	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_INNER_MAP);

	/* No live backend: no table, and the data plane answers with an
	 * RST (no_backend). */
	if (!size)
		return map_set(dp, SNILB_MAP_SETS, &set, &s);
	err = set_flags(dp, table, size, &s.flags);
	if (err)
		return err;

	/* Same flags as the template in bpf/maps.h, or the kernel refuses
	 * it as an inner map. */
	inner = bpf_map_create(BPF_MAP_TYPE_ARRAY, "snilb_maglev", 4, 4, size,
			       &opts);
	if (inner < 0)
		return -errno;
	err = table_fill(inner, table, size);
	if (!err)
		err = map_set(dp, SNILB_MAP_MAGLEV, &set, &inner);
	/* The size last: a reader that sees it finds the table in place. */
	if (!err)
		err = map_set(dp, SNILB_MAP_SETS, &set, &s);
	close(inner);
	return err;
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

int dp_set_size(struct dataplane *dp, uint32_t set, uint32_t *size)
{
	struct snilb_set v;
	int err = map_get(dp, SNILB_MAP_SETS, &set, &v);

	*size = err ? 0 : v.size;
	return err;
}

/* --- the config, and what the flows hold -------------------------------- */

int dp_config_set(struct dataplane *dp, const struct snilb_config *cfg)
{
	__u32 zero = 0;

	return map_set(dp, SNILB_MAP_CONFIG, &zero, cfg);
}

int dp_config_get(struct dataplane *dp, struct snilb_config *cfg)
{
	__u32 zero = 0;

	return map_get(dp, SNILB_MAP_CONFIG, &zero, cfg);
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

/* The set a routed flow binds from: in its hello's entry (struct
 * snilb_bind), which it has until it is spliced; a spliced flow binds no
 * more. */
static void bound_set(struct dataplane *dp, const struct snilb_flow_key *k,
		      uint8_t *sets)
{
	static struct snilb_hello hb;

	if (bpf_map_lookup_elem(dp_map_fd(dp, SNILB_MAP_HELLOS), k, &hb))
		return;
	if (hb.b.set < SNILB_MAX_SETS)
		sets[hb.b.set] = 1;
}

int dp_flows_bound(struct dataplane *dp, uint8_t *sets, uint8_t *backends)
{
	int fd = dp_map_fd(dp, SNILB_MAP_FLOWS);
	struct snilb_flow_key k, *prev = NULL;
	struct snilb_flow f;

	while (!bpf_map_get_next_key(fd, prev, &k)) {
		prev = &k;
		if (bpf_map_lookup_elem(fd, &k, &f))
			continue;
		if (f.state < SNILB_FS_ROUTED)
			continue;	/* not bound to a set yet */
		if (f.state == SNILB_FS_ROUTED)
			bound_set(dp, &k, sets);
		if (f.backend < SNILB_MAX_BACKENDS)
			backends[f.backend] = 1;
	}
	return 0;
}

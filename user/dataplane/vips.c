// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The VIPs: vips and vip_bits follow the listeners (see snilb_abi.h), so
 * the data plane answers a packet to a VIP with no listener for its port
 * instead of passing it to a node that does not own the address.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "dp_int.h"

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

int dp_vip_follow(struct dataplane *dp, const struct snilb_listener_key *lk)
{
	struct snilb_vip_key k;

	vip_key(lk, &k);
	return vip_sync(dp, &k);
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

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The data plane's maps; their layouts are in include/snilb_abi.h. The
 * per-CPU scratch map is scratch.h's, the counters' helpers stats.h's. */
#ifndef SNILB_BPF_MAPS_H
#define SNILB_BPF_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "snilb_abi.h"
#include "compiler.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SNILB_MAX_LISTENERS);
	__type(key, struct snilb_listener_key);
	__type(value, struct snilb_listener);
} listeners SEC(".maps");

/*
 * Bit port % 32 of listen_port_bits[port / 32]: some listener uses this
 * TCP port. An array lookup the verifier inlines lets every other packet
 * skip the hash lookups (the node's own traffic pays for one array read);
 * a bitmap (8 KiB, not 64) stays in cache, where a backend's packets to
 * SNAT ports all over the range would miss in a byte per port.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 65536 / 32);
	__type(key, __u32);
	__type(value, __u32);
} listen_port_bits SEC(".maps");

/* The VIPs, for what no listener takes (bpf/vip.h), and the bitmap of
 * their hashes that keeps the lookup off every other packet: the node's
 * own traffic pays for one array read, as for listen_port_bits. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SNILB_MAX_LISTENERS);
	__type(key, struct snilb_vip_key);
	__type(value, __u32);
} vips SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SNILB_VIP_BITS / 32);
	__type(key, __u32);
	__type(value, __u32);
} vip_bits SEC(".maps");

/* Routes are written by the loader only: allocated as they come, not
 * preallocated for all 65,536 (18 MB). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SNILB_MAX_ROUTES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct snilb_route_key);
	__type(value, struct snilb_route);
} routes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct snilb_config);
} config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SNILB_ST_MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SNILB_MAX_LISTENERS);
	__type(key, __u32);
	__type(value, struct snilb_listener_stats);
} listener_stats SEC(".maps");

/*
 * listener_timeouts[listener]: RSTs the loader sent for a handshake or a
 * bind that timed out (user/dataplane/reaper.c), added to listener_stats'
 * rejected[SNILB_REJ_TIMEOUT] by readers. Not in listener_stats: updating a
 * per-CPU value from userspace writes all its fields back, and would lose
 * what the data plane counted into the others in between. Never touched
 * by the programs.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SNILB_MAX_LISTENERS);
	__type(key, __u32);
	__type(value, __u64);
} listener_timeouts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SNILB_MAX_ROUTES);
	__type(key, __u32);
	__type(value, struct snilb_route_stats);
} route_stats SEC(".maps");

/*
 * A plain hash, not an LRU: an established flow must never be evicted to
 * make room for a new one. When it is full, new connections get an RST.
 * Flows and their rev entries are allocated as connections come (the
 * kernel's bpf_mem_alloc: a per-CPU cache, refilled off the packet path),
 * not preallocated for all: memory follows the load, and an idle table
 * costs its buckets alone (docs/dataplane.md "Maps and memory").
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, SNILB_MAX_FLOWS);
	__type(key, struct snilb_flow_key);
	__type(value, struct snilb_flow);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, SNILB_MAX_FLOWS);
	__type(key, struct snilb_rev_key);
	__type(value, struct snilb_rev);
} rev SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SNILB_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct snilb_backend);
} backends SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SNILB_MAX_SETS);
	__type(key, __u32);
	__type(value, struct snilb_set);
} sets SEC(".maps");

/* Each set's Maglev table; inner arrays may differ in size. */
struct maglev_table {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SNILB_MAGLEV_SIZE);
	__uint(map_flags, BPF_F_INNER_MAP);
	__type(key, __u32);
	__type(value, __u32);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, SNILB_MAX_SETS);
	__type(key, __u32);
	__array(values, struct maglev_table);
} maglev SEC(".maps");

/*
 * Hello buffers live only while a handshake waits for its hello: allocated
 * when a hello starts (19 KB each, taking 32 KB; 76 MB if all 4,096 were
 * preallocated). An allocation that fails is the table-full case: the
 * client gets an RST. A hello that does not come whole in its first
 * segment starts in hellos_small (4 KB), and moves here once it is whole.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, SNILB_MAX_HELLOS);
	__type(key, struct snilb_flow_key);
	__type(value, struct snilb_hello);
} hellos SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, SNILB_MAX_HELLOS);
	__type(key, struct snilb_flow_key);
	__type(value, struct snilb_hello_small);
} hellos_small SEC(".maps");

/* What SYNs without timestamps offered, until their first ACK (see
 * struct snilb_syn_bucket and synstate.h). The loader sizes it to the
 * CPUs (2 s of SNILB_SYN_STATE_RATE each: 64 KiB on 2, 2 MiB from 32 on)
 * and sets syn_mask to its size less one: a constant to the verifier. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SNILB_SYN_BUCKETS);
	__type(key, __u32);
	__type(value, struct snilb_syn_bucket);
} syn_state SEC(".maps");

const volatile __u32 syn_mask = SNILB_SYN_BUCKETS - 1;

/* Each pinned map's layout, as the loader that made or adopted it saw
 * it: a restart compares its own without reading the kernel's BTF
 * (user/dataplane/layout.c). No program reads it. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SNILB_MAX_LAYOUTS);
	__type(key, struct snilb_layout_key);
	__type(value, __u64);
} layouts SEC(".maps");

/* Several gateway nodes (include/snilb_nodes.h, steer.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct snilb_cluster);
} cluster SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SNILB_MAX_NODES);
	__type(key, __u32);
	__type(value, struct snilb_node);
} nodes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SNILB_NODE_RING);
	__type(key, __u32);
	__type(value, struct snilb_node_slot);
} node_ring SEC(".maps");

/* The SYN cookie's keys, the agent's (struct snilb_cookie_keys,
 * bpf/cookie.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct snilb_cookie_keys);
} cookie_keys SEC(".maps");

static __always_inline const struct snilb_config *get_config(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&config, &zero);
}

#endif /* SNILB_BPF_MAPS_H */

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The data plane's maps; their layouts are in include/snilb_abi.h. */
#ifndef SNILB_BPF_MAPS_H
#define SNILB_BPF_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "snilb_abi.h"
#include "pkt.h"
#include "tcpout.h"

#define __noinline __attribute__((noinline))

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
 * bind that timed out (user/dataplane/gc.c), added to listener_stats' rejected
 * [SNILB_REJ_TIMEOUT] by readers. Not in listener_stats: updating a
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
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SNILB_MAX_FLOWS);
	__type(key, struct snilb_flow_key);
	__type(value, struct snilb_flow);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
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
 * when a hello starts (18 KB each, 76 MB if all 4,096 were preallocated).
 * An allocation that fails is the table-full case: the client gets an RST.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, SNILB_MAX_HELLOS);
	__type(key, struct snilb_flow_key);
	__type(value, struct snilb_hello);
} hellos SEC(".maps");

/* What SYNs without timestamps offered, until their first ACK (see
 * struct snilb_syn_bucket and synstate.h). 2 MB. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SNILB_SYN_BUCKETS);
	__type(key, __u32);
	__type(value, struct snilb_syn_bucket);
} syn_state SEC(".maps");

/* Per-CPU scratch for what is too big for the 512-byte stack: the parse
 * result, header copies for the cookie helpers, a flow being built. */
struct scratch {
	struct ch_result res;
	/*
	 * The packet and flow key snilb_ingress parsed (here, not on the
	 * stack: 6.1 counts 512 bytes across all frames). The programs it
	 * tail-calls read them instead of parsing again: a tail call runs
	 * on the same CPU, in the same run, on the same packet.
	 */
	struct pkt ipk;
	struct snilb_flow_key ik;
	struct snilb_listener_key lk;
	struct snilb_rev_key rk;
	struct tcp_out out;
	struct hdr6 hdr;	/* write_tcp()'s headers (IPv4: a hdr4) */
	__u8 ip[40];
	__u8 th[64];
	struct snilb_flow flow;
	struct tcp_opts opts;	/* a spliced packet's TS and SACK options */
	struct snilb_rev new_rev;	/* a SNAT claim being made */
	struct snilb_hello zero_hello;	/* never written: template */
	__u8 seg[512];		/* a hello segment's bytes, being summed */
	__u64 clock_jiffies;	/* now_ns(): the tick clock_ns was read in */
	__u64 clock_ns;
	__u64 vip_refill_ns;	/* this CPU's ICMP errors (vip.h) */
	__u32 vip_tokens;
	__u64 syn_slot;		/* syn_budget(): the second counted, */
	__u32 syn_used;		/* and the states kept in it */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps");

static __always_inline void stat_inc(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &idx);

	if (v)
		(*v)++;
}

static __always_inline struct snilb_listener_stats *lstats(__u32 id)
{
	return bpf_map_lookup_elem(&listener_stats, &id);
}

/* Count an RST for listener @id. The 64-bit, hidden index is for the
 * verifier: clang bounds-checks a zero-extended copy otherwise. */
static __always_inline void count_reject(__u32 id, __u32 why)
{
	struct snilb_listener_stats *ls = lstats(id);
	__u64 w = why;

	asm volatile("" : "+r"(w));
	if (ls && w < SNILB_REJ_MAX)
		ls->rejected[w]++;
}

static __always_inline struct snilb_route_stats *rstats(__u32 id)
{
	return bpf_map_lookup_elem(&route_stats, &id);
}

/* A routed connection no backend took: global, listener, route. */
static __always_inline void count_no_backend(const struct snilb_flow *f)
{
	struct snilb_route_stats *rs = rstats(f->route);

	stat_inc(SNILB_ST_REJECT_BASE + SNILB_REJ_NO_BACKEND);
	count_reject(f->listener, SNILB_REJ_NO_BACKEND);
	if (rs)
		rs->no_backend++;
}

static __always_inline struct scratch *get_scratch(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&scratch, &zero);
}

/*
 * The time to a tick: bpf_ktime_get_coarse_ns(), read once per jiffy per
 * CPU. A clock helper costs 15-30 ns a call here (a helper's return is
 * dear with the SRSO mitigations); the verifier inlines bpf_jiffies64()
 * into a load. Timeouts are whole seconds, stamps a tick old are fine.
 */
static __always_inline __u64 now_ns(struct scratch *sc)
{
	__u64 j = bpf_jiffies64();

	if (j != sc->clock_jiffies) {
		sc->clock_jiffies = j;
		sc->clock_ns = bpf_ktime_get_coarse_ns();
	}
	return sc->clock_ns;
}

static __always_inline const struct snilb_config *get_config(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&config, &zero);
}

#endif /* SNILB_BPF_MAPS_H */

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The access log's kernel side (docs/observability.md): one record per
 * connection when it ends here, and one per rejection, to the ring buffer
 * `access_log`, which the agent reads. Only with snilb_config.access_log.
 *
 * Nothing of it runs on a spliced packet but the counters both ways
 * (snilb_flow.pkts_c2b, snilb_rev.pkts_b2c), plain adds on entries the
 * packet's translation reads and writes already: a flow's packets one way
 * come to one CPU (RSS hashes the tuple), so two CPUs rarely add at once,
 * and the cost of an atomic add on every packet buys back at most a lost
 * count now and then (bytes_c2b/b2c and the route counters were made so
 * already). The backend's first payload byte is stamped by a test of the
 * byte count it adds to.
 *
 * A record is reserved, filled and submitted where a flow ends (close.h,
 * hello.h) or a connection is refused; bpf_ringbuf_reserve() never waits:
 * when the ring is full the record is lost and counted (log_lost). The
 * SNI, ALPN and TLS 1.3 of a routed flow, and its setup's times and
 * tries, are kept in `conns` (struct snilb_conn) from its routing to its
 * end (made at the routing, written at each bind and at the splice); the
 * reaper reads them for the ends it acts on (user/dataplane/reaper.c).
 */
#ifndef SNILB_BPF_ALOG_H
#define SNILB_BPF_ALOG_H

#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, SNILB_LOG_RING);
} access_log SEC(".maps");

/* Allocated as flows are routed, not preallocated for all (84 MB). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, SNILB_MAX_FLOWS);
	__type(key, struct snilb_flow_key);
	__type(value, struct snilb_conn);
} conns SEC(".maps");

static __always_inline int alog_on(const struct snilb_config *cfg)
{
	return cfg && cfg->access_log;
}

/* @k's conns entry, while the log is on: its setup, as it goes. */
static __always_inline struct snilb_conn *
alog_conn(const struct snilb_flow_key *k, const struct snilb_config *cfg)
{
	return alog_on(cfg) ? bpf_map_lookup_elem(&conns, k) : NULL;
}

/* The hello of @f was routed: keep what the log prints of it. */
static __always_inline void alog_routed(const struct snilb_flow_key *k,
					const struct snilb_flow *f,
					const struct snilb_hello *hb,
					const struct ch_result *res,
					const struct snilb_config *cfg)
{
	struct scratch *sc = get_scratch();
	struct snilb_conn *c;

	if (!alog_on(cfg) || !sc ||
	    bpf_map_update_elem(&conns, k, &sc->zero_hello, BPF_ANY))
		return;
	c = bpf_map_lookup_elem(&conns, k);
	if (!c)
		return;
	__builtin_memcpy(&c->res, res, sizeof(c->res));
	c->routed_ns = f->seen_ns;
	c->tls_version = (__u16)hb->buf[9] << 8 | hb->buf[10];
}

static __always_inline void alog_info(struct snilb_log_rec *e,
				      const struct ch_result *info)
{
	e->tls13 = info->tls13;
	e->sni_len = info->sni_len;
	e->alpn_len = info->alpn_len;
	__builtin_memcpy(e->sni, info->sni, sizeof(e->sni));
	__builtin_memcpy(e->alpn, info->alpn, sizeof(e->alpn));
}

/* What the flow's backend side knows: its address, its SNAT claim's
 * counters. */
static __always_inline void alog_backend(struct snilb_log_rec *e,
					 const struct snilb_flow *f,
					 const struct snilb_config *cfg)
{
	struct scratch *sc = get_scratch();
	struct snilb_backend *be;
	struct snilb_rev *r;

	if (!f->nport || !sc)
		return;
	be = bpf_map_lookup_elem(&backends, &f->backend);
	if (!be)
		return;
	e->bfamily = be->family;
	e->bport = be->port;
	__builtin_memcpy(e->baddr, be->addr, 16);
	if (snilb_rev_key_of(&sc->rk, be, cfg, f->nport))
		return;
	r = bpf_map_lookup_elem(&rev, &sc->rk);
	if (!r)
		return;
	e->bytes_b2c = r->bytes_b2c;
	e->pkts_b2c = r->pkts_b2c;
	e->first_ns = r->first_ns;
}

static __always_inline void alog_flow_fields(struct snilb_log_rec *e,
					     const struct snilb_flow_key *k,
					     const struct snilb_flow *f,
					     const struct snilb_conn *c)
{
	e->state = (__u8)f->state;
	e->nport = f->nport;
	e->listener = f->listener;
	e->route = f->route;
	e->backend = f->backend;
	e->hello_len = f->hello_len;
	e->conn_id = snilb_conn_id(k, f->client_isn, f->created_ns);
	e->created_ns = f->created_ns;
	e->bytes_c2b = f->bytes_c2b + f->hello_len;
	e->pkts_c2b = f->pkts_c2b;
	if (!c)
		return;
	e->tls_version = c->tls_version;
	e->tries = c->tries;
	e->routed_ns = c->routed_ns;
	e->bind_ns = c->bind_ns;
	e->spliced_ns = c->spliced_ns;
}

/*
 * Log the end of flow @k (@f; NULL: a rejection with no flow) as @end,
 * for @reason (SNILB_LOG_NO_REASON: none). @res: the hello's parse when
 * the caller has it (a rejection of the hello), else NULL: the one kept
 * in conns, if any, which is forgotten here.
 */
static __noinline int alog_flow(const struct snilb_flow_key *k,
				const struct snilb_flow *f, __u32 end,
				__u32 reason, const struct ch_result *res)
{
	const struct snilb_config *cfg = get_config();
	const struct ch_result *info = res;
	struct snilb_log_rec *e;
	struct snilb_conn *c;

	if (!alog_on(cfg))
		return 0;
	/* A routed flow's; one left by an earlier flow of this tuple (its
	 * end not logged) is not this one's, but goes too. */
	c = bpf_map_lookup_elem(&conns, k);
	if (!info && c && f && f->state >= SNILB_FS_ROUTED)
		info = &c->res;
	e = bpf_ringbuf_reserve(&access_log, sizeof(*e), 0);
	if (!e) {
		stat_inc(SNILB_ST_LOG_LOST);
		goto out;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->end = end;
	e->reason = reason;
	e->family = k->family;
	e->cport = k->cport;
	e->vport = k->vport;
	__builtin_memcpy(e->caddr, k->caddr, 16);
	__builtin_memcpy(e->vaddr, k->vaddr, 16);
	e->end_ns = bpf_ktime_get_ns();
	if (f) {
		alog_flow_fields(e, k, f,
				 f->state >= SNILB_FS_ROUTED ? c : NULL);
		alog_backend(e, f, cfg);
	}
	if (info)
		alog_info(e, info);
	bpf_ringbuf_submit(e, 0);
	stat_inc(SNILB_ST_LOG_SENT);
out:
	if (c)
		bpf_map_delete_elem(&conns, k);
	return 0;
}

#endif /* SNILB_BPF_ALOG_H */

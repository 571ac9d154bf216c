/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * snilb_hello: a segment of a ClientHello still being buffered. Appends
 * it, parses once enough bytes are there, routes by SNI or resets the
 * client. Reached by tail call from snilb_ingress, whose parse of the
 * packet and flow key it reads from the scratch map.
 */
#ifndef SNILB_BPF_HELLO_H
#define SNILB_BPF_HELLO_H

#include "common.h"
#include "route.h"
#include "bind.h"

#define HELLO_CHUNK	1024


static __always_inline void drop_flow(const struct snilb_flow_key *k,
				      const struct snilb_flow *f)
{
	const struct snilb_config *cfg = get_config();

	if (cfg)
		snat_release(cfg, f);
	bpf_map_delete_elem(&hellos, k);
	bpf_map_delete_elem(&flows, k);
}

static __attribute__((noinline)) int reject(struct __sk_buff *skb, const struct pkt *p,
				  const struct snilb_flow_key *k,
				  const struct snilb_flow *f, __u32 why)
{
	__u32 our_seq = f->our_isn + 1, their_next = p->seq + p->plen;
	if (why == SNILB_REJ_NO_BACKEND) {
		count_no_backend(f);
	} else {
		stat_inc(SNILB_ST_REJECT_BASE + why);
		count_reject(f->listener, why);
	}
	drop_flow(k, f);
	return send_rst(skb, p, our_seq, their_next, 1);
}

/* Append the new bytes of this segment to the buffer. Returns 0, or 1 when
 * the segment brings nothing (duplicate) or must wait (gap). */
static __attribute__((noinline)) int buffer_segment(struct __sk_buff *skb,
					  const struct pkt *p,
					  const struct snilb_flow *f,
					  struct snilb_hello *hb)
{
	__u32 off = p->seq - (f->client_isn + 1);
	__u32 end, skip, have = hb->len;
	int i;

	if (off > have) {
		stat_inc(SNILB_ST_HELLO_GAP);	/* the client resends it */
		return 1;
	}
	end = off + p->plen;
	if (end <= have || have >= CH_BUF_SIZE) {
		stat_inc(SNILB_ST_HELLO_DUP);
		return 1;
	}
	if (end > CH_BUF_SIZE)
		end = CH_BUF_SIZE;
	skip = have - off;
	for (i = 0; i < CH_BUF_SIZE / HELLO_CHUNK; i++) {
		__u32 left = end - have;
		__u32 n = left < HELLO_CHUNK ? left : HELLO_CHUNK;

		if (!n)
			break;
		/* For the verifier: n is 1..HELLO_CHUNK already, this
		 * makes it provably 1..2 * HELLO_CHUNK (the buffer has
		 * that much slack). The empty asm keeps clang from
		 * folding it away. */
		asm volatile("" : "+r"(n));
		n = ((n - 1) & (2 * HELLO_CHUNK - 1)) + 1;
		if (bpf_skb_load_bytes(skb, p->l4 + p->doff + skip,
				       &hb->buf[have & CH_BUF_MASK], n))
			return 1;
		have += n;
		skip += n;
	}
	hb->len = have;
	stat_inc(SNILB_ST_HELLO_SEG);
	return 0;
}

/* The client resent (part of) its hello while we wait for the backend's
 * SYN-ACK: after the bind timeout, that is the cue to try the next one. */
static __noinline int waiting(struct __sk_buff *skb, const struct pkt *p,
			      const struct snilb_flow_key *k,
			      struct snilb_flow *f,
			      const struct snilb_config *cfg)
{
	__u64 timeout = cfg && cfg->bind_timeout_ms ?
			cfg->bind_timeout_ms * 1000000ull : 1000000000ull;
	int st;

	if (f->seen_ns - f->bind_ns < timeout)
		return TC_ACT_SHOT;
	st = bind_backend(skb, p, k, f, cfg);
	if (st < 0)
		return reject(skb, p, k, f, SNILB_REJ_NO_BACKEND);
	return st;
}

/* Parse the buffered bytes into sc->res; its own frame keeps the parser's
 * state off snilb_hello's stack. The caller must use the result: clang
 * drops the return value of a static function nobody reads, and the
 * verifier refuses the stale pointer it leaves in r0. */
static __attribute__((noinline)) int parse_hello(struct snilb_hello *hb,
						 __u32 cap, struct scratch *sc)
{
	struct ch_parser ps;

	__builtin_memset(&sc->res, 0, sizeof(sc->res));
	return ch_parse(&ps, hb->buf, hb->len, cap, &sc->res);
}

SEC("tc")
int snilb_hello(struct __sk_buff *skb)
{
	const struct snilb_config *cfg = get_config();
	struct scratch *sc = get_scratch();
	struct snilb_route_stats *rs;
	struct snilb_flow_key *k;
	struct snilb_route *rt;
	struct snilb_hello *hb;
	struct snilb_flow *f;
	struct pkt *p;
	int st;

	if (!sc)
		return TC_ACT_SHOT;
	p = &sc->ipk;		/* parsed by snilb_ingress */
	k = &sc->ik;
	f = bpf_map_lookup_elem(&flows, k);
	if (!f)
		return TC_ACT_SHOT;
	if (p->flags & TCP_RST) {
		drop_flow(k, f);
		return TC_ACT_SHOT;
	}
	if (p->flags & (TCP_FIN | TCP_SYN))	/* gave up before a hello */
		return reject(skb, p, k, f, SNILB_REJ_PARSE + CH_R_NONE);
	if (!p->plen)
		return TC_ACT_SHOT;
	f->seen_ns = bpf_ktime_get_ns();
	if (f->state == SNILB_FS_ROUTED)
		return waiting(skb, p, k, f, cfg);
	f->cwin = p->win;
	hb = bpf_map_lookup_elem(&hellos, k);
	if (!hb) {
		if (bpf_map_update_elem(&hellos, k, &sc->zero_hello,
					BPF_NOEXIST))
			return reject(skb, p, k, f, SNILB_REJ_TABLE_FULL);
		hb = bpf_map_lookup_elem(&hellos, k);
		if (!hb)
			return TC_ACT_SHOT;
	}
	if (buffer_segment(skb, p, f, hb) || hb->len < f->need)
		return TC_ACT_SHOT;
	st = parse_hello(hb, cfg ? cfg->hello_cap : 0, sc);
	if (st == CH_NEED_MORE) {
		f->need = sc->res.need;
		return TC_ACT_SHOT;
	}
	if (st == CH_REJECTED)
		return reject(skb, p, k, f,
			      SNILB_REJ_PARSE + sc->res.reason);
	rt = route_lookup(&sc->res, f->listener);
	if (!rt)
		return reject(skb, p, k, f, SNILB_REJ_NO_ROUTE);
	f->route = rt->id;
	f->set = rt->set;
	f->state = SNILB_FS_ROUTED;
	stat_inc(SNILB_ST_ROUTED);
	rs = rstats(rt->id);
	if (rs)
		rs->routed++;
	st = bind_backend(skb, p, k, f, cfg);
	if (st < 0)
		return reject(skb, p, k, f, SNILB_REJ_NO_BACKEND);
	return st;
}

#endif /* SNILB_BPF_HELLO_H */

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Spliced flows: every packet, both ways, rewritten in place. The client
 * numbers its bytes from its own ISN, which the backend got in our SYN, so
 * client -> backend only acks need translating (and SACK blocks, which
 * name backend bytes); backend -> client, its sequence numbers. Timestamps
 * are shifted so each side sees the other's clock continue from the value
 * it was first shown. Checksums are patched incrementally; the helpers
 * know a CHECKSUM_PARTIAL skb (TSO/GSO, veth) needs only the pseudo-header
 * part changed, so GRO/GSO packets and offload on or off are all right.
 */
#ifndef SNILB_BPF_SPLICE_H
#define SNILB_BPF_SPLICE_H

#include "fwd.h"
#include "cookie.h"

#define TCP_CSUM_OFF	16
#define OPT_TS_FAST	20	/* NOP NOP TS at the start of the options */

/* Where the TS option and SACK blocks are in this packet's header. */
struct opt_pos {
	__u32 ts;		/* offset in the TCP header, 0: none */
	__u32 sack;		/* offset of the first SACK block, 0: none */
	__u32 nsack;		/* SACK blocks */
};

struct pos_walk {
	const __u8 *th;
	struct opt_pos *pos;
	__u32 i;
	__u32 doff;
};

static long pos_cb(__u32 n, void *ctx)
{
	struct pos_walk *w = ctx;
	__u32 i = w->i, kind, len;

	(void)n;
	if (i >= w->doff || i >= 59)
		return 1;
	i &= 63;
	kind = w->th[i];
	if (kind == TCPOPT_EOL)
		return 1;
	if (kind == TCPOPT_NOP) {
		w->i = i + 1;
		return 0;
	}
	len = w->th[(i + 1) & 63];
	if (len < 2 || i + len > w->doff)
		return 1;
	if (kind == TCPOPT_TS && len == 10)
		w->pos->ts = i;
	else if (kind == 5 && len >= 10 && (len - 2) % 8 == 0) {
		w->pos->sack = i + 2;
		w->pos->nsack = (len - 2) / 8;
	}
	w->i = i + len;
	return 0;
}

/* Linux, the BSDs and Windows put NOP NOP TS first; anything else, or a
 * header long enough to hold SACK blocks, gets the full walk. */
static __always_inline void find_opts(struct __sk_buff *skb,
				      const struct pkt *p, struct opt_pos *pos)
{
	struct scratch *sc;
	__u32 word = 0;
	__u64 n;

	pos->ts = pos->sack = pos->nsack = 0;
	if (p->doff <= 20)
		return;
	if (p->doff == 32 &&
	    !bpf_skb_load_bytes(skb, p->l4 + OPT_TS_FAST, &word, 4) &&
	    word == bpf_htonl(0x0101080a)) {
		pos->ts = OPT_TS_FAST + 2;
		return;
	}
	sc = get_scratch();
	n = p->doff;
	asm volatile("" : "+r"(n));	/* see load_headers() */
	if (!sc || n < 20 || n > 60 || bpf_skb_load_bytes(skb, p->l4, sc->th, n))
		return;
	{
		struct pos_walk w = { .th = sc->th, .pos = pos,
				      .i = CH_OPAQUE(20), .doff = p->doff };

		bpf_loop(40, pos_cb, &w, 0);
	}
}

/* Add @delta to the 32-bit word at @off of the TCP header. */
static __always_inline void tcp_add32(struct __sk_buff *skb,
				      const struct pkt *p, __u32 off,
				      __u32 delta)
{
	__u32 old, new;

	if (bpf_skb_load_bytes(skb, p->l4 + off, &old, 4))
		return;
	new = bpf_htonl(bpf_ntohl(old) + delta);
	bpf_skb_store_bytes(skb, p->l4 + off, &new, 4, 0);
	bpf_l4_csum_replace(skb, p->l4 + TCP_CSUM_OFF, old, new, 4);
}

static __always_inline void sack_add(struct __sk_buff *skb,
				     const struct pkt *p,
				     const struct opt_pos *pos, __u32 delta)
{
	__u32 b;

	for (b = 0; b < 4; b++) {
		if (b >= pos->nsack)
			break;
		tcp_add32(skb, p, pos->sack + b * 8, delta);
		tcp_add32(skb, p, pos->sack + b * 8 + 4, delta);
	}
}

/* Rewrite addresses and ports; @saddr/@daddr are 16 bytes (IPv4: word 0). */
static __always_inline int rewrite_tuple(struct __sk_buff *skb,
					 const struct pkt *p,
					 const __be32 *saddr,
					 const __be32 *daddr, __be16 sport,
					 __be16 dport)
{
	__u32 csum = p->l4 + TCP_CSUM_OFF;

	if (p->family == SNILB_AF_INET) {
		bpf_skb_store_bytes(skb, p->l3 + 12, saddr, 4, 0);
		bpf_skb_store_bytes(skb, p->l3 + 16, daddr, 4, 0);
		bpf_l3_csum_replace(skb, p->l3 + 10, p->saddr[0], saddr[0], 4);
		bpf_l3_csum_replace(skb, p->l3 + 10, p->daddr[0], daddr[0], 4);
		bpf_l4_csum_replace(skb, csum, p->saddr[0], saddr[0],
				    BPF_F_PSEUDO_HDR | 4);
		bpf_l4_csum_replace(skb, csum, p->daddr[0], daddr[0],
				    BPF_F_PSEUDO_HDR | 4);
	} else {
		__s64 d;

		bpf_skb_store_bytes(skb, p->l3 + 8, saddr, 16, 0);
		bpf_skb_store_bytes(skb, p->l3 + 24, daddr, 16, 0);
		d = bpf_csum_diff((__be32 *)p->saddr, 16, (__be32 *)saddr, 16, 0);
		d = bpf_csum_diff((__be32 *)p->daddr, 16, (__be32 *)daddr, 16, d);
		bpf_l4_csum_replace(skb, csum, 0, d, BPF_F_PSEUDO_HDR);
	}
	bpf_skb_store_bytes(skb, p->l4, &sport, 2, 0);
	bpf_skb_store_bytes(skb, p->l4 + 2, &dport, 2, 0);
	bpf_l4_csum_replace(skb, csum, p->sport, sport, 2);
	bpf_l4_csum_replace(skb, csum, p->dport, dport, 2);
	return 0;
}

/* After a RST, or the last ACK once both sides sent FIN: forget it. */
static __always_inline int flow_done(const struct pkt *p,
				     struct snilb_flow *f, int from_client)
{
	if (p->flags & TCP_RST)
		return 1;
	if (p->flags & TCP_FIN)
		f->closing |= from_client ? 1 : 2;
	else if (f->closing == 3 && from_client)
		return 1;
	return 0;
}

static __always_inline void flow_forget(const struct snilb_flow_key *k,
					struct snilb_flow *f)
{
	const struct snilb_config *cfg = get_config();

	if (cfg)
		snat_release(cfg, f);
	bpf_map_delete_elem(&flows, k);
}

/* Client -> backend. */
static __noinline int splice_c2b(struct __sk_buff *skb, const struct pkt *p,
				 const struct snilb_flow_key *k,
				 struct snilb_flow *f)
{
	const struct snilb_config *cfg = get_config();
	struct snilb_backend *be;
	struct opt_pos pos;
	__be32 snat[4] = {};
	int verdict, done;

	be = bpf_map_lookup_elem(&backends, &f->backend);
	if (!be || !cfg || snat_addr(cfg, p->family, snat))
		return TC_ACT_SHOT;
	find_opts(skb, p, &pos);
	rewrite_tuple(skb, p, snat, be->addr, f->nport, be->port);
	if (p->flags & TCP_ACK)
		tcp_add32(skb, p, 8, f->seq_off);
	if (pos.ts)
		tcp_add32(skb, p, pos.ts + 6, f->ts_off);	/* TSecr */
	if (pos.nsack)
		sack_add(skb, p, &pos, f->seq_off);
	f->bytes_c2b += p->plen;
	f->seen_ns = bpf_ktime_get_ns();
	stat_inc(SNILB_ST_FWD_C2B);
	done = flow_done(p, f, 1);
	verdict = to_backend(skb, f, p->family, be->addr);
	if (done)
		flow_forget(k, f);
	return verdict;
}

/* Backend -> client. */
static __noinline int splice_b2c(struct __sk_buff *skb, const struct pkt *p,
				 const struct snilb_flow_key *k,
				 struct snilb_flow *f,
				 const struct snilb_config *cfg)
{
	__u8 ows = cfg && cfg->wscale ? cfg->wscale : 7;
	struct opt_pos pos;
	int done, verdict;

	find_opts(skb, p, &pos);
	rewrite_tuple(skb, p, k->vaddr, k->caddr, k->vport, k->cport);
	tcp_add32(skb, p, 4, -f->seq_off);
	if (pos.ts)
		tcp_add32(skb, p, pos.ts + 2, -f->ts_off);	/* TSval */
	if (f->bwscale != ows && f->opts.wscale != TS_NO_WSCALE) {
		/* The client reads windows in our scale, not the backend's. */
		__u32 bws = f->bwscale == TS_NO_WSCALE ? 0 : f->bwscale;
		__u32 win = ((__u32)p->win << (bws & 15)) >> (ows & 15);
		__be16 old = bpf_htons(p->win), new;

		new = bpf_htons(win > 65535 ? 65535 : win);
		bpf_skb_store_bytes(skb, p->l4 + 14, &new, 2, 0);
		bpf_l4_csum_replace(skb, p->l4 + TCP_CSUM_OFF, old, new, 2);
	}
	f->bytes_b2c += p->plen;
	stat_inc(SNILB_ST_FWD_B2C);
	done = flow_done(p, f, 0);
	verdict = to_client(skb, f);
	if (done)
		flow_forget(k, f);
	return verdict;
}

#endif /* SNILB_BPF_SPLICE_H */

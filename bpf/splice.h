/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Spliced flows: every packet, both ways, rewritten in place. The client
 * numbers its bytes from its own ISN, which the backend got in our SYN, so
 * client -> backend only acks need translating (and SACK blocks, which
 * name backend bytes); backend -> client, its sequence numbers. Timestamps
 * are shifted so each side sees the other's clock continue from the value
 * it was first shown. Checksums are patched incrementally: a
 * CHECKSUM_PARTIAL skb (TSO/GSO, GRO, veth) needs only the pseudo-header
 * part changed, any other all of it, so GRO/GSO packets and offload on or
 * off are all right.
 *
 * Which kind of skb it is, only the kernel's sk_buff says. Where the
 * kernel lets a TC program read it (bpf_cast_to_kern_ctx(), 6.3+), the
 * checksum is patched here with no call (one for an IPv4
 * CHECKSUM_COMPLETE skb, whose skb->csum must follow); elsewhere
 * bpf_l4_csum_replace() does it, which knows (csum.h). Two helper calls
 * are a third of a spliced packet's cost: a helper's return is dear with
 * the SRSO mitigations of today's AMD machines.
 */
#ifndef SNILB_BPF_SPLICE_H
#define SNILB_BPF_SPLICE_H

#include "csum.h"
#include "fwd.h"
#include "cookie.h"
#include "close.h"

#define TCP_CSUM_OFF	16
#define OPT_TS_FAST	20	/* NOP NOP TS at the start of the options */

/* Linux, the BSDs and Windows put NOP NOP TS first; anything else, or a
 * header long enough to hold SACK blocks, gets the full walk. */
static __always_inline void find_opts(struct __sk_buff *skb,
				      struct scratch *sc, struct tcp_opts *o)
{
	const struct pkt *p = &sc->ipk;
	__u32 word = 0;
	__u64 n;

	o->ts_at = o->sack_at = o->nsack = 0;
	if (p->doff <= 20)
		return;
	if (p->doff == 32) {
		void *data = (void *)(long)skb->data;
		void *end = (void *)(long)skb->data_end;
		__u32 *w = data + (p->l4 & 0xff) + OPT_TS_FAST;

		if ((void *)(w + 1) <= end)
			word = *w;
		if (word == bpf_htonl(0x0101080a)) {
			o->ts_at = OPT_TS_FAST + 2;
			return;
		}
	}
	n = p->doff;
	asm volatile("" : "+r"(n));	/* see load_headers() */
	if (n < 20 || n > 60 || bpf_skb_load_bytes(skb, p->l4, sc->th, n))
		return;
	parse_opts(sc->th, p->doff, o);
}

/*
 * Checksum deltas are summed here, in plain ALU ops (one's complement,
 * 32-bit words with end-around carry, as bpf_csum_diff() sums them), in
 * two parts: the pseudo-header's (which a CHECKSUM_PARTIAL skb must see)
 * and the rest (which it must not).
 */

/* The IPv4 header checksum is always complete: patch it in place. */
static __always_inline void ip_csum_patch(struct iphdr *ip, __u32 diff)
{
	__u32 s = (__u16)~ip->check;

	s = csum_add32(s, diff);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	ip->check = (__u16)~s;
}

/* Header pointers for direct access, bounds checked to the base TCP
 * header. Invalid after any helper that may move the packet. */
struct hdrs {
	void *l3;
	__u8 *th;
};

static __always_inline int get_hdrs(struct __sk_buff *skb, const struct pkt *p,
				    struct hdrs *h)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;

	/* parse_packet() takes no IP options or extension headers, so the
	 * offsets are constants, which the verifier follows best. */
	h->l3 = data + ETH_HLEN;
	if (p->family == SNILB_AF_INET)
		h->th = data + ETH_HLEN + sizeof(struct iphdr);
	else
		h->th = data + ETH_HLEN + sizeof(struct ipv6hdr);
	if ((void *)(h->th + 20) > end)
		return -1;
	return 0;
}

/* Add @delta to the big-endian word at @off of the TCP header; returns
 * the checksum sum updated. */
static __always_inline __u32 add32_at(__u8 *th, void *end, __u32 off,
				      __u32 delta, __u32 sum)
{
	__u32 *w = (__u32 *)(th + (off & 63));
	__u32 old, new;

	if ((void *)(w + 1) > end)
		return sum;
	old = *w;
	new = bpf_htonl(bpf_ntohl(old) + delta);
	*w = new;
	return csum_swap(sum, old, new);
}

/* Write @saddr/@daddr/ports; returns the pseudo-header delta, adds the
 * port delta to *@rest. */
static __always_inline __u32 set_tuple(const struct pkt *p, struct hdrs *h,
				       const __be32 *saddr,
				       const __be32 *daddr, __be16 sport,
				       __be16 dport, __u32 *rest)
{
	__u32 *ports = (__u32 *)h->th, oldp = *ports, newp, d = 0;
	int i;

	if (p->family == SNILB_AF_INET) {
		struct iphdr *ip = h->l3;

		d = csum_swap(d, ip->saddr, saddr[0]);
		d = csum_swap(d, ip->daddr, daddr[0]);
		ip->saddr = saddr[0];
		ip->daddr = daddr[0];
		ip_csum_patch(ip, d);
	} else {
		struct ipv6hdr *ip6 = h->l3;
		__u32 *s = (__u32 *)&ip6->saddr, *t = (__u32 *)&ip6->daddr;

		/* A word at a time, written back at once: loading all
		 * sixteen first would spill them to the stack. */
#pragma clang loop unroll(disable)
		for (i = 0; i < 4; i++) {
			d = csum_swap(d, s[i], saddr[i]);
			s[i] = saddr[i];
		}
#pragma clang loop unroll(disable)
		for (i = 0; i < 4; i++) {
			d = csum_swap(d, t[i], daddr[i]);
			t[i] = daddr[i];
		}
	}
	((__be16 *)h->th)[0] = sport;
	((__be16 *)h->th)[1] = dport;
	newp = *ports;
	*rest = csum_swap(*rest, oldp, newp);
	return d;
}

/*
 * The state not known: bpf_l4_csum_replace() does what it asks. IPv4: one
 * call for the pseudo-header part (a COMPLETE skb->csum moves with it: the
 * IP header's own checksum keeps that header's sum) and one for the rest.
 * IPv6: a COMPLETE skb->csum must not move at all (the addresses are in
 * it), and there is no BPF_F_IPV6 before 6.x: the field takes the pseudo
 * part here, and one call the rest (csum.h, csum_v6_pre()).
 */
static __always_inline void csum_by_helpers(struct __sk_buff *skb,
					    const struct pkt *p, __u16 *check,
					    __u32 pseudo, __u32 rest)
{
	__u32 off = p->l4 + TCP_CSUM_OFF;

	if (p->family == SNILB_AF_INET) {
		bpf_l4_csum_replace(skb, off, 0, pseudo, BPF_F_PSEUDO_HDR);
		bpf_l4_csum_replace(skb, off, 0, rest, 0);
		return;
	}
	*check = csum_v6_pre(*check, pseudo);
	bpf_l4_csum_replace(skb, off, 0, csum_v6_diff(pseudo, rest), 0);
}

/*
 * Apply the deltas to the TCP checksum at @th + 16 (inside the 20 bytes
 * get_hdrs() checked) as bpf_l4_csum_replace() would. @kctx: the program
 * may read the skb's checksum state (compile-time constant).
 */
static __always_inline void csum_commit(struct __sk_buff *skb,
					const struct pkt *p, __u8 *th,
					__u32 pseudo, __u32 rest,
					const int kctx)
{
	__u16 *check = (__u16 *)(th + TCP_CSUM_OFF);
	__u32 state;

	if (!kctx) {
		csum_by_helpers(skb, p, check, pseudo, rest);
		return;
	}
	state = skb_summed(skb);
	if (state == SKB_CSUM_PARTIAL) {
		/* The field holds the pseudo-header sum, not complemented. */
		*check = csum_patch_partial(*check, pseudo);
		return;
	}
	*check = csum_patch_full(*check, pseudo, rest);
	/* COMPLETE: the bytes' sum moved by what the TCP segment's did,
	 * -pseudo; an IPv6 header's addresses moved it back by +pseudo. */
	if (state == SKB_CSUM_COMPLETE && p->family == SNILB_AF_INET)
		bpf_csum_update(skb, ~pseudo);
}

static __always_inline __u32 sack_add(__u8 *th, void *end,
				      const struct tcp_opts *o, __u32 delta,
				      __u32 sum)
{
	__u32 b;

	for (b = 0; b < 4; b++) {
		if (b >= o->nsack)
			break;
		sum = add32_at(th, end, o->sack_at + b * 8, delta, sum);
		sum = add32_at(th, end, o->sack_at + b * 8 + 4, delta, sum);
	}
	return sum;
}

/*
 * Follow the last ACK (and window) a side sent, as conntrack's
 * tcp_in_window() does: an ACK moves it forward by at most what the
 * other side may have in flight, so a spoofed ACK with a random number
 * cannot set where an exact RST would have to be.
 */
static __always_inline void ack_track(__u32 *last, __u16 *lwin, __u8 ws,
				      const struct pkt *p)
{
	__u32 bound = win_bytes(*lwin, ws);

	if (bound < 65535)
		bound = 65535;
	if (p->ack - *last <= bound) {
		*last = p->ack;
		*lwin = p->win;
	}
}

/*
 * Rewrite the window field to @bytes in scale @ws, rounded up (Linux
 * rounds its own windows up, tcp_select_window(): a small window read as
 * 0 would stall a sender that waits for an update that never comes). The
 * window shares a word with the flags; returns the checksum sum updated.
 */
static __always_inline __u32 set_window(__u8 *th, __u32 bytes, __u8 ws,
					__u32 rest)
{
	__u32 *w = (__u32 *)(th + 12), old = *w;
	__u32 win = bytes >> (ws & 15);

	if (!win && bytes)
		win = 1;
	((__be16 *)th)[7] = bpf_htons(win > 65535 ? 65535 : win);
	return csum_swap(rest, old, *w);
}

/*
 * The next hops a flow caches (the backend's from the FIB, the client's
 * from its packets' MACs) are learned again once a second, on a client
 * packet: a router that fails over to another MAC, or a backend's
 * neighbour entry that changes, costs a second of packets, not the flow.
 * The kernel's forwarding path looks both up on every packet.
 */
#define PATH_REFRESH_NS	1000000000ull

static __always_inline void path_refresh(struct __sk_buff *skb,
				    struct snilb_flow *f,
				    const struct snilb_backend *be,
				    const struct snilb_config *cfg)
{
	struct snilb_rev *r = flow_rev(f, be, cfg);
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	__u8 *mac = data;

	f->path_ns = f->seen_ns;
	f->b_ifindex = 0;		/* to_backend() looks it up again */
	if ((void *)(mac + 12) > end)
		return;
	__builtin_memcpy(f->lmac, mac, 6);
	__builtin_memcpy(f->cmac, mac + 6, 6);
	f->ifindex = skb->ifindex;
	if (!r)
		return;
	__builtin_memcpy(r->lmac, mac, 6);
	__builtin_memcpy(r->cmac, mac + 6, 6);
	r->ifindex = skb->ifindex;
}

/* What a client -> backend packet, written, leaves behind: the flow's
 * and the route's counters, its clock and next hops, its end when it
 * closed it (@done, close_c2b()); then it goes to the backend. */
static __always_inline int c2b_out(struct __sk_buff *skb, struct scratch *sc,
				   struct snilb_flow *f,
				   const struct snilb_backend *be,
				   const struct snilb_config *cfg, __u32 plen,
				   int done)
{
	struct snilb_route_stats *rs;
	int verdict;

	f->bytes_c2b += plen;
	f->pkts_c2b++;
	f->seen_ns = now_ns(sc);
	if (f->seen_ns - f->path_ns > PATH_REFRESH_NS)
		path_refresh(skb, f, be, cfg);
	stat_inc(SNILB_ST_FWD_C2B);
	rs = rstats(f->route);
	if (rs) {
		rs->pkts_c2b++;
		rs->bytes_c2b += plen;
	}
	verdict = to_backend(skb, f, be->family, be->addr);
	if (done == CV_FREE)
		flow_forget(&sc->ik, f, SNILB_END_RST_CLIENT,
			    SNILB_LOG_NO_REASON);
	return verdict;
}

/* A flow whose backend is of the other family (nat46.h): one subprogram
 * per program variant (_k: may read the skb's checksum state). */
static __noinline int nat_c2b_k(struct __sk_buff *skb, struct scratch *sc,
				struct snilb_flow *f,
				const struct snilb_backend *be,
				const struct snilb_config *cfg);
static __noinline int nat_c2b_h(struct __sk_buff *skb, struct scratch *sc,
				struct snilb_flow *f,
				const struct snilb_backend *be,
				const struct snilb_config *cfg);
static __noinline int nat_b2c_k(struct __sk_buff *skb, struct scratch *sc,
				struct snilb_rev *r, struct snilb_flow *f,
				const struct snilb_config *cfg);
static __noinline int nat_b2c_h(struct __sk_buff *skb, struct scratch *sc,
				struct snilb_rev *r, struct snilb_flow *f,
				const struct snilb_config *cfg);

/* Client -> backend. Inlined, like splice_b2c(): a call and its return
 * cost more than the rest of the hop. */
static __always_inline int splice_c2b(struct __sk_buff *skb,
				      struct scratch *sc, struct snilb_flow *f,
				      const struct snilb_config *cfg,
				      const int kctx)
{
	const struct pkt *p = &sc->ipk;
	struct tcp_opts *pos = &sc->opts;
	__u32 pseudo, rest = 0;
	struct snilb_backend *be;
	const __be32 *snat;
	int done = CV_PASS;
	struct hdrs h;
	void *end;

	be = bpf_map_lookup_elem(&backends, &f->backend);
	if (!be || !cfg)
		return TC_ACT_SHOT;
	if (unlikely(be->family != p->family))
		return kctx ? nat_c2b_k(skb, sc, f, be, cfg) :
			      nat_c2b_h(skb, sc, f, be, cfg);
	if (unlikely(oversize(skb, p, f->bmtu)))
		return send_too_big(skb, p, f->bmtu);
	if (!snilb_snat_set(cfg, p->family))
		return TC_ACT_SHOT;
	if (f->closing || (p->flags & (TCP_FIN | TCP_RST))) {
		done = close_c2b(p, f, be, cfg);
		if (done == CV_DROP)
			return TC_ACT_SHOT;
	}
	if (p->flags & TCP_ACK)
		ack_track(&f->c_ack, &f->c_win, f->opts.wscale, p);
	snat = snat_of(cfg, p->family);
	find_opts(skb, sc, pos);
	if (get_hdrs(skb, p, &h))
		return TC_ACT_SHOT;
	end = (void *)(long)skb->data_end;
	pseudo = set_tuple(p, &h, snat, be->addr, f->nport, be->port, &rest);
	if (p->flags & TCP_ACK)
		rest = add32_at(h.th, end, 8, f->seq_off, rest);
	if (f->bwscale == TS_NO_WSCALE && f->opts.wscale != TS_NO_WSCALE)
		/* The backend declined window scaling, the client (and we)
		 * did not: the backend reads the client's window unscaled. */
		rest = set_window(h.th, win_bytes(p->win, f->opts.wscale), 0,
				  rest);
	if (pos->ts_at)
		rest = add32_at(h.th, end, pos->ts_at + 6, f->ts_off, rest);
	if (pos->nsack)
		rest = sack_add(h.th, end, pos, f->seq_off, rest);
	csum_commit(skb, p, h.th, pseudo, rest, kctx);
	return c2b_out(skb, sc, f, be, cfg, p->plen, done);
}

/*
 * Backend -> client, translated by the flow's rev entry @r alone. @f: the
 * flow, looked up only for a packet that may end it (FIN, RST) or of a
 * flow closing (r->watch), else NULL.
 */
static __always_inline int splice_b2c(struct __sk_buff *skb,
				      struct scratch *sc, struct snilb_rev *r,
				      struct snilb_flow *f,
				      const struct snilb_config *cfg,
				      const int kctx)
{
	__u8 ows = our_wscale(cfg);
	const struct snilb_flow_key *k = &r->flow;
	const struct pkt *p = &sc->ipk;
	struct tcp_opts *pos = &sc->opts;
	struct snilb_route_stats *rs;
	__u32 pseudo, rest = 0;
	int done = CV_PASS, verdict;
	struct hdrs h;
	void *end;

	if (unlikely(k->family != p->family))
		return kctx ? nat_b2c_k(skb, sc, r, f, cfg) :
			      nat_b2c_h(skb, sc, r, f, cfg);
	if (unlikely(oversize(skb, p, r->cmtu)))
		return send_too_big(skb, p, r->cmtu);
	if (f) {
		done = close_b2c(p, r, f);
		if (done == CV_DROP)
			return TC_ACT_SHOT;
	}
	if (p->flags & TCP_ACK)
		ack_track(&r->b_ack, &r->b_win, r->bwscale, p);
	find_opts(skb, sc, pos);
	if (get_hdrs(skb, p, &h))
		return TC_ACT_SHOT;
	end = (void *)(long)skb->data_end;
	pseudo = set_tuple(p, &h, k->vaddr, k->caddr, k->vport, k->cport,
			   &rest);
	rest = add32_at(h.th, end, 4, -r->seq_off, rest);
	if (pos->ts_at)
		rest = add32_at(h.th, end, pos->ts_at + 2, -r->ts_off, rest);
	if (r->bwscale != ows && r->cwscale != TS_NO_WSCALE) {
		/* The client reads windows in our scale, not the backend's. */
		__u32 bws = r->bwscale == TS_NO_WSCALE ? 0 : r->bwscale;

		rest = set_window(h.th, (__u32)p->win << (bws & 15), ows,
				  rest);
	}
	csum_commit(skb, p, h.th, pseudo, rest, kctx);
	if (unlikely(!r->bytes_b2c) && p->plen)
		r->first_ns = bpf_ktime_get_ns();	/* setup time */
	r->bytes_b2c += p->plen;
	r->pkts_b2c++;
	stat_inc(SNILB_ST_FWD_B2C);
	rs = rstats(r->route);
	if (rs) {
		rs->pkts_b2c++;
		rs->bytes_b2c += p->plen;
	}
	verdict = to_client_via(skb, r->cmac, r->lmac, r->ifindex);
	if (done == CV_FREE)
		flow_forget(&sc->ik, f, SNILB_END_RST_BACKEND,
			    SNILB_LOG_NO_REASON);	/* frees @r too */
	return verdict;
}

#endif /* SNILB_BPF_SPLICE_H */

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * snilb's data plane: a TC ingress program that answers TCP handshakes to
 * the listeners with SYN cookies, buffers the ClientHello, routes it by
 * SNI and splices the connection to a backend. What is addressed
 * to a VIP but to no listener is answered or dropped here (vip.h), the
 * rest passes untouched.
 *
 * snilb_ingress is the per-packet path and stays small; a segment of a
 * hello still being buffered is handed to snilb_hello by tail call, which
 * also gives the parser a fresh stack.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "maps.h"
#include "pkt.h"
#include "reply.h"
#include "cookie.h"
#include "synstate.h"
#include "synack.h"
#include "route.h"
#include "common.h"
#include "hello.h"
#include "backend.h"
#include "vip.h"
#include "xdp.h"
#include "steer.h"

enum { PROG_HELLO = 0, PROG_BACKEND, PROG_MAX };

#define SNILB_PACKET_HOST 0	/* skb->pkt_type (linux/if_packet.h) */

int snilb_hello(struct __sk_buff *skb);
int snilb_backend(struct __sk_buff *skb);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, PROG_MAX);
	__type(key, __u32);
	__array(values, int(struct __sk_buff *));
} progs SEC(".maps") = {
	.values = {
		[PROG_HELLO] = (void *)&snilb_hello,
		[PROG_BACKEND] = (void *)&snilb_backend,
	},
};


/*
 * The handlers below are subprograms, not inlined: a program that tail
 * calls may use bpf-to-bpf calls only with frames under 256 bytes, and
 * inlined they would put all their header copies in one frame.
 */
#define HANDLER static __noinline int

/* Returned by a handler: hand the packet to snilb_hello. */
#define GO_HELLO (-1)

/*
 * A SYN's options, parsed into @o. A Linux SYN (a 40-byte header, options
 * in Linux's order) is read where it lies; any other is copied out first,
 * for the option walk's 64-byte buffer.
 */
static __always_inline int syn_opts(struct __sk_buff *skb, const struct pkt *p,
				    struct scratch *sc, struct tcp_opts *o)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	__u8 *th = data + ETH_HLEN + (p->family == SNILB_AF_INET ?
				      sizeof(struct iphdr) :
				      sizeof(struct ipv6hdr));

	__builtin_memset(o, 0, sizeof(*o));
	o->wscale = TS_NO_WSCALE;
	if (p->doff == 40 && (void *)(th + 40) <= end &&
	    linux_opts(th, 40, o))
		return 0;
	if (load_headers(skb, p, sc->ip, sc->th, p->doff))
		return -1;
	parse_opts(sc->th, p->doff, o);
	return 0;
}

/* 1. SYN to a listener: SYN-ACK with a cookie, no state. */
HANDLER on_syn(struct __sk_buff *skb, const struct pkt *p,
				  const struct snilb_config *cfg)
{
	struct scratch *sc = get_scratch();
	struct tcp_opts *o;
	struct tcp_out *r;

	if (!sc)
		return TC_ACT_SHOT;
	o = &sc->opts;
	r = &sc->out;
	if (p->flags & (TCP_RST | TCP_FIN)) {
		stat_inc(SNILB_ST_BAD_TCP);
		return TC_ACT_SHOT;
	}
	if (syn_opts(skb, p, sc, o)) {
		stat_inc(SNILB_ST_BAD_TCP);
		return TC_ACT_SHOT;
	}
	if (synack_build(sc, p, cfg))
		return TC_ACT_SHOT;
	stat_inc(SNILB_ST_SYN);
	if (unlikely(p->steered))
		return steer_reply(skb, p, r);
	return send_reply(skb, p, r);
}

/* Is the first ACK @p an answer to our cookie? Its headers are copied to
 * sc->ip/th (for its options), *@idx gets the cookie's MSS index. */
static __always_inline int cookie_ok(struct __sk_buff *skb,
				     const struct pkt *p, struct scratch *sc,
				     __u32 *idx)
{
	if (load_headers(skb, p, sc->ip, sc->th, p->doff))
		return 0;
	return cookie_check(sc, p, idx);
}

static __always_inline void flow_macs(struct __sk_buff *skb,
				      struct snilb_flow *f)
{
	__u8 mac[12];

	if (!bpf_skb_load_bytes(skb, 0, mac, 12)) {
		__builtin_memcpy(f->lmac, mac, 6);
		__builtin_memcpy(f->cmac, mac + 6, 6);
	}
}

/* 2. First ACK (or first data) of a connection we have no state for. */
HANDLER on_first_ack(struct __sk_buff *skb,
					const struct pkt *p,
					const struct snilb_listener *l,
					const struct snilb_config *cfg)
{
	struct scratch *sc = get_scratch();
	struct snilb_listener_stats *ls;
	struct snilb_flow *f;
	struct tcp_opts o;
	__u32 idx = 0;
	__u16 mss;

	if (!sc || (p->flags & TCP_RST) || !(p->flags & TCP_ACK))
		return TC_ACT_SHOT;
	if (!cookie_ok(skb, p, sc, &idx)) {
		stat_inc(SNILB_ST_COOKIE_BAD);
		/* A later segment of a hello whose first ACK and first
		 * segment were lost: not the ISN + 1, so no cookie to check.
		 * Dropped, as xdp_synproxy does; the client resends the
		 * first. Only a pure ACK is answered with an RST. */
		steer_orphan();
		if (p->plen || (p->flags & TCP_FIN))
			return TC_ACT_SHOT;
		stat_inc(SNILB_ST_REJECT_BASE + SNILB_REJ_BAD_COOKIE);
		alog_flow(&sc->ik, NULL, SNILB_END_REJECT,
			  SNILB_REJ_BAD_COOKIE, NULL);
		return send_rst(skb, p, p->ack, 0, 0);
	}
	stat_inc(SNILB_ST_COOKIE_OK);
	parse_opts(sc->th, p->doff, &o);
	f = &sc->flow;
	__builtin_memset(f, 0, sizeof(*f));
	if (o.ts)
		cookie_decode(&o, p->family, &f->opts);
	else
		nots_opts(sc, p, idx, &f->opts);
	/* The backend is told the smaller of the client's MSS and ours:
	 * its segments cross our links too. */
	mss = our_mss(cfg, p->family);
	if (f->opts.mss > mss)
		f->opts.mss = mss;
	f->state = SNILB_FS_HELLO;
	f->listener = l->id;
	f->client_isn = p->seq - 1;
	f->our_isn = p->ack - 1;
	f->ts_recent = o.tsval;
	f->ifindex = skb->ifindex;
	f->created_ns = bpf_ktime_get_ns();
	f->seen_ns = f->created_ns;
	flow_macs(skb, f);
	if (unlikely(p->steered))
		steer_flow_path(skb, p, f);
	f->our_tsval = o.tsecr;
	if (bpf_map_update_elem(&flows, &sc->ik, f, BPF_NOEXIST)) {
		alog_flow(&sc->ik, f, SNILB_END_REJECT, SNILB_REJ_TABLE_FULL,
			  NULL);
		stat_inc(SNILB_ST_REJECT_BASE + SNILB_REJ_TABLE_FULL);
		return send_rst(skb, p, p->ack, p->seq + p->plen, 1);
	}
	stat_inc(SNILB_ST_FLOW_NEW);
	ls = lstats(l->id);
	if (ls)
		ls->accepted++;
	if (!p->plen && !(p->flags & TCP_FIN))
		return TC_ACT_SHOT;		/* the pure ACK is consumed */
	return GO_HELLO;
}

/*
 * 0. A packet to a listener with no flow here, where several nodes share
 * the VIP (steer.h, docs/multinode.md): the owner's to answer. A SYN goes
 * to the owner, and is answered where a peer steered it. Anything else:
 * - not ours: to the owner; steered here all the same, it is ours when
 *   it is our cookie's first ACK or we were the owner before (the second
 *   chance, or an orphan), else our table is newer or older than the
 *   peer's: on to the owner we know (the TTL bounds the bounces);
 * - ours: our cookie's first ACK, or we owned it before too, or to the
 *   previous owner, once (the second chance).
 */
HANDLER on_no_flow(struct __sk_buff *skb, struct pkt *p,
		   const struct snilb_flow_key *k)
{
	const struct snilb_cluster *cl = steer_cluster();
	const struct snilb_node_slot *s;
	struct scratch *sc;
	__u32 idx;

	if (!cl)
		return STEER_LOCAL;
	steer_arrived(skb, p);
	s = steer_slot(k);
	if (!s || !s->cur)
		return STEER_LOCAL;
	if ((p->flags & (TCP_SYN | TCP_ACK)) == TCP_SYN)
		return s->cur == cl->self || p->steered ? STEER_LOCAL :
		       steer_to(skb, p, s->cur);
	if (s->cur != cl->self && !p->steered)
		return steer_to(skb, p, s->cur);
	if (s->prev == cl->self || !s->prev)
		return STEER_LOCAL;
	sc = get_scratch();
	if (!sc || cookie_ok(skb, p, sc, &idx))
		return STEER_LOCAL;
	if (s->cur != cl->self)
		return steer_to(skb, p, s->cur);
	stat_inc(SNILB_ST_STEER_SECOND);
	return steer_to(skb, p, s->prev);
}

/*
 * A SYN where a flow exists. Once both FINs are acknowledged the flow is
 * in its TIME-WAIT, and a new SYN may reuse the port, as the kernel lets
 * it: the old flow goes. Otherwise the flow lives, and a SYN, spoofed or
 * from a client that restarted, never ends it (RFC 5961 4.2): a challenge
 * ACK at where the flow stands; an exact RST answering it frees the flow.
 */
static __noinline int syn_on_flow(struct __sk_buff *skb, const struct pkt *p,
				  const struct snilb_flow_key *k,
				  struct snilb_flow *f,
				  const struct snilb_config *cfg)
{
	__u16 win = our_window(cfg, f);
	struct snilb_backend *be;
	struct snilb_rev *r;

	if (f->state != SNILB_FS_SPLICED)
		return challenge_ack(skb, p, f->our_isn + 1, f->client_isn + 1,
				     win);
	if ((f->closing & SNILB_CL_DONE) == SNILB_CL_DONE) {
		flow_forget(k, f, f->closer, SNILB_LOG_NO_REASON);
		return on_syn(skb, p, cfg);
	}
	be = bpf_map_lookup_elem(&backends, &f->backend);
	r = be && cfg ? flow_rev(f, be, cfg) : NULL;
	if (!r)
		return TC_ACT_SHOT;
	return challenge_ack(skb, p, f->c_ack, r->b_ack, win);
}

/* Is this packet to our SNAT address, and a port in its range? */
static __always_inline int to_snat(const struct pkt *p,
				   const struct snilb_config *cfg)
{
	__u16 port = bpf_ntohs(p->dport);
	__u16 lo = cfg->port_lo ? cfg->port_lo : SNILB_SNAT_PORT_LO;
	__u16 hi = cfg->port_hi ? cfg->port_hi : SNILB_SNAT_PORT_HI;

	return port >= lo && port <= hi && snat_is(p, cfg);
}

/* Where a header may be written over the packet (tcpout.h, put_hdr()):
 * its checksum state, if this program may read it. Not on the spliced
 * paths, which read it where they need it (csum_commit()). */
static __always_inline void note_summed(struct __sk_buff *skb, struct pkt *p,
					const int kctx)
{
	if (kctx)
		p->summed = SUMMED_KNOWN | skb_summed(skb);
}

/* A packet from a backend: spliced ones are rewritten here, the rest
 * (its SYN-ACK or RST to our SYN) go to snilb_backend. */
static __always_inline int from_backend(struct __sk_buff *skb,
					struct scratch *sc,
					const struct snilb_config *cfg,
					const int kctx)
{
	struct snilb_flow *f = NULL;
	struct snilb_rev *r;

	rev_key(&sc->ipk, &sc->rk);
	r = bpf_map_lookup_elem(&rev, &sc->rk);
	if (!r)
		return TC_ACT_OK;	/* not a flow of ours */
	if (unlikely(r->owning)) {
		int v;

		note_summed(skb, &sc->ipk, kctx);
		v = owned_ack(sc, r);
		if (v == GO_RESEND) {
			bpf_tail_call(skb, &progs, PROG_BACKEND);
			return TC_ACT_SHOT;
		}
		if (v != GO_ON)
			return v;
	}
	/* A spliced flow's data needs only @r (on_synack() filled it in);
	 * what may change the flow (FIN, RST, SYN) needs the flow too, and
	 * a flow still binding goes to snilb_backend. */
	if (!r->spliced || r->watch ||
	    (sc->ipk.flags & (TCP_SYN | TCP_FIN | TCP_RST))) {
		__builtin_memcpy(&sc->ik, &r->flow, sizeof(sc->ik));
		f = bpf_map_lookup_elem(&flows, &sc->ik);
		if (!f)
			return TC_ACT_SHOT;
		if (!r->spliced) {
			note_summed(skb, &sc->ipk, kctx);
			bpf_tail_call(skb, &progs, PROG_BACKEND);
			return TC_ACT_SHOT;
		}
	}
	return splice_b2c(skb, sc, r, f, cfg, kctx);
}

/*
 * Is the frame addressed to this host? One on a segment that floods (or a
 * broadcast, a multicast) may be another node's: it is not ours to answer
 * (issue 17: every node answered the same SYN, and survivors reset a dead
 * node's flows). A frame a peer steers here is sent to our MAC.
 * Asked only where no spliced flow took the packet.
 */
static __always_inline int to_this_host(const struct __sk_buff *skb)
{
	return skb->pkt_type == SNILB_PACKET_HOST;
}

/* Neither a listener's nor a backend's: a VIP's, or the node's own. */
static __always_inline int not_ours(struct __sk_buff *skb, struct scratch *sc,
				    int v, int count)
{
	int rc;

	if (vip_maybe(&sc->ipk) && to_this_host(skb)) {
		/* An ICMP error about one of our spliced flows is the
		 * backend's (icmp.h); snilb_backend checks the rest here. */
		if (sc->ipk.icmp)
			bpf_tail_call(skb, &progs, PROG_BACKEND);
		rc = vip_check(skb, sc, v);
		if (rc != VIP_NOT)
			return rc;
	}
	if (count)
		stat_inc(SNILB_ST_PASS);
	return TC_ACT_OK;
}

/* @kctx: may read the kernel's sk_buff (see splice.h). */
static __always_inline int ingress(struct __sk_buff *skb, const int kctx)
{
	const struct snilb_config *cfg = get_config();
	struct scratch *sc = get_scratch();
	struct snilb_listener_key *lk;
	struct snilb_listener *l;
	struct snilb_flow_key *k;
	struct snilb_flow *f;
	struct pkt *p;
	__u32 port, word, *bits;
	int v;

	if (!sc)
		return TC_ACT_OK;
	p = &sc->ipk;
	k = &sc->ik;
	lk = &sc->lk;
	__builtin_memset(p, 0, sizeof(*p));
	v = parse_packet(skb, p);
	if (v == PARSE_NOT_TCP && unlikely(p->encap) && to_this_host(skb)) {
		/* A packet a peer steered here in an outer header? */
		v = steer_decap(skb, p);
		if (v == STEER_DROP)
			return TC_ACT_SHOT;
	}
	if (v == PARSE_NOT_TCP) {
		/* An error about a SYN we sent a backend? */
		if (p->icmp && cfg && snat_is(p, cfg)) {
			note_summed(skb, p, kctx);
			bpf_tail_call(skb, &progs, PROG_BACKEND);
		}
		return not_ours(skb, sc, v, 0);
	}
	if (!p->dport)
		return not_ours(skb, sc, v, 0);
	port = bpf_ntohs(p->dport);
	word = port / 32;
	bits = bpf_map_lookup_elem(&listen_port_bits, &word);
	if (!bits || !(*bits >> (port % 32) & 1))
		goto not_listener;
	flow_key(p, k);
	f = NULL;
	if (v == PARSE_TCP) {
		/* The spliced fast path: one hash lookup. */
		f = bpf_map_lookup_elem(&flows, k);
		if (f && f->state == SNILB_FS_SPLICED &&
		    !(p->flags & TCP_SYN))
			return splice_c2b(skb, sc, f, cfg, kctx);
	}
	if (!to_this_host(skb))
		return TC_ACT_OK;
	note_summed(skb, p, kctx);
	__builtin_memset(lk, 0, sizeof(*lk));	/* only for listener ports */
	lk->family = p->family;
	lk->port = p->dport;
	__builtin_memcpy(lk->addr, p->daddr, 16);
	l = bpf_map_lookup_elem(&listeners, lk);
	if (!l)
		goto not_listener;
	if (v == PARSE_BAD) {
		stat_inc(SNILB_ST_BAD_TCP);
		return TC_ACT_SHOT;
	}
	if (!f) {
		v = on_no_flow(skb, p, k);
		if (v != STEER_LOCAL)
			return v;
	}
	if ((p->flags & (TCP_SYN | TCP_ACK)) == TCP_SYN) {
		if (f)
			return syn_on_flow(skb, p, k, f, cfg);
		return on_syn(skb, p, cfg);
	}
	if (!f) {
		v = on_first_ack(skb, p, l, cfg);
		if (v != GO_HELLO)
			return v;
	}
	bpf_tail_call(skb, &progs, PROG_HELLO);
	return TC_ACT_SHOT;
not_listener:
	if (v == PARSE_TCP && cfg && to_snat(p, cfg))
		return from_backend(skb, sc, cfg, kctx);
	return not_ours(skb, sc, v, 1);
}

/* A segment of a hello being buffered (hello.h); tail-called. */
SEC("tc")
int snilb_hello(struct __sk_buff *skb)
{
	return hello_segment(skb);
}

/* A backend's answer to our SYN, or a hello segment to send it again
 * (backend.h, owned.h); tail-called. */
SEC("tc")
int snilb_backend(struct __sk_buff *skb)
{
	return backend_packet(skb);
}

/*
 * The program attached: one of these two, the same but for how a spliced
 * packet's checksum is patched. The loader picks the first where the
 * kernel has bpf_cast_to_kern_ctx() (6.3+), the second elsewhere.
 *
 * Built a second time with SNILB_NO_KFUNC (build/snilb_h.bpf.o), the
 * object the loader opens on kernels without the kfunc: libbpf resolves
 * every extern of an object, loaded program or not, and looks for one
 * missing from vmlinux in the modules' BTF, whose listing needs
 * CAP_SYS_ADMIN, which the DaemonSet does not grant. There the first is
 * the second under its name.
 */
SEC("tc")
int snilb_ingress(struct __sk_buff *skb)
{
#ifndef SNILB_NO_KFUNC
	return ingress(skb, 1);
#else
	return ingress(skb, 0);
#endif
}

SEC("tc")
int snilb_ingress_h(struct __sk_buff *skb)
{
	return ingress(skb, 0);
}

/*
 * On the interfaces clients come in on, where the driver runs XDP: SYNs
 * to a listener answered before an skb is built (xdp.h); the rest passes
 * to the TC program. "xdp.frags": it may see multi-buffer frames (it
 * passes them), so a veth keeps its MTU and its peer its GSO.
 */
SEC("xdp.frags")
int snilb_xdp(struct xdp_md *ctx)
{
	return xdp_syn(ctx);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Small pieces both of the data plane's programs use. */
#ifndef SNILB_BPF_COMMON_H
#define SNILB_BPF_COMMON_H

#include "maps.h"
#include "scratch.h"
#include "stats.h"
#include "pkt.h"
#include "reply.h"

static __always_inline void flow_key(const struct pkt *p,
				     struct snilb_flow_key *k)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->family = p->family;
	k->cport = p->sport;
	k->vport = p->dport;
	__builtin_memcpy(k->caddr, p->saddr, 16);
	__builtin_memcpy(k->vaddr, p->daddr, 16);
}

/* Copy the IP header and @len bytes of TCP header to @ip/@th. */
static __always_inline int load_headers(struct __sk_buff *skb,
					const struct pkt *p, __u8 *ip,
					__u8 *th, __u32 len)
{
	__u64 n = len;
	int err;

	/* Constant sizes, and the length checked as a 64-bit value: clang
	 * compares a zero-extended copy of a 32-bit one and passes the
	 * original, whose bounds the verifier then does not know. */
	if (p->family == SNILB_AF_INET)
		err = bpf_skb_load_bytes(skb, p->l3, ip, 20);
	else
		err = bpf_skb_load_bytes(skb, p->l3, ip, 40);
	if (err)
		return -1;
	asm volatile("" : "+r"(n));
	if (n < 20 || n > 60)
		return -1;
	return bpf_skb_load_bytes(skb, p->l4, th, n);
}

/* A step's answer: not done with the packet, the caller goes on. */
#define GO_ON	(-1)

/* The window scale we advertise, and the window we open to a client, in
 * its flow's scale (unscaled when it offered none). */
static __always_inline __u8 our_wscale(const struct snilb_config *cfg)
{
	return cfg && cfg->wscale ? cfg->wscale : SNILB_DEFAULT_WSCALE;
}

static __always_inline __u16 our_window(const struct snilb_config *cfg,
					const struct snilb_flow *f)
{
	__u32 win = cfg && cfg->window ? cfg->window : SNILB_DEFAULT_WINDOW;

	if (f->opts.wscale != TS_NO_WSCALE)
		win >>= our_wscale(cfg) & 15;
	return win > 65535 ? 65535 : win;
}

/*
 * A control segment (RST, ACK) back to the sender of @p; @ctl: its flags
 * and window, CTL(flags, window) (a BPF call takes five arguments). Built
 * in the scratch map: on the stack it would put the 512-byte limit of the
 * deepest call chain (ingress -> on_first_ack -> here -> write_tcp)
 * within reach.
 */
#define CTL(flags, window)	((__u32)(flags) << 16 | (__u16)(window))

static __noinline int send_ctl(struct __sk_buff *skb, const struct pkt *p,
			       __u32 seq, __u32 ack, __u32 ctl)
{
	__u32 zero = 0;
	struct scratch *sc = bpf_map_lookup_elem(&scratch, &zero);
	struct tcp_out *o;

	if (!sc)
		return TC_ACT_SHOT;
	o = &sc->out;
	out_reply_to(o, p);
	o->seq = seq;
	o->ack = ack;
	o->flags = ctl >> 16;
	o->window = ctl & 0xffff;
	return send_reply(skb, p, o);
}

static __always_inline int send_rst(struct __sk_buff *skb, const struct pkt *p,
				    __u32 seq, __u32 ack, int with_ack)
{
	stat_inc(SNILB_ST_RST_SENT);
	return send_ctl(skb, p, seq, ack,
			CTL(TCP_RST | (with_ack ? TCP_ACK : 0), 0));
}

/* Is @a (of family @fam) our SNAT address? */
static __always_inline int snat_addr_is(const __be32 *a, __u8 fam,
					const struct snilb_config *cfg)
{
	if (fam == SNILB_AF_INET)
		return a[0] == cfg->snat4;
	return a[0] == cfg->snat6[0] && a[1] == cfg->snat6[1] &&
	       a[2] == cfg->snat6[2] && a[3] == cfg->snat6[3];
}

/* Is this packet addressed to our SNAT address? */
static __always_inline int snat_is(const struct pkt *p,
				   const struct snilb_config *cfg)
{
	return snat_addr_is(p->daddr, p->family, cfg);
}

/* The rev key of a packet from a backend to our SNAT address. */
static __always_inline void rev_key(const struct pkt *p,
				    struct snilb_rev_key *rk)
{
	__builtin_memset(rk, 0, sizeof(*rk));
	rk->family = p->family;
	rk->bport = p->sport;
	rk->nport = p->dport;
	__builtin_memcpy(rk->baddr, p->saddr, 16);
}

/* Our SNAT address of family @fam (16 bytes readable: for IPv4 the first
 * word is the address). */
static __always_inline const __be32 *snat_of(const struct snilb_config *cfg,
					     __u8 fam)
{
	return fam == SNILB_AF_INET ? &cfg->snat4 : cfg->snat6;
}

#endif /* SNILB_BPF_COMMON_H */

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * SYN cookies. The kernel's helpers make and check the ISN; what the
 * client asked for (MSS, window scale, SACK) travels in the low bits of the
 * timestamp we send, which the client echoes back in its first ACK (the
 * way netfilter's SYNPROXY does), so a SYN leaves no state behind.
 * Clients without timestamps: see synstate.h.
 */
#ifndef SNILB_BPF_COOKIE_H
#define SNILB_BPF_COOKIE_H

#include "pkt.h"
#include "reply.h"

#define TCPOPT_EOL	0
#define TCPOPT_NOP	1
#define TCPOPT_MSS	2
#define TCPOPT_WSCALE	3
#define TCPOPT_SACKOK	4
#define TCPOPT_SACK	5
#define TCPOPT_TS	8

/* Timestamp bits: 0-3 window scale (0xf: none), 4 SACK, 5-6 MSS index. */
#define TS_OPT_BITS	7
#define TS_OPT_MASK	((1u << TS_OPT_BITS) - 1)
#define TS_NO_WSCALE	0xf

/* The MSS values the kernel's cookies can encode, per family (a function,
 * not a table: a static const array lands in .rodata, which libbpf 1.1
 * cannot finalise when clang moves it to .rodata.cst8). */
static __always_inline __u16 mss_value(__u8 family, __u32 idx)
{
	if (family == SNILB_AF_INET)
		return idx == 0 ? 536 : idx == 1 ? 1300 : idx == 2 ? 1440 : 1460;
	return idx == 0 ? 1220 : idx == 1 ? 1420 : idx == 2 ? 1440 : 8940;
}

/* @th is a 64-byte stack copy of the header: masked indexes stay inside. */
static __always_inline __u32 opt_u32(const __u8 *th, __u32 i)
{
	return (__u32)th[i & 63] << 24 | (__u32)th[(i + 1) & 63] << 16 |
	       (__u32)th[(i + 2) & 63] << 8 | th[(i + 3) & 63];
}

struct opt_walk {
	const __u8 *th;
	struct tcp_opts *o;
	__u32 i;
	__u32 doff;
};

/* One option per call: bpf_loop keeps the verifier from walking every
 * combination of 40 option bytes. */
static long opt_cb(__u32 n, void *ctx)
{
	struct opt_walk *w = ctx;
	struct tcp_opts *o = w->o;
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
	if (kind == TCPOPT_MSS && len == 4) {
		o->mss = w->th[(i + 2) & 63] << 8 | w->th[(i + 3) & 63];
	} else if (kind == TCPOPT_WSCALE && len == 3) {
		o->wscale = w->th[(i + 2) & 63];
		if (o->wscale > 14)
			o->wscale = 14;		/* RFC 7323 2.3 */
	} else if (kind == TCPOPT_SACKOK && len == 2) {
		o->sack = 1;
	} else if (kind == TCPOPT_TS && len == 10) {
		o->ts = 1;
		o->ts_at = i;
		o->tsval = opt_u32(w->th, i + 2);
		o->tsecr = opt_u32(w->th, i + 6);
	} else if (kind == TCPOPT_SACK && len >= 10 && (len - 2) % 8 == 0) {
		o->sack_at = i + 2;
		o->nsack = (len - 2) / 8;
	}
	w->i = i + len;
	return 0;
}

/* Linux's SYN: MSS, SACK-permitted, TS, NOP, WS (and its ACK: NOP NOP
 * TS). Most clients send one of these; they skip the walk. */
static __always_inline int linux_opts(const __u8 *th, __u32 doff,
				      struct tcp_opts *o)
{
	if (doff == 40 && th[20] == TCPOPT_MSS && th[21] == 4 &&
	    th[24] == TCPOPT_SACKOK && th[25] == 2 && th[26] == TCPOPT_TS &&
	    th[27] == 10 && th[36] == TCPOPT_NOP &&
	    th[37] == TCPOPT_WSCALE && th[38] == 3) {
		o->mss = th[22] << 8 | th[23];
		o->sack = 1;
		o->ts = 1;
		o->ts_at = 26;
		o->tsval = opt_u32(th, 28);
		o->tsecr = opt_u32(th, 32);
		o->wscale = th[39] > 14 ? 14 : th[39];
		return 1;
	}
	if (doff == 32 && th[20] == TCPOPT_NOP && th[21] == TCPOPT_NOP &&
	    th[22] == TCPOPT_TS && th[23] == 10) {
		o->ts = 1;
		o->ts_at = 22;
		o->tsval = opt_u32(th, 24);
		o->tsecr = opt_u32(th, 28);
		return 1;
	}
	return 0;
}

/* Walk the options of the TCP header copied to @th (@doff bytes). */
static __always_inline void parse_opts(const __u8 *th, __u32 doff,
				       struct tcp_opts *o)
{
	struct opt_walk w = { .th = th, .o = o, .i = CH_OPAQUE(20),
			      .doff = doff };

	__builtin_memset(o, 0, sizeof(*o));
	o->wscale = TS_NO_WSCALE;
	if (linux_opts(th, doff, o))
		return;
	bpf_loop(40, opt_cb, &w, 0);
}

static __always_inline __u32 mss_index(__u8 family, __u32 mss)
{
	__u32 i = 0;

	if (mss >= mss_value(family, 1))
		i = 1;
	if (mss >= mss_value(family, 2))
		i = 2;
	if (mss >= mss_value(family, 3))
		i = 3;
	return i;
}

/* Our timestamp: milliseconds with the client's options in the low bits. */
static __always_inline __u32 cookie_tsval(const struct tcp_opts *o,
					  __u8 family, __u32 mss, __u64 now_ns)
{
	__u32 now = now_ns / 1000000;

	return (now & ~TS_OPT_MASK) | mss_index(family, mss) << 5 |
	       (o->sack ? 1u << 4 : 0) | (o->wscale & 0xf);
}

/* What the first ACK of a client with timestamps tells us about the
 * options it offered: the TSecr echoes our TSval. */
static __always_inline void cookie_decode(const struct tcp_opts *ack,
					  __u8 family, struct snilb_topts *t)
{
	__builtin_memset(t, 0, sizeof(*t));
	t->ts = 1;
	t->mss = mss_value(family, (ack->tsecr >> 5) & 3);
	t->wscale = ack->tsecr & 0xf;
	t->sack = (ack->tsecr >> 4) & 1;
}

/* @v at @b, in network order: options are built a byte at a time. */
static __always_inline void put_be32(__u8 *b, __u32 v)
{
	b[0] = v >> 24;
	b[1] = v >> 16;
	b[2] = v >> 8;
	b[3] = v;
}

/* NOP NOP TS: the 12 bytes of a timestamp option at @b. */
static __always_inline void put_ts_opt(__u8 *b, __u32 tsval, __u32 tsecr)
{
	b[0] = TCPOPT_NOP;
	b[1] = TCPOPT_NOP;
	b[2] = TCPOPT_TS;
	b[3] = 10;
	put_be32(b + 4, tsval);
	put_be32(b + 8, tsecr);
}

/* SYN options: MSS, then SACK-permitted, timestamps and window scale as
 * asked (wscale TS_NO_WSCALE: none), NOP-padded to OPT_SYN. */
static __always_inline void put_syn_opts(struct tcp_out *r, __u16 mss,
					 __u8 sack, __u8 ts, __u32 tsval,
					 __u32 tsecr, __u8 wscale)
{
	__u8 *b = r->opts;

	__builtin_memset(b, TCPOPT_NOP, OPT_SYN);
	b[0] = TCPOPT_MSS;
	b[1] = 4;
	b[2] = mss >> 8;
	b[3] = mss & 0xff;
	if (sack) {
		b[4] = TCPOPT_SACKOK;
		b[5] = 2;
	}
	if (ts) {
		b[6] = TCPOPT_TS;
		b[7] = 10;
		put_be32(b + 8, tsval);
		put_be32(b + 12, tsecr);
	}
	if (wscale != TS_NO_WSCALE) {
		b[17] = TCPOPT_WSCALE;
		b[18] = 3;
		b[19] = wscale;
	}
	r->optlen = OPT_SYN;
}

/* SYN-ACK options: what the client offered, with our values. */
static __always_inline void synack_opts(struct tcp_out *r,
					const struct tcp_opts *o,
					__u16 our_mss, __u32 tsval,
					__u8 our_wscale)
{
	put_syn_opts(r, our_mss, o->sack, o->ts, tsval, o->tsval,
		     o->wscale != TS_NO_WSCALE ? our_wscale : TS_NO_WSCALE);
}

#endif /* SNILB_BPF_COOKIE_H */

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * SYN cookies: the ISN of our SYN-ACK is a MAC, keyed with the agent's
 * cookie key (cookie_keys), of the SYN's tuple, its ISN, the minute and
 * the MSS index, so a first ACK is checked without state and a node
 * holding the same key (a cluster behind ECMP) checks another's cookies.
 * What the client asked for (MSS, window scale, SACK) travels in the low
 * bits of the timestamp we send, which the client echoes back in its
 * first ACK (the way netfilter's SYNPROXY does), so a SYN leaves no state
 * behind. Clients without timestamps: see synstate.h. The TC program and
 * the XDP one (xdp.h) share all of it.
 */
#ifndef SNILB_BPF_COOKIE_H
#define SNILB_BPF_COOKIE_H

#include "pkt.h"
#include "reply.h"
#include "siphash.h"

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

/*
 * The cookie, 32 bits: bits 0-1 the MSS index, 2-3 the minute it was made
 * in (mod 4), 4-31 the top 28 bits of SipHash-2-4 of {client address and
 * port, VIP and port, client ISN, minute, MSS index, family} under the
 * key. A first ACK is checked against the minute its cookie names if that
 * is this one, the one before, or the one after (a node whose clock is a
 * little ahead made it): a cookie lives one to two minutes, as the
 * kernel's. The minute is CLOCK_TAI's, which the nodes of a cluster share
 * (NTP), not the boot clock.
 */
#define COOKIE_IDX_MASK	3u
#define COOKIE_MIN_SHIFT 2
#define COOKIE_MAC_MASK	0xfffffff0u

/* The minute, read once a jiffy (a clock helper is dear: scratch.h). */
static __always_inline __u32 cookie_minute(struct scratch *sc)
{
	__u64 j = bpf_jiffies64();

	if (j != sc->tai_jiffies) {
		sc->tai_jiffies = j;
		sc->minute = bpf_ktime_get_tai_ns() / 60000000000ull;
	}
	return sc->minute;
}

/* The MAC of the SYN @p describes (client ISN @isn) under @key. */
static __noinline __u32 cookie_mac(const struct snilb_cookie_key *key,
				   const struct pkt *p, __u32 isn,
				   __u32 minute, __u32 idx)
{
	__u64 ports = (__u64)p->sport | (__u64)p->dport << 16 |
		      (__u64)isn << 32;
	__u64 last = minute | (__u64)(idx | (__u32)p->family << 8) << 32;
	struct sip s;

	if (!key)
		return 0;
	sip_init(&s, key->k);
	if (p->family == SNILB_AF_INET) {
		sip_word(&s, p->saddr[0] | (__u64)p->daddr[0] << 32);
		sip_word(&s, ports);
		sip_word(&s, last);
		return sip_final(&s, 3) >> 32;
	}
	sip_word(&s, p->saddr[0] | (__u64)p->saddr[1] << 32);
	sip_word(&s, p->saddr[2] | (__u64)p->saddr[3] << 32);
	sip_word(&s, p->daddr[0] | (__u64)p->daddr[1] << 32);
	sip_word(&s, p->daddr[2] | (__u64)p->daddr[3] << 32);
	sip_word(&s, ports);
	sip_word(&s, last);
	return sip_final(&s, 6) >> 32;
}

/* Key slot @i of @ks, if it holds a key. */
static __always_inline const struct snilb_cookie_key *
cookie_slot(const struct snilb_cookie_keys *ks, __u32 i)
{
	const struct snilb_cookie_key *k;
	__u64 n = i;

	/* Checked as the verifier sees it: clang knows (x + 2) % 3 < 3. */
	asm volatile("" : "+r"(n));
	if (n >= SNILB_COOKIE_SLOTS)
		return NULL;
	k = &ks->slot[n];
	return k->set ? k : NULL;
}

static __always_inline const struct snilb_cookie_keys *cookie_keyring(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&cookie_keys, &zero);
}

/* The cookie for the SYN @p, MSS index @idx, in *@cookie; -1 without a
 * key (the agent always writes one before it attaches). */
static __always_inline int cookie_make(struct scratch *sc, const struct pkt *p,
				       __u32 idx, __u32 *cookie)
{
	const struct snilb_cookie_keys *ks = cookie_keyring();
	const struct snilb_cookie_key *k = ks ? cookie_slot(ks, ks->cur) :
					   NULL;
	__u32 minute = cookie_minute(sc);

	if (!k)
		return -1;
	*cookie = (cookie_mac(k, p, p->seq, minute, idx) & COOKIE_MAC_MASK) |
		  (minute & 3) << COOKIE_MIN_SHIFT | (idx & COOKIE_IDX_MASK);
	return 0;
}

/*
 * Is the ACK @p (its ack - 1 our cookie, its seq - 1 the client's ISN) an
 * answer to one of our SYN-ACKs, under the current key or the previous?
 * *@idx: the MSS index it holds.
 */
static __always_inline int cookie_check(struct scratch *sc,
					const struct pkt *p, __u32 *idx)
{
	const struct snilb_cookie_keys *ks = cookie_keyring();
	__u32 c = p->ack - 1, now = cookie_minute(sc), minute, age, mac;
	const struct snilb_cookie_key *k;

	if (!ks)
		return 0;
	age = (now - (c >> COOKIE_MIN_SHIFT)) & 3;
	if (age == 2)
		return 0;		/* two minutes or more */
	minute = age == 3 ? now + 1 : now - age;
	*idx = c & COOKIE_IDX_MASK;
	k = cookie_slot(ks, ks->cur);
	mac = c & COOKIE_MAC_MASK;
	if (k && (cookie_mac(k, p, p->seq - 1, minute, *idx) &
		  COOKIE_MAC_MASK) == mac)
		return 1;
	k = cookie_slot(ks, (ks->cur + SNILB_COOKIE_SLOTS - 1) %
			    SNILB_COOKIE_SLOTS);
	return k && (cookie_mac(k, p, p->seq - 1, minute, *idx) &
		     COOKIE_MAC_MASK) == mac;
}

/* Our timestamp: milliseconds with the client's options in the low bits. */
static __always_inline __u32 cookie_tsval(const struct tcp_opts *o,
					  __u32 idx, __u64 now_ns)
{
	__u32 now = now_ns / 1000000;

	return (now & ~TS_OPT_MASK) | (idx & COOKIE_IDX_MASK) << 5 |
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

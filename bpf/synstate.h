/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Clients without TCP timestamps (Windows by default). A SYN cookie holds
 * only an MSS index (2 bits); what a client with timestamps offered
 * travels in our TSval (cookie.h), but these clients echo no TSval. So, as
 * the kernel does, a SYN gets state while it can and a cookie alone when
 * it cannot:
 *
 * - a SYN that offered window scaling or SACK leaves {MSS, wscale, SACK}
 *   in syn_state under the hash of its tuple and ISN, and is answered with
 *   them; its first ACK takes them and clears the entry;
 * - "under a flood" -- this CPU kept SNILB_SYN_STATE_RATE states (config
 *   syn_state_rate) in the current second -- a SYN gets a cookie alone:
 *   no window scaling, no SACK (the kernel's answer when its SYN queue
 *   overflows). Unless an earlier copy of the same SYN got a state: its
 *   answer may be what the client saw, so the new one agrees with it;
 * - a first ACK with no state gets the MSS the cookie encodes (its MSS
 *   index, cookie.h).
 *
 * A SYN that offered neither option needs no state (the cookie holds its
 * MSS, rounded down to the kernel's table), so bare SYNs -- what flood
 * tools send -- never touch the table. Clients with timestamps never do.
 *
 * syn_state is an array of 4-way buckets, not a hash map: the verifier
 * inlines an array lookup, and an entry is one 64-bit word written and
 * read whole, so a SYN's state costs no helper call (a map update costs
 * about 300 ns here). A new entry takes an empty slot, its own (a resent
 * SYN), or the oldest. An entry lost anyway -- its bucket's four slots
 * taken by younger SYNs within its handshake, which the budget makes
 * unlikely -- leaves a client that was offered window scaling with a
 * connection that does not scale its windows: slow, not broken.
 */
#ifndef SNILB_BPF_SYNSTATE_H
#define SNILB_BPF_SYNSTATE_H

#include "maps.h"
#include "scratch.h"
#include "stats.h"
#include "cookie.h"

/* May this CPU keep one more per-SYN state this second? A fixed window,
 * not a token bucket: a counter and the second it counts, in the per-CPU
 * scratch. */
static __always_inline int syn_budget(struct scratch *sc,
				      const struct snilb_config *cfg)
{
	__u32 rate = cfg && cfg->syn_state_rate ? cfg->syn_state_rate :
		     SNILB_SYN_STATE_RATE;
	__u64 slot = now_ns(sc) >> 30;		/* ~1.07 s */

	if (rate == SNILB_SYN_STATE_OFF)
		return 0;
	if (slot != sc->syn_slot) {
		sc->syn_slot = slot;
		sc->syn_used = 0;
	}
	if (sc->syn_used >= rate)
		return 0;
	sc->syn_used++;
	return 1;
}

/* The bucket of the SYN with tuple sc->ik and client ISN @isn; *@tag
 * gets its tag. */
static __always_inline struct snilb_syn_bucket *
syn_bucket(struct scratch *sc, __u32 isn, __u32 *tag)
{
	__u64 h = snilb_syn_hash(&sc->ik, isn);
	__u32 idx = h & syn_mask;

	*tag = h >> 32;
	return bpf_map_lookup_elem(&syn_state, &idx);
}

/* The slot of @b holding @tag, or -1. */
static __always_inline int syn_find(const struct snilb_syn_bucket *b,
				    __u32 tag)
{
	int i;

#pragma unroll
	for (i = 0; i < SNILB_SYN_WAYS; i++)
		if (SNILB_SYN_TAG(b->slot[i]) == tag)
			return i;
	return -1;
}

/* Keep @e in @b: in @tag's own slot, an empty one, or the oldest. */
static __always_inline void syn_put(struct snilb_syn_bucket *b, __u32 tag,
				    __u64 e, __u32 stamp)
{
	__u32 i, pick = 0, oldest = 0;

#pragma unroll
	for (i = 0; i < SNILB_SYN_WAYS; i++) {
		__u64 v = b->slot[i];
		__u32 age = (stamp - SNILB_SYN_STAMP(v)) & 0x7ff;

		if (!v || SNILB_SYN_TAG(v) == tag) {
			pick = i;
			break;
		}
		if (age >= oldest) {
			oldest = age;
			pick = i;
		}
	}
	b->slot[pick & (SNILB_SYN_WAYS - 1)] = e;
}

/*
 * A SYN without timestamps, its options in @o, its tuple in sc->ik: keep
 * what the cookie cannot, or clear @o's window scale and SACK so the
 * SYN-ACK offers neither.
 */
static __always_inline void syn_state_keep(struct scratch *sc,
					   const struct pkt *p,
					   const struct snilb_config *cfg,
					   struct tcp_opts *o)
{
	struct snilb_syn_bucket *b;
	__u32 tag, stamp;
	__u64 e;
	int i;

	if (o->wscale == TS_NO_WSCALE && !o->sack)
		return;
	b = syn_bucket(sc, p->seq, &tag);
	if (!b)
		goto alone;
	if (syn_budget(sc, cfg)) {
		stamp = (now_ns(sc) >> 30) & 0x7ff;
		e = (__u64)tag << 32 | stamp << 21 | (__u32)o->sack << 20 |
		    (__u32)(o->wscale & 0xf) << 16 |
		    (o->mss ? o->mss : TCP_MSS_DEFAULT);
		syn_put(b, tag, e, stamp);
		stat_inc(SNILB_ST_SYN_STATE);
		return;
	}
	/* A resent SYN: answer as the first answer was. */
	i = syn_find(b, tag);
	if (i >= 0) {
		e = b->slot[i & (SNILB_SYN_WAYS - 1)];
		o->wscale = SNILB_SYN_WSCALE(e);
		o->sack = SNILB_SYN_SACK(e);
		return;
	}
alone:
	stat_inc(SNILB_ST_SYN_COOKIE_ONLY);
	o->sack = 0;
	o->wscale = TS_NO_WSCALE;
}

/*
 * The options of a client without timestamps, at its first ACK (its
 * tuple in sc->ik, its headers in sc->ip/th, its cookie good, holding MSS
 * index @idx): its SYN's state, or what the cookie holds.
 */
static __always_inline void nots_opts(struct scratch *sc, const struct pkt *p,
				      __u32 idx, struct snilb_topts *t)
{
	struct snilb_syn_bucket *b;
	__u32 tag;
	__u64 e;
	int i;

	__builtin_memset(t, 0, sizeof(*t));
	t->wscale = TS_NO_WSCALE;
	b = syn_bucket(sc, p->seq - 1, &tag);
	i = b ? syn_find(b, tag) : -1;
	if (b && i >= 0) {
		e = b->slot[i & (SNILB_SYN_WAYS - 1)];
		t->mss = SNILB_SYN_MSS(e);
		t->wscale = SNILB_SYN_WSCALE(e);
		t->sack = SNILB_SYN_SACK(e);
		/* Free the slot, unless another SYN just took it. */
		if (b->slot[i & (SNILB_SYN_WAYS - 1)] == e)
			b->slot[i & (SNILB_SYN_WAYS - 1)] = 0;
		return;
	}
	t->mss = mss_value(p->family, idx & COOKIE_IDX_MASK);
}

#endif /* SNILB_BPF_SYNSTATE_H */

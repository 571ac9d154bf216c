/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The per-CPU scratch map: what does not fit the 512-byte stack, and what a
 * tail-called program reads of snilb_ingress's work; and the tick clock. */
#ifndef SNILB_BPF_SCRATCH_H
#define SNILB_BPF_SCRATCH_H

#include "maps.h"
#include "pkt.h"
#include "tcpout.h"

/* A "too big" error, in family @fam, from @from to @to, quoting a TCP
 * packet from @qsrc:@qsport to @qdst:@qdport with sequence number @qseq
 * (network order) (bpf/nat46.h, x_too_big()). */
struct x_tb {
	__be32 from[4], to[4];
	__be32 qsrc[4], qdst[4];
	__be16 qsport, qdport;
	__be32 qseq;
	__u32 mtu;
	__u8 fam;
	__u8 pad[3];
};

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
	struct pkt xpk;		/* a packet translated (xlat.h) */
	__u32 xpseudo;		/* ... its pseudo-header's sum moved by */
	__u32 xhdr;		/* ... its IP header's bytes' sum moved by */
	struct x_tb xtb;	/* a "too big" to translate (nat46.h) */
	__u8 xbuf[108];		/* ... built: IPv6, ICMPv6, a quote */
	__u64 tai_jiffies;	/* cookie_minute(): the tick it was read in, */
	__u32 minute;		/* and CLOCK_TAI's minute then */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps");

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

#endif /* SNILB_BPF_SCRATCH_H */

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * TCP checksums in the form the skb's state asks for. skb->ip_summed:
 *
 *   CHECKSUM_NONE, _UNNECESSARY: the check field holds the full checksum;
 *   CHECKSUM_PARTIAL (the sender's TX offload, GRO): it holds the
 *     pseudo-header sum, folded, not complemented, and the device or
 *     skb_checksum_help() adds the rest (csum_start, csum_offset);
 *   CHECKSUM_COMPLETE (a NIC summed the packet): the full checksum, and
 *     skb->csum must stay the sum of the bytes from the IP header on.
 *
 * Where the program may read ip_summed (bpf_cast_to_kern_ctx(), 6.3+) it
 * writes the right form itself. Elsewhere bpf_l4_csum_replace() knows the
 * state (net/core/utils.c, inet_proto_csum_replace_by_diff()): with
 * BPF_F_PSEUDO_HDR it moves the field by -diff (+diff if PARTIAL) and a
 * COMPLETE skb->csum by -diff, as much as the field moved; without, it
 * moves the field by -diff unless PARTIAL, and never skb->csum. The seeds
 * below make one or two such calls right in every state.
 *
 * Sums: 32-bit one's complement (end-around carry) of the bytes as 32-bit
 * words, as bpf_csum_diff() and csum_partial() make them; all arithmetic
 * is modulo 0xffff. Pure arithmetic, unit-tested (tests/unit/test_csum.c).
 */
#ifndef SNILB_BPF_CSUM_H
#define SNILB_BPF_CSUM_H

#include <linux/types.h>

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

#define SKB_CSUM_NONE		0
#define SKB_CSUM_UNNECESSARY	1
#define SKB_CSUM_COMPLETE	2
#define SKB_CSUM_PARTIAL	3

/* struct pkt's summed: SUMMED_KNOWN | ip_summed where read, else 0. */
#define SUMMED_KNOWN		4

static __always_inline __u32 csum_add32(__u32 a, __u32 b)
{
	__u32 r = a + b;

	return r + (r < a);
}

static __always_inline __u32 csum_swap(__u32 sum, __u32 old, __u32 new)
{
	return csum_add32(csum_add32(sum, ~old), new);
}

/* Folded to 16 bits, not complemented. */
static __always_inline __u16 fold16(__u32 s)
{
	s = (s & 0xffff) + (s >> 16);
	return (__u16)((s & 0xffff) + (s >> 16));
}

/* The check field of a packet whose pseudo-header sums to @pseudo and
 * whose TCP header (check zero) and payload sum to @rest. */
static __always_inline __u16 csum_full(__u32 pseudo, __u32 rest)
{
	return (__u16)~fold16(csum_add32(pseudo, rest));
}

static __always_inline __u16 csum_partial_field(__u32 pseudo)
{
	return fold16(pseudo);
}

/* Half of @x modulo 0xffff: 2 is invertible there, and doubling is a
 * rotation left by one bit, so halving is one to the right. */
static __always_inline __u16 csum_half(__u16 x)
{
	return (__u16)(x >> 1 | x << 15);
}

/*
 * A whole header written without knowing the state: the check field is
 * stored as csum_seed(), the header with BPF_F_RECOMPUTE_CSUM (which keeps
 * a COMPLETE skb->csum), then one bpf_l4_csum_replace(..., 0,
 * csum_seed_diff(), BPF_F_PSEUDO_HDR). With s = seed, d = diff:
 *   not PARTIAL: s - d = -rest/2 - pseudo - rest/2 = -(pseudo + rest),
 *   PARTIAL:     s + d = pseudo,
 *   COMPLETE:    skb->csum moves by -d, as the field did.
 */
static __always_inline __u16 csum_seed(__u32 rest)
{
	return (__u16)~csum_half(fold16(rest));
}

static __always_inline __u32 csum_seed_diff(__u32 pseudo, __u32 rest)
{
	return csum_add32(pseudo, csum_half(fold16(rest)));
}

/*
 * An IPv6 packet's addresses and TCP fields rewritten in place, its check
 * field not yet: @pseudo the addresses' delta, @rest the TCP fields'. The
 * new bytes of a COMPLETE skb sum to what the old did (the addresses moved
 * the sum by pseudo, the TCP segment by -pseudo), so skb->csum must not
 * move: no BPF_F_PSEUDO_HDR call (which would move it by -pseudo, there
 * being no BPF_F_IPV6 before 6.x). Instead the field is moved by +pseudo
 * here, with a direct write, and one call without BPF_F_PSEUDO_HDR takes
 * csum_v6_diff(): PARTIAL keeps +pseudo, any other gets
 * +pseudo - (2 * pseudo + rest) = -(pseudo + rest).
 */
static __always_inline __u16 csum_v6_pre(__u16 check, __u32 pseudo)
{
	return fold16(csum_add32(check, pseudo));
}

static __always_inline __u32 csum_v6_diff(__u32 pseudo, __u32 rest)
{
	return csum_add32(csum_add32(pseudo, pseudo), rest);
}

/* The field patched by deltas as the state asks (state known). */
static __always_inline __u16 csum_patch_partial(__u16 check, __u32 pseudo)
{
	return fold16(csum_add32(pseudo, check));
}

static __always_inline __u16 csum_patch_full(__u16 check, __u32 pseudo,
					     __u32 rest)
{
	return (__u16)~fold16(csum_add32(csum_add32(pseudo, rest),
					 ~(__u32)check));
}

#ifdef __bpf__
#include <bpf/bpf_core_read.h>

/* The one field of the kernel's sk_buff read (CO-RE finds it). */
struct sk_buff___snilb {
	__u8 ip_summed:2;
} __attribute__((preserve_access_index));

#ifndef SNILB_NO_KFUNC
extern void *bpf_cast_to_kern_ctx(void *) __ksym __weak;

/* skb->ip_summed. Only in a program the loader picked for a kernel that
 * has bpf_cast_to_kern_ctx() (snilb_ingress, 6.3+). */
static __always_inline __u32 skb_summed(struct __sk_buff *skb)
{
	struct sk_buff___snilb *ks = bpf_cast_to_kern_ctx(skb);

	return BPF_CORE_READ_BITFIELD(ks, ip_summed);
}
#else
/* The object for kernels before 6.3 (snilb.bpf.c): never called. */
static __always_inline __u32 skb_summed(struct __sk_buff *skb)
{
	(void)skb;
	return 0;
}
#endif
#endif

#endif /* SNILB_BPF_CSUM_H */

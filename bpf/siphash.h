/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * SipHash-2-4 (Aumasson and Bernstein) of a message of whole 64-bit
 * words, for the SYN cookie's MAC (cookie.h): a keyed hash, so a cookie
 * cannot be made without the key. Unrolled: a constant number of words,
 * no loop the verifier walks more than once.
 */
#ifndef SNILB_BPF_SIPHASH_H
#define SNILB_BPF_SIPHASH_H

#include <linux/types.h>

#include "compiler.h"

struct sip {
	__u64 v0, v1, v2, v3;
};

static __always_inline __u64 sip_rotl(__u64 x, int b)
{
	return (x << b) | (x >> (64 - b));
}

static __always_inline void sip_round(struct sip *s)
{
	s->v0 += s->v1;
	s->v1 = sip_rotl(s->v1, 13);
	s->v1 ^= s->v0;
	s->v0 = sip_rotl(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = sip_rotl(s->v3, 16);
	s->v3 ^= s->v2;
	s->v0 += s->v3;
	s->v3 = sip_rotl(s->v3, 21);
	s->v3 ^= s->v0;
	s->v2 += s->v1;
	s->v1 = sip_rotl(s->v1, 17);
	s->v1 ^= s->v2;
	s->v2 = sip_rotl(s->v2, 32);
}

static __always_inline void sip_init(struct sip *s, const __u64 *k)
{
	s->v0 = k[0] ^ 0x736f6d6570736575ull;
	s->v1 = k[1] ^ 0x646f72616e646f6dull;
	s->v2 = k[0] ^ 0x6c7967656e657261ull;
	s->v3 = k[1] ^ 0x7465646279746573ull;
}

/* Two compression rounds per word. */
static __always_inline void sip_word(struct sip *s, __u64 m)
{
	s->v3 ^= m;
	sip_round(s);
	sip_round(s);
	s->v0 ^= m;
}

/* The last block (the message's length in bytes, in its top byte: the
 * message is whole words) and four finalisation rounds. */
static __always_inline __u64 sip_final(struct sip *s, __u32 words)
{
	sip_word(s, (__u64)((words * 8) & 0xff) << 56);
	s->v2 ^= 0xff;
	sip_round(s);
	sip_round(s);
	sip_round(s);
	sip_round(s);
	return s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
}

#endif /* SNILB_BPF_SIPHASH_H */

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Is a hello segment's TCP checksum right? The kernel checks it before
 * TCP reads a byte; snilb reads hello bytes at TC ingress, before that,
 * and replays them to the backend under a checksum of its own. A segment
 * corrupted on a link whose NIC does not check (CHECKSUM_NONE) would be
 * replayed as good, and end as a failed TLS handshake instead of a
 * retransmission. So a segment is summed here unless something vouched
 * for it: the NIC (CHECKSUM_UNNECESSARY, asked with bpf_csum_level()), or
 * the local stack (CHECKSUM_PARTIAL: its field holds only the
 * pseudo-header sum; a packet that came in over a wire never does, but by
 * a 1 in 65,536 chance). A CHECKSUM_COMPLETE segment is summed too: its
 * bytes are what the sum covers either way. Hello segments only: a few
 * per connection, never a spliced packet.
 */
#ifndef SNILB_BPF_SEGSUM_H
#define SNILB_BPF_SEGSUM_H

#include "maps.h"
#include "pkt.h"

#define SEGSUM_CHUNK	512		/* bpf_csum_diff's limit */

struct segsum {
	struct __sk_buff *skb;
	__u8 *buf;			/* SEGSUM_CHUNK bytes of scratch */
	__u32 off;			/* next byte of the skb */
	__u32 left;
	__s64 sum;
	int err;
};

static long segsum_cb(__u32 i, void *ctx)
{
	struct segsum *s = ctx;
	__u32 n = s->left < SEGSUM_CHUNK ? s->left : SEGSUM_CHUNK;
	__u64 m;

	(void)i;
	if (!n)
		return 1;
	/* 1..SEGSUM_CHUNK, said so the verifier follows (see hello.h). */
	m = n;
	asm volatile("" : "+r"(m));
	m = ((m - 1) & (SEGSUM_CHUNK - 1)) + 1;
	/* The tail of an odd chunk is summed zero-padded (RFC 1071). */
	*(__u32 *)&s->buf[(m & ~3ull) & (SEGSUM_CHUNK - 1)] = 0;
	if (bpf_skb_load_bytes(s->skb, s->off, s->buf, m)) {
		s->err = 1;
		return 1;
	}
	s->sum = bpf_csum_diff(0, 0, (__be32 *)s->buf, (m + 3) & ~3ull,
			       s->sum);
	s->off += m;
	s->left -= m;
	return 0;
}

/* The pseudo-header's sum for @p, whose TCP part is @tcplen bytes. */
static __always_inline __s64 pseudo_sum(const struct pkt *p, __u32 tcplen)
{
	__be32 w[10];

	if (p->family == SNILB_AF_INET) {
		w[0] = p->saddr[0];
		w[1] = p->daddr[0];
		w[2] = bpf_htonl(IPPROTO_TCP << 16 | tcplen);
		return bpf_csum_diff(0, 0, w, 12, 0);
	}
	__builtin_memcpy(w, p->saddr, 16);
	__builtin_memcpy(w + 4, p->daddr, 16);
	w[8] = bpf_htonl(tcplen);
	w[9] = bpf_htonl(IPPROTO_TCP);
	return bpf_csum_diff(0, 0, w, 40, 0);
}

static __always_inline __u16 fold_sum(__s64 sum)
{
	__u64 s = (__u64)sum;

	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)((s & 0xffff) + (s >> 16));
}

/* 1 when @p's checksum is right or vouched for, 0 when it is wrong. */
static __noinline int segment_sum_ok(struct __sk_buff *skb,
				     const struct pkt *p, __u8 *buf)
{
	struct segsum s = { .skb = skb, .buf = buf, .off = p->l4 };
	__u32 tcplen = p->doff + p->plen;
	__be16 field;
	__s64 ph;

	if (bpf_csum_level(skb, BPF_CSUM_LEVEL_QUERY) >= 0)
		return 1;			/* CHECKSUM_UNNECESSARY */
	ph = pseudo_sum(p, tcplen);
	if (bpf_skb_load_bytes(skb, p->l4 + 16, &field, 2))
		return 0;
	if (field == fold_sum(ph))	/* sums are in the bytes' order */
		return 1;			/* CHECKSUM_PARTIAL */
	s.left = tcplen;
	s.sum = ph;
	bpf_loop(65536 / SEGSUM_CHUNK, segsum_cb, &s, 0);
	return !s.err && !s.left && fold_sum(s.sum) == 0xffff;
}

#endif /* SNILB_BPF_SEGSUM_H */

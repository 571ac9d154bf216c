// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The checksum auditor of tests/tcp/t-offload.sh: attached at tc egress of
 * the gateway's interfaces, after snilb's ingress program, it checks each
 * TCP packet snilb sends in the form its skb->ip_summed asks for, before
 * the device (or skb_checksum_help()) has done anything to it:
 *
 *   CHECKSUM_PARTIAL: csum_start at the TCP header, csum_offset 16, the
 *     check field the pseudo-header sum, folded, not complemented;
 *   CHECKSUM_NONE, _UNNECESSARY: a full, good TCP checksum;
 *   CHECKSUM_COMPLETE: that, and skb->csum the sum of the bytes it covers
 *     (from the Ethernet header at egress, after bpf_redirect()).
 *
 * ICMP(v6) likewise; its checksum is never offloaded, but an error built
 * over a PARTIAL skb stays PARTIAL (bpf/mtu.h): then csum_start must be
 * at the quoted TCP header, whose check field the completion leaves as it
 * is (icmp_partial()). A segment with
 * gso_size set must be one TCP could have built: no SYN or RST, more than
 * one segment's payload. Counts in `audit`: index state * 2 (good) and
 * state * 2 + 1 (bad) for TCP, AUDIT_GSO_BAD, then the same for ICMP from
 * AUDIT_ICMP; the last bad packet in `last_bad` (state AUDIT_ICMP + n:
 * ICMP). Needs bpf_cast_to_kern_ctx() (6.3+).
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define PARTIAL		3
#define COMPLETE	2
#define AUDIT_GSO_BAD	8
#define AUDIT_ICMP	9	/* ICMP(v6) counts from here, as TCP's */
#define CHUNK		512	/* bpf_csum_diff()'s limit */

struct sk_buff___audit {
	__u8 ip_summed:2;
	__u32 csum;
	__u16 csum_start;
	__u16 csum_offset;
	unsigned char *head;
	unsigned char *data;
} __attribute__((preserve_access_index));

extern void *bpf_cast_to_kern_ctx(void *) __ksym;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 17);
	__type(key, __u32);
	__type(value, __u64);
} audit SEC(".maps");

struct bad {
	__u32 state;
	__u32 len;
	__u32 got;	/* check field, or skb->csum folded */
	__u32 want;
	__u8 flags;	/* TCP flags, or ICMP type */
	__u8 proto;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bad);
} last_bad SEC(".maps");

struct chunk {
	__u8 b[CHUNK + 4];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct chunk);
} chunkbuf SEC(".maps");

static __u32 add32(__u32 a, __u32 b)
{
	__u32 r = a + b;

	return r + (r < a);
}

/* Folded, and 0xffff taken as 0: the two zeros of one's complement. */
static __u32 norm16(__u32 s)
{
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return s == 0xffff ? 0 : s;
}

struct sum_ctx {
	struct __sk_buff *skb;
	struct chunk *c;
	__u32 off;
	__u32 len;
	__u32 sum;
	int err;
};

static long sum_chunk(__u32 i, void *data)
{
	struct sum_ctx *x = data;
	__u32 n = x->len - i * CHUNK;
	__s64 r;

	if (i * CHUNK >= x->len)
		return 1;
	if (n > CHUNK)
		n = CHUNK;
	*(__u32 *)&x->c->b[n & (CHUNK - 4)] = 0;
	asm volatile("" : "+r"(n));
	n = ((n - 1) & (CHUNK - 1)) + 1;
	if (bpf_skb_load_bytes(x->skb, x->off + i * CHUNK, x->c->b, n)) {
		x->err = 1;
		return 1;
	}
	r = bpf_csum_diff(0, 0, (__be32 *)x->c->b, (n + 3) & ~3u, x->sum);
	if (r < 0) {
		x->err = 1;
		return 1;
	}
	x->sum = (__u32)r;
	return 0;
}

/* One's complement sum of @len bytes from @off (a trailing odd part
 * zero-padded, as csum_partial() does); @ok cleared on a failure. */
static __u32 sum_bytes(struct __sk_buff *skb, __u32 off, __u32 len, __u32 s,
		       int *ok)
{
	struct sum_ctx x = { .skb = skb, .off = off, .len = len, .sum = s };
	__u32 zero = 0;

	x.c = bpf_map_lookup_elem(&chunkbuf, &zero);
	if (!x.c || len > 0x10000) {
		*ok = 0;
		return 0;
	}
	bpf_loop(len / CHUNK + 1, sum_chunk, &x, 0);
	if (x.err)
		*ok = 0;
	return x.sum;
}

static void count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&audit, &idx);

	if (v)
		__sync_fetch_and_add(v, 1);
}

static void note_bad(__u32 state, __u32 len, __u32 got, __u32 want,
		     __u8 flags, __u8 proto)
{
	struct bad b = { state, len, got, want, flags, proto };
	__u32 zero = 0;

	bpf_map_update_elem(&last_bad, &zero, &b, BPF_ANY);
}

/* Where the L4 header is, how long the segment, its pseudo-header sum
 * (0 for ICMP, which has none) and protocol; -1: not audited. */
struct l4 {
	__u32 off;
	__u32 len;
	__u32 pseudo;
	__u8 proto;
};

static int find_l4(struct __sk_buff *skb, struct l4 *l)
{
	__u8 ipb[40];
	int i;

	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (struct iphdr *)ipb;

		if (bpf_skb_load_bytes(skb, ETH_HLEN, ipb, 20) || ip->ihl != 5)
			return -1;
		l->proto = ip->protocol;
		l->off = ETH_HLEN + 20;
		l->len = bpf_ntohs(ip->tot_len) - 20;
		l->pseudo = 0;
		if (l->proto == IPPROTO_TCP)
			l->pseudo = add32(add32(ip->saddr, ip->daddr),
					  bpf_htonl(IPPROTO_TCP << 16 | l->len));
		return l->proto == IPPROTO_TCP || l->proto == IPPROTO_ICMP ?
		       0 : -1;
	}
	if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (struct ipv6hdr *)ipb;
		__u32 *a = (__u32 *)&ip6->saddr;

		if (bpf_skb_load_bytes(skb, ETH_HLEN, ipb, 40))
			return -1;
		l->proto = ip6->nexthdr;
		l->off = ETH_HLEN + 40;
		l->len = bpf_ntohs(ip6->payload_len);
		l->pseudo = add32(bpf_htonl(l->len), bpf_htonl(l->proto));
		for (i = 0; i < 8; i++)
			l->pseudo = add32(l->pseudo, a[i]);
		return l->proto == IPPROTO_TCP || l->proto == IPPROTO_ICMPV6 ?
		       0 : -1;
	}
	return -1;
}

/*
 * An ICMP error built over a CHECKSUM_PARTIAL skb (bpf/mtu.h,
 * send_too_big(): a client's GSO segment too big for the path): no helper
 * makes it anything else, so csum_start must be at the quoted TCP header
 * (csum_offset 16), whose check field is the value the completion writes
 * there itself, and the ICMP checksum right with it. Returns 1 if bad.
 */
static int icmp_partial(struct __sk_buff *skb, struct sk_buff___audit *ks,
			const struct l4 *l, __u32 *got, __u32 *want, int *ok)
{
	__u32 start = ks->csum_start - (__u32)(ks->data - ks->head);
	__u32 q = l->off + 8 +
		  (skb->protocol == bpf_htons(ETH_P_IPV6) ? 40 : 20);
	__u16 field;
	__u32 c;

	*got = norm16(sum_bytes(skb, l->off, l->len, l->pseudo, ok));
	*want = 0;
	if (start != q || ks->csum_offset != 16 || *got || skb->len <= q ||
	    bpf_skb_load_bytes(skb, q + 16, &field, 2))
		return 1;
	c = ~norm16(sum_bytes(skb, q, skb->len - q, 0, ok)) & 0xffff;
	*got = c;
	*want = field;
	return c != field && (c ^ field) != 0xffff;
}

SEC("tc")
int audit_egress(struct __sk_buff *skb)
{
	struct sk_buff___audit *ks = bpf_cast_to_kern_ctx(skb);
	__u32 state, got, want, base;
	struct l4 l;
	__u8 th[20];
	int bad, ok = 1;

	if (find_l4(skb, &l) || l.len < 20 || l.len > 0xffff ||
	    bpf_skb_load_bytes(skb, l.off, th, 20))
		return TC_ACT_OK;
	base = l.proto == IPPROTO_TCP ? 0 : AUDIT_ICMP;
	state = BPF_CORE_READ_BITFIELD(ks, ip_summed);
	if (state == PARTIAL && base) {
		bad = icmp_partial(skb, ks, &l, &got, &want, &ok);
		if (!ok)
			return TC_ACT_OK;	/* not audited */
	} else if (state == PARTIAL) {
		__u32 start = ks->csum_start - (__u32)(ks->data - ks->head);

		/* Never so for ICMP: no device offloads its checksum. */
		got = norm16(*(__u16 *)&th[16]);
		want = norm16(l.pseudo);
		bad = base || start != l.off || ks->csum_offset != 16 ||
		      got != want;
	} else {
		/* The whole segment with its pseudo-header sums to zero. */
		got = norm16(sum_bytes(skb, l.off, l.len, l.pseudo, &ok));
		want = 0;
		bad = got != want;
		if (!bad && state == COMPLETE) {
			got = norm16(ks->csum);
			want = norm16(sum_bytes(skb, 0, skb->len, 0, &ok));
			bad = got != want;
		}
		if (!ok)
			return TC_ACT_OK;	/* not audited */
	}
	if (!base && skb->gso_size &&
	    ((th[13] & 0x06) || l.len - (th[12] >> 4) * 4 <= skb->gso_size)) {
		count(AUDIT_GSO_BAD);
		note_bad(AUDIT_GSO_BAD, skb->len, skb->gso_size, 0, th[13],
			 l.proto);
	}
	count(base + state * 2 + bad);
	if (bad)
		note_bad(base + state, skb->len, got, want, th[13], l.proto);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";

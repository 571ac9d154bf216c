// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The SYN generator's program (tests/bench/xdpgen.c): run by
 * BPF_PROG_TEST_RUN in live-frames mode on the generator's veth end, it
 * gives each copy of the SYN a source address and port of its own (the
 * checksums patched) and sends it with XDP_TX, which a veth hands to its
 * peer as an XDP frame: the gateway's end sees what a NIC's driver sees,
 * a frame and no skb. Each copy is written whole from the template: live
 * frames' pages come back as the gateway left them (a SYN-ACK).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define TMPL_LEN 74	/* Ethernet, IPv4, TCP with Linux's SYN options */

__u32 seq;	/* copies made (one CPU runs it) */
const volatile __u8 tmpl[TMPL_LEN];	/* the SYN; xdpgen.c sets it */

/* RFC 1624: the checksum at @c with 16-bit word @from now @to. */
static __always_inline void csum16(__u16 *c, __u16 from, __u16 to)
{
	__u32 s = (__u16)~*c + (__u16)~from + to;

	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	*c = (__u16)~s;
}

SEC("xdp")
int xdpgen(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct iphdr *ip = data + sizeof(struct ethhdr);
	struct tcphdr *th = (void *)(ip + 1);
	__u32 n = seq++, i;
	__u16 port, lo, old;

	if (data + TMPL_LEN > end)
		return XDP_ABORTED;
	for (i = 0; i < TMPL_LEN; i++)
		((__u8 *)data)[i] = tmpl[i];
	port = bpf_htons(1024 + n % 60000);
	old = th->source;
	th->source = port;
	csum16(&th->check, old, port);
	/* The low 16 bits of the source address: 198.18.64.0/18's. */
	lo = bpf_htons(0x4000 | ((n / 60000) & 0x3fff));
	old = ((__u16 *)&ip->saddr)[1];
	((__u16 *)&ip->saddr)[1] = lo;
	csum16(&th->check, old, lo);
	csum16(&ip->check, old, lo);
	return XDP_TX;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";

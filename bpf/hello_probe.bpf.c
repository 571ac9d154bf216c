// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The ClientHello parser, compiled for the kernel and run on demand with
 * BPF_PROG_TEST_RUN: `snilb sni --kernel` and the differential test use it
 * to prove that the verifier-checked build answers exactly what userspace
 * does. It is never attached; the packet it is run on is ignored.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "clienthello.h"
#include "probe_abi.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct probe_input);
} probe_input SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ch_result);
} probe_result SEC(".maps");

SEC("tc")
int hello_probe(struct __sk_buff *skb)
{
	struct probe_input *in;
	struct ch_result *res;
	struct ch_parser p;
	__u32 zero = 0;

	(void)skb;
	in = bpf_map_lookup_elem(&probe_input, &zero);
	res = bpf_map_lookup_elem(&probe_result, &zero);
	if (!in || !res)
		return -1;
	__builtin_memset(res, 0, sizeof(*res));
	return ch_parse(&p, in->buf, in->len, in->cap, res);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";

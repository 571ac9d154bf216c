// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * XDP_PASS, for the client's end of a veth whose gateway end runs snilb's
 * XDP program: a veth delivers the frames its peer sends back with
 * XDP_TX only to an end with XDP of its own (GRO alone did not do it on
 * 6.18: the frames were counted and lost). Real NICs need nothing.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";

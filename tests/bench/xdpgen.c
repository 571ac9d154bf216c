// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * A SYN generator that keeps up with XDP, for tests/bench/synrate.sh:
 * one SYN (Linux's options) to DST:443 from 198.18.64.0/18, copied by
 * BPF_PROG_TEST_RUN in live-frames mode (5.18+) through xdpgen.bpf.c,
 * which gives each copy a source of its own and sends it out of IFNAME
 * with XDP_TX: to a veth's peer, as XDP frames. Runs for SECONDS on the
 * CPU it is started on; prints "sent N in S s: R/s".
 * Usage: xdpgen OBJ IFNAME DSTMAC DST SECONDS
 */
#include <arpa/inet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "../lib/packets.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static const uint8_t syn_opts[20] = {
	2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0x03, 0xe8, 0, 0, 0, 0, 1, 3, 3, 7,
};

int main(int argc, char **argv)
{
	struct tpkt t = { .src = "198.18.64.1", .sport = 1024, .dport = 443,
			  .seq = 1000, .flags = 0x02, .window = 64240,
			  .opts = syn_opts, .optlen = 20 };
	static uint8_t frame[PKT_MAX];
	struct xdp_md ctx = { 0 };
	struct bpf_object *obj;
	unsigned int mac[6];
	double t0, secs;
	long sent = 0;
	size_t n;
	int fd, i;

	if (argc != 6 || sscanf(argv[3], "%x:%x:%x:%x:%x:%x", &mac[0],
				&mac[1], &mac[2], &mac[3], &mac[4],
				&mac[5]) != 6) {
		fprintf(stderr, "usage: xdpgen OBJ IFNAME DSTMAC DST SECONDS\n");
		return 2;
	}
	t.dst = argv[4];
	secs = atof(argv[5]);
	ctx.ingress_ifindex = if_nametoindex(argv[2]);
	n = tpkt_build(&t, frame);
	ctx.data_end = (__u32)n;	/* the kernel wants the frame's size */
	for (i = 0; i < 6; i++)
		frame[i] = (uint8_t)mac[i];
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj || n != 74 || bpf_map__set_initial_value(
			bpf_object__find_map_by_name(obj, ".rodata"), frame,
			n) || bpf_object__load(obj) || !ctx.ingress_ifindex) {
		fprintf(stderr, "xdpgen: cannot load %s or find %s\n", argv[1],
			argv[2]);
		return 1;
	}
	fd = bpf_program__fd(bpf_object__find_program_by_name(obj, "xdpgen"));
	t0 = now();
	while (now() - t0 < secs) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame,
			    .data_size_in = (__u32)n, .ctx_in = &ctx,
			    .ctx_size_in = sizeof(ctx), .repeat = 1 << 16,
			    .flags = BPF_F_TEST_XDP_LIVE_FRAMES,
			    .batch_size = 64);

		if (bpf_prog_test_run_opts(fd, &o)) {
			perror("xdpgen: BPF_PROG_TEST_RUN");
			return 1;
		}
		sent += 1 << 16;
	}
	secs = now() - t0;
	printf("sent %ld in %.2f s: %.0f/s\n", sent, secs, sent / secs);
	bpf_object__close(obj);
	return 0;
}

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Kernel time per packet of the data plane, by packet kind, from
 * BPF_PROG_TEST_RUN's own clock. The program changes the packet it runs
 * on (a SYN becomes a SYN-ACK), so `repeat` would measure the second
 * kind on later runs: each packet is a run of its own, and the mean of
 * N such runs is reported. Run it in tests/in-netns.sh (it forwards).
 * Prints "kind ns" lines.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <linux/pkt_cls.h>

#include "dataplane.h"
#include "maglev.h"
#include "packets.h"
#include "../unit/hello_builder.h"

static struct dataplane *dp;
static uint8_t in[PKT_MAX], out[PKT_MAX];
static uint32_t table[SNILB_MAGLEV_SIZE];

/* Run @t once; returns the kernel's duration in ns, fills @v. */
static unsigned int run(const struct tpkt *t, struct tview *v, int *ret)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_out = out,
		    .data_size_out = sizeof(out), .repeat = 1);

	o.data_size_in = (__u32)tpkt_build(t, in);
	if (bpf_prog_test_run_opts(dp_prog_fd(dp), &o))
		exit(1);
	if (v)
		tview_parse(out, o.data_size_out, v);
	if (ret)
		*ret = (int)o.retval;
	return o.duration;
}

static const uint8_t syn_opts[20] = {
	2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0x03, 0xe8, 0, 0, 0, 0, 1, 3, 3, 7,
};

struct flow {
	uint16_t port;
	uint32_t cookie, tsval, nport;
};

static uint8_t ts_opt[12] = { 1, 1, 8, 10 };

static void put32(uint8_t *p, uint32_t x)
{
	p[0] = (uint8_t)(x >> 24);
	p[1] = (uint8_t)(x >> 16);
	p[2] = (uint8_t)(x >> 8);
	p[3] = (uint8_t)x;
}

static struct tpkt cseg(const struct flow *f, uint8_t flags, uint32_t off,
			const uint8_t *pl, size_t n)
{
	struct tpkt t = { .src = "198.18.1.2", .dst = "198.18.0.10",
			  .sport = f->port, .dport = 443, .seq = 1001 + off,
			  .ack = f->cookie + 1, .flags = flags, .window = 502,
			  .opts = ts_opt, .optlen = 12, .payload = pl,
			  .plen = n };

	put32(ts_opt + 4, 1001);
	put32(ts_opt + 8, f->tsval);
	return t;
}

int main(int argc, char **argv)
{
	unsigned int n = argc > 1 ? (unsigned int)atoi(argv[1]) : 5000;
	uint64_t syn = 0, hello = 0, c2b = 0, b2c = 0, pass = 0;
	struct maglev_backend b = { "be", 1, 1 };
	struct snilb_config cfg = { .snat4 = htonl(0xc6120201) };
	static uint8_t data[1400];
	struct tview v;
	struct hb h;
	char err[256];
	unsigned int i;
	int ret;

	dp = dp_open(err, sizeof(err));
	if (!dp) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	maglev_build(&b, 1, table, SNILB_MAGLEV_SIZE);
	if (dp_listener_add(dp, "198.18.0.10", 443, 1) ||
	    dp_route_add(dp, 1, "www.example.com", 1, 1) ||
	    dp_backend_set(dp, 1, "198.18.2.11", 8443) ||
	    dp_set_install(dp, 1, table, SNILB_MAGLEV_SIZE, 1) ||
	    dp_config_set(dp, &cfg))
		return 1;
	hb_simple(&h, "www.example.com");
	for (i = 0; i < n; i++) {
		struct flow f = { .port = (uint16_t)(10000 + i % 50000) };
		struct tpkt t = { .src = "198.18.1.2", .dst = "198.18.0.10",
				  .sport = f.port, .dport = 443, .seq = 1000,
				  .flags = 0x02, .window = 64240,
				  .opts = syn_opts, .optlen = 20 };
		const uint8_t *o;

		t.dport = 8080;			/* not a listener */
		pass += run(&t, NULL, NULL);
		t.dport = 443;
		syn += run(&t, &v, NULL);
		f.cookie = v.seq;
		o = tview_opt(&v, 8);
		f.tsval = o ? be32(o + 2) : 0;
		t = cseg(&f, 0x10, 0, NULL, 0);
		run(&t, NULL, NULL);
		t = cseg(&f, 0x18, 0, h.b, h.n);
		hello += run(&t, &v, &ret);
		if (ret != TC_ACT_REDIRECT || v.flags != 0x02) {
			fprintf(stderr, "hello not bound (verdict %d)\n", ret);
			return 1;
		}
		f.nport = v.sport;
		/* Backend SYN-ACK, then data both ways. */
		t = (struct tpkt){ .src = "198.18.2.11", .dst = "198.18.2.1",
				   .sport = 8443, .dport = (uint16_t)f.nport,
				   .seq = 5000, .ack = 1001, .flags = 0x12,
				   .window = 65535, .opts = syn_opts,
				   .optlen = 20 };
		run(&t, NULL, NULL);
		t = (struct tpkt){ .src = "198.18.2.11", .dst = "198.18.2.1",
				   .sport = 8443, .dport = (uint16_t)f.nport,
				   .seq = 5001, .ack = 1001 + (uint32_t)h.n,
				   .flags = 0x10, .window = 500,
				   .opts = ts_opt, .optlen = 12,
				   .payload = data, .plen = sizeof(data) };
		b2c += run(&t, NULL, NULL);
		t = cseg(&f, 0x10, (uint32_t)h.n, NULL, 0);
		c2b += run(&t, NULL, NULL);
		t = cseg(&f, 0x04, (uint32_t)h.n, NULL, 0);
		run(&t, NULL, NULL);		/* RST: free the flow */
	}
	printf("pass %.0f\nsyn %.0f\nhello %.0f\nspliced_c2b %.0f\n"
	       "spliced_b2c %.0f\n", (double)pass / n, (double)syn / n,
	       (double)hello / n, (double)c2b / n, (double)b2c / n);
	dp_close(dp);
	return 0;
}

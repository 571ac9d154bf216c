// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Kernel time per packet of the data plane, by packet kind, from
 * BPF_PROG_TEST_RUN's own clock. The program changes the packet it runs
 * on (a SYN becomes a SYN-ACK), so `repeat` would measure the second
 * kind on later runs: each packet is a run of its own. A run's duration
 * includes the harness (two clock reads, the call into the program); an
 * empty program run the same way measures it ("floor"), and each kind is
 * reported raw and net of it: the median run of each.
 *
 * Kinds: pass (not ours), syn (new sources each run; Linux's options),
 * syn_xdp (the same SYNs through the XDP program, bpf/xdp.h: the
 * program's own cost, without what the kernel saves it, the skb),
 * syn_nots (the same without timestamps, as Windows sends it: its window
 * scale and SACK kept in the per-SYN state; timed after the others),
 * first_ack (the handshake's last ACK: the cookie checked, the flow
 * made), hello (a whole ClientHello in one segment: parse, route, bind),
 * synack (the backend's SYN-ACK to our second SYN: the flow spliced, the
 * hello replayed to it), those three over 1,000 flows; spliced_c2b and
 * spliced_b2c (round robin over FLOWS spliced flows, 1,000 unless told). Blocks of 500 runs of one kind take
 * turns. With FLOWS 1 every kind is warm, as `repeat` would run it; with
 * 1,000 the spliced packets' flows are evicted by the other kinds' blocks
 * in between, as on a busy node. Run it in tests/lib/in-netns.sh (it forwards).
 * Prints "kind raw_ns net_ns" lines (medians), "floor ns" first.
 *
 * Usage: dp_ns [RUNS [FLOWS]]
 * DP_NS_PROXY=1: the backend asks for a PROXY v2 header (bpf/proxy.h):
 * the hello then builds it, the replay sends it, and the spliced packets
 * show what it costs them (nothing, by design).
 * DP_NS_ACCESS_LOG=1: with the access log on (each routed hello keeps its
 * conns entry; no flow ends here).
 * DP_NS_NAT46=1: the backend is IPv6 (2001:db8:2::11), the client IPv4:
 * every spliced packet is translated (bpf/nat46.h).
 *
 * Last, with a node table whose one node is a peer (docs/multinode.md):
 * steer_syn (a SYN sent to its owner) and steer_ack (a packet of a
 * connection with no flow here, as ECMP moves them, sent to its owner);
 * spliced_c2b_nodes: a spliced packet with the table in force (the fast
 * path must not see it).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include "dataplane.h"
#include "maglev.h"
#include "../lib/packets.h"
#include "../lib/hello_builder.h"

static struct dataplane *dp;
static uint8_t in[PKT_MAX], out[PKT_MAX];
static uint32_t table[SNILB_MAGLEV_SIZE];
/* The PROXY header's length with DP_NS_PROXY (0: none): for
 * 198.18.1.2 -> 198.18.0.10, ALPN "h2", SNI www.example.com. */
static uint32_t pp_len;
/* DP_NS_NAT46: the backend's family is not the client's. */
static int nat46;
static const char *be_addr = "198.18.2.11", *snat_addr = "198.18.2.1";

/* Run @t once through @fd; returns the kernel's duration in ns. */
static unsigned int run_fd(int fd, const struct tpkt *t, struct tview *v,
			   int *ret)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_out = out,
		    .data_size_out = sizeof(out), .repeat = 1);

	o.data_size_in = (__u32)tpkt_build(t, in);
	if (bpf_prog_test_run_opts(fd, &o))
		exit(1);
	if (v)
		tview_parse(out, o.data_size_out, v);
	if (ret)
		*ret = (int)o.retval;
	return o.duration;
}

static unsigned int run(const struct tpkt *t, struct tview *v, int *ret)
{
	return run_fd(dp_prog_fd(dp), t, v, ret);
}

/* A TC program that returns TC_ACT_OK and does nothing else. */
static int empty_prog(void)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0,
		  .imm = TC_ACT_OK },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	return bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "snilb_floor", "GPL",
			     insns, 2, NULL);
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

/* The run times of one connection's setup, but the SYN's. */
struct setup_ns {
	unsigned int ack;	/* the handshake's last ACK: the flow made */
	unsigned int hello;
	unsigned int synack;	/* the backend's SYN-ACK: splice, replay */
};

/* Take flow @f from SYN to spliced, timing its packets into @ns. */
static void splice_flow(struct flow *f, const struct hb *h,
			struct setup_ns *ns)
{
	struct tpkt t = { .src = "198.18.1.2", .dst = "198.18.0.10",
			  .sport = f->port, .dport = 443, .seq = 1000,
			  .flags = 0x02, .window = 64240,
			  .opts = syn_opts, .optlen = 20 };
	struct tview v;
	const uint8_t *o;
	int ret;

	run(&t, &v, NULL);
	f->cookie = v.seq;
	o = tview_opt(&v, 8);
	f->tsval = o ? be32(o + 2) : 0;
	t = cseg(f, 0x10, 0, NULL, 0);
	ns->ack = run(&t, NULL, NULL);
	t = cseg(f, 0x18, 0, h->b, h->n);
	ns->hello = run(&t, &v, &ret);
	if (ret != TC_ACT_REDIRECT || v.flags != 0x02) {
		fprintf(stderr, "hello not bound (verdict %d)\n", ret);
		exit(1);
	}
	f->nport = v.sport;
	t = (struct tpkt){ .v6 = nat46, .src = be_addr, .dst = snat_addr,
			   .sport = 8443, .dport = (uint16_t)f->nport,
			   .seq = 5000, .ack = 1001 - pp_len, .flags = 0x12,
			   .window = 65535, .opts = syn_opts, .optlen = 20 };
	run(&t, NULL, NULL);	/* held: our second SYN's is next (bind.h) */
	ns->synack = run(&t, NULL, NULL);	/* the hello */
	if (pp_len) {
		/* The backend's ACK of header and hello, one RTT later: the
		 * hello's buffer, kept until then, goes (bpf/owned.h). */
		t.flags = 0x10;
		t.seq = 5001;
		t.ack = 1001 + (uint32_t)h->n;
		t.opts = NULL;
		t.optlen = 0;
		run(&t, NULL, &ret);
		if (ret != TC_ACT_REDIRECT) {
			fprintf(stderr, "PROXY flow not spliced (%d)\n", ret);
			exit(1);
		}
	}
}

static struct tpkt b2c_pkt(const struct flow *f, const struct hb *h,
			   const uint8_t *data, size_t n)
{
	return (struct tpkt){ .v6 = nat46, .src = be_addr, .dst = snat_addr,
			      .sport = 8443, .dport = (uint16_t)f->nport,
			      .seq = 5001, .ack = 1001 + (uint32_t)h->n,
			      .flags = 0x10, .window = 500, .opts = ts_opt,
			      .optlen = 12, .payload = data, .plen = n };
}

#define MAX_FLOWS 1000
#define BLOCK 500	/* runs of one kind in a row */

/* A SYN from a new source port each time: to the VIP's listener (443), or
 * to the node's own address (a VIP's port no listener has is answered,
 * bpf/vip.h; the node's traffic passes). */
static struct tpkt syn_pkt(unsigned int i, uint16_t dport)
{
	const char *dst = dport == 443 ? "198.18.0.10" : "198.18.1.1";

	return (struct tpkt){ .src = "198.18.1.3", .dst = dst,
			      .sport = (uint16_t)(20000 + i % 40000),
			      .dport = dport, .seq = 1000, .flags = 0x02,
			      .window = 64240, .opts = syn_opts,
			      .optlen = 20 };
}

/* Windows' SYN: MSS 1460, NOP, WS 8, NOP, NOP, SACK-permitted. */
static const uint8_t syn_nots_opts[12] = {
	2, 4, 0x05, 0xb4, 1, 3, 3, 8, 1, 1, 4, 2,
};

static struct tpkt syn_nots_pkt(unsigned int i)
{
	struct tpkt t = syn_pkt(i, 443);

	t.opts = syn_nots_opts;
	t.optlen = sizeof(syn_nots_opts);
	return t;
}

/* Per-run durations of one kind; the median is reported: a run that an
 * interrupt or a neighbour's burst lands in says nothing of the program. */
#define MAX_RUNS 100000

struct runs {
	unsigned int ns[MAX_RUNS];
	unsigned int n;
};

static void add(struct runs *r, unsigned int ns)
{
	r->ns[r->n++] = ns;
}

static int cmp_uint(const void *a, const void *b)
{
	unsigned int x = *(const unsigned int *)a, y = *(const unsigned int *)b;

	return x < y ? -1 : x > y;
}

static double median(struct runs *r)
{
	qsort(r->ns, r->n, sizeof(*r->ns), cmp_uint);
	if (r->n % 2)
		return r->ns[r->n / 2];
	return (r->ns[r->n / 2 - 1] + r->ns[r->n / 2]) / 2.0;
}

static void report(const char *kind, struct runs *r, double floor)
{
	double raw = median(r);

	printf("%s %.0f %.0f\n", kind, raw, raw > floor ? raw - floor : 0);
}

static struct runs steer_syn, steer_ack, c2b_nodes;

/* The steering kinds: a table whose only node is a peer at the backend's
 * address (a neighbour in in-netns.sh), so every packet with no flow here
 * goes to it. */
static void steer_runs(unsigned int n, unsigned int nf, struct flow *flows,
		       const struct hb *h)
{
	static const struct dp_node peer = { "peer", "198.18.2.11", 0 };
	struct dp_nodes t = { .cur = &peer, .ncur = 1, .self = "self" };
	struct dp_nodes none = { .self = "self" };
	unsigned int i, j, end;
	struct tpkt p;
	char err[256];
	int ret;

	if (dp_nodes_set(dp, &t, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		exit(1);
	}
	for (i = 0; i < n; i += BLOCK) {
		end = i + BLOCK < n ? i + BLOCK : n;
		for (j = i; j < end; j++) {
			p = syn_pkt(j, 443);
			add(&steer_syn, run(&p, NULL, &ret));
			if (ret != TC_ACT_REDIRECT)
				exit(1);
		}
		for (j = i; j < end; j++) {
			p = syn_pkt(j, 443);
			p.flags = 0x10;
			p.ack = 12345;
			add(&steer_ack, run(&p, NULL, &ret));
			if (ret != TC_ACT_REDIRECT)
				exit(1);
		}
		for (j = i; j < end; j++) {
			p = cseg(&flows[j % nf], 0x10, (uint32_t)h->n, NULL, 0);
			add(&c2b_nodes, run(&p, NULL, NULL));
		}
	}
	dp_nodes_set(dp, &none, err, sizeof(err));
}

int main(int argc, char **argv)
{
	unsigned int n = argc > 1 ? (unsigned int)atoi(argv[1]) : 5000;
	static struct runs floor, syn, syn_nots, hello, c2b, b2c, pass, sxdp;
	static struct runs ack, synack;
	struct setup_ns sn;
	struct maglev_backend b = { "be", 1, 1 };
	/* Every SYN without timestamps keeps its state: the cost measured
	 * is the map update's, not the flood path's cheaper lookup. */
	struct snilb_config cfg = { .snat4 = htonl(0xc6120201),
				    .syn_state_rate = 100000000 };
	static struct flow flows[MAX_FLOWS];
	static uint8_t data[1400];
	unsigned int i, nf;
	double fl;
	char err[256];
	struct hb h;
	int efd;

	dp = dp_open(NULL, err, sizeof(err));
	efd = empty_prog();
	if (!dp || efd < 0) {
		fprintf(stderr, "%s\n", dp ? "cannot load an empty program" :
			err);
		return 1;
	}
	maglev_build(&b, 1, table, SNILB_MAGLEV_SIZE);
	cfg.access_log = getenv("DP_NS_ACCESS_LOG") ? 1 : 0;
	nat46 = getenv("DP_NS_NAT46") && atoi(getenv("DP_NS_NAT46"));
	if (nat46) {
		be_addr = "2001:db8:2::11";
		snat_addr = "2001:db8:2::1";
		inet_pton(AF_INET6, snat_addr, cfg.snat6);
	}
	if (dp_listener_add(dp, "198.18.0.10", 443, 1) ||
	    dp_route_add(dp, 1, "www.example.com", 1, 1) ||
	    dp_backend_set(dp, 1, be_addr, 8443,
			   getenv("DP_NS_PROXY") && atoi(getenv("DP_NS_PROXY")) ?
			   SNILB_BE_PROXY_V2 : 0) ||
	    dp_set_install(dp, 1, table, SNILB_MAGLEV_SIZE, 1) ||
	    dp_config_set(dp, &cfg))
		return 1;
	hb_simple(&h, "www.example.com");
	if (getenv("DP_NS_PROXY") && atoi(getenv("DP_NS_PROXY")))
		pp_len = 16 + 12 + 19 + 5 + 3 + 15;
	nf = argc > 2 ? (unsigned int)atoi(argv[2]) : MAX_FLOWS;
	if (n < 1 || n > MAX_RUNS || nf < 1 || nf > MAX_FLOWS || nf > n) {
		fprintf(stderr, "RUNS: 1 to %d; FLOWS: 1 to %d, at most RUNS\n",
			MAX_RUNS, MAX_FLOWS);
		return 2;
	}
	/* Hellos are timed over up to 1,000 flows whatever FLOWS is. */
	for (i = 0; i < MAX_FLOWS && i < n; i++) {
		flows[i].port = (uint16_t)(10000 + i);
		splice_flow(&flows[i], &h, &sn);
		add(&ack, sn.ack);
		add(&hello, sn.hello);
		add(&synack, sn.synack);
	}
	/*
	 * Each kind in blocks of its own, as `repeat` would run it; the
	 * blocks take turns, so a noisy stretch of a shared machine falls on
	 * every kind, not on one.
	 */
	for (i = 0; i < n; i += BLOCK) {
		unsigned int j, end = i + BLOCK < n ? i + BLOCK : n;
		struct tpkt t;

		for (j = i; j < end; j++) {
			t = syn_pkt(j, 8080);
			add(&floor, run_fd(efd, &t, NULL, NULL));
		}
		for (j = i; j < end; j++) {
			t = syn_pkt(j, 8080);	/* not ours */
			add(&pass, run(&t, NULL, NULL));
		}
		for (j = i; j < end; j++) {
			t = syn_pkt(j, 443);
			add(&syn, run(&t, NULL, NULL));
		}
		for (j = i; j < end; j++) {
			t = syn_pkt(j + 40000, 443);
			add(&sxdp, run_fd(dp_xdp_prog_fd(dp), &t, NULL, NULL));
		}
		for (j = i; j < end; j++) {
			t = cseg(&flows[j % nf], 0x10, (uint32_t)h.n, NULL, 0);
			add(&c2b, run(&t, NULL, NULL));
		}
		for (j = i; j < end; j++) {
			t = b2c_pkt(&flows[j % nf], &h, data, sizeof(data));
			add(&b2c, run(&t, NULL, NULL));
		}
	}
	/* After the others: its state writes, all over a 2 MB table, would
	 * evict the 1,000 flows' entries between their blocks and change
	 * what the other kinds measure. */
	for (i = 0; i < n; i++) {
		struct tpkt t = syn_nots_pkt(i);

		add(&syn_nots, run(&t, NULL, NULL));
	}
	steer_runs(n, nf, flows, &h);
	fl = median(&floor);
	printf("floor %.0f\n", fl);
	report("pass", &pass, fl);
	report("syn", &syn, fl);
	report("syn_xdp", &sxdp, fl);
	report("syn_nots", &syn_nots, fl);
	report("first_ack", &ack, fl);
	report("hello", &hello, fl);
	report("synack", &synack, fl);
	report("spliced_c2b", &c2b, fl);
	report("spliced_b2c", &b2c, fl);
	report("steer_syn", &steer_syn, fl);
	report("steer_ack", &steer_ack, fl);
	report("spliced_c2b_nodes", &c2b_nodes, fl);
	close(efd);
	dp_close(dp);
	return 0;
}

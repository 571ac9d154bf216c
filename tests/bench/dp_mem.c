// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Memory against concurrent spliced connections, and what a spliced
 * packet costs at that many, through the real program: every connection
 * is taken by BPF_PROG_TEST_RUN from the client's SYN through the cookie
 * check, a whole ClientHello (parsed, routed, bound: the SYN to the
 * backend, and our second right behind it: bpf/bind.h syn_twice()) and
 * the backend's two SYN-ACKs to spliced, as dp_ns does for 1,000.
 * Nothing is written into a map by hand.
 *
 * At each of COUNTS (ascending; 0 is the idle figure) it prints the
 * memory the kernel charges for the maps (their fds' "memlock" in
 * /proc/self/fdinfo, what bpftool shows as bytes_memlock: for a hash map
 * allocated on insert, its buckets and the entries it holds), the
 * flows, rev and hellos maps apart, and the kernel's time for a spliced
 * packet each way over flows picked at random among all (medians of
 * single runs, net of what an empty program measures the same way), and
 * how long the connections took to make:
 *
 *   mem N maps_kib flows_kib rev_kib hellos_kib c2b_ns b2c_ns setup_s slab_kib
 *       reap_s
 *
 * slab_kib: what the kernel's kmalloc-cg caches grew by since the first
 * count (machine-wide; the entries' real footprint, each rounded up to its
 * cache's object size, which memlock does not count); reap_s: one pass
 * of the reaper over them (the agent makes one a second, or one per five
 * times a pass longer than 0.2 s: user/agent/reappace.h). Then "per_conn
 * BYTES SLAB_BYTES" (memory added per connection from the first count to
 * the last, both ways) and "elapsed S". Clients: 198.18.1.10+ (50,000 ports each);
 * backends: 198.18.2.11 ports 8443+ (1 per 4,000 connections; SNAT
 * ports 1024-65535: the 16 probes of a claim, bpf/bind.h, find a free
 * port among 64,512 of which 4,000 are taken; with the default range's
 * 20,000 the sequential clients' claims start to fail past ~5,000). Run it in
 * tests/lib/in-netns.sh (it forwards).
 *
 * Usage: dp_mem [--prealloc] [--max-flows N] COUNT...
 * --prealloc: flows and rev preallocated, as before (the comparison of
 * the insert's cost).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include "dataplane.h"
#include "maglev.h"
#include "pinned.h"
#include "reaper.h"
#include "../lib/packets.h"
#include "../lib/hello_builder.h"

#define MAX_COUNTS	8
#define PER_ADDR	50000
#define PER_BACKEND	4000
#define MAX_BACKENDS	256
#define SAMPLES		20001

static struct dataplane *dp;
static uint8_t in[PKT_MAX], out[PKT_MAX];
static uint32_t table[SNILB_MAGLEV_SIZE];
static struct hb hello;

struct conn {
	uint32_t cookie, tsval;
	uint16_t nport, bport;
};

static struct conn *conns;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static unsigned int run_fd(int fd, const struct tpkt *t, struct tview *v,
			   int *ret)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_out = out,
		    .data_size_out = sizeof(out), .repeat = 1);

	o.data_size_in = (__u32)tpkt_build(t, in);
	if (bpf_prog_test_run_opts(fd, &o)) {
		perror("BPF_PROG_TEST_RUN");
		exit(1);
	}
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
static uint8_t ts_opt[12] = { 1, 1, 8, 10 };

static void put32(uint8_t *p, uint32_t x)
{
	p[0] = (uint8_t)(x >> 24);
	p[1] = (uint8_t)(x >> 16);
	p[2] = (uint8_t)(x >> 8);
	p[3] = (uint8_t)x;
}

/* Connection @i's client address. */
static const char *client(uint32_t i)
{
	static char a[32];

	snprintf(a, sizeof(a), "198.18.1.%u", 10 + i / PER_ADDR);
	return a;
}

static struct tpkt cseg(uint32_t i, uint8_t flags, uint32_t off,
			const uint8_t *pl, size_t n)
{
	const struct conn *c = &conns[i];
	struct tpkt t = { .src = client(i), .dst = "198.18.0.10",
			  .sport = (uint16_t)(10000 + i % PER_ADDR),
			  .dport = 443, .seq = 1001 + off,
			  .ack = c->cookie + 1, .flags = flags, .window = 502,
			  .opts = ts_opt, .optlen = 12, .payload = pl,
			  .plen = n };

	put32(ts_opt + 4, 1001);
	put32(ts_opt + 8, c->tsval);
	return t;
}

static struct tpkt bseg(uint32_t i, uint8_t flags, const uint8_t *opts,
			size_t optlen, const uint8_t *pl, size_t n)
{
	const struct conn *c = &conns[i];

	return (struct tpkt){ .src = "198.18.2.11", .dst = "198.18.2.1",
			      .sport = c->bport, .dport = c->nport,
			      .seq = flags & 0x02 ? 5000 : 5001,
			      .ack = 1001 + (flags & 0x02 ? 0 :
					     (uint32_t)hello.n),
			      .flags = flags, .window = 500, .opts = opts,
			      .optlen = optlen, .payload = pl, .plen = n };
}

/* The counters that are not 0, on stderr: why a connection failed. */
static void print_stats(void)
{
	char err[256];
	struct pinned *v = pinned_of(dp, err, sizeof(err));
	uint64_t x;
	uint32_t i;

	for (i = 0; v && i < SNILB_ST_MAX; i++)
		if (!pinned_stat(v, i, &x) && x)
			fprintf(stderr, "stat %s %llu\n", pinned_stat_name(i),
				(unsigned long long)x);
	pinned_close(v);
}

/* Connection @i from SYN to spliced; 0, or -1 (and why, on stderr). */
static int connect_one(uint32_t i)
{
	struct conn *c = &conns[i];
	struct tpkt t = { .src = client(i), .dst = "198.18.0.10",
			  .sport = (uint16_t)(10000 + i % PER_ADDR),
			  .dport = 443, .seq = 1000, .flags = 0x02,
			  .window = 64240, .opts = syn_opts, .optlen = 20 };
	struct tview v;
	const uint8_t *o;
	int ret;

	run(&t, &v, NULL);
	if (v.flags != 0x12)
		return fprintf(stderr, "conn %u: no SYN-ACK\n", i), -1;
	c->cookie = v.seq;
	o = tview_opt(&v, 8);
	c->tsval = o ? be32(o + 2) : 0;
	t = cseg(i, 0x10, 0, NULL, 0);
	run(&t, NULL, NULL);
	t = cseg(i, 0x18, 0, hello.b, hello.n);
	run(&t, &v, &ret);
	if (ret != TC_ACT_REDIRECT || v.flags != 0x02)
		return fprintf(stderr, "conn %u: hello not bound (verdict %d, "
			       "flags %#x %s:%u)\n", i, ret, v.flags, v.dst,
			       v.dport), -1;
	c->nport = v.sport;
	c->bport = v.dport;
	t = bseg(i, 0x12, syn_opts, sizeof(syn_opts), NULL, 0);
	run(&t, NULL, NULL);	/* held: the next is our second SYN's */
	run(&t, &v, &ret);	/* the ACK and the hello */
	if (ret != TC_ACT_REDIRECT || v.plen != hello.n)
		return fprintf(stderr, "conn %u: not spliced (verdict %d)\n",
			       i, ret), -1;
	return 0;
}

/* The kernel's charge for map @fd: its fdinfo's memlock, in bytes. */
static uint64_t memlock(int fd)
{
	char path[64], line[256];
	unsigned long long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %llu", &v) == 1)
			break;
	fclose(f);
	return v;
}

/*
 * Bytes in the kernel's memcg-charged kmalloc caches (kmalloc-cg-*), the
 * whole machine's: where a map's entries allocated on insert live, each
 * rounded up to its cache's size (a 336-byte flows entry takes 512). The
 * difference between two counts is this process's, give or take what
 * the rest of the machine did meanwhile.
 */
static uint64_t slab_bytes(void)
{
	unsigned long long active, objs, size, t = 0;
	char line[512], name[64];
	FILE *f = fopen("/proc/slabinfo", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s %llu %llu %llu", name, &active, &objs,
			   &size) == 4 && !strncmp(name, "kmalloc-cg-", 11))
			t += objs * size;	/* held, used or not */
	fclose(f);
	return t;
}

/* Wait (10 s at most) for the slabs to stop shrinking: the maps of a
 * run just before are freed after an RCU grace period, and would count
 * against this one's. */
static void slab_settle(void)
{
	struct timespec ms200 = { 0, 200000000 };
	uint64_t a = slab_bytes(), b;
	int i;

	for (i = 0; i < 50; i++) {
		nanosleep(&ms200, NULL);
		b = slab_bytes();
		if (b + (1u << 20) > a)	/* shrank by less than 1 MiB */
			return;
		a = b;
	}
	fprintf(stderr, "dp_mem: slabs still shrinking after 10 s\n");
}

static uint64_t maps_memlock(void)
{
	uint64_t t = 0;
	int m;

	for (m = 0; m < SNILB_MAP_MAX; m++)
		t += memlock(dp_map_fd(dp, (enum snilb_map)m));
	return t;
}

/* Each map's charge (DP_MEM_MAPS=1, at the first count). */
static void print_maps(void)
{
	static const char *const names[] = {
#define MAP_NAME(id, name, pin, fill) #name,
		SNILB_MAPS(MAP_NAME)
#undef MAP_NAME
	};
	int m;

	for (m = 0; m < SNILB_MAP_MAX; m++)
		printf("map %s %llu\n", names[m], (unsigned long long)
		       (memlock(dp_map_fd(dp, (enum snilb_map)m)) / 1024));
}

/* Seconds one pass of the reaper takes (user/dataplane/reaper.c: the
 * agent walks the flow table once a second); every flow is kept. */
static double reap_s(void)
{
	struct reap_result res;
	struct timespec ts;
	double t = now_s();

	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (dp_reap(dp, (uint64_t)ts.tv_sec * 1000000000ull +
		    (uint64_t)ts.tv_nsec, &res) ||
	    res.hello_expired || res.bind_expired || res.idle_expired) {
		fprintf(stderr, "dp_mem: the reaper failed or reaped\n");
		exit(1);
	}
	return now_s() - t;
}

static int cmp_uint(const void *a, const void *b)
{
	unsigned int x = *(const unsigned int *)a, y = *(const unsigned int *)b;

	return x < y ? -1 : x > y;
}

static unsigned int median(unsigned int *ns, unsigned int n)
{
	qsort(ns, n, sizeof(*ns), cmp_uint);
	return ns[n / 2];
}

static unsigned int ns_buf[SAMPLES];

/* Median ns of an empty program, and of a spliced packet each way over
 * random flows among the first @n. */
static void spliced_ns(uint32_t n, int efd, unsigned int *c2b,
		       unsigned int *b2c, unsigned int *floor)
{
	static uint8_t data[1400];
	unsigned int j;
	struct tpkt t;
	int ret;

	*c2b = *b2c = 0;
	for (j = 0; j < SAMPLES; j++) {
		t = cseg(0, 0x10, 0, NULL, 0);
		ns_buf[j] = run_fd(efd, &t, NULL, NULL);
	}
	*floor = median(ns_buf, SAMPLES);
	if (!n)
		return;
	for (j = 0; j < SAMPLES; j++) {
		uint32_t i = (uint32_t)random() % n;

		t = cseg(i, 0x10, (uint32_t)hello.n, NULL, 0);
		ns_buf[j] = run(&t, NULL, &ret);
		if (ret != TC_ACT_REDIRECT) {
			fprintf(stderr, "conn %u: c2b verdict %d\n", i, ret);
			exit(1);
		}
	}
	*c2b = median(ns_buf, SAMPLES);
	for (j = 0; j < SAMPLES; j++) {
		uint32_t i = (uint32_t)random() % n;

		t = bseg(i, 0x10, ts_opt, sizeof(ts_opt), data, sizeof(data));
		ns_buf[j] = run(&t, NULL, &ret);
		if (ret != TC_ACT_REDIRECT) {
			fprintf(stderr, "conn %u: b2c verdict %d\n", i, ret);
			exit(1);
		}
	}
	*b2c = median(ns_buf, SAMPLES);
}

static int setup(uint32_t nbackends, struct dp_opts *o)
{
	static struct maglev_backend b[MAX_BACKENDS];
	static char names[MAX_BACKENDS][16];
	struct snilb_config cfg = { .snat4 = htonl(0xc6120201),
				    .port_lo = 1024, .port_hi = 65535 };
	char err[256];
	uint32_t i;

	dp = dp_open(o, err, sizeof(err));
	if (!dp)
		return fprintf(stderr, "%s\n", err), -1;
	for (i = 0; i < nbackends; i++) {
		snprintf(names[i], sizeof(names[i]), "be%u", i);
		b[i] = (struct maglev_backend){ names[i], i + 1, 1 };
		if (dp_backend_set(dp, i + 1, "198.18.2.11",
				   (uint16_t)(8443 + i), 0))
			return -1;
	}
	maglev_build(b, nbackends, table, SNILB_MAGLEV_SIZE);
	if (dp_listener_add(dp, "198.18.0.10", 443, 1) ||
	    dp_route_add(dp, 1, "www.example.com", 1, 1) ||
	    dp_set_install(dp, 1, table, SNILB_MAGLEV_SIZE, nbackends) ||
	    dp_config_set(dp, &cfg))
		return fprintf(stderr, "cannot program the data plane\n"), -1;
	hb_simple(&hello, "www.example.com");
	return 0;
}

int main(int argc, char **argv)
{
	struct dp_opts o = { .log_ring = DP_LOG_RING_OFF };	/* no log */
	uint32_t counts[MAX_COUNTS], nc = 0, done = 0, i, nb;
	unsigned int c2b, b2c, fl;
	uint64_t base = 0, m = 0, slab0 = 0, slab = 0;
	double t0 = now_s(), setup_s = 0, t;
	int a, efd;

	for (a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "--prealloc"))
			o.prealloc_flows = true;
		else if (!strcmp(argv[a], "--max-flows") && a + 1 < argc)
			o.max_flows = (uint32_t)atol(argv[++a]);
		else if (nc < MAX_COUNTS)
			counts[nc++] = (uint32_t)atol(argv[a]);
	}
	if (!nc || (nc > 1 && counts[nc - 1] < counts[0])) {
		fprintf(stderr, "usage: dp_mem [--prealloc] [--max-flows N] "
			"COUNT... (ascending)\n");
		return 2;
	}
	nb = counts[nc - 1] / PER_BACKEND + 1;
	if (nb > MAX_BACKENDS || counts[nc - 1] / PER_ADDR > 200) {
		fprintf(stderr, "dp_mem: at most %u connections\n",
			MAX_BACKENDS * PER_BACKEND - 1);
		return 2;
	}
	conns = calloc(counts[nc - 1] + 1, sizeof(*conns));
	efd = empty_prog();
	if (!conns || efd < 0 || setup(nb, &o))
		return 1;
	srandom(1);
	slab_settle();
	for (a = 0; a < (int)nc; a++) {
		t = now_s();
		for (i = done; i < counts[a]; i++)
			if (connect_one(i))
				return print_stats(), 1;
		setup_s += now_s() - t;
		done = counts[a];
		m = maps_memlock();
		slab = slab_bytes();
		if (!a) {
			base = m;
			slab0 = slab;
		}
		if (!a && getenv("DP_MEM_MAPS"))
			print_maps();
		spliced_ns(done, efd, &c2b, &b2c, &fl);
		printf("mem %u %llu %llu %llu %llu %u %u %.1f %lld %.2f\n", done,
		       (unsigned long long)(m / 1024),
		       (unsigned long long)(memlock(dp_map_fd(dp, SNILB_MAP_FLOWS)) / 1024),
		       (unsigned long long)(memlock(dp_map_fd(dp, SNILB_MAP_REV)) / 1024),
		       (unsigned long long)(memlock(dp_map_fd(dp, SNILB_MAP_HELLOS)) / 1024),
		       c2b > fl ? c2b - fl : 0, b2c > fl ? b2c - fl : 0,
		       setup_s, (long long)(slab - slab0) / 1024, reap_s());
		fflush(stdout);
	}
	if (done > counts[0])
		printf("per_conn %llu %lld\n", (unsigned long long)
		       ((m - base) / (done - counts[0])),
		       (long long)(slab - slab0) / (done - counts[0]));
	printf("elapsed %.1f\n", now_s() - t0);
	close(efd);
	dp_close(dp);
	free(conns);
	return 0;
}

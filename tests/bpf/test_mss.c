// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * MSS, window scale and SACK for clients without timestamps, and packets
 * too big for a path (docs/dataplane.md "TCP correctness"), packet in ->
 * packet out with BPF_PROG_TEST_RUN (tests/bpf/harness.c). Run in the
 * namespace of tests/lib/in-netns.sh, whose veth dummy0 (the backends' path)
 * and dummy1 (a client path here) get MTUs of 1400 and 1340.
 */
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <bpf/bpf.h>
#include <linux/pkt_cls.h>

#include "harness.h"

#define BACKEND_MTU	1400	/* dummy0 */
#define CLIENT_MTU	1340	/* dummy1 */

static int client_if;		/* dummy1's ifindex */
static uint8_t data[PKT_MAX];

/* Run a frame through the program with @ctx (NULL: none); the output in
 * out/outlen, unparsed. */
static int run_raw(const uint8_t *in, size_t len, struct __sk_buff *ctx)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in,
		    .data_size_in = (__u32)len, .data_out = out,
		    .data_size_out = sizeof(out));

	if (ctx) {
		o.ctx_in = ctx;
		o.ctx_size_in = sizeof(*ctx);
	}
	assert_int_equal(bpf_prog_test_run_opts(dp_prog_fd(dp), &o), 0);
	outlen = o.data_size_out;
	return (int)o.retval;
}

/* The MAC of the device @ifindex, the frame's destination: a frame to
 * another is PACKET_OTHERHOST, not the data plane's. */
static void dev_mac(int ifindex, uint8_t *mac)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	assert_non_null(if_indextoname((unsigned)ifindex, ifr.ifr_name));
	assert_int_equal(ioctl(fd, SIOCGIFHWADDR, &ifr), 0);
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
}

/* As run(), the packet arriving on @ifindex, a GSO packet of @gso-byte
 * segments if @gso. */
static int run_on(const struct tpkt *t, int ifindex, uint32_t gso)
{
	static uint8_t in[PKT_MAX];
	struct __sk_buff ctx = { .ifindex = (__u32)ifindex };
	size_t len = tpkt_build(t, in);
	int v;

	if (ifindex > 1)
		dev_mac(ifindex, in);

	if (gso) {
		ctx.gso_size = gso;
		ctx.gso_segs = (__u32)((t->plen + gso - 1) / gso);
	}
	v = run_raw(in, len, &ctx);
	if (v == TC_ACT_REDIRECT &&
	    (out[12] == 0x08 ? out[14 + 9] : out[14 + 6]) == 6) {
		assert_int_equal(tview_parse(out, outlen, &rv), 0);
		assert_true(rv.ip_csum_ok && rv.tcp_csum_ok);
	}
	return v;
}

static void set_mtu(const char *dev, int mtu)
{
	struct ifreq ifr = { .ifr_mtu = mtu };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
	assert_int_equal(ioctl(fd, SIOCSIFMTU, &ifr), 0);
	close(fd);
}

static struct snilb_config config_get(void)
{
	struct snilb_config cfg;
	uint32_t zero = 0;

	assert_int_equal(bpf_map_lookup_elem(dp_map_fd(dp, SNILB_MAP_CONFIG),
					     &zero, &cfg), 0);
	return cfg;
}

static void set_syn_rate(uint32_t rate)
{
	struct snilb_config cfg = config_get();

	cfg.syn_state_rate = rate;
	assert_int_equal(dp_config_set(dp, &cfg), 0);
}

static struct snilb_flow_key key_of(const struct conn *c)
{
	struct snilb_flow_key k = { .family = c->v6 ? 6 : 4 };

	k.cport = htons(c->port);
	k.vport = htons(443);
	inet_pton(c->v6 ? AF_INET6 : AF_INET, c->cli, k.caddr);
	inet_pton(c->v6 ? AF_INET6 : AF_INET, c->vip, k.vaddr);
	return k;
}

/* Does syn_state hold an entry for @c's SYN? */
static int has_syn_state(const struct conn *c)
{
	int fd = dp_map_fd(dp, SNILB_MAP_SYN_STATE);
	struct snilb_flow_key k = key_of(c);
	uint64_t h = snilb_syn_hash(&k, c->isn);
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	struct snilb_syn_bucket b;
	uint32_t idx;
	int i;

	/* sized by the loader to the CPUs: a power of 2 */
	assert_int_equal(bpf_obj_get_info_by_fd(fd, &info, &len), 0);
	idx = (uint32_t)h & (info.max_entries - 1);
	assert_int_equal(bpf_map_lookup_elem(fd, &idx, &b), 0);
	for (i = 0; i < SNILB_SYN_WAYS; i++)
		if (SNILB_SYN_TAG(b.slot[i]) == (uint32_t)(h >> 32))
			return 1;
	return 0;
}

static uint16_t opt_mss(void)
{
	const uint8_t *o = tview_opt(&rv, 2);

	assert_non_null(o);
	return (uint16_t)(o[2] << 8 | o[3]);
}

/*
 * A SYN without timestamps, as Windows sends it (MSS, NOP, window scale,
 * NOP, NOP, SACK-permitted; @ws < 0: no window scale), answered with a
 * SYN-ACK without timestamps; the cookie into @c.
 */
static void syn_nots(struct conn *c, uint16_t mss, int ws, int sack)
{
	uint8_t o[12] = { 2, 4, (uint8_t)(mss >> 8), (uint8_t)mss };
	struct tpkt syn = {
		.v6 = c->v6, .src = c->cli, .dst = c->vip, .sport = c->port,
		.dport = 443, .seq = c->isn, .flags = 0x02, .window = 64240,
		.opts = o, .optlen = 4,
	};

	c->no_ts = 1;
	if (ws >= 0 || sack) {
		memcpy(o + 4, "\x01\x03\x03\x00\x01\x01\x04\x02", 8);
		o[7] = (uint8_t)(ws >= 0 ? ws : 0);
		if (ws < 0)
			memset(o + 4, 1, 4);
		if (!sack)
			memset(o + 8, 1, 4);
		syn.optlen = 12;
	}
	assert_int_equal(run(&syn), TC_ACT_REDIRECT);
	assert_int_equal(rv.flags, 0x12);
	assert_int_equal(rv.ack, c->isn + 1);
	assert_null(tview_opt(&rv, 8));
	c->cookie = rv.seq;
	c->tsval = 0;
}

/* The client's first ACK: the flow is made. */
static struct snilb_flow *first_ack(struct conn *c)
{
	struct tpkt t = seg(c, 0x10, 0, NULL, 0);

	assert_int_equal(run(&t), TC_ACT_SHOT);
	assert_non_null(flow_get(c));
	return flow_get(c);
}

/*
 * A client without timestamps offering MSS 1300, window scale 8 and SACK,
 * no SYN flood: the SYN-ACK offers scaling and SACK (the SYN's options
 * are kept in syn_state until the first ACK takes them), and the backend
 * is offered the client's MSS, window scale and SACK. Its windows reach
 * the client rescaled.
 */
static void test_nots_keeps_options(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 42000,
			  .isn = 1000 };
	struct bside b = { .addr = BE1, .snat = SNAT4, .isn = 5000 };
	uint8_t synack[12] = { 2, 4, 0x05, 0x14, 1, 3, 3, 9, 1, 1, 4, 2 };
	uint64_t kept = counter(SNILB_ST_SYN_STATE);
	struct snilb_flow *f;
	const uint8_t *o;
	struct tpkt t;
	struct hb h;

	(void)state;
	syn_nots(&c, 1300, 8, 1);
	assert_int_equal(opt_mss(), 1460);		/* ours */
	assert_non_null(tview_opt(&rv, 4));
	o = tview_opt(&rv, 3);
	assert_non_null(o);
	assert_int_equal(o[2], 7);
	assert_int_equal(counter(SNILB_ST_SYN_STATE), kept + 1);
	assert_true(has_syn_state(&c));
	f = first_ack(&c);
	assert_int_equal(f->opts.ts, 0);
	assert_int_equal(f->opts.mss, 1300);
	assert_int_equal(f->opts.wscale, 8);
	assert_int_equal(f->opts.sack, 1);
	assert_false(has_syn_state(&c));		/* taken */
	hb_simple(&h, "www.example.com");
	send_hello(&c, "www.example.com", TC_ACT_REDIRECT);
	assert_int_equal(rv.flags, 0x02);
	assert_string_equal(rv.dst, BE1);
	assert_int_equal(opt_mss(), 1300);
	o = tview_opt(&rv, 3);
	assert_non_null(o);
	assert_int_equal(o[2], 8);
	assert_non_null(tview_opt(&rv, 4));
	assert_null(tview_opt(&rv, 8));
	b.nport = rv.sport;
	/* Our first SYN, ahead of that one (bind.h syn_twice()): the same. */
	assert_int_equal(clone_next(), 0);
	assert_int_equal(cv.flags, 0x02);
	o = tview_opt(&cv, 2);
	assert_non_null(o);
	assert_int_equal(o[2] << 8 | o[3], 1300);
	assert_int_equal(tview_opt(&cv, 3)[2], 8);
	assert_non_null(tview_opt(&cv, 4));
	assert_null(tview_opt(&cv, 8));
	t = from_backend(&c, &b, 0x12, b.isn, c.isn + 1, synack,
			 sizeof(synack), NULL, 0);
	first_synack(&c, &b, &t);
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_int_equal(flow_get(&c)->state, SNILB_FS_SPLICED);
	/* 100 << 9 (the backend's scale) is 400 << 7 (ours). */
	t = from_backend(&c, &b, 0x10, b.isn + 1, c.isn + 1 + (uint32_t)h.n,
			 NULL, 0, data, 100);
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_string_equal(rv.dst, CLI4);
	assert_int_equal(rv.window, 400);
}

/*
 * Under a SYN flood (here: no state at all), cookies alone: no window
 * scale or SACK offered, and the MSS the cookie encodes -- the kernel's
 * table, rounded down, and never above ours -- reaches the backend.
 */
static void test_nots_cookie_only(void **state)
{
	static const struct { int v6; uint16_t mss, want; } cases[] = {
		{ 0, 536, 536 }, { 0, 1000, 536 }, { 0, 1300, 1300 },
		{ 0, 1399, 1300 }, { 0, 1440, 1440 }, { 0, 1459, 1440 },
		{ 0, 1460, 1460 }, { 0, 9000, 1460 }, { 1, 1220, 1220 },
		{ 1, 1419, 1220 }, { 1, 1420, 1420 }, { 1, 1440, 1440 },
		{ 1, 9000, 1440 },
	};
	uint64_t alone = counter(SNILB_ST_SYN_COOKIE_ONLY);
	size_t i;

	(void)state;
	set_syn_rate(SNILB_SYN_STATE_OFF);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct conn c = { .v6 = cases[i].v6,
				  .cli = cases[i].v6 ? CLI6 : CLI4,
				  .vip = cases[i].v6 ? VIP6 : VIP4,
				  .port = (uint16_t)(42100 + i),
				  .isn = 7 + (uint32_t)i * 1000003 };
		struct snilb_flow *f;

		syn_nots(&c, cases[i].mss, 8, 1);
		assert_null(tview_opt(&rv, 3));
		assert_null(tview_opt(&rv, 4));
		assert_false(has_syn_state(&c));
		f = first_ack(&c);
		if (f->opts.mss != cases[i].want)
			fail_msg("IPv%d MSS %u: flow says %u, want %u",
				 cases[i].v6 ? 6 : 4, cases[i].mss,
				 f->opts.mss, cases[i].want);
		assert_int_equal(f->opts.wscale, 0xf);
		assert_int_equal(f->opts.sack, 0);
		if (i == 2) {	/* MSS 1300: what the backend is told */
			send_hello(&c, "www.example.com", TC_ACT_REDIRECT);
			assert_int_equal(rv.flags, 0x02);
			assert_int_equal(opt_mss(), 1300);
			assert_null(tview_opt(&rv, 3));
			assert_null(tview_opt(&rv, 4));
		}
	}
	assert_int_equal(counter(SNILB_ST_SYN_COOKIE_ONLY),
			 alone + sizeof(cases) / sizeof(cases[0]));
	set_syn_rate(0);
}

/* The slot of the clock syn_budget() counts seconds of (~1.07 s). */
static uint64_t budget_slot(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000ull +
		(uint64_t)ts.tv_nsec) >> 30;
}

/*
 * The budget: with 2 states a second (on this CPU: the test is pinned to
 * one), a burst of SYNs soon gets cookies alone. A SYN resent after the
 * budget ran out, whose first copy got a state, is answered as that copy
 * was. A bare SYN never needs a state.
 */
static void test_nots_budget(void **state)
{
	uint64_t kept = counter(SNILB_ST_SYN_STATE), s0, s1, n;
	struct conn c[8], x = { .cli = CLI4, .vip = VIP4, .port = 42290,
				.isn = 3 };
	int i, alone = -1;

	(void)state;
	set_syn_rate(2);
	s0 = budget_slot();
	for (i = 0; i < 8 && alone < 0; i++) {
		c[i] = (struct conn){ .cli = CLI4, .vip = VIP4,
				      .port = (uint16_t)(42200 + i),
				      .isn = 100 + (uint32_t)i };
		syn_nots(&c[i], 1460, 8, 1);
		if (!tview_opt(&rv, 3))
			alone = i;
	}
	s1 = budget_slot();
	/* Two states per second counted, at most; the BPF clock may lag
	 * ours by a tick: one second more. */
	n = counter(SNILB_ST_SYN_STATE) - kept;
	assert_true(n <= 2 * (s1 - s0 + 2));
	if (s1 - s0 <= 1)
		assert_true(alone >= 0);
	if (alone >= 0)
		assert_int_equal(first_ack(&c[alone])->opts.wscale, 0xf);
	set_syn_rate(0);
	syn_nots(&x, 1460, 8, 1);
	assert_non_null(tview_opt(&rv, 3));
	set_syn_rate(SNILB_SYN_STATE_OFF);
	syn_nots(&x, 1460, 8, 1);			/* resent */
	assert_non_null(tview_opt(&rv, 3));
	assert_non_null(tview_opt(&rv, 4));
	assert_int_equal(first_ack(&x)->opts.wscale, 8);
	set_syn_rate(0);
	kept = counter(SNILB_ST_SYN_STATE);
	x = (struct conn){ .cli = CLI4, .vip = VIP4, .port = 42291, .isn = 3 };
	syn_nots(&x, 1300, -1, 0);
	assert_int_equal(counter(SNILB_ST_SYN_STATE), kept);
	assert_int_equal(first_ack(&x)->opts.mss, 1300);
}

/* The MSS the agent sets (--mss): offered to clients, and the most a
 * backend is told, whatever the client offered. */
static void test_mss_config(void **state)
{
	struct snilb_config saved = config_get(), cfg = saved;
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 42250, .isn = 9 };
	struct conn c6 = { .v6 = 1, .cli = CLI6, .vip = VIP6, .port = 42251,
			   .isn = 9 };

	(void)state;
	cfg.mss4 = 1300;
	cfg.mss6 = 1280;
	assert_int_equal(dp_config_set(dp, &cfg), 0);
	handshake(&c);
	assert_int_equal(opt_mss(), 1300);
	connect_to(&c);
	send_hello(&c, "www.example.com", TC_ACT_REDIRECT);
	assert_int_equal(rv.flags, 0x02);
	assert_int_equal(opt_mss(), 1300);		/* the client: 1460 */
	handshake(&c6);
	assert_int_equal(opt_mss(), 1280);
	connect_to(&c6);
	send_hello(&c6, "v6.example.com", TC_ACT_REDIRECT);
	assert_int_equal(opt_mss(), 1280);		/* the client: 1440 */
	assert_int_equal(dp_config_set(dp, &saved), 0);
}

/*
 * An ICMP "fragmentation needed" (ICMPv6 "packet too big") in out: from
 * @from to @to, MTU @mtu, quoting a packet @qsrc:@qsport -> @qdst:@qdport
 * with sequence number @qseq. Every checksum right; the quoted TCP
 * checksum such that a checksum completion (the skb may be
 * CHECKSUM_PARTIAL) would write it again.
 */
struct quote {
	const char *src, *dst;
	uint16_t sport, dport;
	uint32_t seq;
};

static void assert_quote(const uint8_t *q, int v6, const struct quote *w)
{
	size_t iph = v6 ? 40 : 20;

	assert_ip_addrs(q, v6, w->src, w->dst);
	assert_int_equal(q[iph] << 8 | q[iph + 1], w->sport);
	assert_int_equal(q[iph + 2] << 8 | q[iph + 3], w->dport);
	assert_int_equal(be32(q + iph + 4), w->seq);
}

static void expect_too_big(int v6, const char *from, const char *to,
			   uint32_t mtu, const struct quote *w)
{
	size_t iph = v6 ? 40 : 20;
	uint8_t *ip = out + 14, *icmp = ip + iph, *q = icmp + 8;
	uint16_t field, again;

	assert_int_equal(outlen, 14 + iph + 8 + iph + 20);
	assert_memory_equal(out, "\x02\0\0\0\0\x02" TEST_HOST_MAC, 12);
	assert_int_equal(out[12] << 8 | out[13], v6 ? 0x86dd : 0x0800);
	assert_ip_addrs(ip, v6, from, to);
	if (v6) {
		assert_int_equal(ip[0] >> 4, 6);
		assert_int_equal(ip[4] << 8 | ip[5], 8 + 40 + 20);
		assert_int_equal(ip[6], 58);
		assert_int_equal(icmp[0], 2);
		assert_int_equal(icmp[1], 0);
		assert_int_equal(be32(icmp + 4), mtu);
	} else {
		assert_int_equal(ip[0], 0x45);
		assert_int_equal(ip[2] << 8 | ip[3], 20 + 8 + 20 + 20);
		assert_int_equal(ip[9], 1);
		assert_int_equal(icmp[0], 3);
		assert_int_equal(icmp[1], 4);
		assert_int_equal(icmp[6] << 8 | icmp[7], mtu);
	}
	assert_int_equal(icmp_sum(ip, v6, icmp, 8 + iph + 20), 0);
	assert_quote(q, v6, w);
	field = (uint16_t)(q[iph + 16] << 8 | q[iph + 17]);
	again = csum_fin(csum_add(0, q + iph, 20));
	assert_true(again == field || (uint16_t)(again + field) == 0xffff);
}

/*
 * A client packet too big for the backend's path (dummy0, MTU 1400):
 * answered from the VIP with "fragmentation needed", MTU 1400, and
 * dropped; one that fits, and a GSO packet whose segments fit, go on.
 */
static void too_big_c2b(int v6, uint16_t port)
{
	struct conn c = { .v6 = v6, .cli = v6 ? CLI6 : CLI4,
			  .vip = v6 ? VIP6 : VIP4, .port = port, .isn = 77 };
	struct bside b = { .addr = v6 ? BE6 : BE1, .snat = v6 ? SNAT6 : SNAT4,
			   .isn = 900 };
	uint64_t big = counter(SNILB_ST_TOO_BIG);
	size_t hdr = (v6 ? 40 : 20) + 20 + 12;	/* IP, TCP, NOP NOP TS */
	uint32_t fit = BACKEND_MTU - (uint32_t)hdr;
	struct quote w;
	struct tpkt t;
	struct hb h;

	splice_up_to(&c, &b, &h, v6 ? "v6.example.com" : "www.example.com");
	assert_int_equal(flow_get(&c)->bmtu, BACKEND_MTU);
	t = seg(&c, 0x18, (uint32_t)h.n, data, fit);
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_string_equal(rv.dst, b.addr);
	assert_int_equal(rv.plen, fit);
	t.plen = fit + 1;
	assert_int_equal(run_on(&t, 0, 0), TC_ACT_REDIRECT);
	w = (struct quote){ c.cli, c.vip, port, 443, c.isn + 1 + (uint32_t)h.n };
	expect_too_big(v6, c.vip, c.cli, BACKEND_MTU, &w);
	assert_int_equal(counter(SNILB_ST_TOO_BIG), big + 1);
	assert_non_null(flow_get(&c));
	/* GSO (2 segments: BPF_PROG_TEST_RUN takes a page at most): they
	 * fit, then they do not. */
	t.plen = 2 * fit;
	assert_int_equal(run_on(&t, 0, fit), TC_ACT_REDIRECT);
	assert_string_equal(rv.dst, b.addr);
	t.plen = 2 * (fit + 1);
	assert_int_equal(run_on(&t, 0, fit + 1), TC_ACT_REDIRECT);
	expect_too_big(v6, c.vip, c.cli, BACKEND_MTU, &w);
	assert_int_equal(counter(SNILB_ST_TOO_BIG), big + 2);
}

static void test_too_big_to_backend(void **state)
{
	(void)state;
	too_big_c2b(0, 42300);
	too_big_c2b(1, 42301);
}

/*
 * A backend packet too big for the client's path (the client's packets
 * arrive on dummy1, MTU 1340): answered from the SNAT address with
 * "fragmentation needed", MTU 1340, quoting the backend's own packet.
 */
static void too_big_b2c(int v6, uint16_t port)
{
	struct conn c = { .v6 = v6, .cli = v6 ? CLI6 : CLI4,
			  .vip = v6 ? VIP6 : VIP4, .port = port, .isn = 77 };
	struct bside b = { .addr = v6 ? BE6 : BE1, .snat = v6 ? SNAT6 : SNAT4,
			   .isn = 900 };
	uint32_t fit = CLIENT_MTU - (v6 ? 40 : 20) - 20;
	uint64_t big = counter(SNILB_ST_TOO_BIG);
	struct quote w;
	struct tpkt t;
	struct hb h;

	handshake(&c);
	t = seg(&c, 0x10, 0, NULL, 0);
	assert_int_equal(run_on(&t, client_if, 0), TC_ACT_SHOT);
	assert_int_equal(flow_get(&c)->ifindex, client_if);
	send_hello(&c, v6 ? "v6.example.com" : "www.example.com",
		   TC_ACT_REDIRECT);
	hb_simple(&h, v6 ? "v6.example.com" : "www.example.com");
	expect_syn_to(&c, &b);
	t = from_backend(&c, &b, 0x12, b.isn, c.isn + 1, NULL, 0, NULL, 0);
	first_synack(&c, &b, &t);
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	t = from_backend(&c, &b, 0x18, b.isn + 1, c.isn + 1 + (uint32_t)h.n,
			 NULL, 0, data, fit);
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_string_equal(rv.dst, c.cli);
	t.plen = fit + 1;
	assert_int_equal(run_on(&t, 0, 0), TC_ACT_REDIRECT);
	w = (struct quote){ b.addr, b.snat, 8443, b.nport, b.isn + 1 };
	expect_too_big(v6, b.snat, b.addr, CLIENT_MTU, &w);
	assert_int_equal(counter(SNILB_ST_TOO_BIG), big + 1);
}

static void test_too_big_to_client(void **state)
{
	(void)state;
	too_big_b2c(0, 42400);
	too_big_b2c(1, 42401);
}

/*
 * A router on the client's path answers a packet we sent the client (from
 * the VIP) with "fragmentation needed": the backend gets it in its own
 * terms -- from the SNAT address, quoting its own packet (its sequence
 * number, not the client's view of it), every checksum right, the MTU
 * kept -- over the backend's path. @short_quote: 8 bytes of TCP quoted.
 */
static void client_icmp(int v6, int short_quote, uint16_t port)
{
	struct conn c = { .v6 = v6, .cli = v6 ? CLI6 : CLI4,
			  .vip = v6 ? VIP6 : VIP4, .port = port, .isn = 77 };
	struct bside b = { .addr = v6 ? BE6 : BE1, .snat = v6 ? SNAT6 : SNAT4,
			   .isn = 0xfffffff0 };
	uint64_t back = counter(SNILB_ST_ICMP_BACK), drops;
	const char *router = v6 ? "2001:db8:1::fe" : "198.18.1.254";
	static uint8_t in[PKT_MAX], quote[PKT_MAX];
	size_t iph = v6 ? 40 : 20, qlen, len;
	uint8_t *ip = out + 14, *icmp = ip + iph, *q = icmp + 8;
	struct quote w;
	struct tpkt t;
	struct hb h;

	splice_up_to(&c, &b, &h, v6 ? "v6.example.com" : "www.example.com");
	t = from_backend(&c, &b, 0x18, b.isn + 1, c.isn + 1 + (uint32_t)h.n,
			 NULL, 0, data, 40);
	assert_int_equal(run(&t), TC_ACT_REDIRECT);	/* as the client got it */
	assert_string_equal(rv.dst, c.cli);
	qlen = short_quote ? iph + 8 : outlen - 14;
	memcpy(quote, out + 14, qlen);
	len = icmp_error(in, v6, router, c.vip, v6 ? 2 : 3, v6 ? 0 : 4,
			 1200, quote, qlen);
	assert_int_equal(run_raw(in, len, NULL), TC_ACT_REDIRECT);
	assert_int_equal(outlen, len);
	assert_int_equal(counter(SNILB_ST_ICMP_BACK), back + 1);
	assert_memory_equal(out, v6 ? "\x02\0\0\0\x0b\x03" :
			    "\x02\0\0\0\x0b\x01", 6);
	assert_ip_addrs(ip, v6, b.snat, b.addr);
	assert_int_equal(icmp[0], v6 ? 2 : 3);
	assert_int_equal(be32(icmp + 4), 1200);
	assert_int_equal(icmp_sum(ip, v6, icmp, len - 14 - iph), 0);
	w = (struct quote){ b.addr, b.snat, 8443, b.nport, b.isn + 1 };
	assert_quote(q, v6, &w);
	if (!short_quote)
		assert_int_equal(tcp_csum(q, v6, q + iph, qlen - iph), 0);
	/* About a flow we do not have: to a VIP, so dropped (vip.h). */
	drops = counter(SNILB_ST_VIP_DROP);
	len = icmp_error(in, v6, router, c.vip, v6 ? 2 : 3, v6 ? 0 : 4,
			 1200, quote, qlen);
	in[14 + iph + 8 + iph + 3] ^= 0xff;	/* another client port */
	assert_int_equal(run_raw(in, len, NULL), TC_ACT_SHOT);
	assert_int_equal(counter(SNILB_ST_VIP_DROP), drops + 1);
}

static void test_client_icmp_to_backend(void **state)
{
	(void)state;
	client_icmp(0, 0, 42500);
	client_icmp(1, 0, 42501);
	client_icmp(0, 1, 42502);
}

/* The harness, then the two paths' MTUs, and one CPU: the SYN budget
 * is per CPU. */
static int setup(void **state)
{
	cpu_set_t one;

	CPU_ZERO(&one);
	CPU_SET(sched_getcpu(), &one);
	if (sched_setaffinity(0, sizeof(one), &one))
		return -1;
	client_if = (int)if_nametoindex("dummy1");
	if (!client_if) {
		print_message("no dummy1: run under tests/lib/in-netns.sh\n");
		return -1;
	}
	set_mtu("dummy0", BACKEND_MTU);
	set_mtu("dummy1", CLIENT_MTU);
	return harness_setup(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nots_keeps_options),
		cmocka_unit_test(test_nots_cookie_only),
		cmocka_unit_test(test_nots_budget),
		cmocka_unit_test(test_mss_config),
		cmocka_unit_test(test_too_big_to_backend),
		cmocka_unit_test(test_too_big_to_client),
		cmocka_unit_test(test_client_icmp_to_backend),
	};

	return cmocka_run_group_tests_name("mss", tests, setup,
					   harness_teardown);
}

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The data plane, packet in -> packet out, with BPF_PROG_TEST_RUN on the
 * real programs (loaded through the verifier, maps written through
 * user/dataplane.c): handshakes with cookies, the first ACK, hello
 * buffering, routing and every reset, for IPv4 and IPv6.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <bpf/bpf.h>
#include <linux/pkt_cls.h>

#include "dataplane.h"
#include "packets.h"
#include "../unit/hello_builder.h"

#define VIP4 "198.18.0.10"
#define VIP6 "2001:db8::10"
#define CLI4 "198.18.1.2"
#define CLI6 "2001:db8:1::2"

static struct dataplane *dp;
static uint8_t out[PKT_MAX];
static size_t outlen;
static struct tview rv;		/* the program's answer, parsed */

/* Linux's SYN options: MSS 1460, SACK-permitted, TS, NOP, WS 7. */
static const uint8_t linux_syn_opts[20] = {
	2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0x03, 0xe8, 0, 0, 0, 0, 1, 3, 3, 7,
};

static int run(const struct tpkt *t)
{
	static uint8_t in[PKT_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, o);
	int err;

	o.data_in = in;
	o.data_size_in = (__u32)tpkt_build(t, in);
	o.data_out = out;
	o.data_size_out = sizeof(out);
	err = bpf_prog_test_run_opts(dp_prog_fd(dp), &o);
	assert_int_equal(err, 0);
	outlen = o.data_size_out;
	if (o.retval == TC_ACT_REDIRECT) {
		assert_int_equal(tview_parse(out, outlen, &rv), 0);
		assert_true(rv.ip_csum_ok);
		assert_true(rv.tcp_csum_ok);
	}
	return (int)o.retval;
}

static uint64_t stat(uint32_t idx)
{
	uint64_t v = 0;

	assert_int_equal(dp_stat(dp, idx, &v), 0);
	return v;
}

/* A client connection under test. */
struct conn {
	int v6;
	const char *cli, *vip;
	uint16_t port;
	uint32_t isn;		/* client's */
	uint32_t cookie;	/* ours */
	uint32_t tsval;		/* ours, from the SYN-ACK */
	int no_ts;
};

static struct tpkt seg(const struct conn *c, uint8_t flags, uint32_t off,
		       const uint8_t *payload, size_t plen)
{
	static uint8_t ts[12];
	struct tpkt t = {
		.v6 = c->v6, .src = c->cli, .dst = c->vip,
		.sport = c->port, .dport = 443,
		.seq = c->isn + 1 + off, .ack = c->cookie + 1,
		.flags = flags, .window = 502,
		.payload = payload, .plen = plen,
	};

	if (!c->no_ts) {
		memcpy(ts, "\x01\x01\x08\x0a\0\0\x03\xe9", 8);
		ts[8] = (uint8_t)(c->tsval >> 24);
		ts[9] = (uint8_t)(c->tsval >> 16);
		ts[10] = (uint8_t)(c->tsval >> 8);
		ts[11] = (uint8_t)c->tsval;
		t.opts = ts;
		t.optlen = 12;
	}
	return t;
}

/* SYN -> SYN-ACK; fills the cookie and our timestamp. */
static void handshake(struct conn *c)
{
	static const uint8_t mss_only[4] = { 2, 4, 0x05, 0xb4 };
	struct tpkt syn = {
		.v6 = c->v6, .src = c->cli, .dst = c->vip,
		.sport = c->port, .dport = 443, .seq = c->isn,
		.flags = 0x02, .window = 64240,
		.opts = c->no_ts ? mss_only : linux_syn_opts,
		.optlen = c->no_ts ? 4 : 20,
	};
	const uint8_t *ts;

	assert_int_equal(run(&syn), TC_ACT_REDIRECT);
	assert_string_equal(rv.src, c->vip);
	assert_string_equal(rv.dst, c->cli);
	assert_int_equal(rv.sport, 443);
	assert_int_equal(rv.dport, c->port);
	assert_int_equal(rv.flags, 0x12);
	assert_int_equal(rv.ack, c->isn + 1);
	assert_true(rv.window > 0);
	assert_memory_equal(rv.dmac, "\x02\0\0\0\0\x02", 6);
	c->cookie = rv.seq;
	ts = tview_opt(&rv, 8);
	c->tsval = ts ? be32(ts + 2) : 0;
}

static struct snilb_flow *flow_get(const struct conn *c)
{
	static struct snilb_flow f;
	struct snilb_flow_key k = { .family = c->v6 ? 6 : 4 };

	k.cport = htons(c->port);
	k.vport = htons(443);
	inet_pton(c->v6 ? AF_INET6 : AF_INET, c->cli, k.caddr);
	inet_pton(c->v6 ? AF_INET6 : AF_INET, c->vip, k.vaddr);
	if (bpf_map_lookup_elem(dp_map_fd(dp, "flows"), &k, &f))
		return NULL;
	return &f;
}

/* Handshake, then the first ACK: the flow exists, in HELLO. */
static void connect_to(struct conn *c)
{
	struct tpkt ack;

	handshake(c);
	ack = seg(c, 0x10, 0, NULL, 0);
	assert_int_equal(run(&ack), TC_ACT_SHOT);	/* consumed */
	assert_non_null(flow_get(c));
	assert_int_equal(flow_get(c)->state, SNILB_FS_HELLO);
}

static void send_hello(struct conn *c, const char *name, int expect)
{
	struct hb h;
	struct tpkt t;

	hb_simple(&h, name);
	t = seg(c, 0x18, 0, h.b, h.n);
	assert_int_equal(run(&t), expect);
}

/* --- tests ----------------------------------------------------------- */

static void test_not_ours_passes(void **state)
{
	struct tpkt t = {
		.src = CLI4, .dst = VIP4, .sport = 1000, .dport = 8443,
		.seq = 1, .flags = 0x02, .window = 1000,
	};
	uint64_t before = stat(SNILB_ST_PASS);

	(void)state;
	assert_int_equal(run(&t), TC_ACT_OK);
	assert_int_equal(stat(SNILB_ST_PASS), before + 1);
	t.dport = 443;
	t.dst = "198.18.0.11";			/* other address */
	assert_int_equal(run(&t), TC_ACT_OK);
}

static void test_synack_options(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 40001,
			  .isn = 1000000 };
	const uint8_t *o;

	(void)state;
	handshake(&c);
	o = tview_opt(&rv, 2);
	assert_non_null(o);
	assert_int_equal(o[2] << 8 | o[3], 1460);
	assert_non_null(tview_opt(&rv, 4));		/* SACK offered */
	o = tview_opt(&rv, 8);
	assert_non_null(o);
	assert_int_equal(be32(o + 6), 1000);		/* echoes TSval */
	assert_int_equal(be32(o + 2) & 0x7f, 3 << 5 | 1 << 4 | 7);
	o = tview_opt(&rv, 3);
	assert_non_null(o);
	assert_int_equal(rv.plen, 0);
	/* No state for a SYN. */
	assert_null(flow_get(&c));
}

static void test_synack_without_timestamps(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 40002,
			  .isn = 77, .no_ts = 1 };
	struct snilb_flow *f;

	(void)state;
	handshake(&c);
	assert_non_null(tview_opt(&rv, 2));
	assert_null(tview_opt(&rv, 4));
	assert_null(tview_opt(&rv, 8));
	assert_null(tview_opt(&rv, 3));
	connect_to(&c);
	f = flow_get(&c);
	assert_int_equal(f->opts.ts, 0);
	assert_int_equal(f->opts.mss, 1460);
}

static void test_first_ack_creates_flow(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 40003,
			  .isn = 0xfffffff0 };	/* wraps */
	struct snilb_flow *f;

	(void)state;
	connect_to(&c);
	f = flow_get(&c);
	assert_int_equal(f->client_isn, c.isn);
	assert_int_equal(f->our_isn, c.cookie);
	assert_int_equal(f->opts.ts, 1);
	assert_int_equal(f->opts.sack, 1);
	assert_int_equal(f->opts.wscale, 7);
	assert_int_equal(f->opts.mss, 1460);
}

static void test_bad_cookie_resets(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 40004, .isn = 5 };
	uint64_t bad = stat(SNILB_ST_COOKIE_BAD);
	struct tpkt t;

	(void)state;
	handshake(&c);
	c.cookie += 1;				/* acks the wrong number */
	t = seg(&c, 0x10, 0, NULL, 0);
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_int_equal(rv.flags, 0x04);	/* RST, seq = their ack */
	assert_int_equal(rv.seq, c.cookie + 1);
	assert_int_equal(stat(SNILB_ST_COOKIE_BAD), bad + 1);
	assert_null(flow_get(&c));
}

static void test_routes_exact_and_wildcard(void **state)
{
	static const struct { const char *name; uint32_t route; } cases[] = {
		{ "www.example.com", 10 },
		{ "WWW.Example.COM", 10 },
		{ "a.example.com", 11 },
		{ "x.y.example.com", 11 },
		{ "x.b.example.com", 12 },
		{ "x.y.b.example.com", 12 },
		{ "b.example.com", 11 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct conn c = { .cli = CLI4, .vip = VIP4,
				  .port = (uint16_t)(41000 + i), .isn = 9 };

		connect_to(&c);
		send_hello(&c, cases[i].name, TC_ACT_SHOT);
		assert_int_equal(flow_get(&c)->state, SNILB_FS_ROUTED);
		if (flow_get(&c)->route != cases[i].route)
			fail_msg("%s: route %u, want %u", cases[i].name,
				 flow_get(&c)->route, cases[i].route);
	}
}

static void expect_reset(struct conn *c, size_t plen, uint32_t why)
{
	uint64_t before = stat(SNILB_ST_REJECT_BASE + why);

	(void)before;
	assert_int_equal(rv.flags, 0x14);		/* RST|ACK */
	assert_int_equal(rv.seq, c->cookie + 1);
	assert_int_equal(rv.ack, c->isn + 1 + (uint32_t)plen);
	assert_string_equal(rv.dst, c->cli);
	assert_null(flow_get(c));
}

static void test_unknown_sni_resets(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 40010, .isn = 3 };
	uint64_t before = stat(SNILB_ST_REJECT_BASE + SNILB_REJ_NO_ROUTE);
	struct hb h;

	(void)state;
	connect_to(&c);
	hb_simple(&h, "example.com");	/* "*.example.com" does not cover */
	send_hello(&c, "example.com", TC_ACT_REDIRECT);
	expect_reset(&c, h.n, SNILB_REJ_NO_ROUTE);
	assert_int_equal(stat(SNILB_ST_REJECT_BASE + SNILB_REJ_NO_ROUTE),
			 before + 1);
}

static void test_bad_hello_resets(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 40011, .isn = 3 };
	uint64_t before = stat(SNILB_ST_REJECT_BASE + CH_R_BAD_SNI);
	struct tpkt t;

	(void)state;
	connect_to(&c);
	send_hello(&c, "bad_name.example.com", TC_ACT_REDIRECT);
	assert_int_equal(stat(SNILB_ST_REJECT_BASE + CH_R_BAD_SNI),
			 before + 1);
	/* Not TLS at all. */
	c.port++;
	connect_to(&c);
	t = seg(&c, 0x18, 0, (const uint8_t *)"GET / HTTP/1.1\r\n", 16);
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	expect_reset(&c, 16, CH_R_NOT_HANDSHAKE);
}

static void test_hello_in_segments(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 40020,
			  .isn = 0xffffff00 };
	uint64_t gap = stat(SNILB_ST_HELLO_GAP), dup = stat(SNILB_ST_HELLO_DUP);
	struct tpkt t;
	struct hb h;
	size_t a = 40, b = 100;

	(void)state;
	hb_simple(&h, "seg.example.com");
	assert_true(h.n > b);
	connect_to(&c);
	/* The second piece first: it waits for the first (dropped). */
	t = seg(&c, 0x18, (uint32_t)a, h.b + a, b - a);
	assert_int_equal(run(&t), TC_ACT_SHOT);
	assert_int_equal(stat(SNILB_ST_HELLO_GAP), gap + 1);
	t = seg(&c, 0x18, 0, h.b, a);
	assert_int_equal(run(&t), TC_ACT_SHOT);
	/* A retransmission of the first piece brings nothing. */
	assert_int_equal(run(&t), TC_ACT_SHOT);
	assert_int_equal(stat(SNILB_ST_HELLO_DUP), dup + 1);
	/* Overlapping retransmission of 0..b: only a..b is new. */
	t = seg(&c, 0x18, 0, h.b, b);
	assert_int_equal(run(&t), TC_ACT_SHOT);
	assert_int_equal(flow_get(&c)->state, SNILB_FS_HELLO);
	assert_int_equal(flow_get(&c)->hello_len, 0);	/* kept in hellos */
	t = seg(&c, 0x18, (uint32_t)b, h.b + b, h.n - b);
	assert_int_equal(run(&t), TC_ACT_SHOT);
	assert_int_equal(flow_get(&c)->state, SNILB_FS_ROUTED);
	assert_int_equal(flow_get(&c)->route, 11);
}

static void test_client_gives_up(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 40030, .isn = 1 };
	struct tpkt t;

	(void)state;
	connect_to(&c);
	t = seg(&c, 0x11, 0, NULL, 0);		/* FIN before any hello */
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	expect_reset(&c, 0, 0);
	c.port++;
	connect_to(&c);
	t = seg(&c, 0x04, 0, NULL, 0);		/* RST: just forget it */
	assert_int_equal(run(&t), TC_ACT_SHOT);
	assert_null(flow_get(&c));
}

static void test_malformed_tcp_dropped(void **state)
{
	static uint8_t in[128];
	struct tpkt t = {
		.src = CLI4, .dst = VIP4, .sport = 1000, .dport = 443,
		.seq = 1, .flags = 0x02, .window = 1000,
	};
	uint64_t bad = stat(SNILB_ST_BAD_TCP);
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in);

	(void)state;
	o.data_size_in = (__u32)tpkt_build(&t, in);
	in[14 + 20 + 12] = 4 << 4;		/* data offset 16 bytes */
	assert_int_equal(bpf_prog_test_run_opts(dp_prog_fd(dp), &o), 0);
	assert_int_equal(o.retval, TC_ACT_SHOT);
	in[14 + 20 + 12] = 15 << 4;		/* 60 bytes, past the end */
	assert_int_equal(bpf_prog_test_run_opts(dp_prog_fd(dp), &o), 0);
	assert_int_equal(o.retval, TC_ACT_SHOT);
	assert_int_equal(stat(SNILB_ST_BAD_TCP), bad + 2);
	/* SYN+RST to a listener. */
	t.flags = 0x06;
	assert_int_equal(run(&t), TC_ACT_SHOT);
}

static void test_ipv6(void **state)
{
	struct conn c = { .v6 = 1, .cli = CLI6, .vip = VIP6, .port = 40100,
			  .isn = 42 };
	const uint8_t *o;

	(void)state;
	handshake(&c);
	o = tview_opt(&rv, 2);
	assert_non_null(o);
	assert_int_equal(o[2] << 8 | o[3], 1440);
	connect_to(&c);
	send_hello(&c, "v6.example.com", TC_ACT_SHOT);
	assert_int_equal(flow_get(&c)->route, 20);
	/* The IPv4 listener's routes are not the IPv6 listener's. */
	c.port++;
	connect_to(&c);
	send_hello(&c, "www.example.com", TC_ACT_REDIRECT);
	assert_int_equal(rv.flags, 0x14);
}

static int setup(void **state)
{
	char err[256];

	(void)state;
	if (geteuid() != 0) {
		print_message("skipped: loading BPF needs root\n");
		return -1;
	}
	dp = dp_open(err, sizeof(err));
	if (!dp) {
		print_message("%s\n", err);
		return -1;
	}
	if (dp_listener_add(dp, VIP4, 443, 1) ||
	    dp_listener_add(dp, VIP6, 443, 2) ||
	    dp_route_add(dp, 1, "www.example.com", 10, 1) ||
	    dp_route_add(dp, 1, "*.example.com", 11, 2) ||
	    dp_route_add(dp, 1, "*.b.example.com", 12, 3) ||
	    dp_route_add(dp, 2, "v6.example.com", 20, 4))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	dp_close(dp);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_not_ours_passes),
		cmocka_unit_test(test_synack_options),
		cmocka_unit_test(test_synack_without_timestamps),
		cmocka_unit_test(test_first_ack_creates_flow),
		cmocka_unit_test(test_bad_cookie_resets),
		cmocka_unit_test(test_routes_exact_and_wildcard),
		cmocka_unit_test(test_unknown_sni_resets),
		cmocka_unit_test(test_bad_hello_resets),
		cmocka_unit_test(test_hello_in_segments),
		cmocka_unit_test(test_client_gives_up),
		cmocka_unit_test(test_malformed_tcp_dropped),
		cmocka_unit_test(test_ipv6),
	};

	return cmocka_run_group_tests_name("dataplane", tests, setup,
					   teardown);
}

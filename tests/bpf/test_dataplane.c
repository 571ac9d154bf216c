// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The data plane, packet in -> packet out, with BPF_PROG_TEST_RUN on the
 * real programs (loaded through the verifier, maps written through
 * user/dataplane/dataplane.c): handshakes with cookies, the first ACK, hello
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

#include "harness.h"

/* The node's own traffic (a VIP's other ports: tests/bpf/test_vip.c). */
static void test_not_ours_passes(void **state)
{
	struct tpkt t = {
		.src = CLI4, .dst = "198.18.1.1", .sport = 1000, .dport = 8443,
		.seq = 1, .flags = 0x02, .window = 1000,
	};
	uint64_t before = counter(SNILB_ST_PASS);

	(void)state;
	assert_int_equal(run(&t), TC_ACT_OK);
	assert_int_equal(counter(SNILB_ST_PASS), before + 1);
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
	uint64_t bad = counter(SNILB_ST_COOKIE_BAD);
	struct tpkt t;

	(void)state;
	handshake(&c);
	c.cookie += 1;				/* acks the wrong number */
	t = seg(&c, 0x10, 0, NULL, 0);
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_int_equal(rv.flags, 0x04);	/* RST, seq = their ack */
	assert_int_equal(rv.seq, c.cookie + 1);
	assert_int_equal(counter(SNILB_ST_COOKIE_BAD), bad + 1);
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
		send_hello(&c, cases[i].name, TC_ACT_REDIRECT);
		assert_int_equal(rv.flags, 0x02);	/* SYN to a backend */
		assert_int_equal(flow_get(&c)->state, SNILB_FS_ROUTED);
		if (flow_get(&c)->route != cases[i].route)
			fail_msg("%s: route %u, want %u", cases[i].name,
				 flow_get(&c)->route, cases[i].route);
	}
}

static void expect_reset(struct conn *c, size_t plen, uint32_t why)
{
	uint64_t before = counter(SNILB_ST_REJECT_BASE + why);

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
	uint64_t before = counter(SNILB_ST_REJECT_BASE + SNILB_REJ_NO_ROUTE);
	struct snilb_listener_stats l0 = lstat(1);
	struct hb h;

	(void)state;
	connect_to(&c);
	hb_simple(&h, "example.com");	/* "*.example.com" does not cover */
	send_hello(&c, "example.com", TC_ACT_REDIRECT);
	expect_reset(&c, h.n, SNILB_REJ_NO_ROUTE);
	assert_int_equal(counter(SNILB_ST_REJECT_BASE + SNILB_REJ_NO_ROUTE),
			 before + 1);
	assert_int_equal(lstat(1).rejected[SNILB_REJ_NO_ROUTE] -
			 l0.rejected[SNILB_REJ_NO_ROUTE], 1);
}

static void test_bad_hello_resets(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 40011, .isn = 3 };
	uint64_t before = counter(SNILB_ST_REJECT_BASE + CH_R_BAD_SNI);
	struct tpkt t;

	(void)state;
	connect_to(&c);
	send_hello(&c, "bad_name.example.com", TC_ACT_REDIRECT);
	assert_int_equal(counter(SNILB_ST_REJECT_BASE + CH_R_BAD_SNI),
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
	uint64_t ooo = counter(SNILB_ST_HELLO_OOO);
	uint64_t dup = counter(SNILB_ST_HELLO_DUP);
	const uint8_t *o;
	struct tpkt t;
	struct hb h;
	size_t a = 40, b = 100;

	(void)state;
	hb_simple(&h, "seg.example.com");
	assert_true(h.n > b);
	connect_to(&c);
	/* The second piece first: held at its offset, and the client is
	 * told so (an ACK of nothing, with a SACK block). */
	t = seg(&c, 0x18, (uint32_t)a, h.b + a, b - a);
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_int_equal(counter(SNILB_ST_HELLO_OOO), ooo + 1);
	assert_int_equal(rv.flags, 0x10);
	assert_int_equal(rv.ack, c.isn + 1);
	o = tview_opt(&rv, 5);
	assert_non_null(o);
	assert_int_equal(o[1], 10);
	assert_int_equal(be32(o + 2), c.isn + 1 + (uint32_t)a);
	assert_int_equal(be32(o + 6), c.isn + 1 + (uint32_t)b);
	/* The first piece joins it: 0..b in hand. */
	t = seg(&c, 0x18, 0, h.b, a);
	assert_int_equal(run(&t), TC_ACT_SHOT);
	assert_int_equal(flow_get(&c)->hello_len, b);
	/* A retransmission of the first piece brings nothing; nor does an
	 * overlapping one of 0..b. */
	assert_int_equal(run(&t), TC_ACT_SHOT);
	t = seg(&c, 0x18, 0, h.b, b);
	assert_int_equal(run(&t), TC_ACT_SHOT);
	assert_int_equal(counter(SNILB_ST_HELLO_DUP), dup + 2);
	assert_int_equal(flow_get(&c)->state, SNILB_FS_HELLO);
	t = seg(&c, 0x18, (uint32_t)b, h.b + b, h.n - b);
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
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
	uint64_t bad = counter(SNILB_ST_BAD_TCP);
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in);

	(void)state;
	o.data_size_in = (__u32)tpkt_build(&t, in);
	in[14 + 20 + 12] = 4 << 4;		/* data offset 16 bytes */
	assert_int_equal(bpf_prog_test_run_opts(dp_prog_fd(dp), &o), 0);
	assert_int_equal(o.retval, TC_ACT_SHOT);
	in[14 + 20 + 12] = 15 << 4;		/* 60 bytes, past the end */
	assert_int_equal(bpf_prog_test_run_opts(dp_prog_fd(dp), &o), 0);
	assert_int_equal(o.retval, TC_ACT_SHOT);
	assert_int_equal(counter(SNILB_ST_BAD_TCP), bad + 2);
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
	send_hello(&c, "v6.example.com", TC_ACT_REDIRECT);
	assert_int_equal(flow_get(&c)->route, 20);
	assert_int_equal(rv.flags, 0x02);
	assert_string_equal(rv.src, SNAT6);
	assert_string_equal(rv.dst, BE6);
	assert_memory_equal(rv.dmac, "\x02\0\0\0\x0b\x03", 6);
	/* The IPv4 listener's routes are not the IPv6 listener's. */
	c.port++;
	connect_to(&c);
	send_hello(&c, "www.example.com", TC_ACT_REDIRECT);
	assert_int_equal(rv.flags, 0x14);
}

static void test_splice(void **state)
{
	struct snilb_route_stats r0 = rstat(10), r1;
	struct snilb_listener_stats l0 = lstat(1);
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 40200,
			  .isn = 0xfffffff0 };
	struct bside b = { .addr = BE1, .snat = SNAT4, .isn = 0x7ffffff0,
			   .tsval = 5000 };
	uint8_t synack_opts[20] = { 2, 4, 0x05, 0x78, 4, 2, 8, 10, 0, 0, 0, 0,
				    0, 0, 0x03, 0xe9, 1, 3, 3, 9 };
	uint8_t ts[12] = { 1, 1, 8, 10 }, sack[24] = { 1, 1, 8, 10 };
	uint8_t data[20];
	struct snilb_flow *f;
	struct tpkt t;
	struct hb h;
	const uint8_t *o;
	uint32_t our_ts;

	(void)state;
	memset(data, 'S', sizeof(data));
	connect_to(&c);
	our_ts = c.tsval;
	hb_simple(&h, "www.example.com");
	send_hello(&c, "www.example.com", TC_ACT_REDIRECT);
	expect_syn_to(&c, &b);
	assert_memory_equal(rv.dmac, "\x02\0\0\0\x0b\x01", 6);

	/* SYN-ACK: our SYN again (tests/bpf/test_bbr.c); its second is
	 * answered with the ACK carrying the buffered hello, echoing no
	 * timestamp. */
	put32(synack_opts + 8, b.tsval);
	t = from_backend(&c, &b, 0x12, b.isn, c.isn + 1, synack_opts, 20,
			 NULL, 0);
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	expect_resyn(&c, &b);
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_int_equal(rv.flags & 0x10, 0x10);
	assert_string_equal(rv.src, SNAT4);
	assert_string_equal(rv.dst, BE1);
	assert_int_equal(rv.seq, c.isn + 1);
	assert_int_equal(rv.ack, b.isn + 1);
	assert_int_equal(rv.plen, h.n);
	assert_memory_equal(rv.opts + rv.optlen, h.b, h.n);
	o = tview_opt(&rv, 8);
	assert_non_null(o);
	assert_int_equal(be32(o + 2), 1001);
	assert_int_equal(be32(o + 6), 0);
	f = flow_get(&c);
	assert_int_equal(f->state, SNILB_FS_SPLICED);
	assert_int_equal(f->seq_off, b.isn - c.cookie);

	/* Backend -> client: VIP, our sequence space, our clock, our
	 * window scale (backend 9, ours 7: x4). */
	put32(ts + 4, b.tsval + 10);
	put32(ts + 8, 1001);
	t = from_backend(&c, &b, 0x18, b.isn + 1, c.isn + 1 + (uint32_t)h.n,
			 ts, 12, data, sizeof(data));
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_string_equal(rv.src, VIP4);
	assert_string_equal(rv.dst, CLI4);
	assert_int_equal(rv.sport, 443);
	assert_int_equal(rv.dport, c.port);
	assert_int_equal(rv.seq, c.cookie + 1);
	assert_int_equal(rv.ack, c.isn + 1 + (uint32_t)h.n);
	assert_int_equal(rv.window, 400);
	assert_int_equal(rv.plen, sizeof(data));
	assert_memory_equal(rv.dmac, "\x02\0\0\0\0\x02", 6);
	o = tview_opt(&rv, 8);
	assert_int_equal(be32(o + 2), our_ts + 10);
	assert_int_equal(be32(o + 6), 1001);

	/* Client -> backend: acks and echoed timestamps in its terms; SACK
	 * blocks too. */
	put32(sack + 4, 1002);
	put32(sack + 8, our_ts + 10);
	memcpy(sack + 12, "\x01\x01\x05\x0a", 4);
	put32(sack + 16, c.cookie + 31);
	put32(sack + 20, c.cookie + 41);
	t = (struct tpkt){ .src = CLI4, .dst = VIP4, .sport = c.port,
			   .dport = 443, .seq = c.isn + 1 + (uint32_t)h.n,
			   .ack = c.cookie + 1 + 20, .flags = 0x10,
			   .window = 300, .opts = sack, .optlen = 24 };
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_string_equal(rv.src, SNAT4);
	assert_string_equal(rv.dst, BE1);
	assert_int_equal(rv.sport, b.nport);
	assert_int_equal(rv.dport, 8443);
	assert_int_equal(rv.seq, c.isn + 1 + (uint32_t)h.n);
	assert_int_equal(rv.ack, b.isn + 1 + 20);
	assert_int_equal(rv.window, 300);
	o = tview_opt(&rv, 8);
	assert_int_equal(be32(o + 6), b.tsval + 10);
	o = tview_opt(&rv, 5);
	assert_non_null(o);
	assert_int_equal(be32(o + 2), b.isn + 31);
	assert_int_equal(be32(o + 6), b.isn + 41);

	/* RST from the client: passed on, state gone. */
	t.flags = 0x04;
	t.optlen = 0;
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_int_equal(rv.flags, 0x04);
	assert_null(flow_get(&c));

	/* The route and listener counted all of it. */
	r1 = rstat(10);
	assert_int_equal(r1.routed - r0.routed, 1);
	assert_int_equal(r1.spliced - r0.spliced, 1);
	assert_int_equal(r1.pkts_b2c - r0.pkts_b2c, 1);
	assert_int_equal(r1.bytes_b2c - r0.bytes_b2c, sizeof(data));
	assert_int_equal(r1.pkts_c2b - r0.pkts_c2b, 2);
	assert_int_equal(lstat(1).accepted - l0.accepted, 1);
}

static void test_backend_refuses(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 40300, .isn = 7 };
	struct bside b1 = { .snat = SNAT4 }, b2 = { .snat = SNAT4 };
	uint64_t retries = counter(SNILB_ST_BIND_RETRY);
	struct snilb_route_stats r0 = rstat(13);
	struct tpkt t;
	int i;

	(void)state;
	connect_to(&c);
	send_hello(&c, "retry.example.com", TC_ACT_REDIRECT);
	b1.addr = strcmp(rv.dst, BE1) ? BE2 : BE1;
	b2.addr = strcmp(b1.addr, BE1) ? BE1 : BE2;
	expect_syn_to(&c, &b1);
	/* Refused: the SYN goes to the other backend. */
	t = from_backend(&c, &b1, 0x14, 0, c.isn + 1, NULL, 0, NULL, 0);
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	expect_syn_to(&c, &b2);
	assert_int_equal(counter(SNILB_ST_BIND_RETRY), retries + 1);
	/* Refused everywhere, three tries in all: the client is reset. */
	for (i = 0; i < 2; i++) {
		struct bside *last = i ? &b1 : &b2;

		t = from_backend(&c, last, 0x14, 0, c.isn + 1, NULL, 0, NULL,
				 0);
		assert_int_equal(run(&t), TC_ACT_REDIRECT);
		if (!i)
			expect_syn_to(&c, &b1);
	}
	assert_int_equal(rv.flags, 0x14);
	assert_string_equal(rv.src, VIP4);
	assert_string_equal(rv.dst, CLI4);
	assert_int_equal(rv.seq, c.cookie + 1);
	assert_null(flow_get(&c));
	assert_int_equal(rstat(13).retries - r0.retries, 2);
	assert_int_equal(rstat(13).no_backend - r0.no_backend, 1);
}

static void test_no_backend_resets(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 40400, .isn = 7 };
	uint64_t before = counter(SNILB_ST_REJECT_BASE + SNILB_REJ_NO_BACKEND);

	(void)state;
	connect_to(&c);
	send_hello(&c, "empty.example.com", TC_ACT_REDIRECT);
	assert_int_equal(rv.flags, 0x14);
	assert_null(flow_get(&c));
	assert_int_equal(counter(SNILB_ST_REJECT_BASE + SNILB_REJ_NO_BACKEND),
			 before + 1);
}

/* Table full: new connections are refused with an RST and counted;
 * established flows keep working. */
static void test_flow_table_full(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 40500, .isn = 9 };
	struct conn d = { .cli = CLI4, .vip = VIP4, .port = 40501, .isn = 9 };
	uint64_t full = counter(SNILB_ST_REJECT_BASE + SNILB_REJ_TABLE_FULL);
	int fd = dp_map_fd(dp, "flows");
	struct snilb_flow f0 = { .state = SNILB_FS_HELLO };
	struct snilb_flow_key k = { .family = 4 };
	uint32_t i, filled = 0;
	struct tpkt t;

	(void)state;
	connect_to(&c);				/* one flow that lives */
	for (i = 0; i < SNILB_MAX_FLOWS; i++) {
		k.caddr[0] = htonl(0x0a000000 + i);	/* 10/8: fake */
		if (bpf_map_update_elem(fd, &k, &f0, BPF_NOEXIST))
			break;
		filled++;
	}
	assert_true(filled > 0);
	handshake(&d);
	t = seg(&d, 0x10, 0, NULL, 0);
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_int_equal(rv.flags, 0x14);
	assert_int_equal(counter(SNILB_ST_REJECT_BASE + SNILB_REJ_TABLE_FULL),
			 full + 1);
	assert_null(flow_get(&d));
	/* The established one still routes. */
	send_hello(&c, "www.example.com", TC_ACT_REDIRECT);
	assert_int_equal(rv.flags, 0x02);
	for (i = 0; i < filled; i++) {
		k.caddr[0] = htonl(0x0a000000 + i);
		bpf_map_delete_elem(fd, &k);
	}
}

static uint32_t map_entries(struct dataplane *d, const char *name)
{
	struct bpf_map_info info;
	uint32_t len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(dp_map_fd(d, name), &info, &len))
		return 0;
	return info.max_entries;
}

/* --max-flows: the flow table and its reverse index take the size asked
 * (what a full table does: test_flow_table_full). */
static void test_flow_table_size(void **state)
{
	struct dp_opts o = { .max_flows = 1024 };
	struct dataplane *small;
	char err[256];

	(void)state;
	small = dp_open_opts(&o, err, sizeof(err));
	assert_non_null(small);
	assert_int_equal(map_entries(small, "flows"), 1024);
	assert_int_equal(map_entries(small, "rev"), 1024);
	dp_close(small);
	assert_int_equal(map_entries(dp, "flows"), SNILB_MAX_FLOWS);
}

/* FIN both ways, each acknowledged: forwarded, the flow kept for its
 * TIME-WAIT (the GC frees it, user/dataplane/gc.c); a backend RST at the exact
 * sequence number: forwarded to the client, then freed. */
static void test_teardown(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 40800, .isn = 5,
			  .no_ts = 1 };
	struct bside b = { .addr = BE1, .snat = SNAT4, .isn = 900 };
	uint32_t data_end;
	struct tpkt t;
	struct hb h;

	(void)state;
	splice_up(&c, &b, &h);
	data_end = (uint32_t)h.n;
	t = seg(&c, 0x11, data_end, NULL, 0);		/* client FIN */
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_string_equal(rv.dst, BE1);
	assert_int_equal(rv.flags, 0x11);
	assert_int_equal(flow_get(&c)->closing, SNILB_CL_C_FIN);
	t = from_backend(&c, &b, 0x11, b.isn + 1, c.isn + 2 + data_end, NULL,
			 0, NULL, 0);			/* backend FIN */
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_string_equal(rv.dst, CLI4);
	assert_int_equal(rv.seq, c.cookie + 1);
	assert_int_equal(flow_get(&c)->closing,
			 SNILB_CL_C_FIN | SNILB_CL_B_FIN | SNILB_CL_C_ACKED);
	t = seg(&c, 0x10, data_end + 1, NULL, 0);	/* last ACK */
	t.ack = c.cookie + 2;
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_string_equal(rv.dst, BE1);
	assert_int_equal(flow_get(&c)->closing, SNILB_CL_DONE);

	c.port++;
	splice_up(&c, &b, &h);
	t = from_backend(&c, &b, 0x14, b.isn + 1, c.isn + 1 + data_end, NULL,
			 0, NULL, 0);			/* backend RST */
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_string_equal(rv.dst, CLI4);
	assert_int_equal(rv.flags, 0x14);
	assert_int_equal(rv.seq, c.cookie + 1);
	assert_null(flow_get(&c));
}

/* Segments a listener must survive. */
static void test_bad_segments(void **state)
{
	static const uint8_t overrun[8] = { 2, 10, 5, 0xb4, 1, 1, 1, 1 };
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 40950, .isn = 5 };
	uint64_t gap = counter(SNILB_ST_HELLO_GAP), bad = counter(SNILB_ST_BAD_TCP);
	struct tpkt t = { .src = CLI4, .dst = VIP4, .sport = 40951,
			  .dport = 443, .seq = 1, .flags = 0x02,
			  .window = 1000, .opts = overrun, .optlen = 8 };
	LIBBPF_OPTS(bpf_test_run_opts, o);
	static uint8_t in[128];
	struct hb h;

	(void)state;
	/* An option longer than the header: still a SYN-ACK, checksummed. */
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_int_equal(rv.flags, 0x12);
	/* IP length shorter than the TCP header it claims. */
	t.optlen = 0;
	o.data_in = in;
	o.data_size_in = (__u32)tpkt_build(&t, in);
	in[14 + 3] = 20 + 10;
	assert_int_equal(bpf_prog_test_run_opts(dp_prog_fd(dp), &o), 0);
	assert_int_equal(o.retval, TC_ACT_SHOT);
	assert_int_equal(counter(SNILB_ST_BAD_TCP), bad + 1);
	/* Hello bytes from before the ISN, and from far beyond: dropped,
	 * never buffered, the connection goes on. */
	connect_to(&c);
	hb_simple(&h, "www.example.com");
	t = seg(&c, 0x18, (uint32_t)-1000, h.b, h.n);
	assert_int_equal(run(&t), TC_ACT_SHOT);
	t = seg(&c, 0x18, 1u << 30, h.b, h.n);
	assert_int_equal(run(&t), TC_ACT_SHOT);
	assert_int_equal(counter(SNILB_ST_HELLO_GAP), gap + 2);
	send_hello(&c, "www.example.com", TC_ACT_REDIRECT);
	assert_int_equal(rv.flags, 0x02);
}

/* The backend still has our SNAT port in TIME-WAIT and answers the SYN
 * with a bare ACK: that TIME-WAIT is reset and the SYN sent again. */
static void test_backend_time_wait(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 41100, .isn = 5 };
	struct bside b = { .addr = BE1, .snat = SNAT4 };
	uint64_t tw = counter(SNILB_ST_TW_RESET);
	struct tpkt t;
	int i;

	(void)state;
	connect_to(&c);
	send_hello(&c, "www.example.com", TC_ACT_REDIRECT);
	expect_syn_to(&c, &b);
	for (i = 0; i < 3; i++) {
		t = from_backend(&c, &b, 0x10, 123456, 654321, NULL, 0, NULL,
				 0);
		if (i < 2) {
			assert_int_equal(run(&t), TC_ACT_REDIRECT);
			expect_syn_to(&c, &b);	/* the same port again */
		} else {
			assert_int_equal(run(&t), TC_ACT_SHOT);	/* enough */
		}
	}
	assert_int_equal(counter(SNILB_ST_TW_RESET), tw + 2);
	assert_int_equal(flow_get(&c)->state, SNILB_FS_ROUTED);
}

/* A SYN on the tuple of a flow not freed yet starts afresh. */
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
		cmocka_unit_test(test_splice),
		cmocka_unit_test(test_backend_refuses),
		cmocka_unit_test(test_no_backend_resets),
		cmocka_unit_test(test_flow_table_full),
		cmocka_unit_test(test_flow_table_size),
		cmocka_unit_test(test_backend_time_wait),
		cmocka_unit_test(test_teardown),
		cmocka_unit_test(test_bad_segments),
	};

	return cmocka_run_group_tests_name("dataplane", tests, harness_setup,
					   harness_teardown);
}

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * A listener's front door, with BPF_PROG_TEST_RUN (tests/bpf/harness.c):
 * what is a listener's and what passes to the node; the SYN answered with
 * a SYN cookie and the options it carries, with or without timestamps;
 * the first ACK checked and turned into a flow; bad cookies, malformed
 * segments, a full flow table and its configured size.
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

/* Segments a listener must survive: an option longer than the header,
 * an IP length shorter than the TCP header it claims. */
static void test_bad_syn_segments(void **state)
{
	static const uint8_t overrun[8] = { 2, 10, 5, 0xb4, 1, 1, 1, 1 };
	uint64_t bad = counter(SNILB_ST_BAD_TCP);
	struct tpkt t = { .src = CLI4, .dst = VIP4, .sport = 40951,
			  .dport = 443, .seq = 1, .flags = 0x02,
			  .window = 1000, .opts = overrun, .optlen = 8 };
	LIBBPF_OPTS(bpf_test_run_opts, o);
	static uint8_t in[128];

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
}

/* Table full: new connections are refused with an RST and counted;
 * established flows keep working. */
static void test_flow_table_full(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 40500, .isn = 9 };
	struct conn d = { .cli = CLI4, .vip = VIP4, .port = 40501, .isn = 9 };
	uint64_t full = counter(SNILB_ST_REJECT_BASE + SNILB_REJ_TABLE_FULL);
	int fd = dp_map_fd(dp, SNILB_MAP_FLOWS);
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

static uint32_t map_entries(struct dataplane *d, enum snilb_map m)
{
	struct bpf_map_info info;
	uint32_t len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(dp_map_fd(d, m), &info, &len))
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
	small = dp_open(&o, err, sizeof(err));
	assert_non_null(small);
	assert_int_equal(map_entries(small, SNILB_MAP_FLOWS), 1024);
	assert_int_equal(map_entries(small, SNILB_MAP_REV), 1024);
	dp_close(small);
	assert_int_equal(map_entries(dp, SNILB_MAP_FLOWS), SNILB_MAX_FLOWS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_not_ours_passes),
		cmocka_unit_test(test_synack_options),
		cmocka_unit_test(test_synack_without_timestamps),
		cmocka_unit_test(test_first_ack_creates_flow),
		cmocka_unit_test(test_bad_cookie_resets),
		cmocka_unit_test(test_malformed_tcp_dropped),
		cmocka_unit_test(test_bad_syn_segments),
		cmocka_unit_test(test_flow_table_full),
		cmocka_unit_test(test_flow_table_size),
	};

	return cmocka_run_group_tests_name("cookie", tests, harness_setup,
					   harness_teardown);
}

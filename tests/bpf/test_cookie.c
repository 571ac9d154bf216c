// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * A listener's front door, with BPF_PROG_TEST_RUN (tests/bpf/harness.c):
 * what is a listener's and what passes to the node; the SYN answered with
 * a SYN cookie and the options it carries, with or without timestamps;
 * the first ACK checked and turned into a flow; bad cookies, malformed
 * segments, a full flow table and its configured size; the cookie's key:
 * rotation (the previous key still taken), what the MAC covers, the MSS
 * index it holds, two nodes with the same key or not.
 */
#include <errno.h>
#include <stdbool.h>
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

/* --- the cookie's key (bpf/cookie.h, user/dataplane/cookie.c) --- */

static const uint8_t key_a[32] = "snilb test key A, 32 bytes long";
static const uint8_t key_b[32] = "snilb test key B, 32 bytes long";
static const uint8_t key_c[32] = "snilb test key C, 32 bytes long";

/* The first ACK of @c through the data plane loaded now: 1 when its
 * cookie is taken (a flow made), 0 when refused (an RST). */
static int ack_taken(struct conn *c)
{
	struct tpkt t = seg(c, 0x10, 0, NULL, 0);
	int v = run(&t);

	if (v == TC_ACT_SHOT && flow_get(c))
		return 1;
	assert_int_equal(v, TC_ACT_REDIRECT);
	assert_int_equal(rv.flags, 0x04);
	assert_null(flow_get(c));
	return 0;
}

/* Only @key in the map: no previous one. */
static void only_key(struct dataplane *d, const uint8_t *key)
{
	struct snilb_cookie_keys ks;
	uint32_t zero = 0;
	size_t i;

	memset(&ks, 0, sizeof(ks));
	ks.cur = 1;
	for (i = 0; i < 32; i++)
		((uint8_t *)ks.slot[1].k)[i % 16] ^= key[i];
	ks.slot[1].set = 1;
	assert_int_equal(bpf_map_update_elem(dp_map_fd(d, SNILB_MAP_COOKIE_KEYS),
					     &zero, &ks, BPF_ANY), 0);
}

/* A cookie made with key A: taken with A; after a rotation to B (A the
 * previous); not after a second one (B previous) nor with C alone. The
 * same key set again is no rotation. */
static void test_cookie_key_rotation(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 41001, .isn = 1 };
	bool cur, prev;

	(void)state;
	assert_int_equal(dp_cookie_key_set(dp, key_a, 31), -EINVAL);
	assert_true(dp_cookie_key_set(dp, key_a, 32) >= 0);
	assert_int_equal(dp_cookie_key_set(dp, key_a, 32), 0);
	handshake(&c);
	assert_int_equal(ack_taken(&c), 1);

	c.port++;
	handshake(&c);				/* made with A */
	assert_int_equal(dp_cookie_key_set(dp, key_b, 32), 1);
	assert_int_equal(dp_cookie_key_state(dp, &cur, &prev), 0);
	assert_true(cur && prev);
	assert_int_equal(ack_taken(&c), 1);	/* A is the previous */

	c.port++;
	handshake(&c);				/* made with B */
	assert_int_equal(dp_cookie_key_set(dp, key_a, 32), 1);
	assert_int_equal(ack_taken(&c), 1);	/* B previous, A current */

	c.port++;
	assert_int_equal(dp_cookie_key_set(dp, key_b, 32), 1);
	handshake(&c);				/* made with B */
	assert_int_equal(dp_cookie_key_set(dp, key_c, 32), 1);
	assert_int_equal(dp_cookie_key_set(dp, key_a, 32), 1);
	assert_int_equal(ack_taken(&c), 0);	/* B gone: C, A */

	c.port++;
	handshake(&c);				/* made with A */
	only_key(dp, key_c);
	assert_int_equal(dp_cookie_key_state(dp, &cur, &prev), 0);
	assert_true(cur && !prev);
	assert_int_equal(ack_taken(&c), 0);
	c.port++;
	handshake(&c);
	assert_int_equal(ack_taken(&c), 1);	/* C's own */
}

/* The cookie holds the MSS index (bits 0-1): the MSS a first ACK without
 * timestamps gets when its SYN kept no state, for every value of both
 * tables; and the index matches the TSval's. */
static void test_cookie_mss_index(void **state)
{
	static const uint16_t v4[] = { 536, 1300, 1440, 1460 };
	static const uint16_t v6[] = { 1220, 1420, 1440, 1440 };
	uint8_t mss[4] = { 2, 4, 0, 0 };
	struct snilb_flow *f;
	unsigned int i, fam;

	(void)state;
	for (fam = 0; fam < 2; fam++)
		for (i = 0; i < 4; i++) {
			struct conn c = { .v6 = (int)fam,
					  .cli = fam ? CLI6 : CLI4,
					  .vip = fam ? VIP6 : VIP4,
					  .port = (uint16_t)(41100 + fam * 10 + i),
					  .isn = 4242 + i };
			struct tpkt t = {
				.v6 = c.v6, .src = c.cli, .dst = c.vip,
				.sport = c.port, .dport = 443, .seq = c.isn,
				.flags = 0x02, .window = 1000, .opts = mss,
				.optlen = 4,
			};
			uint16_t m = fam ? v6[i] : v4[i];

			mss[2] = (uint8_t)(m >> 8);
			mss[3] = (uint8_t)m;
			assert_int_equal(run(&t), TC_ACT_REDIRECT);
			c.cookie = rv.seq;
			c.no_ts = 1;
			assert_int_equal(c.cookie & 3, fam && i == 3 ? 2 : i);
			assert_int_equal(ack_taken(&c), 1);
			f = flow_get(&c);
			/* Capped at ours: 1460, 1440 (IPv6). */
			assert_int_equal(f->opts.mss, m);
		}
}

/* A SYN's cookie refused when any field the MAC covers differs. */
static void test_cookie_covers_tuple(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 41200, .isn = 9 };
	struct conn d;

	(void)state;
	handshake(&c);
	d = c;
	d.port++;				/* another port */
	assert_int_equal(ack_taken(&d), 0);
	d = c;
	d.isn++;				/* another ISN */
	assert_int_equal(ack_taken(&d), 0);
	d = c;
	d.cookie ^= 1;				/* another MSS index */
	assert_int_equal(ack_taken(&d), 0);
	d = c;
	d.cookie ^= 1u << 2;			/* another minute */
	assert_int_equal(ack_taken(&d), 0);
	assert_int_equal(ack_taken(&c), 1);
}

/* A second data plane (another node): it takes this one's cookies when it
 * has the same key, not with another. */
static struct dataplane *second_node(const uint8_t *key)
{
	struct snilb_config cfg = { .snat4 = htonl(0xc6120201) };
	struct dataplane *d;
	char err[256];

	d = dp_open(NULL, err, sizeof(err));
	assert_non_null(d);
	assert_int_equal(dp_listener_add(d, VIP4, 443, 1), 0);
	assert_int_equal(dp_listener_add(d, VIP6, 443, 2), 0);
	assert_int_equal(dp_config_set(d, &cfg), 0);
	if (key)
		assert_int_equal(dp_cookie_key_set(d, key, 32), 1);
	return d;
}

static int ack_on(struct dataplane *node, struct conn *c)
{
	struct dataplane *self = dp;
	int taken;

	dp = node;
	taken = ack_taken(c);
	dp = self;
	return taken;
}

static void test_cookie_two_nodes(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 41300, .isn = 3 };
	struct conn d = { .v6 = 1, .cli = CLI6, .vip = VIP6, .port = 41301,
			  .isn = 3 };
	struct dataplane *same, *other, *fresh;

	(void)state;
	assert_true(dp_cookie_key_set(dp, key_a, 32) >= 0);
	same = second_node(key_a);
	other = second_node(key_b);
	fresh = second_node(NULL);		/* a random key of its own */
	handshake(&c);
	handshake(&d);
	assert_int_equal(ack_on(other, &c), 0);
	assert_int_equal(ack_on(other, &d), 0);
	assert_int_equal(ack_on(fresh, &c), 0);
	assert_int_equal(ack_on(same, &c), 1);
	assert_int_equal(ack_on(same, &d), 1);
	dp_close(same);
	dp_close(other);
	dp_close(fresh);
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
		cmocka_unit_test(test_cookie_key_rotation),
		cmocka_unit_test(test_cookie_mss_index),
		cmocka_unit_test(test_cookie_covers_tuple),
		cmocka_unit_test(test_cookie_two_nodes),
	};

	return cmocka_run_group_tests_name("cookie", tests, harness_setup,
					   harness_teardown);
}

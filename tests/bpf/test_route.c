// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * From a hello to a backend, with BPF_PROG_TEST_RUN (tests/bpf/harness.c):
 * exact and wildcard routes, a name no route has, IPv6 listeners with
 * routes of their own; the SYN to a chosen backend from a SNAT address,
 * the next backend when one refuses, a set with no backend, slots that
 * reset, a backend still in TIME-WAIT on our SNAT port.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <bpf/bpf.h>
#include <linux/pkt_cls.h>

#include "harness.h"
#include "pinned.h"

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
	expect_reset(&c, h.n);
	assert_int_equal(counter(SNILB_ST_REJECT_BASE + SNILB_REJ_NO_ROUTE),
			 before + 1);
	assert_int_equal(lstat(1).rejected[SNILB_REJ_NO_ROUTE] -
			 l0.rejected[SNILB_REJ_NO_ROUTE], 1);
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

/*
 * Slots of SNILB_BACKEND_RESET (the share of an invalid backendRef) reset
 * the connections that land on them, counted as no_backend; the other
 * slots' connections go to their backend.
 */
static void test_reset_slots(void **state)
{
	static uint32_t table[SNILB_MAGLEV_SIZE];
	struct snilb_route_stats r0;
	int i, resets = 0, syns = 0;

	(void)state;
	for (i = 0; i < SNILB_MAGLEV_SIZE; i++)
		table[i] = i % 2 ? 1 : SNILB_BACKEND_RESET;
	assert_int_equal(dp_set_install(dp, 7, table, SNILB_MAGLEV_SIZE, 2),
			 0);
	assert_int_equal(dp_route_add(dp, 1, "reset.example.com", 15, 7), 0);
	r0 = rstat(15);
	for (i = 0; i < 64; i++) {
		struct conn c = { .cli = CLI4, .vip = VIP4,
				  .port = (uint16_t)(42000 + i), .isn = 11 };

		connect_to(&c);
		send_hello(&c, "reset.example.com", TC_ACT_REDIRECT);
		if (rv.flags == 0x14) {
			assert_string_equal(rv.dst, CLI4);
			assert_null(flow_get(&c));
			resets++;
		} else {
			assert_int_equal(rv.flags, 0x02);
			assert_string_equal(rv.dst, BE1);
			syns++;
		}
	}
	/* Half the slots: about half the connections, by their hash. */
	assert_in_range(resets, 16, 48);
	assert_int_equal(resets + syns, 64);
	assert_int_equal(rstat(15).no_backend - r0.no_backend,
			 (uint64_t)resets);
	assert_int_equal(rstat(15).routed - r0.routed, 64);
}

/*
 * A Maglev table goes in whole, slot for slot (one batch since the first
 * sync of 500 sets took most of a minute an update each): read back
 * through the read-only view, each backend has the slots it was given.
 * The time of 200 installs is printed, not asserted.
 */
static void test_set_install_whole(void **state)
{
	static uint32_t table[SNILB_MAGLEV_SIZE];
	uint32_t slots[8] = {}, size, i;
	struct timespec t0, t1;
	struct pinned *view;
	char err[256];

	(void)state;
	for (i = 0; i < SNILB_MAGLEV_SIZE; i++)
		table[i] = i % 7 < 4 ? 1 + i % 7 : 5;	/* 1-4 once, 5 thrice */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < 200; i++)
		assert_int_equal(dp_set_install(dp, 100 + i, table,
						SNILB_MAGLEV_SIZE, 5), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	print_message("     200 sets of %u slots installed in %ld ms\n",
		      SNILB_MAGLEV_SIZE,
		      (long)((t1.tv_sec - t0.tv_sec) * 1000 +
			     (t1.tv_nsec - t0.tv_nsec) / 1000000));
	view = pinned_of(dp, err, sizeof(err));
	assert_non_null(view);
	assert_int_equal(pinned_maglev_slots(view, 299, slots, 8, &size), 0);
	assert_int_equal(size, SNILB_MAGLEV_SIZE);
	for (i = 1; i <= 4; i++)
		assert_int_equal(slots[i], (SNILB_MAGLEV_SIZE + 6 - (i - 1)) / 7);
	assert_int_equal(slots[1] + slots[2] + slots[3] + slots[4] + slots[5],
			 SNILB_MAGLEV_SIZE);
	assert_int_equal(slots[0] + slots[6] + slots[7], 0);
	pinned_close(view);
	for (i = 0; i < 200; i++)
		assert_int_equal(dp_set_del(dp, 100 + i), 0);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routes_exact_and_wildcard),
		cmocka_unit_test(test_unknown_sni_resets),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_backend_refuses),
		cmocka_unit_test(test_no_backend_resets),
		cmocka_unit_test(test_reset_slots),
		cmocka_unit_test(test_set_install_whole),
		cmocka_unit_test(test_backend_time_wait),
	};

	return cmocka_run_group_tests_name("route", tests, harness_setup,
					   harness_teardown);
}

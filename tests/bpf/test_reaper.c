// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The reaper (user/dataplane/reaper.c) against the real data plane: a
 * flow it nominated from a copy is acted on only if it still deserves it
 * when the reaper gets to it (tests/bpf/harness.c drives the flows).
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

#include "reaper.h"
#include "harness.h"

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The data plane's config, as the programs read it. */
static struct snilb_config config_get(void)
{
	struct snilb_config cfg;
	uint32_t zero = 0;

	assert_int_equal(bpf_map_lookup_elem(dp_map_fd(dp, SNILB_MAP_CONFIG),
					     &zero, &cfg), 0);
	return cfg;
}

/* Hello timeout 1 ms: a handshake is expired as soon as it is made. */
static void short_hello_timeout(void)
{
	struct snilb_config cfg = config_get();

	cfg.hello_timeout_ms = 1;
	assert_int_equal(dp_config_set(dp, &cfg), 0);
}

/* Wait (polling the clock, at most 1 s) until @t_ns has passed. */
static uint64_t after(uint64_t t_ns)
{
	uint64_t now = mono_ns(), end = now + 1000000000ull;

	while (now <= t_ns && now < end) {
		usleep(1000);
		now = mono_ns();
	}
	assert_true(now > t_ns);
	return now;
}

static void complete_hello(void *arg)
{
	send_hello(arg, "www.example.com", TC_ACT_REDIRECT);
}

/*
 * The reaper's walk finds a handshake past its hello timeout; before it
 * acts, the hello arrives and the flow is bound. It must not be reset: it
 * judges it again as it is then. A handshake that stays silent is reset.
 */
static void test_reaper_rejudges(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 42000, .isn = 5 };
	struct conn d = { .cli = CLI4, .vip = VIP4, .port = 42001, .isn = 5 };
	struct reap_result res;
	uint64_t now;

	(void)state;
	short_hello_timeout();
	connect_to(&c);
	connect_to(&d);
	now = after(flow_get(&d)->created_ns + 2000000);
	assert_int_equal(dp_reap_hooked(dp, now, &res, complete_hello, &c), 0);
	assert_non_null(flow_get(&c));
	assert_int_equal(flow_get(&c)->state, SNILB_FS_ROUTED);
	assert_null(flow_get(&d));
	assert_int_equal(res.hello_expired, 1);
}

/* Set the bind timeout; the previous one returned. */
static uint32_t bind_timeout(uint32_t ms)
{
	struct snilb_config cfg = config_get();
	uint32_t was;

	was = cfg.bind_timeout_ms;
	cfg.bind_timeout_ms = ms;
	assert_int_equal(dp_config_set(dp, &cfg), 0);
	return was;
}

static uint64_t bind_ns_of(const struct conn *c)
{
	static struct snilb_hello hb;
	struct snilb_flow_key k;

	flow_key_of(c, &k);
	assert_int_equal(bpf_map_lookup_elem(dp_map_fd(dp, SNILB_MAP_HELLOS),
					     &k, &hb), 0);
	return hb.b.bind_ns;
}

/*
 * A routed flow whose backend does not answer is reset once 8 bind
 * timeouts have passed since its SYN to the backend (here 80 ms), not
 * since the flow was made: the reaper reads the bind's time from the
 * hello's entry for a flow older than that, and judges a younger one by
 * its creation time alone.
 */
static void test_reaper_bind_timeout(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 42004, .isn = 7 };
	struct conn d = { .cli = CLI4, .vip = VIP4, .port = 42005, .isn = 7 };
	struct reap_result res;
	uint64_t bound;
	uint32_t was;

	(void)state;
	short_hello_timeout();
	was = bind_timeout(10);
	connect_to(&c);
	after(flow_get(&c)->created_ns + 100000000);
	complete_hello(&c);
	assert_int_equal(flow_get(&c)->state, SNILB_FS_ROUTED);
	bound = bind_ns_of(&c);
	assert_true(bound > flow_get(&c)->created_ns + 100000000);
	assert_int_equal(dp_reap(dp, bound + 50000000, &res), 0);
	assert_non_null(flow_get(&c));
	assert_int_equal(dp_reap(dp, bound + 100000000, &res), 0);
	assert_null(flow_get(&c));
	assert_true(res.bind_expired >= 1);
	/* Young: bound as it was made, judged by its creation time. */
	connect_to(&d);
	complete_hello(&d);
	assert_int_equal(dp_reap(dp, flow_get(&d)->created_ns + 50000000,
				 &res), 0);
	assert_non_null(flow_get(&d));
	assert_int_equal(dp_reap(dp, bind_ns_of(&d) + 100000000, &res), 0);
	assert_null(flow_get(&d));
	bind_timeout(was);
}

/* Entries of @m, counted. */
static unsigned entries(enum snilb_map m)
{
	unsigned char k[64], next[64], *prev = NULL;
	int fd = dp_map_fd(dp, m);
	unsigned n = 0;

	while (!bpf_map_get_next_key(fd, prev, next)) {
		memcpy(k, next, sizeof(k));
		prev = k;
		n++;
	}
	return n;
}

/*
 * A SNAT claim (rev), a conns, a hellos and a hellos_small entry whose
 * flow is gone are swept; a live flow's claim stays.
 */
static void test_reaper_sweeps_orphans(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 42002, .isn = 9 };
	struct snilb_rev_key rk = { .family = SNILB_AF_INET, .nport = 1 };
	struct snilb_flow_key gone = { .family = SNILB_AF_INET, .cport = 2 };
	struct snilb_rev rv = { .flow = gone };
	struct reap_result res;
	unsigned char val[4096] = { 0 };
	static struct snilb_hello big;
	unsigned rev0, hellos0;

	(void)state;
	connect_to(&c);
	complete_hello(&c);
	assert_non_null(flow_get(&c));
	rev0 = entries(SNILB_MAP_REV);
	hellos0 = entries(SNILB_MAP_HELLOS);
	assert_true(rev0 >= 1);
	assert_int_equal(bpf_map_update_elem(dp_map_fd(dp, SNILB_MAP_REV),
					     &rk, &rv, BPF_NOEXIST), 0);
	assert_int_equal(bpf_map_update_elem(dp_map_fd(dp, SNILB_MAP_CONNS),
					     &gone, val, BPF_NOEXIST), 0);
	assert_int_equal(bpf_map_update_elem(dp_map_fd(dp,
						       SNILB_MAP_HELLOS_SMALL),
					     &gone, val, BPF_NOEXIST), 0);
	assert_int_equal(bpf_map_update_elem(dp_map_fd(dp, SNILB_MAP_HELLOS),
					     &gone, &big, BPF_NOEXIST), 0);
	assert_int_equal(dp_reap(dp, mono_ns(), &res), 0);
	assert_int_equal(res.orphans, 1);
	assert_int_equal(entries(SNILB_MAP_REV), rev0);
	assert_int_equal(entries(SNILB_MAP_CONNS), 0);
	assert_int_equal(entries(SNILB_MAP_HELLOS_SMALL), 0);
	assert_int_equal(entries(SNILB_MAP_HELLOS), hellos0);
	assert_non_null(flow_get(&c));
}

/* A handshake that stopped half-way through its hello, in the small
 * buffer: the reaper frees the buffer with the flow. */
static void test_reaper_frees_small_hello(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 42003, .isn = 3 };
	struct reap_result res;
	struct tpkt t;
	struct hb h;
	unsigned small;

	(void)state;
	short_hello_timeout();
	hb_padded(&h, "www.example.com", 1700);
	small = entries(SNILB_MAP_HELLOS_SMALL);
	connect_to(&c);
	t = seg(&c, 0x18, 0, h.b, 600);
	assert_int_equal(run(&t), TC_ACT_SHOT);
	assert_int_equal(entries(SNILB_MAP_HELLOS_SMALL), small + 1);
	assert_int_equal(dp_reap(dp, after(flow_get(&c)->created_ns +
					   2000000), &res), 0);
	assert_null(flow_get(&c));
	assert_int_equal(entries(SNILB_MAP_HELLOS_SMALL), small);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reaper_rejudges),
		cmocka_unit_test(test_reaper_sweeps_orphans),
		cmocka_unit_test(test_reaper_frees_small_hello),
		cmocka_unit_test(test_reaper_bind_timeout),
	};

	return cmocka_run_group_tests_name("reaper", tests, harness_setup,
					   harness_teardown);
}

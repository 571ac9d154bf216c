// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The names defined once in include/: the route-name encoding (what the
 * loader stores, what readers show), the reject reasons in their two
 * spellings, and the map table's names and columns.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hello.h"
#include "pinned.h"

static void roundtrip(const char *hostname, const char *stored)
{
	struct snilb_route_key k;
	char host[SNILB_HOST_MAX + 1];
	const char *name = snilb_route_key_of(&k, 7, hostname);

	assert_non_null(name);
	assert_string_equal(name, stored);
	assert_int_equal(k.listener, 7);
	assert_true(k.hash == snilb_name_hash(stored, strlen(stored)));
	assert_string_equal(snilb_route_host(host, name, strlen(name)),
			    hostname);
}

static void test_route_names(void **state)
{
	char long_name[CH_SNI_MAX + 3];

	(void)state;
	roundtrip("www.example.com", "www.example.com");
	roundtrip("*.example.com", ".example.com");
	roundtrip("*", "");
	assert_null(snilb_route_name(""));
	assert_null(snilb_route_name("*example.com"));	/* not a suffix */
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = 0;
	assert_null(snilb_route_name(long_name));
	long_name[CH_SNI_MAX] = 0;
	assert_non_null(snilb_route_name(long_name));
}

/* One table, two spellings: counters and metrics '_', `snilb sni` '-'. */
static void test_reject_names(void **state)
{
	(void)state;
	assert_string_equal(pinned_reject_name(CH_R_NO_SNI), "no_sni");
	assert_string_equal(hello_reason_name(CH_R_NO_SNI), "no-sni");
	assert_string_equal(hello_reason_name(CH_R_NOT_CLIENT_HELLO),
			    "not-client-hello");
	assert_string_equal(hello_reason_name(CH_R_NONE), "none");
	assert_string_equal(hello_reason_name(CH_R_MAX), "unknown");
	assert_string_equal(pinned_reject_name(SNILB_REJ_TIMEOUT), "timeout");
	assert_string_equal(pinned_stat_name(SNILB_ST_REJECT_BASE +
					     SNILB_REJ_TABLE_FULL),
			    "reject_table_full");
	assert_string_equal(pinned_stat_name(SNILB_ST_HELLO_RTX), "hello_rtx");
}

static void test_map_names(void **state)
{
	uint32_t n, max;

	(void)state;
	/* What `snilb status` and /metrics have always listed, in order. */
	assert_string_equal(pinned_fill_maps[0], "flows");
	assert_string_equal(pinned_fill_maps[1], "hellos");
	assert_string_equal(pinned_fill_maps[2], "rev");
	assert_string_equal(pinned_fill_maps[3], "routes");
	assert_string_equal(pinned_fill_maps[4], "backends");
	assert_string_equal(pinned_fill_maps[5], "sets");
	assert_string_equal(pinned_fill_maps[6], "hellos_small");
	assert_null(pinned_fill_maps[7]);
	/* A map by name, without a view: nothing open. */
	assert_int_equal(pinned_fill(NULL, "flows", &n, &max), -ENOENT);
	assert_int_equal(pinned_fill(NULL, "no_such_map", &n, &max),
			 -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_route_names),
		cmocka_unit_test(test_reject_names),
		cmocka_unit_test(test_map_names),
	};

	return cmocka_run_group_tests_name("names", tests, NULL, NULL);
}

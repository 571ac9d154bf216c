// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Our slot on TC ingress (user/dataplane/tc.c): what dp_tc_query() sees
 * before, while and after the program is attached, and that dp_detach()
 * empties it. Run in a namespace of its own (tests/lib/in-netns.sh): it
 * attaches to that namespace's dummy1.
 */
#include <errno.h>
#include <net/if.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "dataplane.h"

static void test_attach_query_detach(void **state)
{
	struct dataplane *dp = *state;
	int ifindex = (int)if_nametoindex("dummy1");
	struct dp_tc_state st;

	assert_true(ifindex > 0);
	assert_int_equal(dp_tc_query(ifindex, &st), -ENOENT);
	assert_int_equal(st.prog_id, 0);
	assert_int_equal(dp_attach(dp, ifindex), 0);
	assert_int_equal(dp_tc_query(ifindex, &st), 0);
	assert_true(st.prog_id > 0);
	assert_true(st.ours);
	assert_string_equal(st.name, dp_prog_name(dp));
	/* Attaching again replaces the program in place. */
	assert_int_equal(dp_attach(dp, ifindex), 0);
	assert_int_equal(dp_detach(ifindex), 0);
	assert_int_equal(dp_tc_query(ifindex, &st), -ENOENT);
	assert_int_equal(dp_tc_query(0, &st) < 0, 1);
}

static int setup(void **state)
{
	char err[512];

	if (geteuid() != 0) {
		print_message("skipped: loading BPF needs root\n");
		return -1;
	}
	*state = dp_open(NULL, err, sizeof(err));
	if (!*state)
		print_message("%s\n", err);
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	dp_close(*state);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_attach_query_detach),
	};

	return cmocka_run_group_tests_name("tc", tests, setup, teardown);
}

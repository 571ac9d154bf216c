// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Maglev tables (user/dataplane/maglev.c): the same backends and weights
 * give the same table, each backend's share follows its weight, and
 * removing one backend moves little more than the slots it held (printed,
 * docs/agent.md "Maglev").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "maglev.h"

#define MSIZE 16381

static void build(size_t n, const uint32_t *weights, size_t skip,
		  uint32_t *table)
{
	struct maglev_backend b[64];
	char names[64][32];
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		if (i == skip)
			continue;
		snprintf(names[i], sizeof(names[i]), "198.18.2.%zu:8443", i);
		b[k].name = names[i];
		b[k].id = (uint32_t)i;
		b[k].weight = weights ? weights[i] : 1;
		k++;
	}
	assert_int_equal(maglev_build(b, k, table, MSIZE), 0);
}

static void test_maglev_balance_and_weights(void **state)
{
	static uint32_t t[MSIZE], again[MSIZE];
	uint32_t count[4] = {}, w[4] = { 1, 1, 2, 4 };
	size_t i;

	(void)state;
	build(4, w, SIZE_MAX, t);
	build(4, w, SIZE_MAX, again);
	assert_memory_equal(t, again, sizeof(t));	/* deterministic */
	for (i = 0; i < MSIZE; i++)
		count[t[i]]++;
	/* Shares 1/8, 1/8, 2/8, 4/8, within 2 % of the table. */
	for (i = 0; i < 4; i++)
		assert_true(abs((int)count[i] - (int)(MSIZE * w[i] / 8)) <
			    MSIZE / 50);
	assert_int_equal(maglev_build(NULL, 0, t, 16380), -22);
}

static void test_maglev_movement(void **state)
{
	static uint32_t before[MSIZE], after[MSIZE];
	size_t n, i, moved;

	(void)state;
	for (n = 3; n <= 33; n += 10) {
		build(n, NULL, SIZE_MAX, before);
		build(n, NULL, n / 2, after);
		for (moved = 0, i = 0; i < MSIZE; i++)
			moved += before[i] != after[i];
		/* The removed backend held ~1/n; others move a little. */
		printf("maglev: removing 1 of %zu backends moves %.1f%% of "
		       "the table (its own share %.1f%%)\n", n,
		       100.0 * moved / MSIZE, 100.0 / n);
		assert_true(moved < MSIZE * 1.5 / n + MSIZE / 50);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_maglev_balance_and_weights),
		cmocka_unit_test(test_maglev_movement),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The node table as the agent writes it (user/agent/peers.c) and as
 * `snilb status` reads it back (pinned_nodes_read(), docs/multinode.md),
 * on a loaded data plane's maps: a --peers file read again when it
 * changes; the same nodes in another order are the same table (the
 * previous generation kept); the nodes' names, states and ring slots
 * now and in the previous generation.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <utime.h>	/* not sys/stat.h: harness.h has an lstat() */

#include <cmocka.h>

#include "harness.h"
#include "peers.h"
#include "pinned.h"

static char path[64];

/* A new empty peers file. */
static void peers_new(void)
{
	int fd;

	snprintf(path, sizeof(path), "/tmp/snilb-nodetable.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
}

/* The peers file is @text, with a modification time of its own (@n). */
static void peers_write(const char *text, int n)
{
	struct utimbuf u = { 1000 + n, 1000 + n };
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(utime(path, &u), 0);
}

static void read_back(struct pinned_nodes *t)
{
	char err[256];
	struct pinned *p = pinned_of(dp, err, sizeof(err));

	assert_non_null(p);
	assert_int_equal(pinned_nodes_read(p, t), 0);
	pinned_close(p);
}

static const struct pinned_node *node(const struct pinned_nodes *t,
				      const char *name)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (!strcmp(t->node[i].name, name))
			return &t->node[i];
	fail_msg("no node %s", name);
	return NULL;
}

static void test_file_reorder(void **state)
{
	struct peers *p;
	struct pinned_nodes t1, t2, t;

	(void)state;
	peers_new();
	p = peers_open(path, "node-a", 1);
	assert_non_null(p);
	peers_write("node-a 10.9.0.1\nnode-b 10.9.0.2 draining\n", 1);
	assert_int_equal(peers_apply(p, dp), 1);
	read_back(&t1);
	peers_write("node-a 10.9.0.1\nnode-b 10.9.0.2 draining\n"
		    "node-c 10.9.0.3\n", 2);
	assert_int_equal(peers_apply(p, dp), 1);
	read_back(&t2);
	assert_int_equal(t2.cl.prev_generation, t1.cl.generation);
	/* The same table in another order: nothing written, the previous
	 * generation's owners still asked. */
	peers_write("node-c 10.9.0.3\n# reordered\nnode-b 10.9.0.2 draining\n"
		    "node-a 10.9.0.1\n", 3);
	assert_int_equal(peers_apply(p, dp), 0);
	read_back(&t);
	assert_int_equal(t.cl.generation, t2.cl.generation);
	assert_int_equal(t.cl.prev_generation, t1.cl.generation);
	peers_free(p);
	unlink(path);
}

/* What snilb status shows: names, states, this node, slots. */
static void test_read_back(void **state)
{
	struct peers *p;
	struct pinned_nodes t;
	const struct pinned_node *a, *b, *c;

	(void)state;
	peers_new();
	p = peers_open(path, "node-a", 1);
	assert_non_null(p);
	peers_write("node-a 10.9.0.1\nnode-c 10.9.0.3\n", 1);
	assert_int_equal(peers_apply(p, dp), 1);
	peers_write("node-a 10.9.0.1\nnode-b 10.9.0.2 draining\n", 2);
	assert_int_equal(peers_apply(p, dp), 1);
	read_back(&t);
	assert_int_equal(t.n, 3);
	a = node(&t, "node-a");
	b = node(&t, "node-b");
	c = node(&t, "node-c");
	assert_string_equal(t.node[0].name, "node-a");
	assert_string_equal(t.node[2].name, "node-c");
	assert_string_equal(a->addr, "10.9.0.1");
	assert_int_equal(a->flags, SNILB_NODE_SELF);
	assert_int_equal(b->flags, SNILB_NODE_DRAINING);
	assert_int_equal(c->flags, SNILB_NODE_GONE);
	assert_int_equal(a->slots, SNILB_NODE_RING);
	assert_int_equal(b->slots + b->prev_slots + c->slots, 0 + 0 + 0);
	assert_int_equal(a->prev_slots + c->prev_slots, SNILB_NODE_RING);
	assert_true(c->prev_slots > SNILB_NODE_RING / 3);
	assert_int_equal(t.unowned + t.prev_unowned, 0);
	assert_true(t.cl.active);
	peers_free(p);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_file_reorder),
		cmocka_unit_test(test_read_back),
	};

	return cmocka_run_group_tests_name("nodetable", tests, harness_setup,
					   harness_teardown);
}

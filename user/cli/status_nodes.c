// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * snilb status: the node table of several gateway nodes
 * (docs/multinode.md), as the agent last wrote it to the pinned maps:
 * this node, the generation and the one before, each node with its
 * address, what it is (member, draining, gone: in the previous generation
 * only), the node_ring slots it owns now and before, and the steer_*
 * counters. One line when there is no table.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "inspect.h"
#include "status_nodes.h"

static const char *state_of(const struct pinned_node *n)
{
	if (n->flags & SNILB_NODE_GONE)
		return "gone";
	return n->flags & SNILB_NODE_DRAINING ? "draining" : "member";
}

static const char *self_of(const struct pinned_nodes *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->node[i].flags & SNILB_NODE_SELF)
			return t->node[i].name;
	return NULL;
}

/* The steer_* counters: out, in, second, orphan. */
static json_t *steer_counters(const struct inspect *c, char *line, size_t n)
{
	static const struct { const char *name; uint32_t idx; } st[] = {
		{ "out", SNILB_ST_STEER_OUT }, { "in", SNILB_ST_STEER_IN },
		{ "second", SNILB_ST_STEER_SECOND },
		{ "orphan", SNILB_ST_STEER_ORPHAN },
	};
	json_t *o = json_object();
	uint64_t v;
	size_t i;
	int off = 0;

	for (i = 0; i < sizeof(st) / sizeof(st[0]); i++) {
		v = 0;
		pinned_stat(c->p, st[i].idx, &v);
		json_object_set_new(o, st[i].name, json_integer((json_int_t)v));
		off += snprintf(line + off, n - (size_t)off, "%s%s %llu",
				i ? ", " : "", st[i].name,
				(unsigned long long)v);
		if ((size_t)off >= n)
			break;
	}
	return o;
}

static json_t *node_json(const struct pinned_node *n)
{
	return json_pack("{s:s, s:s, s:s, s:b, s:I, s:I}", "name", n->name,
			 "address", n->addr, "state", state_of(n), "self",
			 (n->flags & SNILB_NODE_SELF) != 0, "slots",
			 (json_int_t)n->slots, "prev_slots",
			 (json_int_t)n->prev_slots);
}

static void print_table(const struct pinned_nodes *t, const char *steer)
{
	struct table tb;
	char a[16], b[16], st[24];
	const char *self = self_of(t);
	size_t i;

	printf("\nnode table: generation %08x, previous %08x; this node %s%s;"
	       " steering %s\n", t->cl.generation, t->cl.prev_generation,
	       self ? self : "not in it", self ? "" : " (it owns nothing)",
	       t->cl.active ? "on" : "off (this node alone)");
	table_init(&tb, 5, (const char *[]){ "NODE", "ADDRESS", "STATE",
					     "SLOTS", "PREV SLOTS" });
	for (i = 0; i < t->n; i++) {
		const struct pinned_node *n = &t->node[i];

		snprintf(st, sizeof(st), "%s%s", state_of(n),
			 n->flags & SNILB_NODE_SELF ? " (this node)" : "");
		snprintf(a, sizeof(a), "%u", n->slots);
		snprintf(b, sizeof(b), "%u", n->prev_slots);
		table_row(&tb, (const char *[]){ n->name, n->addr, st, a, b });
	}
	table_print(stdout, &tb);
	table_free(&tb);
	if (t->unowned || t->prev_unowned)
		printf("slots no node owns: %u now, %u before (of %u)\n",
		       t->unowned, t->prev_unowned, t->ring);
	printf("steered packets: %s\n", steer);
}

void status_nodes(const struct inspect *c, json_t *out)
{
	struct pinned_nodes t;
	char steer[160] = "";
	json_t *o, *arr;
	size_t i;
	int err = c->p ? pinned_nodes_read(c->p, &t) : -ENOENT;

	if (err || !t.cl.generation) {
		json_object_set_new(out, "node_table", json_null());
		if (!c->json && c->p)
			printf("\nnode table: none (%s)\n", err ?
			       "no node table maps pinned" :
			       "one node alone: snilb agent --peers makes one");
		return;
	}
	o = json_pack("{s:I, s:I, s:b, s:I}", "generation",
		      (json_int_t)t.cl.generation, "prev_generation",
		      (json_int_t)t.cl.prev_generation, "active",
		      t.cl.active != 0, "ring", (json_int_t)t.ring);
	json_object_set_new(o, "self", self_of(&t) ?
			    json_string(self_of(&t)) : json_null());
	arr = json_array();
	for (i = 0; i < t.n; i++)
		json_array_append_new(arr, node_json(&t.node[i]));
	json_object_set_new(o, "nodes", arr);
	json_object_set_new(o, "unowned", json_pack("{s:I, s:I}", "slots",
			    (json_int_t)t.unowned, "prev_slots",
			    (json_int_t)t.prev_unowned));
	json_object_set_new(o, "steer", steer_counters(c, steer,
						       sizeof(steer)));
	json_object_set_new(out, "node_table", o);
	if (!c->json)
		print_table(&t, steer);
}

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * snilb stats: the data plane's counters, global (reject_* by reason),
 * per listener and per route.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "inspect.h"

static void stats_global(const struct inspect *c, struct table *t,
			 json_t *out)
{
	json_t *g = json_object();
	char v[24];
	uint32_t i;

	for (i = 0; i < SNILB_ST_MAX; i++) {
		uint64_t val = 0;

		pinned_stat(c->p, i, &val);
		json_object_set_new(g, pinned_stat_name(i),
				    json_integer((json_int_t)val));
		table_row(t, (const char *[]){ pinned_stat_name(i),
					       u64s(v, sizeof(v), val) });
	}
	json_object_set_new(out, "global", g);
}

/* Ids in use: the kernel's listeners or routes, and the status's. */
static void mark_ids(const struct inspect *c, bool *lst, bool *rt)
{
	struct snilb_listener_key k;
	struct snilb_listener v;
	struct snilb_route_key rk;
	struct snilb_route r;
	struct pinned_iter it;
	json_t *o;
	size_t i;

	if (!pinned_listeners_init(c->p, &it))
		while (pinned_listeners_next(&it, &k, &v) == 1)
			if (v.id < SNILB_MAX_LISTENERS)
				lst[v.id] = true;
	if (!pinned_routes_init(c->p, &it))
		while (pinned_routes_next(&it, &rk, &r) == 1)
			if (r.id < SNILB_MAX_ROUTES)
				rt[r.id] = true;
	json_array_foreach(json_object_get(c->st, "routes"), i, o) {
		long long id = jint(o, "id", -1);

		if (id >= 0 && id < SNILB_MAX_ROUTES)
			rt[id] = true;
	}
}

static void stats_listener(const struct inspect *c, uint32_t id,
			   struct table *t, json_t *arr)
{
	struct snilb_listener_stats ls;
	json_t *rej = json_object();
	char l[64], idb[16], acc[24], tot[24], reasons[1024] = "";
	uint64_t total = 0;
	uint32_t r;

	pinned_listener_stats(c->p, id, &ls);
	for (r = 0; r < SNILB_REJ_MAX; r++) {
		char one[64];

		total += ls.rejected[r];
		json_object_set_new(rej, pinned_reject_name(r),
				    json_integer((json_int_t)ls.rejected[r]));
		if (ls.rejected[r])
			join(reasons, sizeof(reasons), " ",
			     xsprintf(one, sizeof(one), "%s=%llu",
				      pinned_reject_name(r),
				      (unsigned long long)ls.rejected[r]));
	}
	listener_name(c, id, l, sizeof(l));
	json_array_append_new(arr, json_pack("{s:I, s:s, s:I, s:o}",
		"id", (json_int_t)id, "address", l,
		"accepted", (json_int_t)ls.accepted, "rejected", rej));
	table_row(t, (const char *[]){
		l, xsprintf(idb, sizeof(idb), "%u", id),
		u64s(acc, sizeof(acc), ls.accepted),
		u64s(tot, sizeof(tot), total), reasons });
}

static void stats_route(const struct inspect *c, uint32_t id,
			struct table *t, json_t *arr)
{
	struct snilb_route_stats rs;
	char rn[320], idb[16], v[8][24];

	pinned_route_stats(c->p, id, &rs);
	route_name(c, id, rn, sizeof(rn));
	json_array_append_new(arr, json_pack(
		"{s:I, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
		"id", (json_int_t)id, "route", rn,
		"routed", (json_int_t)rs.routed,
		"spliced", (json_int_t)rs.spliced,
		"no_backend", (json_int_t)rs.no_backend,
		"retries", (json_int_t)rs.retries,
		"pkts_c2b", (json_int_t)rs.pkts_c2b,
		"pkts_b2c", (json_int_t)rs.pkts_b2c,
		"bytes_c2b", (json_int_t)rs.bytes_c2b,
		"bytes_b2c", (json_int_t)rs.bytes_b2c));
	table_row(t, (const char *[]){
		rn, xsprintf(idb, sizeof(idb), "%u", id),
		u64s(v[0], 24, rs.routed), u64s(v[1], 24, rs.spliced),
		u64s(v[2], 24, rs.no_backend), u64s(v[3], 24, rs.retries),
		u64s(v[4], 24, rs.pkts_c2b), u64s(v[5], 24, rs.pkts_b2c),
		u64s(v[6], 24, rs.bytes_c2b), u64s(v[7], 24, rs.bytes_b2c) });
}

static int run_stats(struct inspect *c)
{
	bool *lst = calloc(SNILB_MAX_LISTENERS, sizeof(*lst));
	bool *rt = calloc(SNILB_MAX_ROUTES, sizeof(*rt));
	json_t *out = json_object(), *la = json_array(), *ra = json_array();
	struct table g, l, r;
	uint32_t i;

	if (!lst || !rt) {
		free(lst);
		free(rt);
		return EXIT_USAGE;
	}
	table_init(&g, 2, (const char *[]){ "COUNTER", "VALUE" });
	table_init(&l, 5, (const char *[]){ "LISTENER", "ID", "ACCEPTED",
					    "REJECTED", "REASONS" });
	table_init(&r, 10, (const char *[]){
		   "ROUTE", "ID", "ROUTED", "SPLICED", "NO_BACKEND", "RETRIES",
		   "PKTS_C2B", "PKTS_B2C", "BYTES_C2B", "BYTES_B2C" });
	stats_global(c, &g, out);
	mark_ids(c, lst, rt);
	for (i = 0; i < SNILB_MAX_LISTENERS; i++)
		if (lst[i])
			stats_listener(c, i, &l, la);
	for (i = 0; i < SNILB_MAX_ROUTES; i++)
		if (rt[i])
			stats_route(c, i, &r, ra);
	json_object_set_new(out, "listeners", la);
	json_object_set_new(out, "routes", ra);
	free(lst);
	free(rt);
	if (!c->json) {
		table_print(stdout, &g);
		if (l.nrows) {
			putchar('\n');
			table_print(stdout, &l);
		}
		if (r.nrows) {
			putchar('\n');
			table_print(stdout, &r);
		}
	}
	table_free(&g);
	table_free(&l);
	table_free(&r);
	if (c->json)
		return inspect_emit(c, out);
	json_decref(out);
	return 0;
}

static const struct inspect_cmd stats_cmd = {
	.name = "stats",
	.usage = "[OPTIONS]",
	.about =
"The data plane's counters: global ones (reject_* by reason), accepted\n"
"and rejected connections per listener, and per route.\n",
	.example = "snilb stats -o json",
	.pins = PINS_NEED,
	.run = run_stats,
};

int do_stats(int argc, char **argv)
{
	return inspect_main(&stats_cmd, NULL, argc, argv);
}

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * snilb backends: each backend set with the routes using it, its backends
 * and weights, their Maglev slots counted in the kernel's table, and the
 * flows bound to each.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "defaults.h"
#include "inspect.h"

static json_t *st_set_backend(const json_t *set, uint32_t backend)
{
	json_t *b;
	size_t i;

	json_array_foreach(json_object_get(set, "backends"), i, b)
		if (jint(b, "backend", -1) == backend)
			return b;
	return NULL;
}

/* Names of the kernel routes using set @set. */
static void set_routes(const struct inspect *c, const struct kroute *kr,
		       size_t nkr, uint32_t set, char *buf, size_t n)
{
	char name[320];
	size_t i;

	buf[0] = 0;
	for (i = 0; i < nkr; i++) {
		if (kr[i].v.set != set)
			continue;
		route_name(c, kr[i].v.id, name, sizeof(name));
		if (!strstr(buf, name))
			join(buf, n, ",", name);
	}
}

/* Active flows bound to each backend id (@count: SNILB_MAX_BACKENDS). */
static int flows_per_backend(const struct inspect *c, uint32_t *count)
{
	struct snilb_flow_key k;
	struct snilb_flow f;
	struct pinned_iter it;
	int e = pinned_flows_init(c->p, &it);

	while (!e && (e = pinned_flows_next(&it, &k, &f)) == 1) {
		e = 0;
		if (f.state != SNILB_FS_HELLO && f.backend < SNILB_MAX_BACKENDS)
			count[f.backend]++;
	}
	return e < 0 ? e : 0;
}

struct set_view {
	uint32_t id, size;
	const char *routes;
	const json_t *st;	/* the status's set, or NULL */
	const uint32_t *flows;	/* per backend id */
	json_t *backends;	/* JSON rows */
	bool first;		/* no row printed for this set yet */
};

static void backend_row(struct table *t, struct set_view *sv,
			const struct kbackends *kb, uint32_t id,
			const char *note)
{
	json_t *sb = st_set_backend(sv->st, id);
	uint32_t slots = kb->slots[id];
	char set[16], size[16], bid[16], addr[64], w[24], sl[16], sh[16];
	char fl[16];

	backend_addr(kb, id, addr, sizeof(addr));
	if (sb && !kb->be[id].family)
		fmt_hostport(addr, sizeof(addr), jstr(sb, "address"),
			     jint(sb, "port", 0));
	if (sb)
		xsprintf(w, sizeof(w), "%lld", jint(sb, "weight", 0));
	else
		xsprintf(w, sizeof(w), "-");
	xsprintf(sh, sizeof(sh), "%.1f%%",
		 sv->size ? 100.0 * slots / sv->size : 0.0);
	json_array_append_new(sv->backends, json_pack(
		"{s:I, s:s, s:I, s:I, s:I, s:s*}", "backend", (json_int_t)id,
		"address", addr, "weight", (json_int_t)jint(sb, "weight", -1),
		"slots", (json_int_t)slots, "flows", (json_int_t)sv->flows[id],
		"note", note[0] ? note : NULL));
	table_row(t, (const char *[]){
		sv->first ? xsprintf(set, sizeof(set), "%u", sv->id) : "",
		sv->first ? xsprintf(size, sizeof(size), "%u", sv->size) : "",
		sv->first ? sv->routes : "",
		xsprintf(bid, sizeof(bid), "%u", id), addr, w,
		xsprintf(sl, sizeof(sl), "%u", slots), sh,
		xsprintf(fl, sizeof(fl), "%u", sv->flows[id]), note });
	sv->first = false;
}

/* The slots that reset their connections: the share of the route's
 * invalid backendRefs. */
static void reset_row(struct table *t, struct set_view *sv,
		      const struct kbackends *kb)
{
	uint32_t slots = kb->slots[SNILB_BACKEND_RESET];
	char set[16], size[16], w[24], sl[16], sh[16];

	if (json_is_integer(json_object_get(sv->st, "reset")))
		xsprintf(w, sizeof(w), "%lld", jint(sv->st, "reset", 0));
	else
		xsprintf(w, sizeof(w), "-");
	xsprintf(sh, sizeof(sh), "%.1f%%",
		 sv->size ? 100.0 * slots / sv->size : 0.0);
	json_array_append_new(sv->backends, json_pack(
		"{s:s, s:I, s:I, s:s}", "address", "reset", "weight",
		(json_int_t)jint(sv->st, "reset", -1), "slots",
		(json_int_t)slots, "note", "invalid backendRefs' share: RST"));
	table_row(t, (const char *[]){
		sv->first ? xsprintf(set, sizeof(set), "%u", sv->id) : "",
		sv->first ? xsprintf(size, sizeof(size), "%u", sv->size) : "",
		sv->first ? sv->routes : "", "-", "reset", w,
		xsprintf(sl, sizeof(sl), "%u", slots), sh, "-",
		"invalid backendRefs' share: RST" });
	sv->first = false;
}

/* One set's rows; false when the kernel and the status disagree. */
static bool backends_set(struct table *t, struct set_view *sv,
			 struct kbackends *kb)
{
	json_t *b;
	bool ok = true;
	char note[96];
	uint32_t i;
	size_t j;

	for (i = 0; i < SNILB_MAX_BACKENDS; i++) {
		json_t *sb;

		if (!kb->slots[i])
			continue;
		note[0] = 0;
		sb = st_set_backend(sv->st, i);
		if (sv->st && !sb) {
			xsprintf(note, sizeof(note), "not in status");
			ok = false;
		} else if (sb && jint(sb, "slots", -1) >= 0 &&
			   jint(sb, "slots", -1) != kb->slots[i]) {
			xsprintf(note, sizeof(note), "status says %lld slots",
				 jint(sb, "slots", -1));
			ok = false;
		}
		backend_row(t, sv, kb, i, note);
	}
	if (kb->slots[SNILB_BACKEND_RESET])
		reset_row(t, sv, kb);
	/* Backends the status gives slots the kernel table lacks. */
	json_array_foreach(json_object_get(sv->st, "backends"), j, b) {
		long long id = jint(b, "backend", -1);

		if (id < 0 || id >= SNILB_MAX_BACKENDS || kb->slots[id] ||
		    jint(b, "slots", 0) <= 0)
			continue;
		backend_row(t, sv, kb, (uint32_t)id, "NOT IN KERNEL");
		ok = false;
	}
	if (sv->first)		/* not one backend */
		table_row(t, (const char *[]){
			xsprintf(note, sizeof(note), "%u", sv->id), "0",
			sv->routes, "-", "", "", "", "", "",
			"no live backend" });
	return ok;
}

static int run_backends(struct inspect *c)
{
	struct snilb_set *sets = calloc(SNILB_MAX_SETS, sizeof(*sets));
	uint32_t *flows = calloc(SNILB_MAX_BACKENDS, sizeof(*flows));
	struct kbackends kb = { 0 };
	struct kroute *kr = NULL;
	json_t *arr = json_array();
	struct table t;
	size_t nkr = 0;
	bool ok = true;
	uint32_t id;
	int rc = 0;

	if (!sets || !flows || kb_load(c, &kb) ||
	    pinned_sets_read(c->p, sets) ||
	    load_kroutes(c, &kr, &nkr) || flows_per_backend(c, flows)) {
		inspect_err(c, "cannot read the backend sets: %s",
			    strerror(errno));
		rc = EXIT_USAGE;
		goto out;
	}
	table_init(&t, 10, (const char *[]){
		   "SET", "SIZE", "ROUTES", "BACKEND", "ADDRESS", "WEIGHT",
		   "SLOTS", "SHARE", "FLOWS", "NOTE" });
	for (id = 0; id < SNILB_MAX_SETS; id++) {
		char routes[512];
		struct set_view sv = {
			.id = id, .routes = routes, .st = st_set(c, id),
			.flows = flows, .first = true,
		};

		set_routes(c, kr, nkr, id, routes, sizeof(routes));
		if (!sets[id].size && !sv.st && !routes[0])
			continue;
		sv.size = kb_slots(c, &kb, id);
		sv.backends = json_array();
		ok &= backends_set(&t, &sv, &kb);
		json_array_append_new(arr, json_pack(
			"{s:I, s:I, s:I, s:s, s:o}", "id", (json_int_t)id,
			"size", (json_int_t)sv.size,
			"nbackends", (json_int_t)sets[id].nbackends,
			"routes", routes, "backends", sv.backends));
	}
	if (c->json) {
		rc = inspect_emit(c, json_pack("{s:O, s:b}", "sets", arr,
					       "ok", ok));
	} else if (t.nrows) {
		table_print(stdout, &t);
	} else {
		printf("no backend sets\n");
	}
	table_free(&t);
	if (!rc && !ok)
		rc = EXIT_NOMATCH;
out:
	json_decref(arr);
	free(kr);
	kb_free(&kb);
	free(flows);
	free(sets);
	return rc;
}

static const struct inspect_cmd backends_cmd = {
	.name = "backends",
	.usage = "[OPTIONS]",
	.about =
"Backend sets: the routes using each, its backends with their weights,\n"
"Maglev slots (counted in the kernel's table) and active flows.\n",
	.example = "snilb backends --status-file " SNILB_STATUS_FILE,
	.pins = PINS_NEED,
	.run = run_backends,
};

int do_backends(int argc, char **argv)
{
	return inspect_main(&backends_cmd, NULL, argc, argv);
}

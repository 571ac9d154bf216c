// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * snilb routes: one line per hostname a route serves on a listener, the
 * status file's entries checked against the kernel's routes map.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "inspect.h"

void conditions_summary(const json_t *conds, char *buf, size_t n)
{
	json_t *cd;
	size_t j;

	json_array_foreach(conds, j, cd) {
		bool good = !strcmp(jstr(cd, "status"), "True");
		char one[256];

		/* The one negative-polarity condition: False is fine. */
		if (!strcmp(jstr(cd, "type"), "Conflicted")) {
			if (!good)
				continue;
			good = false;
		}
		if (good)
			xsprintf(one, sizeof(one), "%s", jstr(cd, "type"));
		else
			xsprintf(one, sizeof(one), "%s=%s(%s)",
				 jstr(cd, "type"), jstr(cd, "status"),
				 jstr(cd, "reason"));
		if (!strstr(buf, one))	/* same on every parent */
			join(buf, n, " ", one);
	}
}

/* "Accepted ResolvedRefs" or "ResolvedRefs=False(BackendNotFound)". */
void route_conditions(const json_t *r, char *buf, size_t n)
{
	json_t *p;
	size_t i;

	buf[0] = 0;
	json_array_foreach(json_object_get(r, "parents"), i, p)
		conditions_summary(json_object_get(p, "conditions"), buf, n);
}

/* "+pp2" after an endpoint that gets a PROXY v2 header (docs/agent.md). */
static const char *pp_mark(const json_t *e)
{
	const char *pp = jstr(e, "proxy_protocol");

	return pp && !strcmp(pp, "v2") ? "+pp2" : "";
}

/*
 * "198.18.2.11:8443*1,..." of an entry's set: the endpoints of the VIP's
 * address family with their Maglev weights, "+pp2" marking those that
 * get a PROXY v2 header. Without that set in the status, the route's
 * backendRefs and their weights.
 */
void route_backends(const struct inspect *c, const json_t *r, long set,
		    char *buf, size_t n)
{
	json_t *b, *e, *s;
	size_t i, j;
	char one[128], a[96];

	buf[0] = 0;
	s = st_set(c, set);
	if (s) {
		json_array_foreach(json_object_get(s, "backends"), j, e) {
			fmt_hostport(a, sizeof(a), jstr(e, "address"),
				     jint(e, "port", 0));
			join(buf, n, ",", xsprintf(one, sizeof(one),
						   "%s*%lld%s", a,
						   jint(e, "weight", 1),
						   pp_mark(e)));
		}
		if (!buf[0])
			xsprintf(buf, n, "(no endpoints of this family)");
		else if (jint(s, "reset", 0) > 0)	/* invalid refs' share */
			join(buf, n, ",", xsprintf(one, sizeof(one),
						   "reset*%lld",
						   jint(s, "reset", 0)));
		return;
	}
	json_array_foreach(json_object_get(r, "backends"), i, b) {
		long long w = jint(b, "weight", 1);

		if (!json_array_size(json_object_get(b, "endpoints"))) {
			join(buf, n, ",", xsprintf(one, sizeof(one),
				"%s:%lld(no endpoints)", jstr(b, "service"),
				jint(b, "port", 0)));
			continue;
		}
		json_array_foreach(json_object_get(b, "endpoints"), j, e) {
			fmt_hostport(a, sizeof(a), jstr(e, "address"),
				     jint(e, "port", 0));
			join(buf, n, ",", xsprintf(one, sizeof(one),
						   "%s*%lld%s", a, w,
						   pp_mark(e)));
		}
	}
}

struct route_row {
	uint32_t listener, route, set;
	const char *hostname, *backends, *conditions, *note;
	json_t *parents;	/* the route's status.parents, or NULL */
	bool bad;
};

static int route_emit(const struct inspect *c, struct table *t, json_t *arr,
		      const struct route_row *rr)
{
	struct snilb_route_stats rs;
	char l[64], rn[320], set[16], a[24], b[24], d[24];

	pinned_route_stats(c->p, rr->route, &rs);
	listener_name(c, rr->listener, l, sizeof(l));
	route_name(c, rr->route, rn, sizeof(rn));
	xsprintf(set, sizeof(set), "%u", rr->set);
	if (c->json)
		return json_array_append_new(arr, json_pack(
			"{s:I, s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:o*, s:s*,"
			" s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}}",
			"listener", (json_int_t)rr->listener, "address", l,
			"hostname", rr->hostname, "route", rn,
			"route_id", (json_int_t)rr->route,
			"set", (json_int_t)rr->set,
			"backends", rr->backends, "conditions", rr->conditions,
			"parents", json_deep_copy(rr->parents),
			"note", rr->note[0] ? rr->note : NULL,
			"stats", "routed", (json_int_t)rs.routed,
			"spliced", (json_int_t)rs.spliced,
			"no_backend", (json_int_t)rs.no_backend,
			"retries", (json_int_t)rs.retries,
			"pkts_c2b", (json_int_t)rs.pkts_c2b,
			"pkts_b2c", (json_int_t)rs.pkts_b2c,
			"bytes_c2b", (json_int_t)rs.bytes_c2b,
			"bytes_b2c", (json_int_t)rs.bytes_b2c));
	return table_row(t, (const char *[]){
		l, rr->hostname, rn, set, rr->backends, rr->conditions,
		u64s(a, sizeof(a), rs.routed), u64s(b, sizeof(b), rs.spliced),
		u64s(d, sizeof(d), rs.no_backend), rr->note });
}

/* One status entry against the kernel; false when they disagree. */
static bool route_entry(const struct inspect *c, struct kroute *kr,
			size_t nkr, const json_t *r, const json_t *en,
			struct table *t, json_t *arr)
{
	struct route_row rr = {
		.listener = (uint32_t)jint(en, "listener", -1),
		.route = (uint32_t)jint(r, "id", -1),
		.set = (uint32_t)jint(en, "set", -1),
		.hostname = jstr(en, "hostname"),
	};
	char be[2048], cond[1024], note[340] = "";
	struct kroute *k;
	bool ok = true;

	route_backends(c, r, jint(en, "set", -1), be, sizeof(be));
	route_conditions(r, cond, sizeof(cond));
	k = kroute_find(kr, nkr, rr.listener, rr.hostname);
	if (k)
		k->matched = true;
	if (*jstr(en, "shadowed_by")) {
		xsprintf(note, sizeof(note), "shadowed by %s",
			 jstr(en, "shadowed_by"));
	} else if (!k) {
		xsprintf(note, sizeof(note), "NOT IN KERNEL");
		ok = false;
	} else if (k->v.id != rr.route || k->v.set != rr.set) {
		xsprintf(note, sizeof(note), "KERNEL HAS route #%u set %u",
			 k->v.id, k->v.set);
		ok = false;
	}
	rr.backends = be[0] ? be : "-";
	rr.conditions = cond[0] ? cond : "-";
	rr.parents = json_object_get(r, "parents");
	rr.note = note;
	route_emit(c, t, arr, &rr);
	return ok;
}

/* "addr:port,addr:port" of the backends in set @set's table. */
static void kernel_set_backends(const struct inspect *c,
				struct kbackends *kb, uint32_t set, char *buf,
				size_t n)
{
	char a[64];
	uint32_t i;

	buf[0] = 0;
	if (!kb_slots(c, kb, set)) {
		snprintf(buf, n, "(none)");
		return;
	}
	for (i = 0; i < SNILB_MAX_BACKENDS; i++)
		if (kb->slots[i])
			join(buf, n, ",", backend_addr(kb, i, a, sizeof(a)));
}

/* A kernel route no status entry names: listed with its ids. */
static void route_kernel_only(const struct inspect *c, struct kbackends *kb,
			      const struct kroute *k, struct table *t,
			      json_t *arr)
{
	char host[260], be[2048];
	struct route_row rr = {
		.listener = k->k.listener, .route = k->v.id, .set = k->v.set,
		.hostname = kroute_host(k, host, sizeof(host)),
		.backends = be, .conditions = "-",
		.note = c->st ? "no status entry" : "",
	};

	kernel_set_backends(c, kb, k->v.set, be, sizeof(be));
	route_emit(c, t, arr, &rr);
}

static int run_routes(struct inspect *c)
{
	struct kbackends kb = { 0 };
	struct kroute *kr = NULL;
	json_t *arr = json_array(), *r, *en;
	struct table t;
	size_t nkr = 0, i, j;
	bool ok = true;

	if (load_kroutes(c, &kr, &nkr) || kb_load(c, &kb))
		fprintf(stderr, "snilb: cannot read the routes: %s\n",
			strerror(errno));
	table_init(&t, 10, (const char *[]){
		   "LISTENER", "HOSTNAME", "ROUTE", "SET", "BACKENDS",
		   "CONDITIONS", "ROUTED", "SPLICED", "NO_BACKEND", "NOTE" });
	json_array_foreach(json_object_get(c->st, "routes"), i, r)
		json_array_foreach(json_object_get(r, "entries"), j, en)
			ok &= route_entry(c, kr, nkr, r, en, &t, arr);
	for (i = 0; i < nkr; i++)
		if (!kr[i].matched)
			route_kernel_only(c, &kb, &kr[i], &t, arr);
	if (c->json) {
		table_free(&t);
		free(kr);
		kb_free(&kb);
		if (inspect_emit(c, json_pack("{s:o, s:b}", "routes", arr,
					      "ok", ok)))
			return EXIT_USAGE;
		return ok ? 0 : EXIT_NOMATCH;
	}
	json_decref(arr);
	if (t.nrows)
		table_print(stdout, &t);
	else
		printf("no routes\n");
	table_free(&t);
	free(kr);
	kb_free(&kb);
	return ok ? 0 : EXIT_NOMATCH;
}

static const struct inspect_cmd routes_cmd = {
	.name = "routes",
	.usage = "[OPTIONS]",
	.about =
"One line per hostname a route serves on a listener: its backend set,\n"
"backends (address:port*weight, +pp2: it gets a PROXY v2 header),\n"
"conditions and counters. Entries the\n"
"kernel lacks are flagged NOT IN KERNEL (exit 1), kernel routes no status\n"
"entry names are listed with their ids.\n",
	.example = "snilb routes -o json",
	.pins = PINS_NEED,
	.run = run_routes,
};

int do_routes(int argc, char **argv)
{
	return inspect_main(&routes_cmd, NULL, argc, argv);
}

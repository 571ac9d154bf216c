// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * snilb status | routes | backends | flows | stats | detach: what the data
 * plane holds, read from the maps the agent pinned (user/dataplane/pinned.c), with
 * names and reasons from the agent's status file. Neither is required:
 * without a status file ids stand in for names, and the maps outlive the
 * agent, so a stopped agent's data plane can still be looked at and
 * removed.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <linux/magic.h>
#include <jansson.h>

#include "cmd.h"
#include "defaults.h"
#include "pinned.h"
#include "table.h"

#define FLOWS_DEFAULT_LIMIT	100

/* --- small helpers -------------------------------------------------- */

struct ctx {
	const char *pin_path, *status_file, *route, *ifaces;
	bool json, force;
	long limit;
	struct pinned *p;	/* NULL: nothing pinned (perr says why) */
	json_t *st;		/* NULL: no status file */
	char perr[512];
};

static const char *jstr(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

static long long jint(const json_t *o, const char *k, long long def)
{
	json_t *v = json_object_get(o, k);

	if (json_is_integer(v))
		return json_integer_value(v);
	if (json_is_real(v))
		return (long long)json_real_value(v);
	return def;
}

static char *xsprintf(char *buf, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static char *xsprintf(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, n, fmt, ap);
	va_end(ap);
	return buf;
}

static char *u64s(char *buf, size_t n, uint64_t v)
{
	return xsprintf(buf, n, "%llu", (unsigned long long)v);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static double wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool pid_alive(long long pid)
{
	if (pid <= 0)
		return false;
	return !kill((pid_t)pid, 0) || errno == EPERM;
}

static int emit_json(json_t *doc)
{
	int e;

	if (!doc) {
		fprintf(stderr, "snilb: out of memory\n");
		return EXIT_USAGE;
	}
	e = json_dumpf(doc, stdout, JSON_INDENT(2));
	fputc('\n', stdout);
	json_decref(doc);
	return e ? EXIT_USAGE : 0;
}

/* The status file's "routes" entry with id @id, or NULL. */
static json_t *st_route(const struct ctx *c, long long id)
{
	size_t i;
	json_t *r;

	json_array_foreach(json_object_get(c->st, "routes"), i, r)
		if (jint(r, "id", -1) == id)
			return r;
	return NULL;
}

/* "ns/name" of route @id, or "#id" without a status entry. */
static char *route_name(const struct ctx *c, long long id, char *buf,
			size_t n)
{
	json_t *r = st_route(c, id);

	if (r)
		return xsprintf(buf, n, "%s/%s", jstr(r, "namespace"),
				jstr(r, "name"));
	return xsprintf(buf, n, "#%lld", id);
}

static char *fmt_hostport(char *buf, size_t n, const char *addr,
			  long long port)
{
	if (strchr(addr, ':'))
		return xsprintf(buf, n, "[%s]:%lld", addr, port);
	return xsprintf(buf, n, "%s:%lld", addr, port);
}

/* "198.18.0.1:443" of listener @id: the kernel's, else the status's. */
static char *listener_name(const struct ctx *c, uint32_t id, char *buf,
			   size_t n)
{
	struct snilb_listener_key k;
	json_t *l;
	size_t i;

	if (c->p && !pinned_listener_key(c->p, id, &k))
		return pinned_fmt_addr(buf, n, k.family, k.addr, k.port);
	json_array_foreach(json_object_get(c->st, "listeners"), i, l)
		if (jint(l, "id", -1) == id)
			return fmt_hostport(buf, n, jstr(l, "address"),
					    jint(l, "port", 0));
	return xsprintf(buf, n, "#%u", id);
}

/* Append @s to the comma-separated @buf, keeping it terminated. */
static void join(char *buf, size_t n, const char *sep, const char *s)
{
	size_t len = strlen(buf);

	if (len && len + strlen(sep) < n) {
		strcpy(buf + len, sep);
		len += strlen(sep);
	}
	snprintf(buf + len, n - len, "%s", s);
}

static void load_status(struct ctx *c)
{
	json_error_t jerr;

	if (access(c->status_file, F_OK)) {
		fprintf(stderr, "snilb: no status file at %s (the agent is "
			"not running, or pass its --status-file): showing "
			"ids instead of names\n", c->status_file);
		return;
	}
	c->st = json_load_file(c->status_file, 0, &jerr);
	if (!c->st)
		fprintf(stderr, "snilb: %s:%d: %s: showing ids instead of "
			"names\n", c->status_file, jerr.line, jerr.text);
}

/* --- kernel routes, sorted for lookups -------------------------------- */

struct kroute {
	struct snilb_route_key k;
	struct snilb_route v;
	bool matched;		/* a status entry names it */
};

static int kroute_cmp(const void *a, const void *b)
{
	const struct snilb_route_key *x = a, *y = b;

	if (x->listener != y->listener)
		return x->listener < y->listener ? -1 : 1;
	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return 0;
}

static int load_kroutes(const struct ctx *c, struct kroute **out, size_t *n)
{
	struct pinned_iter it;
	struct kroute *a = NULL;
	size_t cap = 0;
	int e;

	*n = 0;
	e = pinned_routes_init(c->p, &it);
	while (!e) {
		if (*n == cap) {
			struct kroute *b;

			cap = cap ? cap * 2 : 64;
			b = realloc(a, cap * sizeof(*a));
			if (!b) {
				e = -ENOMEM;
				break;
			}
			a = b;
		}
		memset(&a[*n], 0, sizeof(a[*n]));
		e = pinned_routes_next(&it, &a[*n].k, &a[*n].v);
		if (e != 1)
			break;
		(*n)++;
		e = 0;
	}
	if (e < 0) {
		free(a);
		*n = 0;
		*out = NULL;
		return e;
	}
	if (*n)
		qsort(a, *n, sizeof(*a), kroute_cmp);
	*out = a;
	return 0;
}

/* The kernel's route for @hostname on @listener. */
static struct kroute *kroute_find(struct kroute *a, size_t n,
				  uint32_t listener, const char *hostname)
{
	struct kroute key;
	const char *name = pinned_route_key(listener, hostname, &key.k);
	struct kroute *r;

	r = n ? bsearch(&key, a, n, sizeof(*a), kroute_cmp) : NULL;
	if (r && strcmp(r->v.name, name))
		return NULL;	/* a hash twin, not this name */
	return r;
}

/* "*.example.com" for the ".example.com" the kernel holds. */
static char *kroute_host(const struct kroute *r, char *buf, size_t n)
{
	return pinned_route_host(r->v.name, buf, n);
}

/* --- backends and their sets ---------------------------------------- */

/* Kernel backends, read once per command. */
struct kbackends {
	struct snilb_backend *be;	/* SNILB_MAX_BACKENDS */
	uint32_t *slots;		/* scratch, SNILB_MAX_BACKENDS */
};

static int kb_load(const struct ctx *c, struct kbackends *kb)
{
	kb->be = calloc(SNILB_MAX_BACKENDS, sizeof(*kb->be));
	kb->slots = calloc(SNILB_MAX_BACKENDS, sizeof(*kb->slots));
	if (!kb->be || !kb->slots)
		return -ENOMEM;
	return pinned_backends_read(c->p, kb->be);
}

static void kb_free(struct kbackends *kb)
{
	free(kb->be);
	free(kb->slots);
}

/* Payload bytes backend -> client of a bound flow: its rev entry counts
 * them (struct snilb_rev); 0 when there is none. */
static uint64_t flow_bytes_b2c(const struct ctx *c, const struct kbackends *kb,
			       const struct snilb_config *cfg,
			       const struct snilb_flow *f)
{
	struct snilb_rev_key rk;
	struct snilb_rev rv;

	if (!kb->be || f->backend >= SNILB_MAX_BACKENDS || !f->nport ||
	    snilb_rev_key_of(&rk, &kb->be[f->backend], cfg, f->nport) ||
	    pinned_rev_lookup(c->p, &rk, &rv))
		return 0;
	return rv.bytes_b2c;
}

static char *backend_addr(const struct kbackends *kb, uint32_t id, char *buf,
			  size_t n)
{
	const struct snilb_backend *b;

	if (!kb->be || id >= SNILB_MAX_BACKENDS || !kb->be[id].family)
		return xsprintf(buf, n, "#%u?", id);
	b = &kb->be[id];
	return pinned_fmt_addr(buf, n, b->family, b->addr, b->port);
}

/* Count set @set's Maglev slots into kb->slots; its size, or 0. */
static uint32_t kb_slots(const struct ctx *c, struct kbackends *kb,
			 uint32_t set)
{
	uint32_t size = 0;

	memset(kb->slots, 0, SNILB_MAX_BACKENDS * sizeof(*kb->slots));
	if (pinned_maglev_slots(c->p, set, kb->slots, SNILB_MAX_BACKENDS,
				&size))
		return 0;
	return size;
}

/* "addr:port,addr:port" of the backends in set @set's table. */
static void kernel_set_backends(const struct ctx *c, struct kbackends *kb,
				uint32_t set, char *buf, size_t n)
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

/* Active flows bound to each backend id (@count: SNILB_MAX_BACKENDS). */
static int flows_per_backend(const struct ctx *c, uint32_t *count)
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

/* --- status ----------------------------------------------------------- */

static void kv(struct table *t, const char *k, const char *v)
{
	table_row(t, (const char *[]){ k, v });
}

/* The "agent" lines; false when the agent is not running. */
static bool status_agent(const struct ctx *c, struct table *t, json_t *out)
{
	json_t *a = json_object_get(c->st, "agent");
	long long pid = jint(a, "pid", 0);
	bool alive = pid_alive(pid);
	double last = json_number_value(json_object_get(a, "last_sync"));
	char buf[256], age[32];

	if (!a) {
		kv(t, "agent", "unknown (no status file)");
		return false;
	}
	if (last > 0)
		pinned_fmt_age(age, sizeof(age),
			       (uint64_t)((wall_now() - last) * 1e9));
	xsprintf(buf, sizeof(buf), "pid %lld, %s; last sync %s%s; %lld syncs,"
		 " %lld failed", pid, alive ? "running" : "NOT RUNNING",
		 last > 0 ? age : "never", last > 0 ? " ago" : "",
		 jint(a, "syncs", 0), jint(a, "sync_errors", 0));
	kv(t, "agent", buf);
	if (*jstr(a, "manifests"))
		kv(t, "manifests", jstr(a, "manifests"));
	if (*jstr(a, "controller"))
		kv(t, "controller", jstr(a, "controller"));
	json_object_set_new(out, "agent", json_deep_copy(a));
	json_object_set_new(out, "agent_alive", json_boolean(alive));
	return alive;
}

/* One row per interface the agent attached to; false if any is not. */
static bool status_ifaces(const struct ctx *c, struct table *t, json_t *out)
{
	json_t *ifs = json_object_get(json_object_get(c->st, "agent"),
				      "ifaces");
	json_t *arr = json_array(), *v;
	bool ok = true;
	char line[1024] = "", buf[128];
	size_t i;

	json_array_foreach(ifs, i, v) {
		const char *name = json_string_value(v);
		uint32_t id;
		bool on;

		if (!name)
			continue;
		on = pinned_tc_query(name, buf, sizeof(buf), &id);
		ok &= on;
		json_array_append_new(arr, json_pack("{s:s, s:b, s:s}",
						      "name", name,
						      "attached", on,
						      "state", buf));
		join(line, sizeof(line), ", ", name);
		join(line, sizeof(line), ": ", buf);
	}
	kv(t, "interfaces", line[0] ? line : "(none known)");
	json_object_set_new(out, "interfaces", arr);
	return ok;
}

static bool status_listeners(const struct ctx *c, json_t *out)
{
	struct snilb_listener_key k;
	struct snilb_listener v;
	struct pinned_iter it;
	struct table t;
	json_t *arr = json_array(), *l;
	bool ok = true;
	char id[16], addr[64];
	size_t i;

	table_init(&t, 3, (const char *[]){ "LISTENER", "ADDRESS",
					    "GATEWAYS" });
	if (c->p && !pinned_listeners_init(c->p, &it))
		while (pinned_listeners_next(&it, &k, &v) == 1) {
			char gws[512] = "";
			json_t *g;
			size_t j;

			json_array_foreach(json_object_get(c->st, "listeners"),
					   i, l) {
				if (jint(l, "id", -1) != v.id)
					continue;
				json_array_foreach(json_object_get(l,
							"gateways"), j, g)
					if (json_is_string(g))
						join(gws, sizeof(gws), ",",
						     json_string_value(g));
			}
			pinned_fmt_addr(addr, sizeof(addr), k.family, k.addr,
					k.port);
			table_row(&t, (const char *[]){
				  xsprintf(id, sizeof(id), "%u", v.id), addr,
				  gws });
			json_array_append_new(arr, json_pack(
				"{s:I, s:s, s:s}", "id", (json_int_t)v.id,
				"address", addr, "gateways", gws));
		}
	/* Listeners the agent meant to program but the kernel lacks. */
	json_array_foreach(json_object_get(c->st, "listeners"), i, l) {
		uint32_t lid = (uint32_t)jint(l, "id", -1);

		if (c->p && !pinned_listener_key(c->p, lid, &k))
			continue;
		ok = false;
		fmt_hostport(addr, sizeof(addr), jstr(l, "address"),
			     jint(l, "port", 0));
		table_row(&t, (const char *[]){
			  xsprintf(id, sizeof(id), "%u", lid), addr,
			  "NOT IN KERNEL" });
	}
	json_object_set_new(out, "listeners", arr);
	if (!c->json && t.nrows) {
		putchar('\n');
		table_print(stdout, &t);
	}
	table_free(&t);
	return ok;
}

static void status_maps(const struct ctx *c, json_t *out)
{
	json_t *maps = json_object();
	struct table t;
	size_t i;

	table_init(&t, 4, (const char *[]){ "MAP", "ENTRIES", "MAX",
					    "FILL" });
	for (i = 0; c->p && pinned_fill_maps[i]; i++) {
		const char *m = pinned_fill_maps[i];
		uint32_t n, max;
		char a[16], b[16], f[16];

		if (pinned_fill(c->p, m, &n, &max))
			continue;
		xsprintf(f, sizeof(f), "%.1f%%", max ? 100.0 * n / max : 0.0);
		table_row(&t, (const char *[]){
			  m, xsprintf(a, sizeof(a), "%u", n),
			  xsprintf(b, sizeof(b), "%u", max), f });
		json_object_set_new(maps, m, json_pack("{s:I, s:I}",
						       "entries", (json_int_t)n,
						       "max", (json_int_t)max));
	}
	json_object_set_new(out, "maps", maps);
	if (!c->json && t.nrows) {
		putchar('\n');
		table_print(stdout, &t);
	}
	table_free(&t);
}

/* The configuration errors the agent reported; their count. */
static size_t status_errors(const struct ctx *c, json_t *out)
{
	json_t *errs = json_object_get(c->st, "errors"), *e;
	size_t i, n = json_array_size(errs);

	json_object_set_new(out, "errors", errs ? json_deep_copy(errs) :
						  json_array());
	if (c->json || !n)
		return n;
	printf("\nerrors (%zu)\n", n);
	json_array_foreach(errs, i, e) {
		printf("  %s:%lld: ", *jstr(e, "file") ? jstr(e, "file") :
		       "?", jint(e, "line", 0));
		if (*jstr(e, "field"))
			printf("%s: ", jstr(e, "field"));
		printf("%s", jstr(e, "message"));
		if (*jstr(e, "object"))
			printf(" (%s)", jstr(e, "object"));
		putchar('\n');
	}
	return n;
}

static int run_status(struct ctx *c)
{
	json_t *out = json_object();
	struct table t;
	bool ok;

	table_init(&t, 2, (const char *[]){ "", "" });
	ok = status_agent(c, &t, out);
	kv(&t, "pin path", c->p ? c->pin_path : c->perr);
	json_object_set_new(out, "pin_path", json_string(c->pin_path));
	json_object_set_new(out, "pinned", json_boolean(c->p != NULL));
	ok &= status_ifaces(c, &t, out);
	ok &= c->p != NULL;
	if (!c->json)	/* key: value lines, no header */
		table_print_rows(stdout, &t);
	table_free(&t);
	ok &= status_listeners(c, out);
	status_maps(c, out);
	ok &= status_errors(c, out) == 0;
	json_object_set_new(out, "ok", json_boolean(ok));
	if (c->json && emit_json(out))
		return EXIT_USAGE;
	if (!c->json)
		json_decref(out);
	return ok ? 0 : EXIT_NOMATCH;
}

/* --- routes ----------------------------------------------------------- */

/* "Accepted ResolvedRefs" or "ResolvedRefs=False(BackendNotFound)". */
static void route_conditions(const json_t *r, char *buf, size_t n)
{
	json_t *p, *cd;
	size_t i, j;

	buf[0] = 0;
	json_array_foreach(json_object_get(r, "parents"), i, p)
		json_array_foreach(json_object_get(p, "conditions"), j, cd) {
			char one[256];

			if (!strcmp(jstr(cd, "status"), "True"))
				xsprintf(one, sizeof(one), "%s",
					 jstr(cd, "type"));
			else
				xsprintf(one, sizeof(one), "%s=%s(%s)",
					 jstr(cd, "type"), jstr(cd, "status"),
					 jstr(cd, "reason"));
			if (!strstr(buf, one))	/* same on every parent */
				join(buf, n, " ", one);
		}
}

/*
 * "198.18.2.11:8443*1,..." of an entry's set: the endpoints of the VIP's
 * address family with their Maglev weights. Without that set in the
 * status, the route's backendRefs and their weights.
 */
static void route_backends(const struct ctx *c, const json_t *r, long set,
			   char *buf, size_t n)
{
	json_t *b, *e, *s;
	size_t i, j;
	char one[128], a[96];

	buf[0] = 0;
	json_array_foreach(json_object_get(c->st, "sets"), i, s) {
		if (jint(s, "id", -1) != set)
			continue;
		json_array_foreach(json_object_get(s, "backends"), j, e) {
			fmt_hostport(a, sizeof(a), jstr(e, "address"),
				     jint(e, "port", 0));
			join(buf, n, ",", xsprintf(one, sizeof(one), "%s*%lld",
						   a, jint(e, "weight", 1)));
		}
		if (!buf[0])
			xsprintf(buf, n, "(no endpoints of this family)");
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
						   "%s*%lld", a, w));
		}
	}
}

struct route_row {
	uint32_t listener, route, set;
	const char *hostname, *backends, *conditions, *note;
	bool bad;
};

static int route_emit(const struct ctx *c, struct table *t, json_t *arr,
		      const struct route_row *rr)
{
	struct snilb_route_stats rs;
	char l[64], rn[300], set[16], a[24], b[24], d[24];

	pinned_route_stats(c->p, rr->route, &rs);
	listener_name(c, rr->listener, l, sizeof(l));
	route_name(c, rr->route, rn, sizeof(rn));
	xsprintf(set, sizeof(set), "%u", rr->set);
	if (c->json)
		return json_array_append_new(arr, json_pack(
			"{s:I, s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:s*,"
			" s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}}",
			"listener", (json_int_t)rr->listener, "address", l,
			"hostname", rr->hostname, "route", rn,
			"route_id", (json_int_t)rr->route,
			"set", (json_int_t)rr->set,
			"backends", rr->backends, "conditions", rr->conditions,
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
static bool route_entry(const struct ctx *c, struct kroute *kr, size_t nkr,
			const json_t *r, const json_t *en, struct table *t,
			json_t *arr)
{
	struct route_row rr = {
		.listener = (uint32_t)jint(en, "listener", -1),
		.route = (uint32_t)jint(r, "id", -1),
		.set = (uint32_t)jint(en, "set", -1),
		.hostname = jstr(en, "hostname"),
	};
	char be[2048], cond[1024], note[300] = "";
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
	rr.note = note;
	route_emit(c, t, arr, &rr);
	return ok;
}

/* A kernel route no status entry names: listed with its ids. */
static void route_kernel_only(const struct ctx *c, struct kbackends *kb,
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

static int run_routes(struct ctx *c)
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
		if (emit_json(json_pack("{s:o, s:b}", "routes", arr, "ok", ok)))
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

/* --- backends --------------------------------------------------------- */

static json_t *st_set(const struct ctx *c, uint32_t id)
{
	json_t *s;
	size_t i;

	json_array_foreach(json_object_get(c->st, "sets"), i, s)
		if (jint(s, "id", -1) == id)
			return s;
	return NULL;
}

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
static void set_routes(const struct ctx *c, const struct kroute *kr,
		       size_t nkr, uint32_t set, char *buf, size_t n)
{
	char name[300];
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

struct set_view {
	uint32_t id, size;
	const char *routes;
	const json_t *st;	/* the status's set, or NULL */
	const uint32_t *flows;	/* per backend id */
	json_t *backends;	/* JSON rows */
	bool first;		/* no row printed for this set yet */
};

static void backend_row(struct table *t, struct set_view *sv, const struct kbackends *kb,
			uint32_t id, const char *note)
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

/* One set's rows; false when the kernel and the status disagree. */
static bool backends_set(struct table *t,
			 struct set_view *sv, struct kbackends *kb)
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

static int run_backends(struct ctx *c)
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
		fprintf(stderr, "snilb: cannot read the backend sets: %s\n",
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
		rc = emit_json(json_pack("{s:O, s:b}", "sets", arr, "ok", ok));
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

/* --- flows ------------------------------------------------------------ */

static const char *flow_state(uint32_t s)
{
	switch (s) {
	case SNILB_FS_HELLO:
		return "hello";
	case SNILB_FS_ROUTED:
		return "routed";
	case SNILB_FS_SPLICED:
		return "spliced";
	case SNILB_FS_CLOSING:
		return "closing";
	}
	return "unknown";
}

/* --route: "ns/name" through the status file, or "#ID" / "ID". */
static int route_filter(const struct ctx *c, long long *id)
{
	const char *s = c->route;
	json_t *r;
	char *end;
	size_t i;

	*id = -1;
	if (!s)
		return 0;
	if (*s == '#')
		s++;
	*id = strtoll(s, &end, 10);
	if (*s && !*end && *id >= 0)
		return 0;
	json_array_foreach(json_object_get(c->st, "routes"), i, r) {
		char name[300];

		xsprintf(name, sizeof(name), "%s/%s", jstr(r, "namespace"),
			 jstr(r, "name"));
		if (!strcmp(name, c->route)) {
			*id = jint(r, "id", -1);
			return 0;
		}
	}
	fprintf(stderr, "snilb: no route %s in %s%s\n", c->route,
		c->status_file, c->st ? "" : " (missing): use --route #ID");
	return -ENOENT;
}

/* The SNAT port of a bound flow ("-" before): the source port of its
 * connection to the backend. */
static json_t *flow_snat(const struct snilb_flow *f, char *buf, size_t len)
{
	if (f->state == SNILB_FS_HELLO || !f->nport) {
		xsprintf(buf, len, "-");
		return json_null();
	}
	xsprintf(buf, len, "%u", ntohs(f->nport));
	return json_integer(ntohs(f->nport));
}

static void flow_row(const struct ctx *c, const struct kbackends *kb,
		     const struct snilb_flow_key *k,
		     const struct snilb_config *cfg,
		     const struct snilb_flow *f, uint64_t now,
		     struct table *t, json_t *arr)
{
	char cl[64], vip[64], be[64], age[32], c2b[24], b2c[24], rn[300];
	char sp[8];
	bool bound = f->state != SNILB_FS_HELLO;
	uint64_t bytes_b2c = bound ? flow_bytes_b2c(c, kb, cfg, f) : 0;
	json_t *snat = flow_snat(f, sp, sizeof(sp));

	pinned_fmt_addr(cl, sizeof(cl), k->family, k->caddr, k->cport);
	pinned_fmt_addr(vip, sizeof(vip), k->family, k->vaddr, k->vport);
	if (bound)
		backend_addr(kb, f->backend, be, sizeof(be));
	else
		xsprintf(be, sizeof(be), "-");
	pinned_fmt_age(age, sizeof(age),
		       now > f->created_ns ? now - f->created_ns : 0);
	if (bound)
		route_name(c, f->route, rn, sizeof(rn));
	else
		xsprintf(rn, sizeof(rn), "-");
	if (c->json) {
		json_array_append_new(arr, json_pack(
			"{s:s, s:s, s:s, s:o, s:s, s:f, s:I, s:I, s:s}",
			"client", cl, "vip", vip, "backend", be,
			"snat_port", snat, "state", flow_state(f->state),
			"age", now > f->created_ns ?
			       (double)(now - f->created_ns) / 1e9 : 0.0,
			"bytes_c2b", (json_int_t)f->bytes_c2b,
			"bytes_b2c", (json_int_t)bytes_b2c, "route", rn));
		return;
	}
	json_decref(snat);
	table_row(t, (const char *[]){
		cl, vip, be, sp, flow_state(f->state), age,
		u64s(c2b, sizeof(c2b), f->bytes_c2b),
		u64s(b2c, sizeof(b2c), bytes_b2c), rn });
}

static int run_flows(struct ctx *c)
{
	struct snilb_config cfg = { 0 };
	struct kbackends kb = { 0 };
	struct snilb_flow_key k;
	struct snilb_flow f;
	struct pinned_iter it;
	json_t *arr = json_array();
	uint64_t now = mono_ns();
	unsigned long shown = 0, more = 0;
	struct table t;
	long long want;
	int e;

	if (route_filter(c, &want))
		return EXIT_NOMATCH;
	e = kb_load(c, &kb);
	if (!e)
		e = pinned_config_read(c->p, &cfg);
	if (!e)
		e = pinned_flows_init(c->p, &it);
	table_init(&t, 9, (const char *[]){
		   "CLIENT", "VIP", "BACKEND", "SNAT_PORT", "STATE", "AGE",
		   "C2B", "B2C", "ROUTE" });
	while (!e && (e = pinned_flows_next(&it, &k, &f)) == 1) {
		e = 0;
		if (want >= 0 && (f.state == SNILB_FS_HELLO ||
				  f.route != want))
			continue;
		if (c->limit && shown >= (unsigned long)c->limit) {
			more++;
			continue;
		}
		flow_row(c, &kb, &k, &cfg, &f, now, &t, arr);
		shown++;
	}
	kb_free(&kb);
	if (e < 0) {
		fprintf(stderr, "snilb: cannot read the flows: %s\n",
			strerror(-e));
		table_free(&t);
		json_decref(arr);
		return EXIT_USAGE;
	}
	if (c->json) {
		table_free(&t);
		return emit_json(json_pack("{s:o, s:I, s:I}", "flows", arr,
					   "shown", (json_int_t)shown,
					   "more", (json_int_t)more));
	}
	json_decref(arr);
	if (t.nrows)
		table_print(stdout, &t);
	else
		printf("no flows\n");
	if (more)
		printf("%lu more (--limit 0 shows all)\n", more);
	table_free(&t);
	return 0;
}

/* --- stats ------------------------------------------------------------ */

static void stats_global(const struct ctx *c, struct table *t, json_t *out)
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
static void mark_ids(const struct ctx *c, bool *lst, bool *rt)
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

static void stats_listener(const struct ctx *c, uint32_t id,
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

static void stats_route(const struct ctx *c, uint32_t id, struct table *t,
			json_t *arr)
{
	struct snilb_route_stats rs;
	char rn[300], idb[16], v[8][24];

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

static int run_stats(struct ctx *c)
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
		return emit_json(out);
	json_decref(out);
	return 0;
}

/* --- detach ----------------------------------------------------------- */

static void say(const struct ctx *c, json_t *log, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A line of what was done: printed, or kept for the JSON answer. */
static void say(const struct ctx *c, json_t *log, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (c->json)
		json_array_append_new(log, json_string(buf));
	else
		printf("%s\n", buf);
}

/* Remove the program from @name's ingress; false if nothing was. */
static bool detach_iface(const struct ctx *c, const char *name, json_t *log)
{
	char state[128];
	uint32_t id;
	bool ours;
	int e;

	ours = pinned_tc_query(name, state, sizeof(state), &id);
	if (!id) {
		say(c, log, "%s: %s, nothing to detach", name, state);
		return false;
	}
	if (!ours && !c->force) {
		say(c, log, "%s: %s: left alone (--force removes it)", name,
		    state);
		return false;
	}
	e = pinned_tc_detach(name);
	if (e) {
		say(c, log, "%s: cannot detach program id %u: %s", name, id,
		    strerror(-e));
		return false;
	}
	say(c, log, "%s: detached program id %u from clsact ingress", name,
	    id);
	return true;
}

/* Unlink every pin under the pin path, then the directory itself. */
static bool remove_pins(const struct ctx *c, json_t *log)
{
	struct statfs sfs;
	struct dirent *de;
	bool ok = true;
	int n = 0;
	DIR *d;

	if (statfs(c->pin_path, &sfs)) {
		say(c, log, "%s: %s, no pins to remove", c->pin_path,
		    strerror(errno));
		return false;
	}
	/* Never unlink files anywhere but on bpffs: a mistyped path must
	 * not cost anyone their data. */
	if (sfs.f_type != BPF_FS_MAGIC) {
		say(c, log, "%s is not on bpffs: left alone", c->pin_path);
		return false;
	}
	d = opendir(c->pin_path);
	if (!d) {
		say(c, log, "%s: %s", c->pin_path, strerror(errno));
		return false;
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0)) {
			say(c, log, "%s/%s: %s", c->pin_path, de->d_name,
			    strerror(errno));
			ok = false;
			continue;
		}
		say(c, log, "removed %s/%s", c->pin_path, de->d_name);
		n++;
	}
	closedir(d);
	if (rmdir(c->pin_path)) {
		say(c, log, "%s: %s", c->pin_path, strerror(errno));
		return false;
	}
	say(c, log, "removed %s (%d pins)", c->pin_path, n);
	return ok;
}

static int run_detach(struct ctx *c)
{
	json_t *a = json_object_get(c->st, "agent"), *log = json_array(), *v;
	long long pid = jint(a, "pid", 0);
	char *list = NULL, *tok, *save = NULL;
	bool ok = true;
	size_t i;

	if (pid_alive(pid) && !c->force) {
		fprintf(stderr, "snilb: the agent (pid %lld) is running and "
			"would attach again: stop it first, or pass --force\n",
			pid);
		json_decref(log);
		return EXIT_NOMATCH;
	}
	if (c->ifaces) {
		list = strdup(c->ifaces);
		for (tok = strtok_r(list, ",", &save); tok;
		     tok = strtok_r(NULL, ",", &save))
			ok &= detach_iface(c, tok, log);
		free(list);
	} else if (json_array_size(json_object_get(a, "ifaces"))) {
		json_array_foreach(json_object_get(a, "ifaces"), i, v)
			if (json_is_string(v))
				ok &= detach_iface(c, json_string_value(v),
						   log);
	} else {
		say(c, log, "no interfaces known (no status file): pass "
		    "--iface to detach the program");
		ok = false;
	}
	ok &= remove_pins(c, log);
	if (c->json && emit_json(json_pack("{s:o, s:b}", "done", log,
					   "ok", ok)))
		return EXIT_USAGE;
	if (!c->json)
		json_decref(log);
	return ok ? 0 : EXIT_NOMATCH;
}

/* --- options and dispatch ----------------------------------------------- */

enum {
	O_ROUTE = 1 << 0,
	O_LIMIT = 1 << 1,
	O_IFACE = 1 << 2,
	O_FORCE = 1 << 3,
	O_NOPINS = 1 << 4,	/* runs without the pinned maps */
};

#define COMMON_HELP \
"  --pin-path PATH     where the agent pinned the maps (" \
	SNILB_PIN_PATH ")\n" \
"  --status-file PATH  the agent's status file (" SNILB_STATUS_FILE ")\n" \
"  -o, --output FMT    text (aligned tables, the default) or json\n" \
"  -h, --help          this help\n"

struct inspect_cmd {
	const char *name;
	unsigned int opts;
	int (*run)(struct ctx *c);
	const char *help;
};

static const struct inspect_cmd cmds[] = {
	{ "status", 0, run_status,
"Usage: snilb status [OPTIONS]\n"
"\n"
"The agent (running? last sync), whether the data plane is attached to\n"
"each of its interfaces, the listeners, how full the maps are, and the\n"
"configuration errors the agent reported. Exits 1 when any of that needs\n"
"attention.\n"
"\n"
"Options:\n" COMMON_HELP
"\n"
"Example:\n"
"  snilb status --pin-path " SNILB_PIN_PATH "\n" },
	{ "routes", 0, run_routes,
"Usage: snilb routes [OPTIONS]\n"
"\n"
"One line per hostname a route serves on a listener: its backend set,\n"
"backends (address:port*weight), conditions and counters. Entries the\n"
"kernel lacks are flagged NOT IN KERNEL (exit 1), kernel routes no status\n"
"entry names are listed with their ids.\n"
"\n"
"Options:\n" COMMON_HELP
"\n"
"Example:\n"
"  snilb routes -o json\n" },
	{ "backends", 0, run_backends,
"Usage: snilb backends [OPTIONS]\n"
"\n"
"Backend sets: the routes using each, its backends with their weights,\n"
"Maglev slots (counted in the kernel's table) and active flows.\n"
"\n"
"Options:\n" COMMON_HELP
"\n"
"Example:\n"
"  snilb backends --status-file " SNILB_STATUS_FILE "\n" },
	{ "flows", O_ROUTE | O_LIMIT, run_flows,
"Usage: snilb flows [--route NS/NAME] [--limit N] [OPTIONS]\n"
"\n"
"Connections in the flow table: client, VIP, backend (- until bound),\n"
"SNAT port (the source port of the connection to the backend, from\n"
"snilb agent --snat-ports; - until bound), state, age, payload bytes each\n"
"way and route.\n"
"\n"
"Options:\n"
"  --route ROUTE       only this route's flows: NS/NAME, or #ID\n"
"  --limit N           show at most N flows (100; 0: all)\n"
COMMON_HELP
"\n"
"Example:\n"
"  snilb flows --route default/foo --limit 20\n" },
	{ "stats", 0, run_stats,
"Usage: snilb stats [OPTIONS]\n"
"\n"
"The data plane's counters: global ones (reject_* by reason), accepted\n"
"and rejected connections per listener, and per route.\n"
"\n"
"Options:\n" COMMON_HELP
"\n"
"Example:\n"
"  snilb stats -o json\n" },
	{ "detach", O_IFACE | O_FORCE | O_NOPINS, run_detach,
"Usage: snilb detach [--iface IF[,IF...]] [--force] [OPTIONS]\n"
"\n"
"Remove the data plane: the program from each interface's clsact\n"
"ingress, then every pin under the pin path. Refuses while the agent\n"
"is running. Established connections through it break.\n"
"\n"
"Options:\n"
"  --iface IF,...      these interfaces (default: the status file's)\n"
"  --force             even while the agent runs, and a foreign program\n"
"                      at our tc handle\n"
COMMON_HELP
"\n"
"Example:\n"
"  snilb detach --iface eth0,eth1 --pin-path " SNILB_PIN_PATH "\n" },
};

static int bad_usage(const struct inspect_cmd *cmd, const char *fmt,
		     const char *arg)
{
	fprintf(stderr, "snilb %s: ", cmd->name);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n\n%s", cmd->help);
	return EXIT_USAGE;
}

/* 0, EXIT_USAGE, or -1 for --help (printed). */
static int parse_opts(const struct inspect_cmd *cmd, int argc, char **argv,
		      struct ctx *c)
{
	static const struct option lo[] = {
		{ "pin-path", required_argument, NULL, 'P' },
		{ "status-file", required_argument, NULL, 'S' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ "route", required_argument, NULL, 'r' },
		{ "limit", required_argument, NULL, 'l' },
		{ "iface", required_argument, NULL, 'i' },
		{ "force", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int o;

	opterr = 0;
	while ((o = getopt_long(argc, argv, ":o:h", lo, NULL)) != -1) {
		switch (o) {
		case 'P':
			c->pin_path = optarg;
			break;
		case 'S':
			c->status_file = optarg;
			break;
		case 'o':
			if (strcmp(optarg, "text") && strcmp(optarg, "json"))
				return bad_usage(cmd, "-o: text or json, not "
						 "'%s'", optarg);
			c->json = !strcmp(optarg, "json");
			break;
		case 'h':
			fputs(cmd->help, stdout);
			return -1;
		case 'r':
			if (!(cmd->opts & O_ROUTE))
				goto unknown;
			c->route = optarg;
			break;
		case 'l':
			if (!(cmd->opts & O_LIMIT))
				goto unknown;
			c->limit = strtol(optarg, &end, 10);
			if (!*optarg || *end || c->limit < 0)
				return bad_usage(cmd, "--limit: a number, not "
						 "'%s'", optarg);
			break;
		case 'i':
			if (!(cmd->opts & O_IFACE))
				goto unknown;
			c->ifaces = optarg;
			break;
		case 'f':
			if (!(cmd->opts & O_FORCE))
				goto unknown;
			c->force = true;
			break;
		case ':':
			return bad_usage(cmd, "%s needs an argument",
					 argv[optind - 1]);
		default:
			goto unknown;
		}
	}
	if (optind < argc)
		return bad_usage(cmd, "unexpected argument '%s'",
				 argv[optind]);
	return 0;
unknown:
	return bad_usage(cmd, "unknown option '%s'", argv[optind - 1]);
}

int cmd_inspect(const char *name, int argc, char **argv)
{
	struct ctx c = {
		.pin_path = SNILB_PIN_PATH,
		.status_file = SNILB_STATUS_FILE,
		.limit = FLOWS_DEFAULT_LIMIT,
	};
	const struct inspect_cmd *cmd = NULL;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(cmds[i].name, name))
			cmd = &cmds[i];
	if (!cmd)
		return -1;	/* not one of ours */
	rc = parse_opts(cmd, argc, argv, &c);
	if (rc)
		return rc < 0 ? 0 : rc;
	load_status(&c);
	if (!(cmd->opts & O_NOPINS)) {
		c.p = pinned_open(c.pin_path, c.perr, sizeof(c.perr));
		/* status reports it among the rest; nothing else can run */
		if (!c.p && strcmp(name, "status")) {
			fprintf(stderr, "snilb: %s\n", c.perr);
			json_decref(c.st);
			return EXIT_NOMATCH;
		}
	}
	rc = cmd->run(&c);
	pinned_close(c.p);
	json_decref(c.st);
	return rc;
}

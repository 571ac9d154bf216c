// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * snilb status: the agent (running? last sync), whether the data plane is
 * attached to each of its interfaces, the listeners, how full the maps
 * are, the node table (status_nodes.c), and the configuration errors the
 * agent reported.
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "defaults.h"
#include "inspect.h"
#include "status_nodes.h"

static void kv(struct table *t, const char *k, const char *v)
{
	table_row(t, (const char *[]){ k, v });
}

/* The "agent" lines; false when the agent is not running. */
static bool status_agent(const struct inspect *c, struct table *t, json_t *out)
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
static bool status_ifaces(const struct inspect *c, struct table *t, json_t *out)
{
	json_t *ifs = json_object_get(json_object_get(c->st, "agent"),
				      "ifaces");
	json_t *arr = json_array(), *v;
	bool ok = true;
	char line[1024] = "", buf[128], xbuf[128];
	size_t i;

	json_array_foreach(ifs, i, v) {
		const char *name = json_string_value(v);
		uint32_t id;
		bool on, xdp;

		if (!name)
			continue;
		on = pinned_tc_query(name, buf, sizeof(buf), &id);
		ok &= on;
		xdp = pinned_xdp_query(name, xbuf, sizeof(xbuf));
		json_array_append_new(arr, json_pack("{s:s, s:b, s:s, s:b, s:s}",
						      "name", name,
						      "attached", on,
						      "state", buf,
						      "xdp", xdp,
						      "xdp_state", xbuf));
		join(line, sizeof(line), ", ", name);
		join(line, sizeof(line), ": ", buf);
		join(line, sizeof(line), "; xdp ", xbuf);
	}
	kv(t, "interfaces", line[0] ? line : "(none known)");
	json_object_set_new(out, "interfaces", arr);
	return ok;
}

static bool status_listeners(const struct inspect *c, json_t *out)
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

static void status_maps(const struct inspect *c, json_t *out)
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

static void status_row(struct table *t, const char *what, const char *name,
		       const json_t *conds, const char *extra)
{
	char c[1024] = "";

	conditions_summary(conds, c, sizeof(c));
	if (extra)
		join(c, sizeof(c), " ", extra);
	table_row(t, (const char *[]){ what, name, c[0] ? c : "-" });
}

/* The Gateway API status the agent computed (the same as it writes to
 * the API server): GatewayClasses, Gateways and their listeners, the
 * routes' parents. */
static void status_gateways(const struct inspect *c, json_t *out)
{
	json_t *g, *l, *r, *p;
	struct table t;
	char name[700], n[32];
	size_t i, j;

	table_init(&t, 3, (const char *[]){ "KIND", "NAME", "STATUS" });
	json_array_foreach(json_object_get(c->st, "gatewayclasses"), i, g)
		status_row(&t, "GatewayClass", jstr(g, "name"),
			   json_object_get(g, "conditions"), NULL);
	json_array_foreach(json_object_get(c->st, "gateways"), i, g) {
		xsprintf(name, sizeof(name), "%s/%s", jstr(g, "namespace"),
			 jstr(g, "name"));
		status_row(&t, "Gateway", name,
			   json_object_get(g, "conditions"), NULL);
		json_array_foreach(json_object_get(g, "listeners"), j, l) {
			xsprintf(name, sizeof(name), "  %s :%lld",
				 jstr(l, "name"), jint(l, "port", 0));
			xsprintf(n, sizeof(n), "routes=%lld",
				 jint(l, "attachedRoutes", 0));
			status_row(&t, "listener", name,
				   json_object_get(l, "conditions"), n);
		}
	}
	json_array_foreach(json_object_get(c->st, "routes"), i, r)
		json_array_foreach(json_object_get(r, "parents"), j, p) {
			xsprintf(name, sizeof(name), "%s/%s -> %s%s%s",
				 jstr(r, "namespace"), jstr(r, "name"),
				 jstr(p, "gateway"), *jstr(p, "section") ?
				 "/" : "", jstr(p, "section"));
			status_row(&t, "TLSRoute", name,
				   json_object_get(p, "conditions"), NULL);
		}
	json_object_set_new(out, "gatewayclasses", json_deep_copy(
		json_object_get(c->st, "gatewayclasses")) ?: json_array());
	json_object_set_new(out, "gateways", json_deep_copy(
		json_object_get(c->st, "gateways")) ?: json_array());
	p = json_array();
	json_array_foreach(json_object_get(c->st, "routes"), i, r)
		json_array_append_new(p, json_pack("{s:s,s:s,s:O}",
			"namespace", jstr(r, "namespace"), "name",
			jstr(r, "name"), "parents",
			json_object_get(r, "parents") ?: json_null()));
	json_object_set_new(out, "routes", p);
	if (!c->json && t.nrows) {
		putchar('\n');
		table_print(stdout, &t);
	}
	table_free(&t);
}

/* The configuration errors the agent reported; their count. */
static size_t status_errors(const struct inspect *c, json_t *out)
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

static int run_status(struct inspect *c)
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
	status_nodes(c, out);
	status_gateways(c, out);
	ok &= status_errors(c, out) == 0;
	json_object_set_new(out, "ok", json_boolean(ok));
	if (c->json && inspect_emit(c, out))
		return EXIT_USAGE;
	if (!c->json)
		json_decref(out);
	return ok ? 0 : EXIT_NOMATCH;
}

static const struct inspect_cmd status_cmd = {
	.name = "status",
	.usage = "[OPTIONS]",
	.about =
"The agent (running? last sync), whether the data plane is attached to\n"
"each of its interfaces, the listeners, how full the maps are, the node\n"
"table of several gateway nodes (--peers: this node, the generation and\n"
"the previous one, each node's address, whether it is a member, draining\n"
"or gone, the ring slots it owns now and in the previous generation, and\n"
"the packets steered between nodes; one line when there is none), the\n"
"Gateway API status of the GatewayClasses, Gateways, listeners and\n"
"routes, and the configuration errors the agent reported. Exits 1 when\n"
"the agent, the interfaces, the listeners or the errors need attention.\n",
	.example = "snilb status --pin-path " SNILB_PIN_PATH,
	.pins = PINS_TRY,
	.run = run_status,
};

int do_status(int argc, char **argv)
{
	return inspect_main(&status_cmd, NULL, argc, argv);
}

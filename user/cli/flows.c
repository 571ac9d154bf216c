// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* snilb flows: the connections in the flow table, one line each. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "defaults.h"
#include "inspect.h"

#define FLOWS_DEFAULT_LIMIT	100

struct flows_opts {
	const char *route;	/* --route: NS/NAME or #ID */
	long limit;		/* --limit: 0 shows all */
};

enum { O_ROUTE = INSPECT_OPT, O_LIMIT };

static const struct opt flows_opts[] = {
	{ "route", O_ROUTE, "ROUTE",
	  "only this route's flows: NS/NAME, or #ID" },
	{ "limit", O_LIMIT, "N",
	  "show at most N flows (" SNILB_STR(FLOWS_DEFAULT_LIMIT) "; 0: all)" },
	{ 0 },
};

static int flows_opt(struct inspect *c, int key, const char *arg)
{
	struct flows_opts *o = c->priv;
	char *end;

	switch (key) {
	case O_ROUTE:
		o->route = arg;
		return 0;
	case O_LIMIT:
		o->limit = strtol(arg, &end, 10);
		if (!*arg || *end || o->limit < 0)
			return inspect_usage(c, "--limit: a number, not '%s'",
					     arg);
		return 0;
	}
	return EXIT_USAGE;	/* not in flows_opts[] */
}

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
static int route_filter(const struct inspect *c, const char *route,
			long long *id)
{
	const char *s = route;
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
		char name[320];

		xsprintf(name, sizeof(name), "%s/%s", jstr(r, "namespace"),
			 jstr(r, "name"));
		if (!strcmp(name, route)) {
			*id = jint(r, "id", -1);
			return 0;
		}
	}
	inspect_err(c, "no route %s in %s%s", route, c->status_file,
		    c->st ? "" : " (missing): use --route #ID");
	return -ENOENT;
}

/* The SNAT port of a bound flow ("-" before): the source port of its
 * connection to the backend. */
static json_t *flow_snat(const struct snilb_flow *f, char *buf,
			 size_t len)
{
	if (f->state == SNILB_FS_HELLO || !f->nport) {
		xsprintf(buf, len, "-");
		return json_null();
	}
	xsprintf(buf, len, "%u", ntohs(f->nport));
	return json_integer(ntohs(f->nport));
}

/* Payload bytes backend -> client of a bound flow: its rev entry counts
 * them (struct snilb_rev); 0 when there is none. */
static uint64_t flow_bytes_b2c(const struct inspect *c,
			       const struct kbackends *kb,
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

static void flow_row(const struct inspect *c, const struct kbackends *kb,
		     const struct snilb_flow_key *k,
		     const struct snilb_config *cfg,
		     const struct snilb_flow *f, uint64_t now,
		     struct table *t, json_t *arr)
{
	char cl[64], vip[64], be[64], age[32], c2b[24], b2c[24], rn[320];
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
		char id[SNILB_PP2_ID_LEN + 1];

		/* The PROXY header's PP2_TYPE_UNIQUE_ID (bpf/proxy.h). */
		snprintf(id, sizeof(id), "%016llx", (unsigned long long)
			 snilb_conn_id(k, f->client_isn, f->created_ns));
		json_array_append_new(arr, json_pack(
			"{s:s, s:s, s:s, s:s, s:o, s:s, s:f, s:I, s:I, s:s}",
			"id", id, "client", cl, "vip", vip, "backend", be,
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

static int run_flows(struct inspect *c)
{
	const struct flows_opts *o = c->priv;
	struct snilb_config cfg = { 0 };
	struct kbackends kb = { 0 };
	struct snilb_flow_key k;
	struct snilb_flow f;
	struct pinned_iter it;
	uint64_t now = mono_ns();
	unsigned long shown = 0, more = 0;
	struct table t;
	long long want;
	json_t *arr;
	int e;

	if (route_filter(c, o->route, &want))
		return EXIT_NOMATCH;
	arr = json_array();
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
		if (o->limit && shown >= (unsigned long)o->limit) {
			more++;
			continue;
		}
		flow_row(c, &kb, &k, &cfg, &f, now, &t, arr);
		shown++;
	}
	kb_free(&kb);
	if (e < 0) {
		inspect_err(c, "cannot read the flows: %s", strerror(-e));
		table_free(&t);
		json_decref(arr);
		return EXIT_USAGE;
	}
	if (c->json) {
		table_free(&t);
		return inspect_emit(c, json_pack("{s:o, s:I, s:I}",
						 "flows", arr,
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

static const struct inspect_cmd flows_cmd = {
	.name = "flows",
	.usage = "[--route NS/NAME] [--limit N] [OPTIONS]",
	.about =
"Connections in the flow table: client, VIP, backend (- until bound),\n"
"SNAT port (the source port of the connection to the backend, from\n"
"snilb agent --snat-ports; - until bound), state, age, payload bytes each\n"
"way and route.\n",
	.example = "snilb flows --route default/foo --limit 20",
	.opts = flows_opts,
	.pins = PINS_NEED,
	.opt = flows_opt,
	.run = run_flows,
};

int do_flows(int argc, char **argv)
{
	struct flows_opts o = { .limit = FLOWS_DEFAULT_LIMIT };

	return inspect_main(&flows_cmd, &o, argc, argv);
}

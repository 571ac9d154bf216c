// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * snilb top: a live view per route (connections/s, active flows, bytes/s
 * each way), rejections/s by reason, and the SNIs most rejected (as the
 * agent's access log counts them), from two readings of the counters an
 * interval apart; refreshed in place, or JSON lines for scripts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "defaults.h"
#include "inspect.h"

enum { O_INTERVAL = INSPECT_OPT, O_COUNT };

static const struct opt top_opts[] = {
	{ "interval", O_INTERVAL, "S", "seconds between frames (1; 0.1-60)" },
	{ "count", O_COUNT, "N",
	  "frames, then exit (0: until interrupted; with -o json, 1)" },
	{ 0 },
};

struct top_opts {
	double interval;
	long count;
};

/* One reading: per route id in use, and the rejections. */
struct top_route {
	uint32_t id;
	struct snilb_route_stats rs;
	uint64_t active;
};

struct reading {
	struct top_route *r;
	size_t n;
	uint64_t rej[SNILB_REJ_MAX];
	uint64_t ns;
};

static int top_opt(struct inspect *c, int key, const char *arg)
{
	struct top_opts *o = c->priv;
	char *end;

	if (key == O_INTERVAL) {
		o->interval = strtod(arg, &end);
		if (*end || o->interval < 0.1 || o->interval > 60)
			return inspect_usage(c, "--interval %s: 0.1 to 60", arg);
		return 0;
	}
	o->count = strtol(arg, &end, 10);
	if (*end || o->count < 0)
		return inspect_usage(c, "--count %s: a number >= 0", arg);
	return 0;
}

static struct top_route *find(struct reading *rd, uint32_t id)
{
	size_t i;

	for (i = 0; i < rd->n; i++)
		if (rd->r[i].id == id)
			return &rd->r[i];
	return NULL;
}

/* Flows past their hello, per route. */
static void count_active(const struct inspect *c, struct reading *rd)
{
	struct snilb_flow_key k;
	struct snilb_flow f;
	struct pinned_iter it;
	struct top_route *t;

	if (pinned_map_iter(c->p, SNILB_MAP_FLOWS, &it))
		return;
	while (pinned_iter_next(&it, &k, &f) == 1)
		if (f.state >= SNILB_FS_ROUTED && (t = find(rd, f.route)))
			t->active++;
}

static int read_counters(const struct inspect *c, struct reading *rd)
{
	struct snilb_route_key rk;
	struct snilb_route r;
	struct pinned_iter it;
	uint32_t i;

	memset(rd, 0, sizeof(*rd));
	rd->ns = mono_ns();
	if (!pinned_routes_init(c->p, &it))
		while (pinned_routes_next(&it, &rk, &r) == 1) {
			struct top_route *t, *nr;

			if (find(rd, r.id))
				continue;
			nr = realloc(rd->r, (rd->n + 1) * sizeof(*nr));
			if (!nr)
				return -1;
			rd->r = nr;
			t = &rd->r[rd->n++];
			memset(t, 0, sizeof(*t));
			t->id = r.id;
			pinned_route_stats(c->p, r.id, &t->rs);
		}
	for (i = 0; i < SNILB_REJ_MAX; i++)
		pinned_stat(c->p, SNILB_ST_REJECT_BASE + i, &rd->rej[i]);
	count_active(c, rd);
	return 0;
}

static double rate(uint64_t a, uint64_t b, double s)
{
	return b > a ? (double)(b - a) / s : 0;
}

/* The agent's file of the SNIs most rejected, or an empty array. */
static json_t *rejected_snis(const struct inspect *c)
{
	char path[4096];
	json_t *doc, *a;

	snprintf(path, sizeof(path), "%s" SNILB_REJECTS_SUFFIX,
		 c->status_file);
	doc = json_load_file(path, 0, NULL);
	a = json_object_get(doc, "rejected_snis");
	a = json_is_array(a) ? json_incref(a) : json_array();
	json_decref(doc);
	return a;
}

static json_t *frame(const struct inspect *c, const struct reading *a,
		     const struct reading *b)
{
	double s = (double)(b->ns - a->ns) / 1e9;
	json_t *routes = json_array(), *rej = json_object();
	char rn[320];
	size_t i;

	for (i = 0; i < b->n; i++) {
		const struct top_route *y = &b->r[i];
		struct top_route zero = { 0 }, *x = find((struct reading *)a,
							y->id);

		if (!x)
			x = &zero;
		route_name(c, y->id, rn, sizeof(rn));
		json_array_append_new(routes, json_pack(
			"{s:s, s:I, s:f, s:I, s:f, s:f, s:f}",
			"route", rn, "id", (json_int_t)y->id,
			"conn_per_s", rate(x->rs.routed, y->rs.routed, s),
			"active", (json_int_t)y->active,
			"bytes_c2b_per_s",
			rate(x->rs.bytes_c2b, y->rs.bytes_c2b, s),
			"bytes_b2c_per_s",
			rate(x->rs.bytes_b2c, y->rs.bytes_b2c, s),
			"no_backend_per_s",
			rate(x->rs.no_backend, y->rs.no_backend, s)));
	}
	for (i = 0; i < SNILB_REJ_MAX; i++)
		if (b->rej[i] > a->rej[i])
			json_object_set_new(rej, pinned_reject_name((uint32_t)i),
				json_real(rate(a->rej[i], b->rej[i], s)));
	return json_pack("{s:f, s:f, s:o, s:o, s:o}", "time", wall_now(),
			 "interval_s", s, "routes", routes,
			 "rejects_per_s", rej, "rejected_snis",
			 rejected_snis(c));
}

static char *human(char *buf, size_t n, double v)
{
	static const char u[] = " kMGT";
	int i = 0;

	while (v >= 1000 && i < 4)
		v /= 1000, i++;
	snprintf(buf, n, i ? "%.1f%c" : "%.1f", v, u[i]);
	return buf;
}

static void print_frame(const struct inspect *c, json_t *f)
{
	struct table t;
	json_t *o, *v;
	const char *k;
	char b[5][32], line[1024] = "";
	size_t i;

	if (isatty(STDOUT_FILENO))
		fputs("\033[H\033[2J", stdout);
	printf("snilb top: every %.1f s, %s\n\n",
	       json_real_value(json_object_get(f, "interval_s")),
	       c->pin_path);
	table_init(&t, 6, (const char *[]){ "ROUTE", "CONN/S", "ACTIVE",
		   "C2B B/S", "B2C B/S", "NO_BACKEND/S" });
	json_array_foreach(json_object_get(f, "routes"), i, o)
		table_row(&t, (const char *[]){ jstr(o, "route"),
			human(b[0], 32, json_real_value(json_object_get(o, "conn_per_s"))),
			xsprintf(b[1], 32, "%lld", jint(o, "active", 0)),
			human(b[2], 32, json_real_value(json_object_get(o, "bytes_c2b_per_s"))),
			human(b[3], 32, json_real_value(json_object_get(o, "bytes_b2c_per_s"))),
			human(b[4], 32, json_real_value(json_object_get(o, "no_backend_per_s"))) });
	table_print(stdout, &t);
	table_free(&t);
	json_object_foreach(json_object_get(f, "rejects_per_s"), k, v)
		join(line, sizeof(line), " ", xsprintf(b[0], 32, "%s=%s", k,
			human(b[1], 32, json_real_value(v))));
	printf("\nrejects/s: %s\n\n", line[0] ? line : "none");
	table_init(&t, 3, (const char *[]){ "REJECTED", "REASON", "SNI" });
	json_array_foreach(json_object_get(f, "rejected_snis"), i, o)
		table_row(&t, (const char *[]){
			xsprintf(b[0], 32, "%lld", jint(o, "count", 0)),
			jstr(o, "reason"), jstr(o, "sni") });
	if (t.nrows)
		table_print(stdout, &t);
	else
		puts("(SNIs most rejected: none, or the agent runs without "
		     "--access-log)");
	table_free(&t);
	fflush(stdout);
}

static int run_top(struct inspect *c)
{
	struct top_opts *o = c->priv;
	struct reading a, b;
	long n = o->count ? o->count : c->json ? 1 : 0, i;
	struct timespec ts = { (time_t)o->interval,
			       (long)((o->interval - (time_t)o->interval) *
				      1e9) };
	json_t *f;

	if (read_counters(c, &a))
		return EXIT_USAGE;
	for (i = 0; !n || i < n; i++) {
		nanosleep(&ts, NULL);
		if (read_counters(c, &b))
			return EXIT_USAGE;
		f = frame(c, &a, &b);
		if (c->json) {
			json_dumpf(f, stdout, JSON_COMPACT);
			fputc('\n', stdout);
			fflush(stdout);
		} else {
			print_frame(c, f);
		}
		json_decref(f);
		free(a.r);
		a = b;
	}
	free(a.r);
	return 0;
}

static const struct inspect_cmd top_cmd = {
	.name = "top",
	.usage = "[OPTIONS]",
	.about =
"A live view of the data plane per route: connections/s, active flows,\n"
"bytes/s each way, no_backend/s; rejections/s by reason; and the SNIs\n"
"most rejected (from the agent's --access-log). Refreshed in place every\n"
"--interval; -o json prints one JSON object per frame instead.\n",
	.example = "snilb top -o json --count 5",
	.opts = top_opts,
	.pins = PINS_NEED,
	.opt = top_opt,
	.run = run_top,
};

int do_top(int argc, char **argv)
{
	struct top_opts o = { .interval = 1 };

	return inspect_main(&top_cmd, &o, argc, argv);
}

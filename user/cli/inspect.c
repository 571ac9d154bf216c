// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The inspection commands' common ground (inspect.h): what the data plane
 * holds is read from the maps the agent pinned (user/dataplane/pinned.c),
 * with names and reasons from the agent's status file. Neither is
 * required: without a status file ids stand in for names, and the maps
 * outlive the agent, so a stopped agent's data plane can still be looked
 * at and removed.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "defaults.h"
#include "inspect.h"

/* --- names from the status file --------------------------------------- */

const char *jstr(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

long long jint(const json_t *o, const char *k, long long def)
{
	json_t *v = json_object_get(o, k);

	if (json_is_integer(v))
		return json_integer_value(v);
	if (json_is_real(v))
		return (long long)json_real_value(v);
	return def;
}

char *xsprintf(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, n, fmt, ap);
	va_end(ap);
	return buf;
}

char *u64s(char *buf, size_t n, uint64_t v)
{
	return xsprintf(buf, n, "%llu", (unsigned long long)v);
}

uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

double wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

bool pid_alive(long long pid)
{
	if (pid <= 0)
		return false;
	return !kill((pid_t)pid, 0) || errno == EPERM;
}

struct st_index {
	long long id;
	json_t *r;
};

static int index_cmp(const void *a, const void *b)
{
	const struct st_index *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/* The status file's @key entries by id, sorted, once: a lookup per row
 * of a command was a walk of them all (minutes at 10,000 routes). */
static struct st_index *index_of(json_t *st, const char *key, size_t *n)
{
	json_t *arr = json_object_get(st, key), *r;
	struct st_index *x = calloc(json_array_size(arr) + 1, sizeof(*x));
	size_t i;

	*n = 0;
	if (!x)
		return NULL;	/* lookups find nothing: ids shown */
	json_array_foreach(arr, i, r)
		x[i] = (struct st_index){ jint(r, "id", -1), r };
	*n = json_array_size(arr);
	qsort(x, *n, sizeof(*x), index_cmp);
	return x;
}

static json_t *index_find(const struct st_index *x, size_t n, long long id)
{
	struct st_index key = { .id = id }, *hit;

	hit = n ? bsearch(&key, x, n, sizeof(key), index_cmp) : NULL;
	return hit ? hit->r : NULL;
}

void inspect_index(struct inspect *c)
{
	c->routes = index_of(c->st, "routes", &c->nroutes);
	c->sets = index_of(c->st, "sets", &c->nsets);
}

/* The status file's "routes" entry with id @id, or NULL. */
json_t *st_route(const struct inspect *c, long long id)
{
	return index_find(c->routes, c->nroutes, id);
}

/* The status file's "sets" entry with id @id, or NULL. */
json_t *st_set(const struct inspect *c, long long id)
{
	return index_find(c->sets, c->nsets, id);
}

/* "ns/name" of route @id, or "#id" without a status entry. */
char *route_name(const struct inspect *c, long long id, char *buf, size_t n)
{
	json_t *r = st_route(c, id);

	if (r)
		return xsprintf(buf, n, "%s/%s", jstr(r, "namespace"),
				jstr(r, "name"));
	return xsprintf(buf, n, "#%lld", id);
}

char *fmt_hostport(char *buf, size_t n, const char *addr, long long port)
{
	if (strchr(addr, ':'))
		return xsprintf(buf, n, "[%s]:%lld", addr, port);
	return xsprintf(buf, n, "%s:%lld", addr, port);
}

/* "198.18.0.1:443" of listener @id: the kernel's, else the status's. */
char *listener_name(const struct inspect *c, uint32_t id, char *buf,
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
void join(char *buf, size_t n, const char *sep, const char *s)
{
	size_t len = strlen(buf);

	if (len && len + strlen(sep) < n) {
		strcpy(buf + len, sep);
		len += strlen(sep);
	}
	snprintf(buf + len, n - len, "%s", s);
}

/* The status file, for names; its absence is no error. */
static void load_status(struct inspect *c)
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
	else
		inspect_index(c);
}

static void inspect_free(struct inspect *c)
{
	pinned_close(c->p);
	json_decref(c->st);
	free(c->routes);
	free(c->sets);
}


/* --- output and errors ---------------------------------------------- */

bool cli_json_wanted(int argc, char **argv)
{
	bool json = false;
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		const char *v = NULL;

		if (!strcmp(argv[i], "-o") || !strcmp(argv[i], "--output"))
			v = i + 1 < argc ? argv[i + 1] : "";
		else if (!strncmp(argv[i], "--output=", 9))
			v = argv[i] + 9;
		else if (!strncmp(argv[i], "-o", 2))
			v = argv[i] + 2;
		if (v && (!strcmp(v, "json") || !strcmp(v, "text")))
			json = !strcmp(v, "json");
	}
	return json;
}

static void verror(bool json, const char *who, const char *fmt, va_list ap)
{
	char msg[1024];
	json_t *doc;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (!json) {
		fprintf(stderr, "%s: %s\n", who, msg);
		return;
	}
	doc = json_pack("{s:s}", "error", msg);
	if (!doc || json_dumpf(doc, stdout, 0))
		fprintf(stderr, "%s: %s\n", who, msg);
	else
		fputc('\n', stdout);
	json_decref(doc);
}

void cli_error(bool json, const char *who, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror(json, who, fmt, ap);
	va_end(ap);
}

void inspect_err(const struct inspect *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror(c->json, "snilb", fmt, ap);
	va_end(ap);
}

int inspect_emit(const struct inspect *c, json_t *doc)
{
	int e;

	if (!doc) {
		inspect_err(c, "out of memory");
		return EXIT_USAGE;
	}
	e = json_dumpf(doc, stdout, JSON_INDENT(2));
	fputc('\n', stdout);
	json_decref(doc);
	return e ? EXIT_USAGE : 0;
}

/* --- options, help and the run ---------------------------------------- */

enum { O_PIN = OPT_LONG, O_STATUS };	/* below INSPECT_OPT */

static const struct opt common_opts[] = {
	{ "pin-path", O_PIN, "PATH",
	  "where the agent pinned the maps (" SNILB_PIN_PATH ")" },
	{ "status-file", O_STATUS, "PATH",
	  "the agent's status file (" SNILB_STATUS_FILE ")" },
	{ "output", 'o', "FMT", "text (aligned tables, the default) or json" },
	{ "help", 'h', NULL, "this help" },
	{ 0 },
};

static void help(FILE *f, const struct inspect_cmd *cmd)
{
	const struct opt *const tabs[] = {
		cmd->opts ? cmd->opts : common_opts,
		cmd->opts ? common_opts : NULL, NULL,
	};

	fprintf(f, "Usage: snilb %s %s\n\n%s\nOptions:\n", cmd->name,
		cmd->usage, cmd->about);
	opts_help(f, tabs);
	fprintf(f, "\nExample:\n  %s\n", cmd->example);
}

int inspect_usage(const struct inspect *c, const char *fmt, ...)
{
	char who[64];
	va_list ap;

	snprintf(who, sizeof(who), "snilb %s", c->cmd->name);
	va_start(ap, fmt);
	verror(c->json, who, fmt, ap);
	va_end(ap);
	if (!c->json) {
		fputc('\n', stderr);
		help(stderr, c->cmd);
	}
	return EXIT_USAGE;
}

/* 0, an exit status, or -1 for --help (printed). */
static int parse_opts(struct inspect *c, int argc, char **argv)
{
	const struct opt *const tabs[] = {
		c->cmd->opts ? c->cmd->opts : common_opts,
		c->cmd->opts ? common_opts : NULL, NULL,
	};
	struct opts o;
	char *arg;
	int k, rc;

	opts_init(&o, tabs);
	while ((k = opts_next(&o, argc, argv, &arg)) != -1) {
		switch (k) {
		case '?':
			return inspect_usage(c, "%s", o.err);
		case 'h':
			help(stdout, c->cmd);
			return -1;
		case 'o':
			if (strcmp(arg, "text") && strcmp(arg, "json"))
				return inspect_usage(c, "-o: text or json, "
						     "not '%s'", arg);
			c->json = !strcmp(arg, "json");
			break;
		case O_PIN:
			c->pin_path = arg;
			break;
		case O_STATUS:
			c->status_file = arg;
			break;
		default:
			rc = c->cmd->opt(c, k, arg);
			if (rc)
				return rc;
		}
	}
	if (optind < argc)
		return inspect_usage(c, "unexpected argument '%s'",
				     argv[optind]);
	return 0;
}

int inspect_main(const struct inspect_cmd *cmd, void *priv, int argc,
		 char **argv)
{
	struct inspect c = {
		.cmd = cmd,
		.pin_path = SNILB_PIN_PATH,
		.status_file = SNILB_STATUS_FILE,
		.json = cli_json_wanted(argc, argv),
		.priv = priv,
	};
	int rc = parse_opts(&c, argc, argv);

	if (rc)
		return rc < 0 ? 0 : rc;
	load_status(&c);
	if (cmd->pins != PINS_NONE) {
		c.p = pinned_open(c.pin_path, c.perr, sizeof(c.perr));
		if (!c.p && cmd->pins == PINS_NEED) {
			inspect_err(&c, "%s", c.perr);
			inspect_free(&c);
			return EXIT_NOMATCH;
		}
	}
	rc = cmd->run(&c);
	inspect_free(&c);
	return rc;
}

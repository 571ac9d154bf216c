/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What the inspection commands (status, routes, backends, flows, stats,
 * detach) share: their options and context (the maps the agent pinned,
 * read through user/dataplane/pinned.h, and its status file, each
 * optional), names from the status file, the kernel's routes and
 * backends read once per command, and output: text tables or JSON, and
 * errors as {"error": "..."} on stdout in JSON mode, as bpftool says them.
 */
#ifndef SNILB_USER_CLI_INSPECT_H
#define SNILB_USER_CLI_INSPECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "opts.h"
#include "pinned.h"
#include "table.h"

struct inspect_cmd;

/* One run of one command. */
struct st_index;

struct inspect {
	const struct inspect_cmd *cmd;
	const char *pin_path, *status_file;
	bool json;		/* -o json */
	struct pinned *p;	/* NULL: nothing pinned (perr says why) */
	json_t *st;		/* NULL: no status file */
	struct st_index *routes, *sets; /* st's, by id (st_route(), st_set()) */
	size_t nroutes, nsets;
	char perr[512];
	void *priv;		/* the command's own options */
};

/* Does the command need the pinned maps? */
enum inspect_pins {
	PINS_NEED,		/* nothing to show without them: an error */
	PINS_TRY,		/* their absence is part of the answer */
	PINS_NONE,		/* never opened */
};

/* The keys of a command's own options start here (the common ones are
 * below it). */
#define INSPECT_OPT	(OPT_LONG + 16)

struct inspect_cmd {
	const char *name;	/* "flows" */
	const char *usage;	/* what follows "snilb flows " */
	const char *about;	/* a paragraph, lines broken */
	const char *example;	/* one command line */
	const struct opt *opts;	/* its own options; NULL: none */
	enum inspect_pins pins;
	/* Take one of its own options: 0, or inspect_usage()'s status. */
	int (*opt)(struct inspect *c, int key, const char *arg);
	int (*run)(struct inspect *c);
};

/*
 * Parse the options (argv[0] is the command name), read the status file,
 * open the pins, run: the exit status. @priv: the command's own options
 * with their defaults, as c->priv.
 */
int inspect_main(const struct inspect_cmd *cmd, void *priv, int argc,
		 char **argv);

/* --- output and errors ---------------------------------------------- */

/* Is "-o json" among @argv? For errors said before the options are. */
bool cli_json_wanted(int argc, char **argv);

/*
 * An error: {"error": "MSG"} on stdout when @json, else "@who: MSG" on
 * stderr (@who: "snilb", "snilb sni", ...).
 */
void cli_error(bool json, const char *who, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The command's error ("snilb: MSG" in text). */
void inspect_err(const struct inspect *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A usage error (text: with the command's help): EXIT_USAGE. */
int inspect_usage(const struct inspect *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Print @doc (a new reference, taken) on stdout: 0 or EXIT_USAGE. */
int inspect_emit(const struct inspect *c, json_t *doc);

/* --- small formatting helpers ----------------------------------------- */

char *xsprintf(char *buf, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
char *u64s(char *buf, size_t n, uint64_t v);
/* Append @s to @buf (of @n bytes), after @sep unless @buf is empty. */
void join(char *buf, size_t n, const char *sep, const char *s);
/* "1.2.3.4:443", "[2001:db8::1]:443". */
char *fmt_hostport(char *buf, size_t n, const char *addr, long long port);
uint64_t mono_ns(void);
double wall_now(void);
bool pid_alive(long long pid);

/* --- the status file ---------------------------------------------------- */

/* @k of object @o: "" or @def when absent. */
const char *jstr(const json_t *o, const char *k);
long long jint(const json_t *o, const char *k, long long def);

/* The status file's "routes" entry with id @id, or NULL. */
/* Indexes c->st's routes and sets by id (load_status() does it). */
void inspect_index(struct inspect *c);
json_t *st_route(const struct inspect *c, long long id);
json_t *st_set(const struct inspect *c, long long id);
/* "ns/name" of route @id, or "#id" without a status entry. */
char *route_name(const struct inspect *c, long long id, char *buf, size_t n);
/* "198.18.0.1:443" of listener @id: the kernel's, else the status's. */
char *listener_name(const struct inspect *c, uint32_t id, char *buf,
		    size_t n);

/* --- what the kernel holds (kview.c) ------------------------------------ */

/* The kernel's routes, sorted by key for kroute_find(). */
struct kroute {
	struct snilb_route_key k;
	struct snilb_route v;
	bool matched;		/* a status entry names it */
};

int kroute_cmp(const void *a, const void *b);
/* Every route of the routes map in *@out (caller frees), sorted. */
int load_kroutes(const struct inspect *c, struct kroute **out, size_t *n);
/* The kernel's route for @hostname ("*.example.com", "*") on @listener. */
struct kroute *kroute_find(struct kroute *a, size_t n, uint32_t listener,
			   const char *hostname);
/* The hostname of a kernel route ("*.example.com"). */
char *kroute_host(const struct kroute *r, char *buf, size_t n);

/* The kernel's backends, read once per command. */
struct kbackends {
	struct snilb_backend *be;	/* SNILB_MAX_BACKENDS */
	uint32_t *slots;		/* scratch, SNILB_MAX_BACKENDS + 1:
					 * the last, SNILB_BACKEND_RESET */
};

int kb_load(const struct inspect *c, struct kbackends *kb);
void kb_free(struct kbackends *kb);
/* "addr:port" of backend @id, or "#id?" when the kernel has none. */
char *backend_addr(const struct kbackends *kb, uint32_t id, char *buf,
		   size_t n);
/* Count set @set's Maglev slots into kb->slots; its size, or 0. */
uint32_t kb_slots(const struct inspect *c, struct kbackends *kb,
		  uint32_t set);

/* --- routes.c, the columns of a status route (tested on their own) ---- */

/* A status.conditions array joined to @buf: the type of each that is
 * well ("Accepted"), Type=Status(Reason) of each that is not; a type
 * already in @buf is not repeated. */
void conditions_summary(const json_t *conds, char *buf, size_t n);
/* "Accepted ResolvedRefs" or "ResolvedRefs=False(BackendNotFound)". */
void route_conditions(const json_t *r, char *buf, size_t n);
/* "198.18.2.11:8443*1,..." of status route @r's set @set. */
void route_backends(const struct inspect *c, const json_t *r, long set,
		    char *buf, size_t n);

#endif /* SNILB_USER_CLI_INSPECT_H */

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The inspection commands, as far as they run without BPF: table layout,
 * age and address formatting, what the status file is turned into
 * (user/cli/inspect.h). The metrics: test_metrics.c.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "inspect.h"
#include "pinned.h"

/* Everything @fn(@arg) writes to a FILE, as a string (caller frees). */
static char *capture(void (*fn)(FILE *f, void *arg), void *arg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	fn(f, arg);
	fclose(f);
	return buf;
}

static void print_table(FILE *f, void *arg)
{
	table_print(f, arg);
}

static void test_table_widths(void **state)
{
	struct table t;
	char *s;

	(void)state;
	table_init(&t, 3, (const char *[]){ "A", "LONGER", "C" });
	assert_int_equal(table_row(&t, (const char *[]){ "xyz", "1", "z" }),
			 0);
	assert_int_equal(table_row(&t, (const char *[]){ "", "22", NULL }),
			 0);
	s = capture(print_table, &t);
	/* widest cell per column, two blanks apart, no trailing blanks */
	assert_string_equal(s, "A    LONGER  C\n"
			       "xyz  1       z\n"
			       "     22\n");
	free(s);
	table_free(&t);
}

static void test_table_grows(void **state)
{
	struct table t;
	char *s, cell[16];
	int i;

	(void)state;
	table_init(&t, 1, (const char *[]){ "N" });
	for (i = 0; i < 100; i++)
		assert_int_equal(table_row(&t, (const char *[]){
			xsprintf(cell, sizeof(cell), "%d", i) }), 0);
	assert_int_equal(t.nrows, 100);
	s = capture(print_table, &t);
	assert_non_null(strstr(s, "\n99\n"));
	free(s);
	table_free(&t);
}

static void test_age(void **state)
{
	char b[32];

	(void)state;
	assert_string_equal(pinned_fmt_age(b, sizeof(b), 0), "0ms");
	assert_string_equal(pinned_fmt_age(b, sizeof(b), 850000000ull),
			    "850ms");
	assert_string_equal(pinned_fmt_age(b, sizeof(b), 12000000000ull),
			    "12s");
	assert_string_equal(pinned_fmt_age(b, sizeof(b), 184000000000ull),
			    "3m04s");
	assert_string_equal(pinned_fmt_age(b, sizeof(b),
					   7500ull * 1000000000ull), "2h05m");
	assert_string_equal(pinned_fmt_age(b, sizeof(b),
					   (3 * 86400ull + 4 * 3600) *
					   1000000000ull), "3d04h");
}

static void test_addr(void **state)
{
	__be32 a[4] = { htonl(0xc6120001) };
	char b[64];

	(void)state;
	assert_string_equal(pinned_fmt_addr(b, sizeof(b), SNILB_AF_INET, a,
					    htons(443)), "198.18.0.1:443");
	inet_pton(AF_INET6, "2001:db8::1", a);
	assert_string_equal(pinned_fmt_addr(b, sizeof(b), SNILB_AF_INET6, a,
					    htons(8443)),
			    "[2001:db8::1]:8443");
	assert_string_equal(fmt_hostport(b, sizeof(b), "2001:db8::2", 1),
			    "[2001:db8::2]:1");
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(pinned_stat_name(SNILB_ST_SYN), "syn");
	assert_string_equal(pinned_stat_name(SNILB_ST_TW_RESET), "tw_reset");
	assert_string_equal(pinned_stat_name(SNILB_ST_REJECT_BASE +
					     CH_R_NO_SNI), "reject_no_sni");
	assert_string_equal(pinned_stat_name(SNILB_ST_REJECT_BASE +
					     SNILB_REJ_BAD_COOKIE),
			    "reject_bad_cookie");
	assert_null(pinned_stat_name(SNILB_ST_MAX));
	assert_string_equal(pinned_reject_name(SNILB_REJ_NO_ROUTE),
			    "no_route");
	assert_null(pinned_reject_name(SNILB_REJ_MAX));
}

static const char status_doc[] =
"{\"agent\": {\"pid\": 1, \"last_sync\": 1790000100.25, \"syncs\": 7,"
"  \"sync_errors\": 1, \"ifaces\": [\"eth0\"]},"
" \"errors\": [{\"file\": \"a.yaml\", \"line\": 12, \"message\": \"m\"}],"
" \"listeners\": [{\"id\": 0, \"address\": \"198.18.0.1\", \"port\": 443}],"
" \"routes\": [{\"namespace\": \"default\", \"name\": \"foo\", \"id\": 3,"
"   \"parents\": [{\"gateway\": \"default/gw\", \"conditions\": ["
"     {\"type\": \"Accepted\", \"status\": \"True\", \"reason\": \"A\"},"
"     {\"type\": \"ResolvedRefs\", \"status\": \"False\","
"      \"reason\": \"BackendNotFound\"}]}],"
"   \"entries\": [{\"listener\": 0, \"hostname\": \"*.example.com\","
"     \"set\": 5}],"
"   \"backends\": [{\"service\": \"default/foo-svc\", \"port\": 8443,"
"     \"weight\": 2, \"endpoints\": [{\"address\": \"198.18.2.11\","
"     \"port\": 8443, \"backend\": 4}, {\"address\": \"2001:db8::b\","
"     \"port\": 8443, \"backend\": 5}]},"
"    {\"service\": \"default/gone\", \"port\": 1}]}],"
" \"sets\": [{\"id\": 5, \"reset\": 3, \"backends\": [{\"address\":"
"   \"198.18.2.11\", \"port\": 8443, \"weight\": 1}]}]}";

static json_t *status_json(void)
{
	json_error_t e;
	json_t *st = json_loads(status_doc, 0, &e);

	assert_non_null(st);
	return st;
}

static void test_status_names(void **state)
{
	struct inspect c = { .st = status_json() };
	json_t *r, *conds;
	char b[2048];

	(void)state;
	inspect_index(&c);
	r = st_route(&c, 3);
	assert_string_equal(route_name(&c, 3, b, sizeof(b)), "default/foo");
	assert_string_equal(route_name(&c, 9, b, sizeof(b)), "#9");
	/* no pinned maps: the status file's address */
	assert_string_equal(listener_name(&c, 0, b, sizeof(b)),
			    "198.18.0.1:443");
	assert_string_equal(listener_name(&c, 7, b, sizeof(b)), "#7");
	route_conditions(r, b, sizeof(b));
	assert_string_equal(b, "Accepted ResolvedRefs=False(BackendNotFound)");
	/* Conflicted is the one condition whose False is well. */
	b[0] = 0;
	conds = json_pack("[{s:s,s:s,s:s},{s:s,s:s,s:s},{s:s,s:s,s:s}]",
		"type", "Accepted", "status", "False", "reason",
		"HostnameConflict", "type", "Conflicted", "status", "True",
		"reason", "HostnameConflict", "type", "ResolvedRefs", "status",
		"True", "reason", "ResolvedRefs");
	conditions_summary(conds, b, sizeof(b));
	assert_string_equal(b, "Accepted=False(HostnameConflict) "
			    "Conflicted=True(HostnameConflict) ResolvedRefs");
	json_decref(conds);
	b[0] = 0;
	conds = json_pack("[{s:s,s:s,s:s}]", "type", "Conflicted", "status",
			  "False", "reason", "NoConflicts");
	conditions_summary(conds, b, sizeof(b));
	assert_string_equal(b, "");
	json_decref(conds);
	/* The share of the invalid refs resets its connections. */
	route_backends(&c, r, 5, b, sizeof(b));
	assert_string_equal(b, "198.18.2.11:8443*1,reset*3");
	route_backends(&c, r, -1, b, sizeof(b));	/* no such set: the refs */
	assert_string_equal(b, "198.18.2.11:8443*2,[2001:db8::b]:8443*2,"
			       "default/gone:1(no endpoints)");
	json_decref(c.st);
	free(c.routes);
	free(c.sets);
}

/*
 * 20,000 routes and sets in the status file, ids in no order: each found
 * by its id, and ids between them not (the lookups were a walk each,
 * O(n^2) for a command's rows).
 */
static void test_status_index(void **state)
{
	json_t *routes = json_array(), *sets = json_array();
	struct inspect c = { .st = json_pack("{s:o, s:o}", "routes", routes,
					     "sets", sets) };
	char b[64], want[64];
	long long i, id;

	(void)state;
	for (i = 0; i < 20000; i++) {
		id = (i * 7919) % 20000 * 2 + 1;	/* odd, shuffled */
		json_array_append_new(routes, json_pack("{s:I, s:s, s:s}",
			"id", id, "namespace", "ns", "name",
			xsprintf(b, sizeof(b), "r%lld", id)));
		json_array_append_new(sets, json_pack("{s:I}", "id", id));
	}
	inspect_index(&c);
	assert_int_equal(c.nroutes, 20000);
	for (id = 0; id <= 40000; id++) {
		if (id % 2) {
			xsprintf(want, sizeof(want), "ns/r%lld", id);
			assert_string_equal(route_name(&c, id, b, sizeof(b)),
					    want);
			assert_int_equal(jint(st_set(&c, id), "id", -1), id);
		} else {
			assert_null(st_route(&c, id));
			assert_null(st_set(&c, id));
		}
	}
	json_decref(c.st);
	free(c.routes);
	free(c.sets);
}

static void test_kroute_find(void **state)
{
	struct kroute kr[3] = { 0 };
	char b[300];

	(void)state;
	kr[0].k.listener = 1;
	kr[0].k.hash = snilb_name_hash(".example.com", 12);
	strcpy(kr[0].v.name, ".example.com");
	kr[1].k.listener = 1;
	kr[1].k.hash = snilb_name_hash("www.example.com", 15);
	strcpy(kr[1].v.name, "www.example.com");
	kr[2].k.listener = 1;
	kr[2].k.hash = snilb_name_hash("", 0);	/* the catch-all "*" */
	qsort(kr, 3, sizeof(kr[0]), kroute_cmp);
	assert_string_equal(kroute_host(kroute_find(kr, 3, 1, "*"), b,
					sizeof(b)), "*");
	assert_string_equal(kroute_host(kroute_find(kr, 3, 1,
						    "*.example.com"), b,
					sizeof(b)), "*.example.com");
	assert_string_equal(kroute_find(kr, 3, 1, "www.example.com")->v.name,
			    "www.example.com");
	assert_null(kroute_find(kr, 3, 2, "www.example.com"));
	assert_null(kroute_find(kr, 3, 1, "a.example.com"));
	assert_null(kroute_find(kr, 0, 1, "a.example.com"));
}

static void test_json_wanted(void **state)
{
	(void)state;
	assert_true(cli_json_wanted(4, (char *[]){ "routes", "--pin", "x",
						   "-ojson" }));
	assert_true(cli_json_wanted(3, (char *[]){ "routes", "--output",
						   "json" }));
	assert_true(cli_json_wanted(2, (char *[]){ "routes",
						   "--output=json" }));
	/* the last -o counts; after "--" nothing is an option */
	assert_false(cli_json_wanted(5, (char *[]){ "routes", "-o", "json",
						    "-o", "text" }));
	assert_false(cli_json_wanted(4, (char *[]){ "sni", "--", "-o",
						    "json" }));
	assert_false(cli_json_wanted(2, (char *[]){ "routes", "-o" }));
}

/* What cli_error() writes on stdout. */
static char *error_on_stdout(bool json, const char *msg)
{
	static char buf[512];
	int fd = fileno(stdout), saved = dup(fd), p[2];
	ssize_t n;

	assert_int_equal(pipe(p), 0);
	fflush(stdout);
	dup2(p[1], fd);
	cli_error(json, "snilb x", "%s", msg);
	fflush(stdout);
	dup2(saved, fd);
	close(saved);
	close(p[1]);
	n = read(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
	buf[n > 0 ? n : 0] = 0;
	return buf;
}

static void test_json_error(void **state)
{
	(void)state;
	/* bpftool's form, on stdout; the message escaped as JSON */
	assert_string_equal(error_on_stdout(true, "no \"pins\" at /x"),
			    "{\"error\": \"no \\\"pins\\\" at /x\"}\n");
	/* in text, nothing on stdout (the message goes to stderr) */
	assert_string_equal(error_on_stdout(false, "no pins"), "");
}

/* A pin path that does not exist: the message names the parent directory
 * that is not bpffs, "/" for a path directly under the root. */
static void test_pinned_missing_path(void **state)
{
	char err[512] = "";

	(void)state;
	assert_null(pinned_open("/snilb-test-no-such-pin", err, sizeof(err)));
	assert_non_null(strstr(err, "/snilb-test-no-such-pin does not exist"));
	assert_non_null(strstr(err, "bpffs is not mounted at / ("));
	assert_null(pinned_open("/tmp/snilb-test-no-such-dir/pins", err,
				sizeof(err)));
	assert_non_null(strstr(err, "not mounted at /tmp/snilb-test-no-such-dir"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_widths),
		cmocka_unit_test(test_table_grows),
		cmocka_unit_test(test_age),
		cmocka_unit_test(test_addr),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_status_names),
		cmocka_unit_test(test_status_index),
		cmocka_unit_test(test_kroute_find),
		cmocka_unit_test(test_json_wanted),
		cmocka_unit_test(test_json_error),
		cmocka_unit_test(test_pinned_missing_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The manifest directory (user/source/dir.c): files come and go, a file
 * that stops being YAML keeps its objects, an object that turns invalid
 * keeps its last good version, an object defined twice keeps the first.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "decode.h"
#include "dir.h"

#define ROUTE(name, host)						\
	"apiVersion: gateway.networking.k8s.io/v1\nkind: TLSRoute\n"	\
	"metadata: {name: " name ", namespace: app}\n"			\
	"spec:\n  parentRefs: [{name: gw}]\n"				\
	"  hostnames: [" host "]\n"					\
	"  rules: [{backendRefs: [{name: svc, port: 443}]}]\n---\n"

static char dir[64];

static void put(const char *name, const char *text)
{
	char path[128];
	FILE *f;
	struct timespec ts = { 0, 20 * 1000 * 1000 };

	/* Different mtimes even on coarse clocks: a rewrite is seen. */
	nanosleep(&ts, NULL);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static const char *host_of(const struct model *m, const char *name)
{
	size_t i;

	for (i = 0; i < m->nroutes; i++)
		if (!strcmp(m->routes[i].meta.name, name))
			return m->routes[i].hostnames[0];
	return NULL;
}

static void combine(struct mf_dir *d, struct model *m, int changed)
{
	assert_int_equal(mf_scan(d), changed);
	assert_int_equal(mf_combine(d, m), 0);
}

static void test_last_good(void **state)
{
	struct mf_dir d = { .dir = dir };
	struct model m;
	char path[128];

	(void)state;
	put("a.yaml", ROUTE("one", "one.example.com")
		      ROUTE("two", "two.example.com"));
	put(".a.yaml.swp", "garbage: [");
	put("notes.txt", "garbage: [");
	combine(&d, &m, 1);
	assert_int_equal(m.nroutes, 2);
	assert_int_equal(m.ndiags, 0);
	model_free(&m);
	combine(&d, &m, 0);		/* nothing changed */
	model_free(&m);

	/* Not YAML any more: both objects stay, one diag with the line. */
	put("a.yaml", ROUTE("one", "new.example.com") "bad: [\n");
	combine(&d, &m, 1);
	assert_int_equal(m.nroutes, 2);
	assert_string_equal(host_of(&m, "one"), "one.example.com");
	assert_int_equal(m.ndiags, 1);
	assert_null(m.diags[0].kind);
	model_free(&m);

	/* One object invalid: it keeps its last good version, the other
	 * one takes its new one. */
	put("a.yaml", ROUTE("one", "Bad_Name") ROUTE("two", "2.example.com"));
	combine(&d, &m, 1);
	assert_int_equal(m.nroutes, 2);
	assert_string_equal(host_of(&m, "one"), "one.example.com");
	assert_string_equal(host_of(&m, "two"), "2.example.com");
	assert_int_equal(m.ndiags, 1);
	assert_string_equal(m.diags[0].field, "spec.hostnames[0]");
	model_free(&m);

	/* Defined again in a later file: the first definition stays. */
	put("b.yaml", ROUTE("two", "evil.example.com"));
	combine(&d, &m, 1);
	assert_int_equal(m.nroutes, 2);
	assert_string_equal(host_of(&m, "two"), "2.example.com");
	assert_int_equal(m.ndiags, 2);
	assert_non_null(strstr(m.diags[1].msg, "also defined at"));
	model_free(&m);

	/* A file removed: its objects go. */
	snprintf(path, sizeof(path), "%s/a.yaml", dir);
	assert_int_equal(unlink(path), 0);
	combine(&d, &m, 1);
	assert_int_equal(m.nroutes, 1);
	assert_string_equal(host_of(&m, "two"), "evil.example.com");
	model_free(&m);
	mf_free(&d);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/snilb-mf.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_last_good),
	};

	return cmocka_run_group_tests_name("manifest directory", tests, setup,
					   teardown);
}

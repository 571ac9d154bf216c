// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The manifest directory (user/source/dir.c): files come and go, a file
 * that stops being YAML keeps its objects, an object that turns invalid
 * keeps its last good version (and its status says so), an object
 * defined twice keeps the first.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "decode.h"
#include "dir.h"
#include "gwapi.h"

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
	assert_int_equal(mf_scan(d, 0), changed);
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

#define CLASS_GW(port)							\
	"apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\n"	\
	"metadata: {name: c}\n"						\
	"spec: {controllerName: snilb.io/gateway-controller}\n---\n"	\
	"apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\n"	\
	"metadata: {name: gw, namespace: app, generation: 4}\n"		\
	"spec:\n  gatewayClassName: c\n"					\
	"  addresses: [{value: 10.0.0.1}]\n"				\
	"  listeners: [{name: l, port: " port ", protocol: TLS}]\n---\n"

/* What the Gateway API rules make of the directory. */
static void evaluate(struct mf_dir *d, struct model *m, struct gw_out *out,
		     int changed)
{
	combine(d, m, changed);
	assert_int_equal(gw_compute(m, GW_CONTROLLER, 16381, out), 0);
	assert_int_equal(out->nroutes, 1);
	assert_int_equal(out->ngateways, 1);
}

static void release(struct model *m, struct gw_out *out)
{
	gw_out_free(out);
	model_free(m);
}

/*
 * The status of an object kept at its last good version says so, as the
 * Kubernetes source's does (the same rules, user/gwapi/fallback.c): the
 * route's PartiallyInvalid "Fall Back", the Gateway's Accepted message.
 * An object defined twice is not one of them.
 */
/*
 * The periodic rescan comes while a shell's `>` has truncated a file and
 * not yet written it: read then, the empty file would become its last
 * good objects, and the rewrite's invalid route would find no last good
 * version to keep. A freshly modified file waits for its close event's
 * scan (settle 0); an old change is read by the rescan too.
 */
static void test_rescan_while_written(void **state)
{
	char sub[128], path[160];
	struct mf_dir d = { .dir = sub };
	struct model m;
	FILE *f;

	(void)state;
	snprintf(sub, sizeof(sub), "%s/rescan", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	snprintf(path, sizeof(path), "%s/w.yaml", sub);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(ROUTE("w", "w.example.com"), f);
	fclose(f);
	combine(&d, &m, 1);
	model_free(&m);
	f = fopen(path, "w");			/* truncated, being written */
	assert_non_null(f);
	assert_int_equal(mf_scan(&d, MF_SETTLE_NS), 0);
	assert_int_equal(mf_combine(&d, &m), 0);
	assert_string_equal(host_of(&m, "w"), "w.example.com");
	model_free(&m);
	fputs(ROUTE("w", "Bad_Host.example.com"), f);
	fclose(f);
	combine(&d, &m, 1);			/* its close event */
	assert_non_null(host_of(&m, "w"));
	assert_string_equal(host_of(&m, "w"), "w.example.com");
	model_free(&m);
	/* A change older than the settle time: the rescan reads it. */
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(ROUTE("w", "w2.example.com"), f);
	fclose(f);
	assert_int_equal(mf_scan(&d, 1), 1);
	assert_int_equal(mf_combine(&d, &m), 0);
	assert_string_equal(host_of(&m, "w"), "w2.example.com");
	model_free(&m);
	mf_free(&d);
	unlink(path);
	rmdir(sub);
}

static void test_fall_back_status(void **state)
{
	const struct gw_cond *pi, *acc;
	struct mf_dir d = { 0 };
	char sub[128];
	struct gw_out out;
	struct model m;

	(void)state;
	snprintf(sub, sizeof(sub), "%s/fb", dir);	/* a directory of its own */
	assert_int_equal(mkdir(sub, 0700), 0);
	d.dir = sub;
	put("fb/f1.yaml", CLASS_GW("443"));
	put("fb/f2.yaml", ROUTE("r", "r.example.com"));
	evaluate(&d, &m, &out, 2);
	pi = &out.routes[0].parents[0].conds[2];
	assert_int_equal(out.routes[0].parents[0].conds[0].status, 1);
	assert_null(pi->type);
	release(&m, &out);

	put("fb/f2.yaml", ROUTE("r", "Bad_Host"));
	put("fb/f3.yaml", ROUTE("r", "dup.example.com"));
	evaluate(&d, &m, &out, 2);
	pi = &out.routes[0].parents[0].conds[2];
	assert_string_equal(m.routes[0].hostnames[0], "r.example.com");
	assert_non_null(pi->type);
	assert_string_equal(pi->type, "PartiallyInvalid");
	assert_string_equal(pi->reason, "UnsupportedValue");
	assert_true(!strncmp(pi->msg, "Fall Back: ", 11));
	assert_non_null(strstr(pi->msg, "spec.hostnames[0]"));
	assert_string_equal(out.gateways[0].conds[0].msg, "");
	release(&m, &out);

	/* The route fixed; only the duplicate left: no Fall Back. The
	 * Gateway on port 0: it keeps port 443 and says why. */
	put("fb/f2.yaml", ROUTE("r", "r2.example.com"));
	put("fb/f1.yaml", CLASS_GW("0"));
	evaluate(&d, &m, &out, 2);
	assert_null(out.routes[0].parents[0].conds[2].type);
	acc = &out.gateways[0].conds[0];
	assert_int_equal(acc->status, 1);
	assert_int_equal(m.gateways[0].listeners[0].port, 443);
	assert_true(!strncmp(acc->msg, "Fall Back: ", 11));
	assert_non_null(strstr(acc->msg, "(generation 4)"));
	assert_non_null(strstr(acc->msg, "spec.listeners[0].port"));
	release(&m, &out);
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
		cmocka_unit_test(test_fall_back_status),
		cmocka_unit_test(test_rescan_while_written),
	};

	return cmocka_run_group_tests_name("manifest directory", tests, setup,
					   teardown);
}

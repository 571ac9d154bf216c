// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The LoadBalancer Services of Gateways without addresses
 * (user/agent/klbsvc.c), written by a status pass against a fake API
 * (kube_conn_request below): created as designed, no request while
 * nothing changes, patched when a listener's port changes, deleted when
 * no Gateway wants it, and a Service without snilb's label never
 * touched. The real wire protocol: tests/kube/t-lbservice.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "decode.h"
#include "gwapi.h"
#include "kstatus.h"
#include "kube.h"

/* --- a fake API: path -> object --------------------------------------------- */

static json_t *store;		/* path -> object */
static int nreq[5];		/* GET POST PATCH DELETE other */

static int method_index(const char *m)
{
	static const char *const ms[] = { "GET", "POST", "PATCH", "DELETE" };
	int i;

	for (i = 0; i < 4; i++)
		if (!strcmp(m, ms[i]))
			return i;
	return 4;
}

static long fake(const char *method, const char *path, const char *body,
		 char **resp)
{
	json_t *o = json_object_get(store, path), *in;
	char item[1100];
	int mi = method_index(method);

	*resp = NULL;
	if (strstr(path, "/gateways/") || strstr(path, "/gatewayclasses/"))
		return 404;	/* status of those: not this test's */
	nreq[mi]++;
	if (mi == 0 || mi == 3) {
		if (!o)
			return 404;
		*resp = json_dumps(o, JSON_COMPACT);
		if (mi == 3)
			json_object_del(store, path);
		return 200;
	}
	in = json_loads(body, 0, NULL);
	assert_non_null(in);
	if (mi == 1) {
		snprintf(item, sizeof(item), "%s/%s", path,
			 json_string_value(json_object_get(json_object_get(
				 in, "metadata"), "name")));
		assert_null(json_object_get(store, item));
		json_object_set_new(json_object_get(in, "metadata"), "uid",
				    json_string("svc-uid"));
		json_object_set_new(store, item, in);
		return 201;
	}
	assert_int_equal(mi, 2);	/* only merge patches */
	assert_non_null(o);
	json_object_update_recursive(o, in);
	/* A merge patch replaces arrays whole. */
	json_object_set(json_object_get(o, "spec"), "ports",
			json_object_get(json_object_get(in, "spec"), "ports"));
	json_decref(in);
	return 200;
}

long kube_conn_request(struct kube_conn *k, const char *method,
		       const char *path, const char *body, char **resp,
		       char *err, size_t errlen)
{
	(void)k;
	(void)err;
	(void)errlen;
	return fake(method, path, body, resp);
}

/* --- the world ------------------------------------------------------------------ */

#define SVC_PATH "/api/v1/namespaces/app/services/snilb-gw-gw"

/* A Gateway app/gw without addresses, listener on @port; @extra: more
 * objects. */
static void pass(struct kstatus_cache *c, int port, const char *extra,
		 struct kstatus_result *res)
{
	struct kstatus_pass p = { .cache = c, .controller = GW_CONTROLLER,
				  .res = res };
	struct model m = {};
	struct gw_out out;
	char y[2048];

	snprintf(y, sizeof(y),
		 "apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\n"
		 "metadata: {name: snilb}\n"
		 "spec: {controllerName: snilb.io/gateway-controller}\n---\n"
		 "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\n"
		 "metadata: {name: gw, namespace: app, uid: gw-uid}\n"
		 "spec:\n  gatewayClassName: snilb\n"
		 "  listeners: [{name: tls, port: %d, protocol: TLS}]\n%s",
		 port, extra);
	assert_int_equal(manifest_decode_buf("t", y, strlen(y), &m), 0);
	assert_int_equal(m.ndiags, 0);
	m.lb_services = 1;
	assert_int_equal(gw_compute(&m, GW_CONTROLLER, 251, &out), 0);
	memset(nreq, 0, sizeof(nreq));
	kstatus_write(&p, &out);
	gw_out_free(&out);
	model_free(&m);
}

static const char *str_at(json_t *o, const char *k1, const char *k2)
{
	return json_string_value(json_object_get(json_object_get(o, k1), k2))
	       ?: "";
}

static int setup(void **state)
{
	(void)state;
	store = json_object();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	json_decref(store);
	return 0;
}

static void test_created(void **state)
{
	struct kstatus_cache *c = kstatus_cache_new();
	struct kstatus_result res;
	json_t *s, *port, *own;

	(void)state;
	pass(c, 443, "", &res);
	assert_int_equal(res.failed, 0);
	assert_int_equal(nreq[1], 1);
	s = json_object_get(store, SVC_PATH);
	assert_non_null(s);
	assert_string_equal(str_at(s, "spec", "type"), "LoadBalancer");
	assert_string_equal(str_at(s, "spec", "externalTrafficPolicy"),
			    "Local");
	assert_string_equal(str_at(json_object_get(s, "spec"), "selector",
				   "app.kubernetes.io/name"), "snilb");
	assert_string_equal(str_at(json_object_get(s, "metadata"), "labels",
				   GW_LB_LABEL), "gw");
	port = json_array_get(json_object_get(json_object_get(s, "spec"),
					      "ports"), 0);
	assert_int_equal(json_integer_value(json_object_get(port, "port")),
			 443);
	assert_string_equal(json_string_value(json_object_get(port,
			    "protocol")), "TCP");
	own = json_array_get(json_object_get(json_object_get(s, "metadata"),
					     "ownerReferences"), 0);
	assert_string_equal(json_string_value(json_object_get(own, "uid")),
			    "gw-uid");
	assert_string_equal(json_string_value(json_object_get(own, "kind")),
			    "Gateway");
	assert_true(json_is_true(json_object_get(own, "controller")));

	/* Nothing changed: not a request for it. */
	pass(c, 443, "", &res);
	assert_int_equal(nreq[0] + nreq[1] + nreq[2] + nreq[3], 0);

	/* The listener's port changes: one merge patch. */
	pass(c, 8443, "", &res);
	assert_int_equal(nreq[1], 0);
	assert_int_equal(nreq[2], 1);
	port = json_array_get(json_object_get(json_object_get(json_object_get(
		store, SVC_PATH), "spec"), "ports"), 0);
	assert_int_equal(json_integer_value(json_object_get(port, "port")),
			 8443);
	kstatus_cache_free(c);
}

/* No Gateway wants it (the model has it, labelled): deleted. */
static void test_stale_deleted(void **state)
{
	struct kstatus_cache *c = kstatus_cache_new();
	struct kstatus_result res;

	(void)state;
	json_object_set_new(store, "/api/v1/namespaces/app/services/old",
			    json_pack("{s:{s:s, s:s, s:{s:s}}}", "metadata",
				      "name", "old", "uid", "u",
				      "labels", GW_LB_LABEL, "gone"));
	pass(c, 443, "---\napiVersion: v1\nkind: Service\n"
	     "metadata: {name: old, namespace: app, labels: "
	     "{snilb.io/gateway: gone}}\n", &res);
	assert_int_equal(nreq[3], 1);
	assert_null(json_object_get(store,
				    "/api/v1/namespaces/app/services/old"));
	kstatus_cache_free(c);
}

/* A Service of that name without snilb's label: never written. */
static void test_foreign_untouched(void **state)
{
	struct kstatus_cache *c = kstatus_cache_new();
	struct kstatus_result res;

	(void)state;
	json_object_set_new(store, SVC_PATH, json_pack(
		"{s:{s:s}, s:{s:s}}", "metadata", "name", "snilb-gw-gw",
		"spec", "type", "ClusterIP"));
	pass(c, 443, "---\napiVersion: v1\nkind: Service\n"
	     "metadata: {name: snilb-gw-gw, namespace: app}\n", &res);
	assert_int_equal(nreq[1] + nreq[2] + nreq[3], 0);
	/* The watch behind (the model has no such Service): the writer
	 * reads it, finds no label, leaves it alone. */
	pass(c, 443, "", &res);
	assert_int_equal(nreq[1] + nreq[2] + nreq[3], 0);
	assert_string_equal(str_at(json_object_get(store, SVC_PATH), "spec",
				   "type"), "ClusterIP");
	kstatus_cache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_created, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_deleted, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_foreign_untouched, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("LoadBalancer Services", tests,
					   NULL, NULL);
}

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Status write-back and leader election (user/agent/kstatus.c, user/agent/lease.c)
 * against a fake API (kube_conn_request below): what is written, that nothing
 * is written when nothing changed, that other controllers' entries and
 * lastTransitionTime survive, conflicts, and who holds the Lease when.
 * The real wire protocol is exercised end to end by tests/kube.
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

#include "gwapi.h"
#include "kstatus.h"
#include "kube.h"
#include "lease.h"
#include "status.h"
#include "decode.h"

/* --- a fake API: path -> object, resourceVersion checks --------------------- */

static json_t *store;		/* path -> object */
static int rv, puts_seen, gets_seen, fail_puts;

static long fake(const char *method, const char *path, const char *body,
		 char **resp)
{
	char p[1024];
	json_t *o, *in;
	size_t n;

	*resp = NULL;
	snprintf(p, sizeof(p), "%s", path);
	n = strlen(p);
	if (n > 7 && !strcmp(p + n - 7, "/status"))
		p[n - 7] = 0;	/* the status subresource: same object */
	o = json_object_get(store, p);
	if (!strcmp(method, "GET")) {
		gets_seen++;
		if (!o)
			return 404;
		*resp = json_dumps(o, JSON_COMPACT);
		return 200;
	}
	in = json_loads(body, 0, NULL);
	assert_non_null(in);
	if (!strcmp(method, "POST")) {
		char item[1100];

		snprintf(item, sizeof(item), "%s/%s", p, json_string_value(
			 json_object_get(json_object_get(in, "metadata"),
					 "name")));
		if (json_object_get(store, item)) {
			json_decref(in);
			return 409;
		}
		strcpy(p, item);
	} else {
		puts_seen++;
		if (fail_puts || !o || strcmp(json_string_value(json_object_get(
			json_object_get(in, "metadata"), "resourceVersion")) ?: "",
			json_string_value(json_object_get(json_object_get(o,
			"metadata"), "resourceVersion")) ?: "")) {
			json_decref(in);
			return 409;
		}
	}
	json_object_set_new(json_object_get(in, "metadata"), "resourceVersion",
			    json_sprintf("%d", ++rv));
	json_object_set_new(store, p, in);
	return !strcmp(method, "POST") ? 201 : 200;
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

static void put_object(const char *path, const char *json)
{
	json_t *o = json_loads(json, 0, NULL);

	assert_non_null(o);
	json_object_set_new(json_object_get(o, "metadata"), "resourceVersion",
			    json_sprintf("%d", ++rv));
	json_object_set_new(store, path, o);
}

/* --- the world ----------------------------------------------------------------- */

#define ROUTE_PATH "/apis/gateway.networking.k8s.io/v1/namespaces/app/tlsroutes/r"
#define GW_PATH "/apis/gateway.networking.k8s.io/v1/namespaces/app/gateways/gw"
#define CLASS_PATH "/apis/gateway.networking.k8s.io/v1/gatewayclasses/snilb"

static const char *yaml(const char *svc)
{
	static char buf[2048];

	snprintf(buf, sizeof(buf),
		 "apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\n"
		 "metadata: {name: snilb, generation: 1}\n"
		 "spec: {controllerName: snilb.io/gateway-controller}\n---\n"
		 "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\n"
		 "metadata: {name: gw, namespace: app, generation: 2}\n"
		 "spec:\n  gatewayClassName: snilb\n"
		 "  addresses: [{value: 198.18.0.10}]\n"
		 "  listeners: [{name: tls, port: 443, protocol: TLS}, "
		 "{name: web, port: 80, protocol: HTTP}]\n---\n"
		 "apiVersion: gateway.networking.k8s.io/v1\nkind: TLSRoute\n"
		 "metadata: {name: r, namespace: app, generation: 7}\n"
		 "spec:\n  parentRefs: [{name: gw, sectionName: tls}]\n"
		 "  hostnames: [a.example.com]\n"
		 "  rules: [{backendRefs: [{name: %s, port: 443}]}]\n---\n"
		 "apiVersion: v1\nkind: Service\n"
		 "metadata: {name: svc, namespace: app}\n"
		 "spec: {ports: [{port: 443}]}\n", svc);
	return buf;
}

static void write_all(const char *svc, struct kstatus_cache *c,
		      struct kstatus_result *res)
{
	struct kstatus_pass p = { .cache = c, .controller = GW_CONTROLLER,
				  .tlsroute_version = "v1", .res = res };
	struct model m = {};
	struct gw_out out;
	const char *y = yaml(svc);

	assert_int_equal(manifest_decode_buf("t", y, strlen(y), &m), 0);
	assert_int_equal(gw_compute(&m, GW_CONTROLLER, 251, &out), 0);
	kstatus_write(&p, &out);
	gw_out_free(&out);
	model_free(&m);
}

static json_t *route_parents(void)
{
	return json_object_get(json_object_get(json_object_get(store,
		ROUTE_PATH), "status"), "parents");
}

static json_t *cond(json_t *parent, const char *type)
{
	json_t *c;
	size_t i;

	json_array_foreach(json_object_get(parent, "conditions"), i, c)
		if (!strcmp(json_string_value(json_object_get(c, "type")), type))
			return c;
	return NULL;
}

static const char *field(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k)) ?: "";
}

static int setup(void **state)
{
	(void)state;
	store = json_object();
	put_object(CLASS_PATH, "{\"metadata\":{\"name\":\"snilb\"}}");
	put_object(GW_PATH, "{\"metadata\":{\"name\":\"gw\"}}");
	put_object(ROUTE_PATH, "{\"metadata\":{\"name\":\"r\"},\"status\":"
		   "{\"parents\":[{\"controllerName\":\"example.com/other\","
		   "\"parentRef\":{\"name\":\"x\"},\"conditions\":[]}]}}");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	json_decref(store);
	return 0;
}

static void test_route_status(void **state)
{
	struct kstatus_cache *c = kstatus_cache_new();
	struct kstatus_result res;
	json_t *ours, *acc;
	char ltt[64];

	(void)state;
	write_all("svc", c, &res);
	assert_int_equal(res.failed, 0);
	assert_int_equal(res.written, 3);	/* class, gateway, route */
	assert_int_equal(json_array_size(route_parents()), 2);
	/* The other controller's entry is kept, first. */
	assert_string_equal(field(json_array_get(route_parents(), 0),
				  "controllerName"), "example.com/other");
	ours = json_array_get(route_parents(), 1);
	assert_string_equal(field(ours, "controllerName"), GW_CONTROLLER);
	assert_string_equal(field(json_object_get(ours, "parentRef"),
				  "sectionName"), "tls");
	acc = cond(ours, "Accepted");
	assert_string_equal(field(acc, "status"), "True");
	assert_int_equal(json_integer_value(json_object_get(acc,
			 "observedGeneration")), 7);
	assert_string_equal(field(cond(ours, "ResolvedRefs"), "status"),
			    "True");
	snprintf(ltt, sizeof(ltt), "%s", field(acc, "lastTransitionTime"));

	/* Nothing changed: nothing read, nothing written. */
	gets_seen = puts_seen = 0;
	write_all("svc", c, &res);
	assert_int_equal(res.written, 0);
	assert_int_equal(gets_seen + puts_seen, 0);

	/* A new cache (a new leader): read again, still nothing written. */
	kstatus_cache_free(c);
	c = kstatus_cache_new();
	write_all("svc", c, &res);
	assert_int_equal(res.written, 0);
	assert_int_equal(puts_seen, 0);

	/* A broken ref: ResolvedRefs goes False, Accepted keeps its
	 * lastTransitionTime. */
	write_all("gone", c, &res);
	assert_int_equal(res.written, 1);
	ours = json_array_get(route_parents(), 1);
	assert_string_equal(field(cond(ours, "ResolvedRefs"), "reason"),
			    "BackendNotFound");
	assert_string_equal(field(cond(ours, "Accepted"), "lastTransitionTime"),
			    ltt);

	/* A conflict: counted as failed, and tried again next time. */
	fail_puts = 1;
	write_all("svc", c, &res);
	assert_int_equal(res.failed, 1);
	fail_puts = 0;
	write_all("svc", c, &res);
	assert_int_equal(res.written, 1);
	kstatus_cache_free(c);
}

static void test_gateway_status(void **state)
{
	json_t *st = json_object_get(json_object_get(store, GW_PATH), "status");
	json_t *l = json_array_get(json_object_get(st, "listeners"), 0);

	(void)state;
	assert_string_equal(field(json_array_get(json_object_get(st,
			    "addresses"), 0), "value"), "198.18.0.10");
	assert_int_equal(json_integer_value(json_object_get(l,
			 "attachedRoutes")), 1);
	assert_string_equal(field(json_array_get(json_object_get(l,
			    "supportedKinds"), 0), "kind"), "TLSRoute");
	assert_string_equal(field(cond(l, "Programmed"), "status"), "True");
	/* An invalid listener supports no kind (upstream's
	 * gateway-invalid-listeners-unsupported-protocol) and is not
	 * programmed. */
	l = json_array_get(json_object_get(st, "listeners"), 1);
	assert_string_equal(field(l, "name"), "web");
	assert_int_equal(json_array_size(json_object_get(l, "supportedKinds")),
			 0);
	assert_string_equal(field(cond(l, "Accepted"), "reason"),
			    "UnsupportedProtocol");
	assert_string_equal(field(cond(l, "Programmed"), "status"), "False");
	assert_string_equal(field(cond(st, "Accepted"), "status"), "True");
	assert_int_equal(json_integer_value(json_object_get(cond(st,
			 "Accepted"), "observedGeneration")), 2);
	st = json_object_get(json_object_get(store, CLASS_PATH), "status");
	assert_string_equal(field(cond(st, "Accepted"), "status"), "True");
}

/* @o without the keys only the status document has, and without
 * lastTransitionTime (stamped at another second, maybe). */
static void strip(json_t *o)
{
	static const char *const extra[] = { "namespace", "name", "class",
		"controller", "port", "hostname", "gateway", "section",
		"lastTransitionTime" };
	const char *k;
	json_t *v;
	void *tmp;
	size_t i;

	if (json_is_array(o)) {
		json_array_foreach(o, i, v)
			strip(v);
		return;
	}
	json_object_foreach_safe(o, tmp, k, v) {
		for (i = 0; i < sizeof(extra) / sizeof(extra[0]); i++)
			if (!strcmp(k, extra[i]) && json_is_string(v))
				break;
		if (i < sizeof(extra) / sizeof(extra[0]) ||
		    (!strcmp(k, "port") && json_is_integer(v)))
			json_object_del(o, k);
		else
			strip(v);
	}
}

static void assert_same_status(json_t *api, json_t *doc)
{
	char *a, *d;

	api = json_deep_copy(api);
	doc = json_deep_copy(doc);
	strip(api);
	strip(doc);
	a = json_dumps(api, JSON_COMPACT | JSON_SORT_KEYS);
	d = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
	if (strcmp(a, d))
		fail_msg("API status %s\nstatus document %s", a, d);
	free(a);
	free(d);
	json_decref(api);
	json_decref(doc);
}

/* The status document carries what the API status carries, made by the
 * same code: the same conditions (observedGeneration included),
 * supportedKinds, addresses and GatewayClass status. */
static void test_status_document(void **state)
{
	struct status_agent ag = { .controller = GW_CONTROLLER,
				   .manifests = "t", .pin_path = "p",
				   .last_error = "" };
	struct kstatus_cache *c = kstatus_cache_new();
	struct sync_state ss = {};
	struct kstatus_result res;
	struct model m = {};
	struct gw_out out;
	const char *y = yaml("svc");
	json_t *doc, *doc2, *gw, *parents, *ltt;

	(void)state;
	assert_int_equal(manifest_decode_buf("t", y, strlen(y), &m), 0);
	assert_int_equal(gw_compute(&m, GW_CONTROLLER, 251, &out), 0);
	kstatus_write(&(struct kstatus_pass){ .cache = c,
		      .controller = GW_CONTROLLER, .tlsroute_version = "v1",
		      .res = &res }, &out);
	assert_int_equal(res.failed, 0);
	assert_int_equal(sync_dry(&ss, &out), 0);
	doc = status_build(&ag, &m, &out, &ss, NULL);
	assert_non_null(doc);

	gw = json_array_get(json_object_get(doc, "gateways"), 0);
	assert_same_status(json_object_get(json_object_get(store, GW_PATH),
					   "status"), gw);
	assert_same_status(json_object_get(json_object_get(store, CLASS_PATH),
					   "status"),
			   json_array_get(json_object_get(doc,
					  "gatewayclasses"), 0));
	parents = json_object_get(json_array_get(json_object_get(doc,
				  "routes"), 0), "parents");
	assert_string_equal(field(json_array_get(parents, 0), "gateway"),
			    "app/gw");
	/* The API object also holds another controller's entry, first. */
	assert_same_status(json_array_get(route_parents(), 1),
			   json_array_get(parents, 0));

	/* lastTransitionTime stays while the status does. */
	ltt = json_object_get(cond(json_array_get(parents, 0), "Accepted"),
			      "lastTransitionTime");
	json_string_set(ltt, "2020-01-02T03:04:05Z");
	doc2 = status_build(&ag, &m, &out, &ss, doc);
	parents = json_object_get(json_array_get(json_object_get(doc2,
				  "routes"), 0), "parents");
	assert_string_equal(field(cond(json_array_get(parents, 0), "Accepted"),
				  "lastTransitionTime"),
			    "2020-01-02T03:04:05Z");
	json_decref(doc);
	json_decref(doc2);
	sync_free(&ss);
	kstatus_cache_free(c);
	gw_out_free(&out);
	model_free(&m);
}

#define S(x) ((uint64_t)(x) * 1000000000ull)

static void test_lease(void **state)
{
	struct lease a = { .ns = "snilb", .name = "l", .identity = "node-a",
			   .duration_s = 15 };
	struct lease b = { .ns = "snilb", .name = "l", .identity = "node-b",
			   .duration_s = 15 };

	(void)state;
	assert_int_equal(lease_tick(NULL, &a, S(100)), 1);	/* created */
	assert_int_equal(lease_tick(NULL, &b, S(100)), 0);
	assert_int_equal(lease_tick(NULL, &a, S(105)), 1);	/* renewed */
	/* b saw a renewal at 105 (its clock): not expired at 115. */
	assert_int_equal(lease_tick(NULL, &b, S(106)), 0);
	assert_int_equal(lease_tick(NULL, &b, S(115)), 0);
	/* a stops renewing; b takes over once 15 s passed without one. */
	assert_int_equal(lease_tick(NULL, &b, S(122)), 1);
	assert_int_equal(lease_tick(NULL, &a, S(123)), 0);
	assert_int_equal(lease_tick(NULL, &b, S(124)), 1);
	/* b releases on a clean stop: a takes over at once. */
	lease_release(NULL, &b);
	assert_int_equal(b.held, 0);
	assert_int_equal(lease_tick(NULL, &a, S(125)), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_route_status),
		cmocka_unit_test(test_gateway_status),
		cmocka_unit_test(test_status_document),
		cmocka_unit_test(test_lease),
	};

	return cmocka_run_group_tests_name("kstatus and lease", tests, setup,
					   teardown);
}

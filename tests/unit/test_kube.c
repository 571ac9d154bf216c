// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The Kubernetes client's parts that need no API server, through its
 * internal header (user/source/kube_int.h): kubeconfig credentials, the
 * watch stream cut at every byte, the store and the models it hands out.
 * The list/watch protocol itself is tested against tests/kube/apiserver.py
 * with build/kubewatch.
 */
#include <search.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "gwapi.h"
#include "kube_int.h"

static char tmpdir[64];

static void put(const char *name, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int load(const char *name, struct creds *c, char *err, size_t len)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	memset(c, 0, sizeof(*c));
	return kube_creds_kubeconfig(c, path, err, len);
}

static void test_base64(void **state)
{
	size_t n;
	char *s;

	(void)state;
	s = kube_b64decode("aGVs\nbG8=", &n);
	assert_string_equal(s, "hello");
	assert_int_equal(n, 5);
	free(s);
	s = kube_b64decode("-_8", &n);	/* URL-safe */
	assert_int_equal(n, 2);
	assert_int_equal((unsigned char)s[0], 0xfb);
	free(s);
	assert_null(kube_b64decode("a*b", &n));
}

#define KC_HEAD \
	"apiVersion: v1\nkind: Config\ncurrent-context: ctx\n" \
	"contexts:\n- name: other\n  context: {cluster: nope, user: nope}\n" \
	"- name: ctx\n  context: {cluster: c1, user: u1}\n"

static void test_kubeconfig_files(void **state)
{
	char err[512] = "", want[128];
	struct creds c;

	(void)state;
	put("tok", "secret-token\n");
	put("kc.yaml", KC_HEAD
	    "clusters:\n- name: c1\n  cluster:\n"
	    "    server: https://[fd00::1]:6443/\n"
	    "    certificate-authority: pki/ca.crt\n"
	    "    insecure-skip-tls-verify: true\n"
	    "users:\n- name: u1\n  user:\n    tokenFile: tok\n"
	    "    client-certificate: /abs/c.crt\n    client-key: k.key\n");
	assert_int_equal(load("kc.yaml", &c, err, sizeof(err)), 0);
	assert_string_equal(c.server, "https://[fd00::1]:6443");
	snprintf(want, sizeof(want), "%s/pki/ca.crt", tmpdir);
	assert_string_equal(c.ca_file, want);
	assert_int_equal(c.insecure, 1);
	assert_string_equal(c.token, "secret-token");
	assert_string_equal(c.cert_file, "/abs/c.crt");
	snprintf(want, sizeof(want), "%s/k.key", tmpdir);
	assert_string_equal(c.key_file, want);
	kube_creds_free(&c);
}

static void test_kubeconfig_json_data(void **state)
{
	char err[512] = "";
	struct creds c;

	(void)state;
	/* kubeconfig as JSON, with -data fields (base64 of "CA", "CRT"...) */
	put("kc.json", "{\"current-context\":\"x\",\"contexts\":[{\"name\":\"x\","
	    "\"context\":{\"cluster\":\"c\",\"user\":\"u\"}}],\"clusters\":"
	    "[{\"name\":\"c\",\"cluster\":{\"server\":\"https://h:1\","
	    "\"certificate-authority-data\":\"Q0E=\"}}],\"users\":[{\"name\":"
	    "\"u\",\"user\":{\"client-certificate-data\":\"Q1JU\","
	    "\"client-key-data\":\"S0VZ\",\"token\":\"t\"}}]}");
	assert_int_equal(load("kc.json", &c, err, sizeof(err)), 0);
	assert_int_equal(c.ca_len, 2);
	assert_memory_equal(c.ca_data, "CA", 2);
	assert_memory_equal(c.cert_data, "CRT", 3);
	assert_memory_equal(c.key_data, "KEY", 3);
	assert_string_equal(c.token, "t");
	assert_null(c.token_file);
	kube_creds_free(&c);
}

/* Each error names the file and what is missing. */
static void test_kubeconfig_errors(void **state)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "kind: Config\n", "no current-context" },
		{ "current-context: ctx\n", "context \"ctx\" (current-context) not found" },
		{ KC_HEAD, "cluster \"c1\" not found in clusters" },
		{ KC_HEAD "clusters: [{name: c1, cluster: {}}]\n",
		  "cluster \"c1\" has no server" },
		{ KC_HEAD "clusters: [{name: c1, cluster: {server: https://h}}]\n",
		  "user \"u1\" not found in users" },
		{ KC_HEAD "clusters: [{name: c1, cluster: {server: https://h}}]\n"
		  "users: [{name: u1, user: {exec: {command: x}}}]\n",
		  "uses exec or auth-provider" },
		{ KC_HEAD "clusters: [{name: c1, cluster: {server: https://h}}]\n"
		  "users: [{name: u1, user: {client-key: k}}]\n",
		  "certificate without a key or a key without" },
		{ KC_HEAD "clusters: [{name: c1, cluster: {server: https://h}}]\n"
		  "users: [{name: u1, user: {tokenFile: missing}}]\n",
		  "token file" },
		{ "a: [\n", "line" },
	};
	char err[512];
	struct creds c;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		put("bad.yaml", cases[i].text);
		err[0] = '\0';
		assert_int_not_equal(load("bad.yaml", &c, err, sizeof(err)), 0);
		if (!strstr(err, cases[i].want) || !strstr(err, "bad.yaml"))
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err,
				 cases[i].want);
		kube_creds_free(&c);
	}
}

/* The agent's check before it changes anything: what kube_start() would
 * read, and the files the kubeconfig names. */
static void test_kube_check(void **state)
{
	struct kube_config kc = { .kubeconfig = NULL };
	char err[512] = "", path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/kc.yaml", tmpdir);
	kc.kubeconfig = path;
	put("kc.yaml", KC_HEAD
	    "clusters: [{name: c1, cluster: {server: https://h, "
	    "certificate-authority: ca.crt}}]\n"
	    "users: [{name: u1, user: {token: t}}]\n");
	assert_int_not_equal(kube_check(&kc, err, sizeof(err)), 0);
	if (!strstr(err, "kc.yaml: certificate-authority") ||
	    !strstr(err, "ca.crt: No such file"))
		fail_msg("\"%s\" names neither the kubeconfig nor the CA", err);
	put("ca.crt", "x");
	assert_int_equal(kube_check(&kc, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/none.yaml", tmpdir);
	assert_int_not_equal(kube_check(&kc, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "none.yaml"));
}

/* A kube with no server and no threads: the store and the model only. */
static struct kube *fake_kube(void)
{
	struct kube *k = calloc(1, sizeof(*k));
	size_t i;

	assert_non_null(k);
	k->notify_fd = -1;
	pthread_mutex_init(&k->lock, NULL);
	for (i = 0; i < M_NKINDS; i++) {
		k->kinds[i].def = &m_kinds[i];
		k->kinds[i].k = k;
		k->kinds[i].version = m_kinds[i].versions[0];
	}
	return k;
}

static void fake_free(struct kube *k)
{
	size_t i;

	for (i = 0; i < M_NKINDS; i++) {
		tdestroy(k->kinds[i].root, kube_obj_free);
		kube_buf_free(&k->kinds[i].line);
	}
	pthread_mutex_destroy(&k->lock);
	free(k);
}

#define EV(type, name, rv, host) \
	"{\"type\":\"" type "\",\"object\":{\"metadata\":{\"name\":\"" name \
	"\",\"namespace\":\"app\",\"uid\":\"u-" name "\"," \
	"\"resourceVersion\":\"" rv "\",\"managedFields\":[{\"x\":1}]}," \
	"\"spec\":{\"parentRefs\":[{\"name\":\"gw\"}],\"hostnames\":" \
	"[\"" host "\"],\"rules\":[{\"backendRefs\":[{\"name\":\"s\"," \
	"\"port\":443}]}]}}}\n"

static const char stream[] =
	EV("ADDED", "r1", "5", "a.example.com")
	EV("ADDED", "r2", "6", "b.example.com")
	EV("MODIFIED", "r1", "7", "c.example.com")
	"\n"
	EV("DELETED", "r2", "8", "b.example.com")
	"{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":"
	"{\"resourceVersion\":\"12\"}}}\n";

static void check_stream_result(struct kube *k, struct kube_kind *kd)
{
	struct model m;
	struct obj probe = { .key = "app/r1" }, **o;

	assert_string_equal(kd->rv, "12");
	assert_int_equal(kd->n, 1);
	o = tfind(&probe, &kd->root, kube_obj_cmp);
	assert_non_null(o);
	assert_string_equal((*o)->rv, "7");
	assert_null(strstr((*o)->json, "managedFields"));
	assert_non_null(strstr((*o)->json,
		"\"apiVersion\":\"gateway.networking.k8s.io/v1\""));
	assert_int_equal(kube_model(k, &m), 0);
	assert_int_equal(m.nroutes, 1);
	assert_int_equal(m.ndiags, 0);
	assert_string_equal(m.routes[0].hostnames[0], "c.example.com");
	assert_string_equal(m.routes[0].meta.where.file,
			    "kube:TLSRoute/app/r1");
	model_free(&m);
}

/* The stream in two pieces cut at every byte, then a byte at a time. */
static void test_watch_stream_cuts(void **state)
{
	size_t len = strlen(stream), cut, i;

	(void)state;
	for (cut = 0; cut <= len; cut++) {
		struct kube *k = fake_kube();
		struct kube_kind *kd = &k->kinds[M_TLSROUTE];

		assert_int_equal(kube_watch_feed(kd, stream, cut), 0);
		assert_int_equal(kube_watch_feed(kd, stream + cut,
						 len - cut), 0);
		check_stream_result(k, kd);
		fake_free(k);
	}
	{
		struct kube *k = fake_kube();
		struct kube_kind *kd = &k->kinds[M_TLSROUTE];

		for (i = 0; i < len; i++)
			assert_int_equal(kube_watch_feed(kd, stream + i, 1), 0);
		check_stream_result(k, kd);
		fake_free(k);
	}
}

static void test_watch_errors(void **state)
{
	struct kube *k = fake_kube();
	struct kube_kind *kd = &k->kinds[M_TLSROUTE];
	static const char gone[] = "{\"type\":\"ERROR\",\"object\":{\"kind\":"
		"\"Status\",\"code\":410,\"reason\":\"Expired\",\"message\":"
		"\"too old resource version\"}}\n";
	static const char other[] = "{\"type\":\"ERROR\",\"object\":"
		"{\"code\":500,\"message\":\"boom\"}}\n";

	(void)state;
	assert_int_equal(kube_watch_feed(kd, gone, sizeof(gone) - 1), -1);
	assert_int_equal(kd->relist, 1);
	assert_int_equal(kd->event_err, 0);
	kd->line.len = 0;
	kd->relist = 0;
	assert_int_equal(kube_watch_feed(kd, other, sizeof(other) - 1), -1);
	assert_int_equal(kd->event_err, 500);
	assert_string_equal(kd->event_msg, "boom");
	kd->line.len = 0;
	assert_int_equal(kube_watch_feed(kd, "not json\n", 9), -1);
	fake_free(k);
}

/* Retry-After is the server's word for a 429 or 503, capped. */
static void test_retry_after(void **state)
{
	(void)state;
	assert_int_equal(kube_retry_after_ms(429, 1), 1000);
	assert_int_equal(kube_retry_after_ms(503, 7), 7000);
	assert_int_equal(kube_retry_after_ms(429, 3600),
			 RETRY_AFTER_MAX_S * 1000);
	assert_int_equal(RETRY_AFTER_MAX_S, 60);
	assert_int_equal(kube_retry_after_ms(429, 0), 0);	/* backoff */
	assert_int_equal(kube_retry_after_ms(500, 5), 0);
	assert_int_equal(kube_retry_after_ms(0, 5), 0);
}

/* Objects of every kind: the model copies what the decoder made. */
static void test_model_copy(void **state)
{
	static const char *const objs[] = {
		"{\"metadata\":{\"name\":\"app\",\"labels\":{\"t\":\"a\"}}}",
		"{\"metadata\":{\"name\":\"c\"},\"spec\":{\"controllerName\":\"x/y\"}}",
		"{\"metadata\":{\"name\":\"gw\",\"namespace\":\"app\"},\"spec\":"
		"{\"gatewayClassName\":\"c\",\"addresses\":[{\"value\":\"10.0.0.1\"}],"
		"\"listeners\":[{\"name\":\"l\",\"port\":443,\"protocol\":\"TLS\","
		"\"allowedRoutes\":{\"namespaces\":{\"from\":\"Selector\",\"selector\":"
		"{\"matchLabels\":{\"a\":\"b\"},\"matchExpressions\":[{\"key\":\"k\","
		"\"operator\":\"In\",\"values\":[\"v\"]}]}},\"kinds\":[{\"kind\":"
		"\"TLSRoute\"}]}}]}}",
		"{\"metadata\":{\"name\":\"r\",\"namespace\":\"app\"},\"spec\":"
		"{\"parentRefs\":[{\"name\":\"gw\",\"sectionName\":\"l\"}],"
		"\"hostnames\":[\"a.b\"],\"rules\":[{\"backendRefs\":[{\"name\":\"s\","
		"\"port\":443}]}]}}",
		"{\"metadata\":{\"name\":\"g\",\"namespace\":\"app\"},\"spec\":"
		"{\"from\":[{\"group\":\"gateway.networking.k8s.io\",\"kind\":"
		"\"TLSRoute\",\"namespace\":\"o\"}],\"to\":[{\"group\":\"\","
		"\"kind\":\"Service\",\"name\":\"s\"}]}}",
		"{\"metadata\":{\"name\":\"s\",\"namespace\":\"app\"},\"spec\":"
		"{\"selector\":{\"app\":\"s\"},\"ports\":[{\"name\":\"https\","
		"\"port\":443,\"targetPort\":\"tls\"}]}}",
		"{\"metadata\":{\"name\":\"s-1\",\"namespace\":\"app\",\"labels\":"
		"{\"kubernetes.io/service-name\":\"s\"}},\"addressType\":\"IPv4\","
		"\"endpoints\":[{\"addresses\":[\"10.1.0.1\"],\"conditions\":"
		"{\"ready\":true}}],\"ports\":[{\"name\":\"https\",\"port\":8443}]}",
		"{\"metadata\":{\"name\":\"p\",\"namespace\":\"app\",\"labels\":"
		"{\"app\":\"s\"}},\"spec\":{\"nodeName\":\"n\",\"containers\":"
		"[{\"name\":\"c\",\"image\":\"i\",\"env\":[{\"name\":\"A\"}],\"ports\":"
		"[{\"name\":\"tls\",\"containerPort\":8443}]}]},\"status\":"
		"{\"phase\":\"Running\",\"podIP\":\"10.1.0.1\",\"conditions\":"
		"[{\"type\":\"Ready\",\"status\":\"True\",\"reason\":\"x\"}]}}",
	};
	static const size_t kind_of[] = { M_NAMESPACE, M_GATEWAYCLASS,
		M_GATEWAY, M_TLSROUTE, M_REFERENCEGRANT, M_SERVICE,
		M_ENDPOINTSLICE, M_POD };
	struct kube *k = fake_kube();
	struct model m, m2;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(objs) / sizeof(objs[0]); i++) {
		struct kube_kind *kd = &k->kinds[kind_of[i]];
		json_t *j = json_loads(objs[i], 0, NULL);
		struct obj *o = kube_obj_make(kd, j);

		assert_non_null(o);
		json_decref(j);
		kube_store_put(kd, o);
	}
	assert_int_equal(kube_model(k, &m), 0);
	assert_int_equal(kube_model(k, &m2), 0);
	model_free(&m2);	/* the cache outlives the models */
	assert_int_equal(m.ndiags, 0);
	assert_int_equal(m.nnamespaces, 1);
	assert_string_equal(m.namespaces[0].meta.labels[0].value, "a");
	assert_string_equal(m.classes[0].controller, "x/y");
	assert_string_equal(m.gateways[0].listeners[0].selector.exprs[0]
			    .values[0], "v");
	assert_string_equal(m.gateways[0].listeners[0].kinds[0].kind,
			    "TLSRoute");
	assert_string_equal(m.routes[0].parents[0].section, "l");
	assert_string_equal(m.routes[0].api_version,
			    "gateway.networking.k8s.io/v1");
	assert_string_equal(m.grants[0].to[0].name, "s");
	assert_string_equal(m.services[0].ports[0].target_name, "tls");
	assert_string_equal(m.slices[0].endpoints[0].addresses[0], "10.1.0.1");
	assert_string_equal(m.pods[0].ports[0].name, "tls");
	assert_int_equal(m.pods[0].ready, 1);
	model_free(&m);
	fake_free(k);
}

/* A relist keeps the decoded models of unchanged objects. */
static void test_relist_keeps_decoded(void **state)
{
	struct kube *k = fake_kube();
	struct kube_kind *kd = &k->kinds[M_TLSROUTE];
	struct obj probe = { .key = "app/r1" }, **o;
	struct m_tlsroute *before;
	void *root = NULL;
	json_t *j;

	(void)state;
	assert_int_equal(kube_watch_feed(kd, stream, strlen(stream)), 0);
	o = tfind(&probe, &kd->root, kube_obj_cmp);
	before = (*o)->one.routes;
	j = json_loads("{\"metadata\":{\"name\":\"r1\",\"namespace\":\"app\","
		       "\"uid\":\"u-r1\",\"resourceVersion\":\"7\"},\"spec\":"
		       "{\"hostnames\":[\"c.example.com\"]}}", 0, NULL);
	assert_non_null(tsearch(kube_obj_make(kd, j), &root, kube_obj_cmp));
	json_decref(j);
	kube_store_replace(kd, root, 1);
	o = tfind(&probe, &kd->root, kube_obj_cmp);
	/* Same uid and resourceVersion: the old model, not a new decode. */
	assert_ptr_equal((*o)->one.routes, before);
	fake_free(k);
}

/* Put one object of @kind, given as JSON, into the store. */
static void put_json(struct kube *k, enum m_kind_id kind, const char *text)
{
	struct kube_kind *kd = &k->kinds[kind];
	json_t *j = json_loads(text, 0, NULL);
	struct obj *o;

	assert_non_null(j);
	o = kube_obj_make(kd, j);
	assert_non_null(o);
	json_decref(j);
	kube_store_put(kd, o);
}

/* TLSRoute app/r1 (@uid, @rv, generation @gen) for @host to Service s. */
static void put_route(struct kube *k, const char *uid, const char *rv,
		      int gen, const char *host)
{
	char text[512];

	snprintf(text, sizeof(text),
		 "{\"metadata\":{\"name\":\"r1\",\"namespace\":\"app\","
		 "\"uid\":\"%s\",\"resourceVersion\":\"%s\","
		 "\"generation\":%d},\"spec\":{\"parentRefs\":[{\"name\":"
		 "\"gw\"}],\"hostnames\":[\"%s\"],\"rules\":[{\"backendRefs\":"
		 "[{\"name\":\"s\",\"port\":443}]}]}}", uid, rv, gen, host);
	put_json(k, M_TLSROUTE, text);
}

/* Service app/s on port @port (0: invalid). */
static void put_service(struct kube *k, const char *rv, int port)
{
	char text[256];

	snprintf(text, sizeof(text),
		 "{\"metadata\":{\"name\":\"s\",\"namespace\":\"app\","
		 "\"uid\":\"u-s\",\"resourceVersion\":\"%s\"},\"spec\":"
		 "{\"ports\":[{\"port\":%d,\"targetPort\":8443}]}}", rv, port);
	put_json(k, M_SERVICE, text);
}

/* The model and what the Gateway API rules make of it: r1's host ("-":
 * no route) and its parent's PartiallyInvalid condition (type NULL: none). */
static const char *eval(struct kube *k, struct model *m, struct gw_out *out,
			const struct gw_cond **pi)
{
	assert_int_equal(kube_model(k, m), 0);
	assert_int_equal(gw_compute(m, GW_CONTROLLER, 16381, out), 0);
	*pi = NULL;
	if (!m->nroutes)
		return "-";
	assert_int_equal(out->nroutes, 1);
	assert_int_equal(out->routes[0].nparents, 1);
	assert_int_equal(out->routes[0].parents[0].conds[0].status, 1);
	*pi = &out->routes[0].parents[0].conds[2];
	return m->routes[0].hostnames[0];
}

static void drop(struct model *m, struct gw_out *out)
{
	gw_out_free(out);
	model_free(m);
}

/*
 * An update the decoder refuses keeps the object's last good version (a
 * watch event and a relist alike), its diags come along and the route's
 * status says "Fall Back"; a valid update replaces it; an object deleted
 * and created again has no last good version.
 */
static void test_invalid_update_keeps_last_good(void **state)
{
	struct kube *k = fake_kube();
	struct kube_kind *kd = &k->kinds[M_TLSROUTE];
	const struct gw_cond *pi;
	struct gw_out out;
	struct model m;
	void *root = NULL;
	json_t *j;

	(void)state;
	put_json(k, M_GATEWAYCLASS, "{\"metadata\":{\"name\":\"c\"},"
		 "\"spec\":{\"controllerName\":\"" GW_CONTROLLER "\"}}");
	put_json(k, M_GATEWAY, "{\"metadata\":{\"name\":\"gw\",\"namespace\":"
		 "\"app\"},\"spec\":{\"gatewayClassName\":\"c\",\"addresses\":"
		 "[{\"value\":\"10.0.0.1\"}],\"listeners\":[{\"name\":\"l\","
		 "\"port\":443,\"protocol\":\"TLS\"}]}}");
	put_service(k, "1", 443);
	put_route(k, "u1", "5", 1, "a.example.com");
	assert_string_equal(eval(k, &m, &out, &pi), "a.example.com");
	assert_null(pi->type);
	drop(&m, &out);

	/* A bad hostname: generation 1 stays, with the diag and its status. */
	put_route(k, "u1", "6", 2, "Bad_Host");
	assert_string_equal(eval(k, &m, &out, &pi), "a.example.com");
	assert_int_equal(m.routes[0].meta.generation, 1);
	assert_int_equal(m.ndiags, 1);
	assert_string_equal(m.diags[0].kind, "TLSRoute");
	assert_string_equal(m.diags[0].name, "r1");
	assert_string_equal(m.diags[0].field, "spec.hostnames[0]");
	assert_non_null(pi->type);
	assert_string_equal(pi->type, "PartiallyInvalid");
	assert_int_equal(pi->status, 1);
	assert_string_equal(pi->reason, "UnsupportedValue");
	assert_true(!strncmp(pi->msg, "Fall Back: ", 11));
	assert_non_null(strstr(pi->msg, "(generation 1)"));
	assert_non_null(strstr(pi->msg, "spec.hostnames[0]"));
	drop(&m, &out);

	/* Another bad one: still the last good version, not nothing. */
	put_route(k, "u1", "7", 3, "Worse_Host");
	assert_string_equal(eval(k, &m, &out, &pi), "a.example.com");
	drop(&m, &out);

	/* A Service on port 0: its last good version stays too. */
	put_service(k, "8", 0);
	assert_int_equal(kube_model(k, &m), 0);
	assert_int_equal(m.nservices, 1);
	assert_int_equal(m.services[0].ports[0].port, 443);
	model_free(&m);
	put_service(k, "9", 444);
	assert_int_equal(kube_model(k, &m), 0);
	assert_int_equal(m.services[0].ports[0].port, 444);
	model_free(&m);

	/* A valid update replaces it, and the condition goes. */
	put_route(k, "u1", "10", 4, "c.example.com");
	assert_string_equal(eval(k, &m, &out, &pi), "c.example.com");
	assert_int_equal(m.ndiags, 0);
	assert_null(pi->type);
	drop(&m, &out);

	/* A relist that finds a bad version keeps the last good one. */
	j = json_loads("{\"metadata\":{\"name\":\"r1\",\"namespace\":\"app\","
		       "\"uid\":\"u1\",\"resourceVersion\":\"11\"},\"spec\":"
		       "{\"parentRefs\":[{\"name\":\"gw\"}],\"hostnames\":"
		       "[\"Bad_Host\"]}}", 0, NULL);
	assert_non_null(tsearch(kube_obj_make(kd, j), &root, kube_obj_cmp));
	json_decref(j);
	kube_store_replace(kd, root, 1);
	assert_string_equal(eval(k, &m, &out, &pi), "c.example.com");
	assert_non_null(pi->type);
	drop(&m, &out);

	/* Deleted and created again (a new uid), invalid: no route. */
	kube_store_del(kd, "app/r1");
	put_route(k, "u2", "12", 1, "Bad_Host");
	assert_string_equal(eval(k, &m, &out, &pi), "-");
	assert_int_equal(m.ndiags, 1);
	drop(&m, &out);
	fake_free(k);
}

static void test_model_time(void **state)
{
	struct kube *k = fake_kube();
	struct kube_kind *kd = &k->kinds[M_POD];
	struct timespec t0, t1;
	struct model m;
	char text[512];
	int i;

	(void)state;
	for (i = 0; i < 5000; i++) {
		json_t *j;

		snprintf(text, sizeof(text),
			 "{\"metadata\":{\"name\":\"p%d\",\"namespace\":\"n%d\","
			 "\"labels\":{\"app\":\"a%d\"}},\"spec\":{\"containers\":"
			 "[{\"name\":\"c\",\"ports\":[{\"containerPort\":8443}]}]},"
			 "\"status\":{\"podIP\":\"10.0.%d.%d\",\"conditions\":"
			 "[{\"type\":\"Ready\",\"status\":\"True\"}]}}",
			 i, i % 50, i % 100, i / 250, i % 250);
		j = json_loads(text, 0, NULL);
		kube_store_put(kd, kube_obj_make(kd, j));
		json_decref(j);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(kube_model(k, &m), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_int_equal(m.npods, 5000);
	print_message("kube_model of 5000 Pods: %.1f ms\n",
		      (t1.tv_sec - t0.tv_sec) * 1e3 +
		      (t1.tv_nsec - t0.tv_nsec) / 1e6);
	model_free(&m);
	fake_free(k);
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_kube.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_kubeconfig_files),
		cmocka_unit_test(test_kubeconfig_json_data),
		cmocka_unit_test(test_kubeconfig_errors),
		cmocka_unit_test(test_kube_check),
		cmocka_unit_test(test_watch_stream_cuts),
		cmocka_unit_test(test_watch_errors),
		cmocka_unit_test(test_retry_after),
		cmocka_unit_test(test_model_copy),
		cmocka_unit_test(test_relist_keeps_decoded),
		cmocka_unit_test(test_invalid_update_keeps_last_good),
		cmocka_unit_test(test_model_time),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Unit tests of the manifest decoder (user/model/decode*.c), the Gateway
 * API kinds: every field of GatewayClass, Gateway, Namespace and TLSRoute,
 * the defaults, TLSRoute's versions and their validation. The core kinds,
 * streams and the model helpers: test_manifest_core.c; each class of error
 * with its exact file, line and field: test_manifest_errors.c. Run under
 * ASan/UBSan, so a leak or a bad read fails the run.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "manifest_check.h"

/* --- every kind, every field ------------------------------------------ */

static const char gateway_yaml[] =
	"apiVersion: gateway.networking.k8s.io/v1\n"		/* 1 */
	"kind: Gateway\n"
	"metadata:\n"
	"  name: edge\n"
	"  namespace: infra\n"					/* 5 */
	"  creationTimestamp: 2026-01-02T03:04:05Z\n"
	"  labels: {team: net, tier: \"1\"}\n"
	"spec:\n"
	"  gatewayClassName: snilb\n"
	"  addresses:\n"					/* 10 */
	"  - value: 192.0.2.1\n"
	"  - type: IPAddress\n"
	"    value: 2001:db8::1\n"
	"  - type: Hostname\n"
	"    value: gw.example.com\n"				/* 15 */
	"  listeners:\n"
	"  - name: tls\n"
	"    hostname: \"*.example.com\"\n"
	"    port: 443\n"
	"    protocol: TLS\n"					/* 20 */
	"    tls:\n"
	"      mode: Passthrough\n"
	"    allowedRoutes:\n"
	"      namespaces:\n"
	"        from: Selector\n"				/* 25 */
	"        selector:\n"
	"          matchLabels: {shared: \"true\"}\n"
	"          matchExpressions:\n"
	"          - {key: env, operator: In, values: [prod, staging]}\n"
	"          - {key: tier, operator: NotIn, values: [\"3\"]}\n" /* 30 */
	"          - {key: gw, operator: Exists}\n"
	"          - {key: old, operator: DoesNotExist}\n"
	"      kinds:\n"
	"      - kind: TLSRoute\n"
	"      - {group: example.com, kind: Other}\n"		/* 35 */
	"  - name: all\n"
	"    port: 8443\n"
	"    protocol: TLS\n"
	"    tls: {mode: Terminate}\n"
	"    allowedRoutes: {namespaces: {from: All}}\n"	/* 40 */
	"  infrastructure:\n"
	"    parametersRef: {group: example.com, kind: Params, name: p}\n";

/* A Gateway "gw" of class snilb, lines 1 to 5, up to its spec's other
 * fields. */
#define GW_DOC								\
	"apiVersion: gateway.networking.k8s.io/v1\n"			\
	"kind: Gateway\n"						\
	"metadata: {name: gw}\n"					\
	"spec:\n"							\
	"  gatewayClassName: snilb\n"

static void test_gateway(void **state)
{
	const struct m_gateway *g;
	const struct m_listener *l;
	const struct m_selector *s;

	(void)state;
	assert_int_equal(decode(gateway_yaml), 0);
	assert_no_diags();
	assert_int_equal(M.ngateways, 1);
	g = &M.gateways[0];
	assert_string_equal(g->meta.name, "edge");
	assert_string_equal(g->meta.ns, "infra");
	assert_int_equal(g->meta.created, 1767323045);
	assert_int_equal(g->meta.nlabels, 2);
	assert_string_equal(g->meta.labels[0].key, "team");
	assert_string_equal(g->meta.labels[0].value, "net");
	assert_string_equal(g->meta.labels[1].key, "tier");
	assert_string_equal(g->meta.labels[1].value, "1");
	assert_string_equal(g->meta.where.file, FILE_NAME);
	assert_int_equal(g->meta.where.line, 2);
	assert_string_equal(g->class, "snilb");

	assert_int_equal(g->naddresses, 3);
	assert_string_equal(g->addresses[0].type, "IPAddress");
	assert_string_equal(g->addresses[0].value, "192.0.2.1");
	assert_string_equal(g->addresses[1].type, "IPAddress");
	assert_string_equal(g->addresses[1].value, "2001:db8::1");
	assert_string_equal(g->addresses[2].type, "Hostname");
	assert_string_equal(g->addresses[2].value, "gw.example.com");

	assert_int_equal(g->nlisteners, 2);
	l = &g->listeners[0];
	assert_string_equal(l->name, "tls");
	assert_string_equal(l->hostname, "*.example.com");
	assert_int_equal(l->port, 443);
	assert_string_equal(l->protocol, "TLS");
	assert_string_equal(l->tls_mode, "Passthrough");
	assert_int_equal(l->from, M_FROM_SELECTOR);
	assert_int_equal(l->line, 17);
	s = &l->selector;
	assert_int_equal(s->nmatch, 1);
	assert_string_equal(s->match[0].key, "shared");
	assert_string_equal(s->match[0].value, "true");
	assert_int_equal(s->nexprs, 4);
	assert_string_equal(s->exprs[0].key, "env");
	assert_int_equal(s->exprs[0].op, M_SEL_IN);
	assert_int_equal(s->exprs[0].nvalues, 2);
	assert_string_equal(s->exprs[0].values[0], "prod");
	assert_string_equal(s->exprs[0].values[1], "staging");
	assert_string_equal(s->exprs[1].key, "tier");
	assert_int_equal(s->exprs[1].op, M_SEL_NOT_IN);
	assert_int_equal(s->exprs[1].nvalues, 1);
	assert_string_equal(s->exprs[1].values[0], "3");
	assert_int_equal(s->exprs[2].op, M_SEL_EXISTS);
	assert_int_equal(s->exprs[2].nvalues, 0);
	assert_string_equal(s->exprs[3].key, "old");
	assert_int_equal(s->exprs[3].op, M_SEL_NOT_EXIST);
	assert_int_equal(l->nkinds, 2);
	assert_string_equal(l->kinds[0].group, "gateway.networking.k8s.io");
	assert_string_equal(l->kinds[0].kind, "TLSRoute");
	assert_string_equal(l->kinds[1].group, "example.com");
	assert_string_equal(l->kinds[1].kind, "Other");

	l = &g->listeners[1];
	assert_string_equal(l->name, "all");
	assert_null(l->hostname);
	assert_int_equal(l->port, 8443);
	assert_string_equal(l->tls_mode, "Terminate");
	assert_int_equal(l->from, M_FROM_ALL);
	assert_int_equal(l->nkinds, 0);
	assert_int_equal(l->line, 36);

	assert_string_equal(g->params.group, "example.com");
	assert_string_equal(g->params.kind, "Params");
	assert_string_equal(g->params.name, "p");
}

static void test_gateway_defaults(void **state)
{
	const struct m_gateway *g;

	(void)state;
	assert_int_equal(decode("apiVersion: gateway.networking.k8s.io/v1beta1\n"
				"kind: Gateway\n"
				"metadata: {name: gw}\n"
				"spec:\n"
				"  gatewayClassName: snilb\n"
				"  listeners:\n"
				"  - {name: a, port: 443, protocol: TLS}\n"
				"  - name: b\n"
				"    port: 444\n"
				"    protocol: TLS\n"
				"    tls: {}\n"
				"    allowedRoutes: {namespaces: {}}\n"), 0);
	assert_no_diags();
	assert_int_equal(M.ngateways, 1);
	g = &M.gateways[0];
	assert_string_equal(g->meta.ns, "default");
	assert_int_equal(g->meta.created, 0);
	assert_int_equal(g->meta.nlabels, 0);
	assert_int_equal(g->naddresses, 0);
	/* No tls: NULL (passthrough by the model's reading); tls without a
	 * mode: the CRD's default, Terminate. */
	assert_null(g->listeners[0].tls_mode);
	assert_int_equal(g->listeners[0].from, M_FROM_SAME);
	assert_int_equal(g->listeners[0].nkinds, 0);
	assert_int_equal(g->listeners[0].selector.nmatch, 0);
	assert_string_equal(g->listeners[1].tls_mode, "Terminate");
	assert_int_equal(g->listeners[1].from, M_FROM_SAME);
	assert_null(g->params.kind);
	model_free(&M);

	/* parametersRef needs group, kind and name, as the CRD says. */
	assert_int_equal(decode(GW_DOC
				"  listeners: [{name: a, port: 443, protocol: TLS}]\n"
				"  infrastructure:\n"
				"    parametersRef: {group: '', name: p}\n"), 0);
	assert_only_diag(8, "spec.infrastructure.parametersRef.kind",
			 "kind is required", "Gateway", "default", "gw");
}

static void test_namespace_and_class(void **state)
{
	(void)state;
	assert_int_equal(decode("apiVersion: v1\n"
				"kind: Namespace\n"
				"metadata:\n"
				"  name: team-a\n"
				"  namespace: ignored\n"
				"  labels:\n"
				"    shared: \"true\"\n"
				"---\n"
				"apiVersion: gateway.networking.k8s.io/v1\n"
				"kind: GatewayClass\n"
				"metadata: {name: snilb}\n"
				"spec: {controllerName: example.com/snilb}\n"),
			 0);
	assert_no_diags();
	assert_int_equal(M.nnamespaces, 1);
	assert_string_equal(M.namespaces[0].meta.name, "team-a");
	assert_null(M.namespaces[0].meta.ns);
	/* And the label the API server gives every Namespace. */
	assert_int_equal(M.namespaces[0].meta.nlabels, 2);
	assert_string_equal(M.namespaces[0].meta.labels[0].key, "shared");
	assert_string_equal(M.namespaces[0].meta.labels[0].value, "true");
	assert_string_equal(M.namespaces[0].meta.labels[1].key,
			    "kubernetes.io/metadata.name");
	assert_string_equal(M.namespaces[0].meta.labels[1].value, "team-a");
	assert_int_equal(M.namespaces[0].meta.where.line, 2);
	assert_int_equal(M.nclasses, 1);
	assert_string_equal(M.classes[0].meta.name, "snilb");
	assert_null(M.classes[0].meta.ns);
	assert_string_equal(M.classes[0].controller, "example.com/snilb");
	assert_int_equal(M.classes[0].meta.where.line, 10);
	model_free(&M);

	/* A value written for it is the API server's to set. */
	assert_int_equal(decode("apiVersion: v1\nkind: Namespace\n"
				"metadata:\n  name: b\n"
				"  labels: {kubernetes.io/metadata.name: x}\n"),
			 0);
	assert_no_diags();
	assert_int_equal(M.namespaces[0].meta.nlabels, 1);
	assert_string_equal(M.namespaces[0].meta.labels[0].value, "b");
}

static void test_tlsroute(void **state)
{
	const struct m_tlsroute *t;
	const struct m_backend_ref *b;

	(void)state;
	assert_int_equal(decode(route_yaml), 0);
	assert_no_diags();
	assert_int_equal(M.nroutes, 1);
	t = &M.routes[0];
	assert_string_equal(t->meta.name, "web");
	assert_string_equal(t->meta.ns, "team-a");
	assert_string_equal(t->api_version,
			    "gateway.networking.k8s.io/v1alpha2");
	assert_int_equal(t->nparents, 2);
	assert_string_equal(t->parents[0].name, "edge");
	assert_string_equal(t->parents[0].ns, "infra");
	assert_string_equal(t->parents[0].section, "tls");
	assert_int_equal(t->parents[0].port, 443);
	assert_string_equal(t->parents[0].group, "gateway.networking.k8s.io");
	assert_string_equal(t->parents[0].kind, "Gateway");
	assert_int_equal(t->parents[0].line, 8);
	assert_string_equal(t->parents[1].name, "other");
	assert_null(t->parents[1].ns);
	assert_null(t->parents[1].section);
	assert_int_equal(t->parents[1].port, 0);
	assert_string_equal(t->parents[1].group, "gateway.networking.k8s.io");
	assert_string_equal(t->parents[1].kind, "Gateway");
	assert_int_equal(t->parents[1].line, 14);
	assert_int_equal(t->nhostnames, 2);
	assert_string_equal(t->hostnames[0], "a.example.com");
	assert_string_equal(t->hostnames[1], "*.b.example.com");

	assert_int_equal(t->nrules, 2);
	assert_int_equal(t->rules[0].line, 17);
	assert_int_equal(t->rules[0].nrefs, 2);
	b = &t->rules[0].refs[0];
	assert_string_equal(b->name, "web");
	assert_null(b->ns);
	assert_int_equal(b->port, 8443);
	assert_int_equal(b->weight, 0);
	assert_string_equal(b->group, "");
	assert_string_equal(b->kind, "Service");
	assert_int_equal(b->line, 18);
	b = &t->rules[0].refs[1];
	assert_string_equal(b->name, "web2");
	assert_string_equal(b->ns, "team-b");
	assert_int_equal(b->port, 443);
	assert_int_equal(b->weight, 1000000);
	assert_int_equal(b->line, 21);
	assert_int_equal(t->rules[1].line, 27);
	assert_int_equal(t->rules[1].nrefs, 1);
	b = &t->rules[1].refs[0];
	assert_string_equal(b->name, "solo");
	assert_int_equal(b->weight, 1);
	assert_int_equal(b->port, 9);
	assert_string_equal(b->kind, "Service");
	assert_string_equal(b->group, "");
}

static void test_tlsroute_versions(void **state)
{
	static const char *const ok[] = { "v1", "v1alpha2", "v1alpha3" };
	char buf[256];
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++) {
		snprintf(buf, sizeof(buf),
			 "apiVersion: gateway.networking.k8s.io/%s\n"
			 "kind: TLSRoute\nmetadata: {name: r%zu}\n"
			 "spec: {hostnames: [a.example.com], rules: "
			 "[{backendRefs: [{name: s, port: 1}]}]}\n", ok[i], i);
		assert_int_equal(decode(buf), 0);
	}
	assert_no_diags();
	assert_int_equal(M.nroutes, 3);
	assert_string_equal(M.routes[0].api_version,
			    "gateway.networking.k8s.io/v1");
	assert_string_equal(M.routes[2].api_version,
			    "gateway.networking.k8s.io/v1alpha3");
	assert_int_equal(M.routes[2].nrules, 1);
}

/* A TLSRoute of @version with @spec (indented by two), decoded. */
static int decode_route(const char *version, const char *spec)
{
	char buf[8192];

	model_free(&M);
	snprintf(buf, sizeof(buf),
		 "apiVersion: gateway.networking.k8s.io/%s\n"
		 "kind: TLSRoute\nmetadata: {name: r}\nspec:\n%s", version,
		 spec);
	return decode(buf);
}

#define RULE1 "  rules: [{backendRefs: [{name: a, port: 1}]}]\n"

/* A spec of @hostnames and one rule of @n backendRefs, one a line. */
static void refs_spec(char *spec, size_t len, const char *hostnames,
		      size_t n)
{
	size_t j;

	snprintf(spec, len, "  hostnames: %s\n  rules:\n  - backendRefs:\n",
		 hostnames);
	for (j = 0; j < n; j++)
		snprintf(spec + strlen(spec), len - strlen(spec),
			 "    - {name: s%zu, port: 1}\n", j);
}

/*
 * TLSRoute v1 as the API server's CRD validation has it (standard since
 * Gateway API v1.5): hostnames required, exactly one rule, 1 to 16
 * backendRefs, a port for a Service, no IP as a hostname, only a leading
 * "*." label; v1alpha2 as its own CRD has it.
 */
static void test_tlsroute_validation(void **state)
{
	static const struct { const char *v, *spec, *field, *msg; } bad[] = {
		{ "v1", RULE1, "spec.hostnames", "hostnames is required: "
		  "TLSRoute v1 (and v1alpha3) takes 1 to 1024" },
		{ "v1alpha3", RULE1, "spec.hostnames", NULL },
		{ "v1", "  hostnames: []\n" RULE1, "spec.hostnames",
		  "0 items: TLSRoute v1 (and v1alpha3) takes 1 to 1024" },
		{ "v1", "  hostnames: [a.example.com]\n", "spec.rules",
		  "rules is required: TLSRoute v1 (and v1alpha3) takes "
		  "exactly 1" },
		{ "v1", "  hostnames: [a.example.com]\n  rules:\n"
		  "  - backendRefs: [{name: a, port: 1}]\n"
		  "  - backendRefs: [{name: b, port: 1}]\n", "spec.rules",
		  "2 items: TLSRoute v1 (and v1alpha3) takes exactly 1" },
		{ "v1", "  hostnames: [a.example.com]\n  rules: [{}]\n",
		  "spec.rules[0].backendRefs", "backendRefs is required: a "
		  "rule takes 1 to 16" },
		{ "v1", "  hostnames: [a.example.com]\n"
		  "  rules: [{backendRefs: []}]\n",
		  "spec.rules[0].backendRefs", NULL },
		{ "v1", "  hostnames: [a.example.com]\n"
		  "  rules: [{backendRefs: [{name: a}]}]\n",
		  "spec.rules[0].backendRefs[0].port", "port is required" },
		{ "v1alpha2", "  rules: [{backendRefs: [{name: a, group: '', "
		  "kind: Service}]}]\n", "spec.rules[0].backendRefs[0].port",
		  NULL },
		{ "v1", "  hostnames: [192.0.2.1]\n" RULE1, "spec.hostnames[0]",
		  NULL },
		{ "v1", "  hostnames: ['2001:db8::1']\n" RULE1,
		  "spec.hostnames[0]", NULL },
		{ "v1", "  hostnames: ['*.*.example.com']\n" RULE1,
		  "spec.hostnames[0]", NULL },
		{ "v1", "  hostnames: ['a.*.example.com']\n" RULE1,
		  "spec.hostnames[0]", NULL },
		{ "v1", "  hostnames: ['*']\n" RULE1, "spec.hostnames[0]",
		  NULL },
		{ "v1", "  hostnames: ['']\n" RULE1, "spec.hostnames[0]",
		  NULL },
	};
	char spec[4096];
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(decode_route(bad[i].v, bad[i].spec), 0);
		if (M.ndiags != 1 || !M.diags[0].field ||
		    strcmp(M.diags[0].field, bad[i].field) ||
		    (bad[i].msg && strcmp(M.diags[0].msg, bad[i].msg))) {
			print_diags();
			fail_msg("case %zu (%s): want one diag about %s", i,
				 bad[i].v, bad[i].field);
		}
		assert_int_equal(M.nroutes, 0);
	}

	/* 17 backendRefs; and v1alpha2's 17 rules. */
	refs_spec(spec, sizeof(spec), "[a.example.com]", 17);
	assert_int_equal(decode_route("v1", spec), 0);
	assert_int_equal(M.ndiags, 1);
	assert_diag(8, "spec.rules[0].backendRefs",
		    "17 items: a rule takes 1 to 16");
	snprintf(spec, sizeof(spec), "  rules:\n");
	for (j = 0; j < 17; j++)
		strcat(spec, "  - backendRefs: [{name: a, port: 1}]\n");
	assert_int_equal(decode_route("v1alpha2", spec), 0);
	assert_int_equal(M.ndiags, 1);
	assert_diag(6, "spec.rules", "17 items: TLSRoute v1alpha2 takes "
		    "1 to 16");

	/* What is valid: 16 backendRefs; v1alpha2 with no hostname and
	 * two rules; a non-Service ref without a port. */
	refs_spec(spec, sizeof(spec), "[a.example.com, '*.b.example.com']",
		  16);
	assert_int_equal(decode_route("v1", spec), 0);
	assert_no_diags();
	assert_int_equal(M.routes[0].rules[0].nrefs, 16);
	assert_int_equal(decode_route("v1alpha2", "  rules:\n"
				      "  - backendRefs: [{name: a, port: 1}]\n"
				      "  - backendRefs: [{name: b, kind: X, "
				      "group: example.com}]\n"), 0);
	assert_no_diags();
	assert_int_equal(M.routes[0].nrules, 2);
}

/* A Gateway's lists as its CRD bounds them: 1 to 64 listeners of unique
 * names (a status names each once), up to 16 addresses, each once. */
static void test_gateway_lists(void **state)
{
	char buf[8192];
	size_t i;

	(void)state;
	assert_int_equal(decode(GW_DOC
				"  addresses: [{value: 192.0.2.1}, "
				"{value: 192.0.2.2},\n"
				"    {value: 192.0.2.1}]\n"
				"  listeners:\n"
				"  - {name: a, port: 443, protocol: TLS}\n"
				"  - {name: a, port: 444, protocol: TLS}\n"), 0);
	assert_int_equal(M.ndiags, 2);
	assert_diag(10, "spec.listeners[1].name",
		    "listener name \"a\" is used twice (listeners[0])");
	assert_diag(7, "spec.addresses[2].value",
		    "address 192.0.2.1 is given twice");
	assert_int_equal(M.ngateways, 0);
	model_free(&M);

	assert_int_equal(decode(GW_DOC
				"  listeners: []\n"), 0);
	assert_only_diag(6, "spec.listeners",
			 "0 items: a Gateway takes 1 to 64", "Gateway",
			 "default", "gw");
	model_free(&M);

	snprintf(buf, sizeof(buf), "apiVersion: gateway.networking.k8s.io/v1\n"
		 "kind: Gateway\nmetadata: {name: gw}\nspec:\n"
		 "  gatewayClassName: snilb\n"
		 "  listeners: [{name: a, port: 443, protocol: TLS}]\n"
		 "  addresses:\n");
	for (i = 0; i < 17; i++)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf),
			 "  - {value: 192.0.2.%zu}\n", i + 1);
	assert_int_equal(decode(buf), 0);
	assert_only_diag(8, "spec.addresses",
			 "17 items: a Gateway takes 0 to 16", "Gateway",
			 "default", "gw");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_gateway, teardown),
		cmocka_unit_test_teardown(test_gateway_defaults, teardown),
		cmocka_unit_test_teardown(test_namespace_and_class, teardown),
		cmocka_unit_test_teardown(test_tlsroute, teardown),
		cmocka_unit_test_teardown(test_tlsroute_versions, teardown),
		cmocka_unit_test_teardown(test_tlsroute_validation, teardown),
		cmocka_unit_test_teardown(test_gateway_lists, teardown),
	};

	return cmocka_run_group_tests_name("manifest", tests, NULL, NULL);
}

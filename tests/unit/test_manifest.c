// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Unit tests of the manifest decoder (user/model/decode*.c): every kind with
 * every field, the defaults, multi-document streams and lists, each class
 * of error with its exact file, line and field, and the model helpers.
 * Run under ASan/UBSan, so a leak or a bad read fails the run.
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

#include "decode.h"
#include "validate.h"

#define FILE_NAME "test.yaml"

static struct model M;

static int decode(const char *yaml)
{
	return manifest_decode_buf(FILE_NAME, yaml, strlen(yaml), &M);
}

static int teardown(void **state)
{
	(void)state;
	model_free(&M);
	return 0;
}

static size_t nobjects(const struct model *m)
{
	return m->nnamespaces + m->nclasses + m->ngateways + m->nroutes +
	       m->nservices + m->nslices + m->npods + m->ngrants;
}

static void print_diags(void)
{
	size_t i;

	for (i = 0; i < M.ndiags; i++)
		print_message("diag: %s:%d: %s: %s\n", M.diags[i].file,
			      M.diags[i].line,
			      M.diags[i].field ? M.diags[i].field : "-",
			      M.diags[i].msg);
}

static void assert_no_diags(void)
{
	if (M.ndiags)
		print_diags();
	assert_int_equal(M.ndiags, 0);
}

static void assert_str_or_null(const char *got, const char *want)
{
	if (!want)
		assert_null(got);
	else
		assert_string_equal(got, want);
}

/* The diag about @field at @line; its message is @msg when not NULL. */
static const struct m_diag *assert_diag(int line, const char *field,
					const char *msg)
{
	size_t i;

	for (i = 0; i < M.ndiags; i++) {
		const struct m_diag *g = &M.diags[i];

		if (!g->field || strcmp(g->field, field) || g->line != line)
			continue;
		assert_string_equal(g->file, FILE_NAME);
		if (msg)
			assert_string_equal(g->msg, msg);
		return g;
	}
	print_diags();
	fail_msg("no diag about %s at line %d", field, line);
	return NULL;
}

/* Exactly one diag, about @field of @kind @ns/@name, and no object. */
static void assert_only_diag(int line, const char *field, const char *msg,
			     const char *kind, const char *ns,
			     const char *name)
{
	const struct m_diag *g;

	if (M.ndiags != 1)
		print_diags();
	assert_int_equal(M.ndiags, 1);
	assert_int_equal(nobjects(&M), 0);
	g = assert_diag(line, field, msg);
	assert_str_or_null(g->kind, kind);
	assert_str_or_null(g->ns, ns);
	assert_str_or_null(g->name, name);
}

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

static const char route_yaml[] =
	"apiVersion: gateway.networking.k8s.io/v1alpha2\n"	/* 1 */
	"kind: TLSRoute\n"
	"metadata:\n"
	"  name: web\n"
	"  namespace: team-a\n"					/* 5 */
	"spec:\n"
	"  parentRefs:\n"
	"  - name: edge\n"
	"    namespace: infra\n"
	"    sectionName: tls\n"				/* 10 */
	"    port: 443\n"
	"    group: gateway.networking.k8s.io\n"
	"    kind: Gateway\n"
	"  - {name: other}\n"
	"  hostnames: [a.example.com, \"*.b.example.com\"]\n"	/* 15 */
	"  rules:\n"
	"  - backendRefs:\n"
	"    - name: web\n"
	"      port: 8443\n"
	"      weight: 0\n"					/* 20 */
	"    - name: web2\n"
	"      namespace: team-b\n"
	"      port: 443\n"
	"      group: \"\"\n"
	"      kind: Service\n"					/* 25 */
	"      weight: 1000000\n"
	"  - backendRefs:\n"
	"    - {name: solo, port: 9}\n";

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

static void test_service(void **state)
{
	const struct m_service *s;

	(void)state;
	assert_int_equal(decode("apiVersion: v1\n"
				"kind: Service\n"
				"metadata: {name: web, namespace: team-a}\n"
				"spec:\n"
				"  selector: {app: web, tier: front}\n"
				"  ports:\n"
				"  - {name: tls, port: 443, targetPort: 8443, protocol: TCP}\n"
				"  - {name: named, port: 444, targetPort: https}\n"
				"  - {port: 445, targetPort: \"9443\", protocol: UDP}\n"
				"  - {port: 446}\n"
				"---\n"
				"apiVersion: v1\n"
				"kind: Service\n"
				"metadata: {name: headless}\n"
				"spec: {ports: [{port: 1}]}\n"), 0);
	assert_no_diags();
	assert_int_equal(M.nservices, 2);
	s = &M.services[0];
	assert_string_equal(s->meta.ns, "team-a");
	assert_int_equal(s->has_selector, 1);
	assert_int_equal(s->nselector, 2);
	assert_string_equal(s->selector[0].key, "app");
	assert_string_equal(s->selector[0].value, "web");
	assert_string_equal(s->selector[1].key, "tier");
	assert_string_equal(s->selector[1].value, "front");
	assert_int_equal(s->nports, 4);
	assert_string_equal(s->ports[0].name, "tls");
	assert_int_equal(s->ports[0].port, 443);
	assert_int_equal(s->ports[0].target_port, 8443);
	assert_null(s->ports[0].target_name);
	assert_string_equal(s->ports[0].protocol, "TCP");
	assert_int_equal(s->ports[1].target_port, 0);
	assert_string_equal(s->ports[1].target_name, "https");
	assert_null(s->ports[2].name);
	assert_int_equal(s->ports[2].target_port, 9443);
	assert_string_equal(s->ports[2].protocol, "UDP");
	assert_int_equal(s->ports[3].port, 446);
	assert_int_equal(s->ports[3].target_port, 0);
	assert_null(s->ports[3].target_name);
	assert_string_equal(s->ports[3].protocol, "TCP");
	s = &M.services[1];
	assert_string_equal(s->meta.ns, "default");
	assert_int_equal(s->has_selector, 0);
	assert_int_equal(s->nselector, 0);
}

/* The PROXY protocol annotation (docs/agent.md): "v2", "none", nothing;
 * any other value makes the Service invalid, naming the annotation. */
static void test_service_proxy(void **state)
{
	(void)state;
	assert_int_equal(decode("apiVersion: v1\n"
				"kind: Service\n"
				"metadata:\n"
				"  name: pp\n"
				"  annotations: {snilb.io/proxy-protocol: v2, x: y}\n"
				"spec: {ports: [{port: 1}]}\n"
				"---\n"
				"apiVersion: v1\n"
				"kind: Service\n"
				"metadata:\n"
				"  name: not-asked\n"
				"  annotations: {snilb.io/proxy-protocol: none}\n"
				"spec: {ports: [{port: 1}]}\n"
				"---\n"
				"apiVersion: v1\n"
				"kind: Service\n"
				"metadata: {name: plain}\n"
				"spec: {ports: [{port: 1}]}\n"), 0);
	assert_no_diags();
	assert_int_equal(M.nservices, 3);
	assert_int_equal(M.services[0].proxy_v2, 1);
	assert_int_equal(M.services[1].proxy_v2, 0);
	assert_int_equal(M.services[2].proxy_v2, 0);
	model_free(&M);
	assert_int_equal(decode("apiVersion: v1\n"
				"kind: Service\n"
				"metadata:\n"
				"  name: pp\n"
				"  annotations: {snilb.io/proxy-protocol: v1}\n"
				"spec: {ports: [{port: 1}]}\n"), 0);
	assert_int_equal(M.ndiags, 1);
	assert_int_equal(M.nservices, 0);
	assert_non_null(strstr(M.diags[0].field, "snilb.io/proxy-protocol"));
}

static void test_endpointslice(void **state)
{
	const struct m_endpointslice *s;

	(void)state;
	assert_int_equal(decode("apiVersion: discovery.k8s.io/v1\n"
				"kind: EndpointSlice\n"
				"metadata:\n"
				"  name: web-abc12\n"
				"  namespace: team-a\n"
				"  labels: {kubernetes.io/service-name: web}\n"
				"addressType: IPv4\n"
				"endpoints:\n"
				"- addresses: [10.1.0.1, 10.1.0.2]\n"
				"  conditions: {ready: true, serving: true, terminating: false}\n"
				"- addresses: [10.1.0.3]\n"
				"ports:\n"
				"- {name: tls, port: 8443, protocol: TCP}\n"
				"- {port: 9000}\n"), 0);
	assert_no_diags();
	assert_int_equal(M.nslices, 1);
	s = &M.slices[0];
	assert_string_equal(s->meta.name, "web-abc12");
	assert_string_equal(s->service, "web");
	assert_string_equal(s->address_type, "IPv4");
	assert_int_equal(s->nendpoints, 2);
	assert_int_equal(s->endpoints[0].naddresses, 2);
	assert_string_equal(s->endpoints[0].addresses[0], "10.1.0.1");
	assert_string_equal(s->endpoints[0].addresses[1], "10.1.0.2");
	assert_int_equal(s->endpoints[0].ready, M_TRUE);
	assert_int_equal(s->endpoints[0].serving, M_TRUE);
	assert_int_equal(s->endpoints[0].terminating, M_FALSE);
	assert_int_equal(s->endpoints[1].naddresses, 1);
	assert_int_equal(s->endpoints[1].ready, M_UNSET);
	assert_int_equal(s->endpoints[1].serving, M_UNSET);
	assert_int_equal(s->endpoints[1].terminating, M_UNSET);
	assert_int_equal(s->nports, 2);
	assert_string_equal(s->ports[0].name, "tls");
	assert_int_equal(s->ports[0].port, 8443);
	assert_string_equal(s->ports[0].protocol, "TCP");
	assert_null(s->ports[1].name);
	assert_int_equal(s->ports[1].port, 9000);
	assert_string_equal(s->ports[1].protocol, "TCP");
}

static void test_pod(void **state)
{
	const struct m_pod *p;

	(void)state;
	assert_int_equal(decode("apiVersion: v1\n"
				"kind: Pod\n"
				"metadata:\n"
				"  name: web-1\n"
				"  labels: {app: web}\n"
				"  deletionTimestamp: \"2026-01-02T03:04:05Z\"\n"
				"spec:\n"
				"  containers:\n"
				"  - name: a\n"
				"    ports:\n"
				"    - {name: https, containerPort: 8443}\n"
				"    - {containerPort: 53, protocol: UDP}\n"
				"  - name: b\n"
				"  - name: c\n"
				"    ports: [{containerPort: 9000}]\n"
				"status:\n"
				"  podIP: 10.1.0.1\n"
				"  podIPs: [{ip: 10.1.0.1}, {ip: \"fd00::1\"}]\n"
				"  conditions:\n"
				"  - {type: Initialized, status: \"True\"}\n"
				"  - {type: Ready, status: \"True\"}\n"
				"---\n"
				"apiVersion: v1\n"
				"kind: Pod\n"
				"metadata: {name: web-2}\n"
				"status:\n"
				"  conditions: [{type: Ready, status: \"False\"}]\n"),
			 0);
	assert_no_diags();
	assert_int_equal(M.npods, 2);
	p = &M.pods[0];
	assert_string_equal(p->meta.ns, "default");
	assert_int_equal(p->meta.nlabels, 1);
	assert_int_equal(p->nips, 2);
	assert_string_equal(p->ips[0], "10.1.0.1");
	assert_string_equal(p->ips[1], "fd00::1");
	assert_int_equal(p->ready, 1);
	assert_int_equal(p->terminating, 1);
	assert_int_equal(p->nports, 3);
	assert_string_equal(p->ports[0].name, "https");
	assert_int_equal(p->ports[0].port, 8443);
	assert_string_equal(p->ports[0].protocol, "TCP");
	assert_null(p->ports[1].name);
	assert_int_equal(p->ports[1].port, 53);
	assert_string_equal(p->ports[1].protocol, "UDP");
	assert_int_equal(p->ports[2].port, 9000);
	p = &M.pods[1];
	assert_int_equal(p->nips, 0);
	assert_int_equal(p->ready, 0);
	assert_int_equal(p->terminating, 0);
	assert_int_equal(p->nports, 0);
}

static void test_refgrant(void **state)
{
	const struct m_refgrant *g;
	static const char *const versions[] = { "v1beta1", "v1alpha2", "v1" };
	char buf[512];
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++) {
		snprintf(buf, sizeof(buf),
			 "apiVersion: gateway.networking.k8s.io/%s\n"
			 "kind: ReferenceGrant\n"
			 "metadata: {name: g%zu, namespace: team-b}\n"
			 "spec:\n"
			 "  from:\n"
			 "  - {group: gateway.networking.k8s.io, kind: TLSRoute, namespace: team-a}\n"
			 "  to:\n"
			 "  - {group: \"\", kind: Service, name: web2}\n"
			 "  - {kind: Service}\n", versions[i], i);
		assert_int_equal(decode(buf), 0);
	}
	assert_no_diags();
	assert_int_equal(M.ngrants, 3);
	g = &M.grants[0];
	assert_string_equal(g->meta.ns, "team-b");
	assert_int_equal(g->nfrom, 1);
	assert_string_equal(g->from[0].group, "gateway.networking.k8s.io");
	assert_string_equal(g->from[0].kind, "TLSRoute");
	assert_string_equal(g->from[0].ns, "team-a");
	assert_int_equal(g->nto, 2);
	assert_string_equal(g->to[0].group, "");
	assert_string_equal(g->to[0].kind, "Service");
	assert_string_equal(g->to[0].name, "web2");
	assert_string_equal(g->to[1].group, "");
	assert_null(g->to[1].name);
}

/* --- streams ---------------------------------------------------------- */

static void test_multi_document_and_list(void **state)
{
	(void)state;
	assert_int_equal(decode("# a comment before anything\n"	/* 1 */
				"---\n"
				"---\n"
				"# only a comment\n"
				"---\n"					/* 5 */
				"apiVersion: v1\n"
				"kind: List\n"
				"items:\n"
				"- apiVersion: v1\n"
				"  kind: Service\n"			/* 10 */
				"  metadata: {name: a}\n"
				"- apiVersion: apps/v1\n"
				"  kind: Deployment\n"
				"  metadata: {name: ignored}\n"
				"- apiVersion: v1\n"			/* 15 */
				"  kind: Namespace\n"
				"  metadata: {name: ns1}\n"
				"---\n"
				"apiVersion: v1\n"
				"kind: ConfigMap\n"			/* 20 */
				"metadata: {name: skipped}\n"
				"data: {x: y}\n"
				"...\n"
				"---\n"
				"apiVersion: v1\n"			/* 25 */
				"kind: Service\n"
				"metadata: {name: b}\n"), 0);
	assert_no_diags();
	assert_int_equal(M.nservices, 2);
	assert_string_equal(M.services[0].meta.name, "a");
	assert_int_equal(M.services[0].meta.where.line, 10);
	assert_string_equal(M.services[1].meta.name, "b");
	assert_int_equal(M.services[1].meta.where.line, 26);
	assert_int_equal(M.nnamespaces, 1);
	assert_int_equal(M.namespaces[0].meta.where.line, 16);
	assert_int_equal(nobjects(&M), 3);
}

static void test_anchors_and_aliases(void **state)
{
	(void)state;
	assert_int_equal(decode("apiVersion: gateway.networking.k8s.io/v1alpha2\n"
				"kind: TLSRoute\n"
				"metadata: {name: r}\n"
				"spec:\n"
				"  parentRefs: [&gw {name: edge, namespace: infra}, *gw]\n"
				"  rules:\n"
				"  - backendRefs: &refs [{name: a, port: 1}]\n"
				"  - backendRefs: *refs\n"), 0);
	assert_no_diags();
	assert_int_equal(M.nroutes, 1);
	assert_int_equal(M.routes[0].nparents, 2);
	assert_string_equal(M.routes[0].parents[1].name, "edge");
	assert_string_equal(M.routes[0].parents[1].ns, "infra");
	assert_int_equal(M.routes[0].nrules, 2);
	assert_string_equal(M.routes[0].rules[1].refs[0].name, "a");
	model_free(&M);

	/* An alias to a node that holds it: a cycle, walked once. */
	assert_int_equal(decode("apiVersion: v1\n"
				"kind: Service\n"
				"metadata: {name: s}\n"
				"spec: &a {ports: [*a]}\n"), 0);
	assert_only_diag(4, "spec.ports[0].port", "port is required",
			 "Service", "default", "s");
}

static void test_empty_inputs(void **state)
{
	(void)state;
	assert_int_equal(decode(""), 0);
	assert_int_equal(decode("\n\n"), 0);
	assert_int_equal(decode("# nothing\n"), 0);
	assert_int_equal(decode("---\n---\n...\n"), 0);
	assert_int_equal(manifest_decode_buf(FILE_NAME, NULL, 0, &M), 0);
	assert_no_diags();
	assert_int_equal(nobjects(&M), 0);
}

static void test_decode_file(void **state)
{
	char path[] = "/tmp/test_manifest.XXXXXX";
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, route_yaml, strlen(route_yaml)),
			 (ssize_t)strlen(route_yaml));
	close(fd);
	assert_int_equal(manifest_decode_file(path, &M), 0);
	assert_no_diags();
	assert_int_equal(M.nroutes, 1);
	assert_string_equal(M.routes[0].meta.where.file, path);
	unlink(path);

	assert_int_equal(manifest_decode_file(path, &M), -1);
	assert_int_equal(M.ndiags, 1);
	assert_string_equal(M.diags[0].file, path);
	assert_int_equal(M.diags[0].line, 0);
	assert_null(M.diags[0].field);
	assert_string_equal(M.diags[0].msg,
			    "cannot read: No such file or directory");
	assert_int_equal(M.nroutes, 1);
}

/* --- errors ----------------------------------------------------------- */

static void test_syntax_error(void **state)
{
	const struct m_diag *g;

	(void)state;
	assert_int_equal(decode("apiVersion: v1\n"
				"kind: Service\n"
				"metadata: {name: fine}\n"
				"---\n"
				"apiVersion: v1\n"
				"kind: Service\n"
				"metadata:\n"
				"  name: x\n"
				" bad: indentation\n"), -1);
	/* The first, valid, document is not kept either. */
	assert_int_equal(nobjects(&M), 0);
	assert_int_equal(M.ndiags, 1);
	g = &M.diags[0];
	assert_string_equal(g->file, FILE_NAME);
	assert_int_equal(g->line, 9);
	assert_null(g->field);
	assert_null(g->kind);
	assert_null(g->name);
	assert_string_equal(g->msg,
			    "YAML syntax error: did not find expected key (while parsing a block mapping at line 5)");
}

static void test_syntax_errors_more(void **state)
{
	(void)state;
	/* An undefined alias, an unclosed flow map, a tab, bad UTF-8. */
	assert_int_equal(decode("a: 1\nb: *nope\n"), -1);
	assert_int_equal(M.diags[0].line, 2);
	/* Found at the end of the input: reported on the file's last line,
	 * not on the one after it. */
	assert_int_equal(decode("a: {b: 1\n\n"), -1);
	assert_int_equal(M.diags[1].line, 2);
	assert_int_equal(decode("a:\n\tb: 1\n"), -1);
	assert_int_equal(M.diags[2].line, 2);
	assert_int_equal(decode("a: 1\nb: \"\xff\xfe\"\n"), -1);
	assert_int_equal(M.diags[3].line, 2);
	assert_int_equal(M.ndiags, 4);
	assert_int_equal(nobjects(&M), 0);
}

static void test_invalid_hostname(void **state)
{
	(void)state;
	assert_int_equal(decode("apiVersion: gateway.networking.k8s.io/v1\n"
				"kind: TLSRoute\n"
				"metadata: {name: r, namespace: t}\n"
				"spec:\n"
				"  hostnames:\n"
				"  - a.example.com\n"
				"  - \"*.example.com\"\n"
				"  - Bad_Host\n"
				"  rules: [{backendRefs: [{name: a, port: 1}]}]\n"),
			 0);
	assert_only_diag(8, "spec.hostnames[2]",
			 "\"Bad_Host\" is not a valid hostname (lower-case RFC 1123, optional leading \"*.\")",
			 "TLSRoute", "t", "r");
}

static void test_invalid_listener(void **state)
{
	(void)state;
	assert_int_equal(decode("apiVersion: gateway.networking.k8s.io/v1\n"
				"kind: Gateway\n"
				"metadata: {name: gw, namespace: infra}\n"
				"spec:\n"
				"  gatewayClassName: snilb\n"
				"  listeners:\n"
				"  - name: ok\n"
				"    port: 443\n"
				"    protocol: TLS\n"
				"  - name: bad\n"
				"    port: 70000\n"
				"    protocol: TLS\n"
				"    hostname: UPPER.example.com\n"
				"    tls:\n"
				"      mode: Foo\n"
				"    allowedRoutes:\n"
				"      namespaces:\n"
				"        from: Elsewhere\n"), 0);
	assert_int_equal(M.ngateways, 0);
	assert_int_equal(M.ndiags, 4);
	assert_diag(11, "spec.listeners[1].port",
		    "port 70000 is out of range 1..65535");
	assert_diag(13, "spec.listeners[1].hostname",
		    "\"UPPER.example.com\" is not a valid hostname (lower-case RFC 1123, optional leading \"*.\")");
	assert_diag(15, "spec.listeners[1].tls.mode",
		    "\"Foo\" is not a TLS mode (Passthrough, Terminate)");
	assert_diag(18, "spec.listeners[1].allowedRoutes.namespaces.from",
		    "\"Elsewhere\" is not a namespace source (Same, All, Selector)");
	assert_string_equal(M.diags[0].kind, "Gateway");
	assert_string_equal(M.diags[0].ns, "infra");
	assert_string_equal(M.diags[0].name, "gw");
}

static void test_port_range(void **state)
{
	(void)state;
	assert_int_equal(decode("apiVersion: gateway.networking.k8s.io/v1\n"
				"kind: Gateway\n"
				"metadata: {name: gw}\n"
				"spec:\n"
				"  gatewayClassName: c\n"
				"  listeners: [{name: l, port: 0, protocol: TLS}]\n"),
			 0);
	assert_only_diag(6, "spec.listeners[0].port",
			 "port 0 is out of range 1..65535", "Gateway",
			 "default", "gw");
}

static void test_weight_range(void **state)
{
	(void)state;
	assert_int_equal(decode("apiVersion: gateway.networking.k8s.io/v1alpha2\n"
				"kind: TLSRoute\n"
				"metadata: {name: r}\n"
				"spec:\n"
				"  rules:\n"
				"  - backendRefs: [{name: a, port: 1}]\n"
				"  - backendRefs:\n"
				"    - {name: b, port: 1, weight: -1}\n"
				"    - name: c\n"
				"      port: 1\n"
				"      weight: 1000001\n"), 0);
	assert_int_equal(M.nroutes, 0);
	assert_int_equal(M.ndiags, 2);
	assert_diag(8, "spec.rules[1].backendRefs[0].weight",
		    "weight -1 is out of range 0..1000000");
	assert_diag(11, "spec.rules[1].backendRefs[1].weight",
		    "weight 1000001 is out of range 0..1000000");
}

static void test_bad_api_version(void **state)
{
	(void)state;
	assert_int_equal(decode("apiVersion: gateway.networking.k8s.io/v1alpha2\n"
				"kind: Gateway\n"
				"metadata: {name: gw}\n"
				"spec:\n"
				"  gatewayClassName: c\n"
				"  listeners: [{name: l, port: 1, protocol: TLS}]\n"),
			 0);
	assert_only_diag(1, "apiVersion",
			 "\"gateway.networking.k8s.io/v1alpha2\" is not an apiVersion of Gateway (gateway.networking.k8s.io/v1, gateway.networking.k8s.io/v1beta1)",
			 "Gateway", "default", "gw");
	model_free(&M);
	assert_int_equal(decode("kind: Service\n"
				"metadata: {name: s}\n"), 0);
	assert_only_diag(1, "apiVersion", "apiVersion is required",
			 "Service", "default", "s");
	model_free(&M);
	assert_int_equal(decode("apiVersion: [gateway.networking.k8s.io/v1]\n"
				"kind: TLSRoute\n"
				"metadata: {name: r}\n"), 0);
	assert_only_diag(1, "apiVersion", "expected a string, found a list",
			 "TLSRoute", "default", "r");
}

static void test_missing_name(void **state)
{
	(void)state;
	assert_int_equal(decode("apiVersion: v1\n"
				"kind: Service\n"
				"metadata:\n"
				"  namespace: team-a\n"), 0);
	assert_only_diag(4, "metadata.name", "name is required", "Service",
			 "team-a", NULL);
	model_free(&M);
	assert_int_equal(decode("apiVersion: v1\n"
				"kind: Pod\n"), 0);
	assert_only_diag(2, "metadata.name", "name is required", "Pod",
			 "default", NULL);
	model_free(&M);
	assert_int_equal(decode("apiVersion: v1\n"
				"kind: Service\n"
				"metadata: {name: Web_1}\n"), 0);
	assert_only_diag(3, "metadata.name",
			 "\"Web_1\" is not a valid name (lower-case RFC 1123 subdomain: a-z, 0-9, '-', '.')",
			 "Service", "default", "Web_1");
	model_free(&M);
	assert_int_equal(decode("apiVersion: gateway.networking.k8s.io/v1\n"
				"kind: TLSRoute\n"
				"metadata: {name: r}\n"
				"spec:\n"
				"  parentRefs:\n"
				"  - namespace: infra\n"
				"  hostnames: [a.example.com]\n"
				"  rules: [{backendRefs: [{name: a, port: 1}]}]\n"),
			 0);
	assert_only_diag(6, "spec.parentRefs[0].name", "name is required",
			 "TLSRoute", "default", "r");
}

static void test_bad_ip_address(void **state)
{
	(void)state;
	assert_int_equal(decode("apiVersion: gateway.networking.k8s.io/v1\n"
				"kind: Gateway\n"
				"metadata: {name: gw}\n"
				"spec:\n"
				"  gatewayClassName: c\n"
				"  addresses:\n"
				"  - value: 192.0.2.1\n"
				"  - type: IPAddress\n"
				"    value: 192.0.2.256\n"
				"  listeners: [{name: l, port: 1, protocol: TLS}]\n"),
			 0);
	assert_only_diag(9, "spec.addresses[1].value",
			 "\"192.0.2.256\" is not an IP address", "Gateway",
			 "default", "gw");
}

static void test_wrong_types(void **state)
{
	(void)state;
	assert_int_equal(decode("apiVersion: gateway.networking.k8s.io/v1\n"
				"kind: Gateway\n"
				"metadata: {name: gw}\n"
				"spec:\n"
				"  gatewayClassName: [c]\n"
				"  listeners:\n"
				"  - name: l\n"
				"    port: \"443\"\n"
				"    protocol: TLS\n"
				"    tls: [Passthrough]\n"
				"  - just-a-string\n"), 0);
	assert_int_equal(M.ngateways, 0);
	assert_int_equal(M.ndiags, 4);
	assert_diag(5, "spec.gatewayClassName",
		    "expected a string, found a list");
	assert_diag(8, "spec.listeners[0].port",
		    "expected an integer, found a string");
	assert_diag(10, "spec.listeners[0].tls", "expected a map, found a list");
	assert_diag(11, "spec.listeners[1]", "expected a map, found a string");
	model_free(&M);

	/* A plain number or boolean where a string goes is refused, as the
	 * API server refuses it; so is a float where an integer goes. */
	assert_int_equal(decode("apiVersion: v1\n"
				"kind: Service\n"
				"metadata:\n"
				"  name: s\n"
				"  labels: {version: 1, on: yes}\n"
				"spec:\n"
				"  ports: [{port: 443.0}]\n"), 0);
	assert_int_equal(M.nservices, 0);
	assert_int_equal(M.ndiags, 3);
	assert_diag(5, "metadata.labels.version",
		    "expected a string, found an integer");
	assert_diag(5, "metadata.labels.on",
		    "expected a string, found a boolean");
	assert_diag(7, "spec.ports[0].port",
		    "expected an integer, found a number");
}

static void test_document_not_a_map(void **state)
{
	(void)state;
	assert_int_equal(decode("- a\n- b\n---\njust text\n"), 0);
	assert_int_equal(M.ndiags, 2);
	assert_int_equal(M.diags[0].line, 1);
	assert_null(M.diags[0].field);
	assert_null(M.diags[0].kind);
	assert_string_equal(M.diags[0].msg,
			    "a document must be a map (a Kubernetes object), not a list");
	assert_int_equal(M.diags[1].line, 4);
	assert_string_equal(M.diags[1].msg,
			    "a document must be a map (a Kubernetes object), not a string");
	model_free(&M);
	assert_int_equal(decode("apiVersion: v1\nmetadata: {name: x}\n"), 0);
	assert_only_diag(1, "kind", "kind is required", NULL, NULL, NULL);
}

static void test_other_errors(void **state)
{
	(void)state;
	assert_int_equal(decode("apiVersion: v1\n"			/* 1 */
				"kind: Service\n"
				"metadata:\n"
				"  name: s\n"
				"  creationTimestamp: 2026-02-30T00:00:00Z\n" /* 5 */
				"spec:\n"
				"  ports:\n"
				"  - {port: 1, protocol: tcp}\n"
				"  - {port: 1, targetPort: 70000}\n"
				"  - {port: 1, targetPort: \"0\"}\n"	/* 10 */
				"  - {port: 1, targetPort: Bad_Name}\n"
				"  ports: []\n"), 0);
	assert_int_equal(M.nservices, 0);
	assert_int_equal(M.ndiags, 6);
	assert_diag(5, "metadata.creationTimestamp",
		    "\"2026-02-30T00:00:00Z\" is not an RFC 3339 time (e.g. 2026-01-02T03:04:05Z)");
	assert_diag(8, "spec.ports[0].protocol",
		    "\"tcp\" is not a protocol (TCP, UDP, SCTP)");
	assert_diag(9, "spec.ports[1].targetPort",
		    "targetPort 70000 is out of range 1..65535");
	assert_diag(10, "spec.ports[2].targetPort",
		    "targetPort 0 is out of range 1..65535");
	assert_diag(11, "spec.ports[3].targetPort", NULL);
	assert_diag(12, "spec.ports",
		    "key \"ports\" appears twice in this map");
	model_free(&M);

	assert_int_equal(decode("apiVersion: discovery.k8s.io/v1\n"
				"kind: EndpointSlice\n"
				"metadata: {name: e}\n"
				"addressType: IPv6\n"
				"endpoints:\n"
				"- addresses: [\"fd00::1\", 10.0.0.1]\n"
				"- conditions: {ready: maybe}\n"), 0);
	assert_int_equal(M.nslices, 0);
	assert_int_equal(M.ndiags, 2);
	assert_diag(7, "endpoints[1].addresses", "addresses is required");
	assert_diag(7, "endpoints[1].conditions.ready",
		    "expected a boolean, found a string");
	model_free(&M);
	assert_int_equal(decode("apiVersion: discovery.k8s.io/v1\n"
				"kind: EndpointSlice\n"
				"metadata: {name: e}\n"
				"addressType: IPv6\n"
				"endpoints:\n"
				"- addresses:\n"
				"  - \"fd00::1\"\n"
				"  - 10.0.0.1\n"), 0);
	assert_only_diag(8, "endpoints[0].addresses[1]",
			 "\"10.0.0.1\" is not an IPv6 address",
			 "EndpointSlice", "default", "e");
	model_free(&M);

	assert_int_equal(decode("apiVersion: gateway.networking.k8s.io/v1\n"
				"kind: Gateway\n"
				"metadata: {name: gw}\n"
				"spec:\n"
				"  gatewayClassName: c\n"
				"  listeners:\n"
				"  - name: l\n"
				"    port: 1\n"
				"    protocol: TLS\n"
				"    allowedRoutes:\n"
				"      namespaces:\n"
				"        from: Selector\n"
				"        selector:\n"
				"          matchExpressions:\n"
				"          - {key: a, operator: In}\n"
				"          - {key: b, operator: Exists, values: [x]}\n"
				"          - {key: c, operator: Like}\n"), 0);
	assert_int_equal(M.ngateways, 0);
	assert_int_equal(M.ndiags, 3);
	assert_diag(15,
		    "spec.listeners[0].allowedRoutes.namespaces.selector.matchExpressions[0].values",
		    "In needs at least one value");
	assert_diag(16,
		    "spec.listeners[0].allowedRoutes.namespaces.selector.matchExpressions[1].values",
		    "Exists takes no values");
	assert_diag(17,
		    "spec.listeners[0].allowedRoutes.namespaces.selector.matchExpressions[2].operator",
		    "\"Like\" is not a selector operator (In, NotIn, Exists, DoesNotExist)");
}

static void test_merge_key_refused(void **state)
{
	(void)state;
	assert_int_equal(decode("apiVersion: v1\n"
				"kind: Service\n"
				"metadata: {name: s}\n"
				"spec:\n"
				"  ports:\n"
				"  - &p {port: 1}\n"
				"  - <<: *p\n"
				"    name: b\n"), 0);
	/* Not merged: the port is missing too. */
	assert_int_equal(M.nservices, 0);
	assert_int_equal(M.ndiags, 2);
	assert_diag(7, "spec.ports[1].<<", "merge keys (<<) are not supported");
	assert_diag(7, "spec.ports[1].port", "port is required");
}

static void test_invalid_does_not_block_valid(void **state)
{
	(void)state;
	assert_int_equal(decode("apiVersion: v1\n"
				"kind: Service\n"
				"metadata: {name: good1}\n"
				"---\n"
				"apiVersion: v1\n"
				"kind: Service\n"
				"metadata: {name: bad}\n"
				"spec: {ports: [{port: 99999}]}\n"
				"---\n"
				"apiVersion: v1\n"
				"kind: List\n"
				"items:\n"
				"- apiVersion: v1\n"
				"  kind: Service\n"
				"  metadata: {name: bad2, namespace: x}\n"
				"  spec: {ports: [{port: -1}]}\n"
				"- 42\n"
				"- apiVersion: v1\n"
				"  kind: Service\n"
				"  metadata: {name: good2}\n"
				"---\n"
				"apiVersion: v1\n"
				"kind: Service\n"
				"metadata: {name: good3}\n"), 0);
	assert_int_equal(M.nservices, 3);
	assert_string_equal(M.services[0].meta.name, "good1");
	assert_string_equal(M.services[1].meta.name, "good2");
	assert_string_equal(M.services[2].meta.name, "good3");
	assert_int_equal(M.ndiags, 3);
	assert_diag(8, "spec.ports[0].port",
		    "port 99999 is out of range 1..65535");
	assert_string_equal(M.diags[0].name, "bad");
	assert_diag(16, "spec.ports[0].port",
		    "port -1 is out of range 1..65535");
	assert_string_equal(M.diags[1].name, "bad2");
	assert_string_equal(M.diags[1].ns, "x");
	assert_diag(17, "items[1]", "expected a map, found an integer");
	assert_string_equal(M.diags[2].kind, "List");
}

/* --- helpers ---------------------------------------------------------- */

static void test_hostname_valid(void **state)
{
	static const struct {
		const char *h;
		int plain, wild;
	} t[] = {
		{ "example.com", 1, 1 },
		{ "a", 1, 1 },
		{ "a-b.c0", 1, 1 },
		{ "*.example.com", 0, 1 },
		{ "*.com", 0, 1 },
		{ "*", 0, 0 },
		{ "*example.com", 0, 0 },
		{ "a.*.com", 0, 0 },
		{ "Example.com", 0, 0 },
		{ "example.com.", 0, 0 },
		{ ".example.com", 0, 0 },
		{ "a..b", 0, 0 },
		{ "-a.com", 0, 0 },
		{ "a-.com", 0, 0 },
		{ "a_b.com", 0, 0 },
		{ "192.0.2.1", 0, 0 },
		{ "2001:db8::1", 0, 0 },
		{ "1.2.3", 1, 1 },
		{ "", 0, 0 },
	};
	char label64[65], long254[300];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (valid_hostname(t[i].h, 0) != t[i].plain ||
		    valid_hostname(t[i].h, 1) != t[i].wild)
			fail_msg("%s: want %d/%d", t[i].h, t[i].plain,
				 t[i].wild);
	}
	memset(label64, 'a', 64);
	label64[64] = 0;
	assert_int_equal(valid_hostname(label64, 0), 0);
	label64[63] = 0;
	assert_int_equal(valid_hostname(label64, 0), 1);
	/* Four 63-character labels and three dots: 255 > 253. */
	snprintf(long254, sizeof(long254), "%s.%s.%s.%s", label64, label64,
		 label64, label64);
	assert_int_equal(valid_hostname(long254, 0), 0);
	long254[253] = 0;	/* ends in a full label of 61 */
	assert_int_equal(valid_hostname(long254, 0), 1);
}

static const char two_services[] =
	"apiVersion: v1\nkind: Service\nmetadata: {name: a, namespace: x}\n"
	"spec: {ports: [{port: 1, name: p}]}\n"
	"---\n"
	"apiVersion: v1\nkind: Service\nmetadata: {name: b, namespace: x}\n"
	"---\n"
	"apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n";

/*
 * metadata.name of most kinds is a "DNS-1123 subdomain" to the API
 * server: up to 253 characters, dot-separated parts of any length; a
 * Namespace's is a label (up to 63).
 */
static void test_object_names(void **state)
{
	char name[300], yaml[1024];

	(void)state;
	memset(name, 'g', 253);
	name[253] = 0;
	name[100] = '.';
	assert_int_equal(valid_object_name(name), 1);
	assert_int_equal(valid_dns_subdomain(name), 0);
	snprintf(yaml, sizeof(yaml),
		 "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\n"
		 "metadata: {name: %s}\n"
		 "spec:\n  gatewayClassName: snilb\n"
		 "  listeners: [{name: %.200s, port: 443, protocol: TLS}]\n",
		 name, name);
	assert_int_equal(decode(yaml), 0);
	assert_no_diags();
	assert_int_equal(M.ngateways, 1);
	assert_string_equal(M.gateways[0].meta.name, name);
	assert_int_equal(strlen(M.gateways[0].listeners[0].name), 200);
	assert_memory_equal(M.gateways[0].listeners[0].name, name, 200);
	model_free(&M);

	name[253] = 'g';
	name[254] = 0;
	assert_int_equal(valid_object_name(name), 0);
	assert_int_equal(valid_object_name("a..b"), 0);
	assert_int_equal(valid_object_name("-a"), 0);
	assert_int_equal(valid_object_name("A"), 0);
	name[64] = 0;
	snprintf(yaml, sizeof(yaml),
		 "apiVersion: v1\nkind: Namespace\nmetadata: {name: %s}\n",
		 name);
	assert_int_equal(decode(yaml), 0);
	assert_only_diag(3, "metadata.name", NULL, "Namespace", NULL, name);
}

static void test_move_object(void **state)
{
	struct model dst = { 0 };

	(void)state;
	assert_int_equal(decode(two_services), 0);
	assert_int_equal(M.nservices, 2);
	assert_int_equal(model_move_object(&dst, &M, "Service", "x", "a"), 0);
	assert_int_equal(M.nservices, 1);
	assert_string_equal(M.services[0].meta.name, "b");
	assert_int_equal(dst.nservices, 1);
	assert_string_equal(dst.services[0].meta.name, "a");
	assert_string_equal(dst.services[0].ports[0].name, "p");
	assert_int_equal(model_move_object(&dst, &M, "Service", "x", "a"),
			 -ENOENT);
	assert_int_equal(model_move_object(&dst, &M, "Service", NULL, "b"),
			 -ENOENT);
	assert_int_equal(model_move_object(&dst, &M, "Service", "y", "b"),
			 -ENOENT);
	assert_int_equal(model_move_object(&dst, &M, "Nope", "x", "b"),
			 -ENOENT);
	assert_int_equal(model_move_object(&dst, &M, "Namespace", "x", "x"),
			 -ENOENT);
	assert_int_equal(model_move_object(&dst, &M, "Namespace", NULL, "x"),
			 0);
	assert_int_equal(model_move_object(&dst, &M, "Service", "x", "b"), 0);
	assert_int_equal(M.nservices, 0);
	assert_null(M.services);
	assert_int_equal(dst.nservices, 2);
	assert_int_equal(dst.nnamespaces, 1);
	assert_int_equal(nobjects(&M), 0);
	model_free(&dst);
	assert_int_equal(dst.nservices, 0);
	assert_null(dst.services);
}

static void test_concat_shallow(void **state)
{
	struct model a = { 0 }, b = { 0 }, all = { 0 };

	(void)state;
	assert_int_equal(manifest_decode_buf("a.yaml", two_services,
					     strlen(two_services), &a), 0);
	assert_int_equal(manifest_decode_buf("b.yaml", route_yaml,
					     strlen(route_yaml), &b), 0);
	assert_int_equal(manifest_decode_buf("b.yaml", "x: [", 4, &b), -1);
	assert_int_equal(model_concat_shallow(&all, &a), 0);
	assert_int_equal(model_concat_shallow(&all, &b), 0);
	assert_int_equal(all.nservices, 2);
	assert_int_equal(all.nnamespaces, 1);
	assert_int_equal(all.nroutes, 1);
	assert_int_equal(all.ndiags, 1);
	/* Shallow: the very same strings. */
	assert_ptr_equal(all.services[1].meta.name, a.services[1].meta.name);
	assert_ptr_equal(all.routes[0].rules, b.routes[0].rules);
	assert_ptr_equal(all.diags[0].msg, b.diags[0].msg);
	model_free_shallow(&all);
	assert_int_equal(all.nservices, 0);
	assert_null(all.services);
	/* The sources still own everything. */
	assert_string_equal(a.services[1].meta.name, "b");
	model_free(&a);
	model_free(&b);
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
		cmocka_unit_test_teardown(test_service, teardown),
		cmocka_unit_test_teardown(test_service_proxy, teardown),
		cmocka_unit_test_teardown(test_endpointslice, teardown),
		cmocka_unit_test_teardown(test_pod, teardown),
		cmocka_unit_test_teardown(test_refgrant, teardown),
		cmocka_unit_test_teardown(test_multi_document_and_list,
					  teardown),
		cmocka_unit_test_teardown(test_anchors_and_aliases, teardown),
		cmocka_unit_test_teardown(test_empty_inputs, teardown),
		cmocka_unit_test_teardown(test_decode_file, teardown),
		cmocka_unit_test_teardown(test_syntax_error, teardown),
		cmocka_unit_test_teardown(test_syntax_errors_more, teardown),
		cmocka_unit_test_teardown(test_invalid_hostname, teardown),
		cmocka_unit_test_teardown(test_invalid_listener, teardown),
		cmocka_unit_test_teardown(test_port_range, teardown),
		cmocka_unit_test_teardown(test_weight_range, teardown),
		cmocka_unit_test_teardown(test_bad_api_version, teardown),
		cmocka_unit_test_teardown(test_missing_name, teardown),
		cmocka_unit_test_teardown(test_bad_ip_address, teardown),
		cmocka_unit_test_teardown(test_wrong_types, teardown),
		cmocka_unit_test_teardown(test_document_not_a_map, teardown),
		cmocka_unit_test_teardown(test_other_errors, teardown),
		cmocka_unit_test_teardown(test_merge_key_refused, teardown),
		cmocka_unit_test_teardown(test_invalid_does_not_block_valid,
					  teardown),
		cmocka_unit_test(test_hostname_valid),
		cmocka_unit_test_teardown(test_object_names, teardown),
		cmocka_unit_test_teardown(test_move_object, teardown),
		cmocka_unit_test(test_concat_shallow),
	};

	return cmocka_run_group_tests_name("manifest", tests, NULL, NULL);
}

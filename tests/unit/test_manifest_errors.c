// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Unit tests of the manifest decoder (user/model/decode*.c): each class of
 * error with its exact file, line and field, and an invalid object that
 * does not block the valid ones beside it. Run under ASan/UBSan.
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

int main(void)
{
	const struct CMUnitTest tests[] = {
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
	};

	return cmocka_run_group_tests_name("manifest errors", tests, NULL, NULL);
}

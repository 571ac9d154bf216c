// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Unit tests of the manifest decoder (user/model/decode*.c), the core kinds
 * (Service and its PROXY annotation, EndpointSlice, Pod, ReferenceGrant),
 * multi-document streams and lists, and the model helpers (names, moves,
 * copies). Run under ASan/UBSan.
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
		cmocka_unit_test(test_hostname_valid),
		cmocka_unit_test_teardown(test_object_names, teardown),
		cmocka_unit_test_teardown(test_move_object, teardown),
		cmocka_unit_test(test_concat_shallow),
	};

	return cmocka_run_group_tests_name("manifest core", tests, NULL, NULL);
}

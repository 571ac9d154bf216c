// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Gateway API semantics (user/gwapi/), driven by manifests as a user
 * writes them: Gateways and their listeners (validity, conflicts of
 * protocol and TLS mode on a port, addresses, parametersRef, names). The
 * routes: test_gwapi.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gwapi_check.h"

static void test_listener_validity(void **state)
{
	struct world w;
	const struct gw_gateway_status *g;

	(void)state;
	load(&w, CLASS
	     GW_HEAD
	     "  addresses: [{value: 198.18.0.1}]\n"
	     "  listeners:\n"
	     "  - {name: https, port: 443, protocol: HTTPS}\n"
	     "  - {name: term, port: 8443, protocol: TLS, "
	     "tls: {mode: Terminate}}\n"
	     "  - {name: a, port: 9443, protocol: TLS, hostname: x.example.com}\n"
	     "  - {name: b, port: 9443, protocol: TLS, hostname: x.example.com}\n"
	     "  - {name: kinds, port: 7443, protocol: TLS, allowedRoutes: "
	     "{namespaces: {from: All}, kinds: [{kind: HTTPRoute}]}}\n"
	     "---\n"
	     SERVICE("infra", "svc", "198.18.2.11")
	     ROUTE("infra", "r", "", "{name: svc, port: 443}"));
	g = &w.out.gateways[0];
	assert_string_equal(g->listeners[0].conds[0].reason,
			    "UnsupportedProtocol");
	/* Terminate is a value snilb does not support, of a protocol it
	 * does (tlsroute-listener-terminate-not-supported). */
	assert_int_equal(g->listeners[1].conds[0].status, 0);
	assert_string_equal(g->listeners[1].conds[0].reason,
			    "UnsupportedValue");
	/* Conflicted listeners: neither is accepted nor programmed, the
	 * conflict the reason of each (listenerset-hostname-conflict). */
	assert_string_equal(g->listeners[2].conds[2].reason,
			    "HostnameConflict");
	assert_int_equal(g->listeners[2].conds[2].status, 1);
	assert_int_equal(g->listeners[3].conds[2].status, 1);
	assert_int_equal(g->listeners[2].conds[0].status, 0);
	assert_string_equal(g->listeners[2].conds[0].reason,
			    "HostnameConflict");
	assert_string_equal(g->listeners[3].conds[3].reason,
			    "HostnameConflict");
	assert_string_equal(g->listeners[4].conds[1].reason,
			    "InvalidRouteKinds");
	/* supportedKinds: none for an invalid listener, none when its
	 * allowedRoutes.kinds name no TLSRoute (gateway-invalid-route-kind);
	 * only a usable listener is programmed. */
	assert_int_equal(g->listeners[0].tlsroute_ok, 0);
	assert_int_equal(g->listeners[1].tlsroute_ok, 0);
	assert_int_equal(g->listeners[4].tlsroute_ok, 0);
	assert_int_equal(g->listeners[0].conds[3].status, 0);
	assert_int_equal(g->listeners[2].conds[3].status, 0);
	assert_int_equal(g->listeners[4].conds[3].status, 1);
	assert_string_equal(accepted(&w, "r")->reason, "NotAllowedByListeners");
	assert_int_equal(w.out.nentries, 0);
	/* One listener is valid: the Gateway is accepted, and says that
	 * the others are not (gateway-invalid-listeners-unsupported-protocol). */
	assert_int_equal(g->conds[0].status, 1);
	assert_string_equal(g->conds[0].reason, "ListenersNotValid");
	assert_non_null(strstr(g->conds[0].msg, "\"https\""));
	assert_int_equal(g->conds[1].status, 1);
	unload(&w);

	/* None is: not accepted, not programmed, nothing to listen on. */
	load(&w, CLASS
	     GW_HEAD
	     "  addresses: [{value: 198.18.0.1}]\n"
	     "  listeners: [{name: invalid, port: 1111, protocol: INVALID}]\n"
	     "---\n");
	g = &w.out.gateways[0];
	assert_int_equal(g->conds[0].status, 0);
	assert_string_equal(g->conds[0].reason, "ListenersNotValid");
	assert_int_equal(g->conds[1].status, 0);
	assert_string_equal(g->conds[1].reason, "Invalid");
	assert_int_equal(w.out.nvips, 0);
	unload(&w);
}

/* Listeners on one port must share protocol and TLS mode
 * (tlsroute-listener-mixed-termination-not-supported). */
static void test_listener_conflicts(void **state)
{
	static const char *const conflicted[] = { "term", "pass", "tls",
						  "https" };
	const struct gw_gateway_status *g;
	struct world w;
	size_t i;

	(void)state;
	load(&w, CLASS
	     GW_HEAD
	     "  addresses: [{value: 198.18.0.1}]\n"
	     "  listeners:\n"
	     "  - {name: term, port: 8443, protocol: TLS, hostname: "
	     "t.example.com, tls: {mode: Terminate}}\n"
	     "  - {name: pass, port: 8443, protocol: TLS, hostname: "
	     "p.example.com, tls: {mode: Passthrough}, allowedRoutes: "
	     "{namespaces: {from: All}}}\n"
	     "  - {name: tls, port: 9443, protocol: TLS, hostname: "
	     "p.example.com, allowedRoutes: {namespaces: {from: All}}}\n"
	     "  - {name: https, port: 9443, protocol: HTTPS, hostname: "
	     "h.example.com}\n"
	     "  - {name: ok, port: 443, protocol: TLS, tls: {mode: "
	     "Passthrough}, allowedRoutes: {namespaces: {from: All}}}\n"
	     "---\n"
	     SERVICE("app", "svc", "198.18.2.11")
	     "apiVersion: gateway.networking.k8s.io/v1alpha2\n"
	     "kind: TLSRoute\nmetadata: {name: r, namespace: app}\n"
	     "spec:\n  parentRefs: [{name: gw, namespace: infra, port: 8443}]\n"
	     "  hostnames: [p.example.com]\n"
	     "  rules: [{backendRefs: [{name: svc, port: 443}]}]\n---\n"
	     ROUTE("app", "r2", "  hostnames: [p.example.com]\n",
		   "{name: svc, port: 443}"));
	g = &w.out.gateways[0];
	for (i = 0; i < 4; i++) {
		const struct gw_listener_status *l = &g->listeners[i];

		assert_string_equal(l->name, conflicted[i]);
		assert_int_equal(l->conds[0].status, 0);
		assert_string_equal(l->conds[0].reason, "ProtocolConflict");
		assert_int_equal(l->conds[2].status, 1);
		assert_string_equal(l->conds[2].reason, "ProtocolConflict");
		assert_int_equal(l->conds[3].status, 0);
		assert_string_equal(l->conds[3].reason, "ProtocolConflict");
		assert_int_equal(l->tlsroute_ok, 0);
		assert_int_equal(l->attached, 0);
	}
	assert_int_equal(g->listeners[4].conds[0].status, 1);
	assert_int_equal(g->listeners[4].conds[2].status, 0);
	assert_string_equal(accepted(&w, "r")->reason, "NotAllowedByListeners");
	/* The distinct listener still serves. */
	assert_true(programmed(&w, "p.example.com", "r2"));
	unload(&w);
}

/* An address type snilb cannot serve: not accepted, so not programmed
 * either (gateway-static-addresses). */
static void test_unsupported_address(void **state)
{
	const struct gw_gateway_status *g;
	struct world w;

	(void)state;
	load(&w, CLASS
	     GW_HEAD
	     "  addresses: [{type: test/fake-invalid-type, value: 'fake!'}, "
	     "{value: 198.18.0.1}]\n"
	     "  listeners: [{name: tls, port: 443, protocol: TLS}]\n---\n");
	g = &w.out.gateways[0];
	assert_int_equal(g->conds[0].status, 0);
	assert_string_equal(g->conds[0].reason, "UnsupportedAddress");
	assert_int_equal(g->conds[1].status, 0);
	assert_int_equal(g->listeners[0].conds[3].status, 0);
	assert_int_equal(w.out.nvips, 0);
	unload(&w);
}

/* snilb takes no parameters: a Gateway naming some is not accepted
 * (gateway-invalid-parameters-ref). */
/* An address that cannot be a VIP: accepted, not programmed, nothing
 * served, and no status.addresses (gateway-static-addresses). */
static void test_unusable_address(void **state)
{
	static const char *const bad[] = { "0.0.0.0", "224.0.0.1",
		"239.255.255.250", "255.255.255.255", "127.0.0.1",
		"127.1.2.3", "'::'", "'::1'", "'ff02::1'",
		"'::ffff:198.18.0.2'" };
	const struct gw_gateway_status *g;
	char yaml[2048];
	struct world w;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(yaml, sizeof(yaml), "%s"
			 GW_HEAD
			 "  addresses: [{value: %s}, {value: 198.18.0.1}]\n"
			 "  listeners: [{name: tls, port: 443, protocol: TLS}]\n"
			 "---\n", CLASS, bad[i]);
		load(&w, yaml);
		g = &w.out.gateways[0];
		if (!g->conds[0].status || g->conds[1].status ||
		    strcmp(g->conds[1].reason, "AddressNotUsable"))
			fail_msg("%s: Accepted %d %s, Programmed %d %s", bad[i],
				 g->conds[0].status, g->conds[0].reason,
				 g->conds[1].status, g->conds[1].reason);
		assert_int_equal(g->listeners[0].conds[3].status, 0);
		assert_int_equal(g->naddresses, 0);
		assert_int_equal(w.out.nvips, 0);
		unload(&w);
	}
	/* The usable one alone is served and listed. */
	load(&w, CLASS GATEWAY("", "All"));
	g = &w.out.gateways[0];
	assert_int_equal(g->conds[1].status, 1);
	assert_int_equal(g->naddresses, 2);
	assert_string_equal(g->addresses[0], "198.18.0.1");
	assert_string_equal(g->addresses[1], "2001:db8::1");
	unload(&w);
}

static void test_invalid_parameters(void **state)
{
	const struct gw_gateway_status *g;
	struct world w;

	(void)state;
	load(&w, CLASS
	     GW_HEAD
	     "  addresses: [{value: 198.18.0.1}]\n"
	     "  listeners: [{name: tls, port: 443, protocol: TLS}]\n"
	     "  infrastructure:\n    parametersRef:\n"
	     "      {group: invalid.io, kind: InvalidParameters, name: invalid}\n"
	     "---\n");
	g = &w.out.gateways[0];
	assert_int_equal(g->conds[0].status, 0);
	assert_string_equal(g->conds[0].reason, "InvalidParameters");
	assert_int_equal(g->conds[1].status, 0);
	assert_int_equal(w.out.nvips, 0);
	unload(&w);
}

/* Names as long as the API allows reach the status whole: a Gateway's
 * name of 253 characters, a listener's of 253, and the parentRef's
 * ns/name of a route. */
static void test_long_names(void **state)
{
	static char gw[254], sec[254], yaml[4096], want[400];
	const struct gw_route *r;
	struct world w;

	(void)state;
	memset(gw, 'g', 253);
	gw[100] = '.';
	memset(sec, 's', 253);
	sec[70] = '.';
	snprintf(yaml, sizeof(yaml), "%s"
		 "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\n"
		 "metadata: {name: %s, namespace: infra}\n"
		 "spec:\n  gatewayClassName: snilb\n"
		 "  addresses: [{value: 198.18.0.1}]\n"
		 "  listeners: [{name: %s, port: 443, protocol: TLS, "
		 "allowedRoutes: {namespaces: {from: All}}}]\n---\n%s"
		 "apiVersion: gateway.networking.k8s.io/v1\nkind: TLSRoute\n"
		 "metadata: {name: r, namespace: app}\n"
		 "spec:\n  parentRefs: [{name: %s, namespace: infra, "
		 "sectionName: %s}]\n  hostnames: [a.example.com]\n"
		 "  rules: [{backendRefs: [{name: svc, port: 443}]}]\n",
		 CLASS, gw, sec, SERVICE("app", "svc", "198.18.2.11"), gw, sec);
	load(&w, yaml);
	assert_string_equal(w.out.gateways[0].name, gw);
	assert_string_equal(w.out.gateways[0].listeners[0].name, sec);
	r = route(&w, "r");
	snprintf(want, sizeof(want), "infra/%s", gw);
	assert_string_equal(r->parents[0].gateway, want);
	assert_string_equal(r->parents[0].section, sec);
	assert_int_equal(r->parents[0].conds[0].status, 1);
	assert_int_equal(w.out.gateways[0].listeners[0].attached, 1);
	unload(&w);
}

static void test_no_address(void **state)
{
	struct world w;

	(void)state;
	load(&w, CLASS
	     GW_HEAD
	     "  listeners: [{name: tls, port: 443, protocol: TLS}]\n---\n"
	     SERVICE("infra", "svc", "198.18.2.11")
	     ROUTE("infra", "r", "", "{name: svc, port: 443}"));
	assert_string_equal(w.out.gateways[0].conds[1].reason,
			    "AddressNotAssigned");
	assert_int_equal(w.out.nvips, 0);
	assert_int_equal(w.out.nentries, 0);
	unload(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listener_validity),
		cmocka_unit_test(test_listener_conflicts),
		cmocka_unit_test(test_unsupported_address),
		cmocka_unit_test(test_unusable_address),
		cmocka_unit_test(test_invalid_parameters),
		cmocka_unit_test(test_long_names),
		cmocka_unit_test(test_no_address),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

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
	/* From manifests, no LoadBalancer Service: the message says so. */
	assert_non_null(strstr(w.out.gateways[0].conds[1].msg,
			       "Kubernetes API"));
	assert_int_equal(w.out.nlbsvcs, 0);
	assert_int_equal(w.out.nvips, 0);
	assert_int_equal(w.out.nentries, 0);
	unload(&w);
}

/* As the API server's source gives it: LoadBalancer Services made. */
static void load_kube(struct world *w, const char *yaml)
{
	memset(w, 0, sizeof(*w));
	assert_int_equal(manifest_decode_buf("t.yaml", yaml, strlen(yaml),
					     &w->m), 0);
	if (w->m.ndiags)
		fail_msg("decode: %s: %s", w->m.diags[0].field,
			 w->m.diags[0].msg);
	w->m.lb_services = 1;
	assert_int_equal(gw_compute(&w->m, GW_CONTROLLER, 16381, &w->out), 0);
}

/* A Gateway "gw" (uid u-1) without addresses: two listeners on 443, one
 * on 8443, an invalid one on 80. */
#define GW_NOADDR							\
	"apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\n"	\
	"metadata: {name: gw, namespace: infra, uid: u-1}\n"		\
	"spec:\n  gatewayClassName: snilb\n"				\
	"  listeners:\n"						\
	"  - {name: a, port: 443, protocol: TLS, hostname: a.example.com}\n" \
	"  - {name: b, port: 443, protocol: TLS, hostname: b.example.com}\n" \
	"  - {name: c, port: 8443, protocol: TLS}\n"			\
	"  - {name: h, port: 80, protocol: HTTP}\n---\n"

#define LBSVC(labels, status)						\
	"apiVersion: v1\nkind: Service\n"				\
	"metadata: {name: snilb-gw-gw, namespace: infra" labels "}\n"	\
	"spec: {type: LoadBalancer, ports: [{port: 443}]}\n"		\
	status "---\n"

static void test_lb_service_wanted(void **state)
{
	const struct gw_lbsvc *s;
	const struct gw_cond *p;
	struct world w;

	(void)state;
	load_kube(&w, CLASS GW_NOADDR);
	assert_int_equal(w.out.nlbsvcs, 1);
	s = &w.out.lbsvcs[0];
	assert_string_equal(s->ns, "infra");
	assert_string_equal(s->name, "snilb-gw-gw");
	assert_string_equal(s->gateway, "gw");
	assert_string_equal(s->label, "gw");
	assert_string_equal(s->gw_uid, "u-1");
	/* One port per distinct port of a usable listener, ascending. */
	assert_int_equal(s->nports, 2);
	assert_int_equal(s->ports[0], 443);
	assert_int_equal(s->ports[1], 8443);
	assert_int_equal(s->foreign, 0);
	p = &w.out.gateways[0].conds[GW_G_PROGRAMMED];
	assert_int_equal(p->status, 0);
	assert_string_equal(p->reason, "AddressNotAssigned");
	assert_non_null(strstr(p->msg, "infra/snilb-gw-gw"));
	assert_int_equal(w.out.nvips, 0);
	assert_int_equal(w.out.nlbstale, 0);
	unload(&w);

	/* Created, no address yet. */
	load_kube(&w, CLASS GW_NOADDR
		  LBSVC(", labels: {snilb.io/gateway: gw}", ""));
	p = &w.out.gateways[0].conds[GW_G_PROGRAMMED];
	assert_string_equal(p->reason, "AddressNotAssigned");
	assert_non_null(strstr(p->msg, "status.loadBalancer.ingress"));
	assert_int_equal(w.out.nvips, 0);
	unload(&w);
}

static void test_lb_service_address(void **state)
{
	const struct gw_gateway_status *g;
	struct world w;

	(void)state;
	load_kube(&w, CLASS GW_NOADDR
		  LBSVC(", labels: {snilb.io/gateway: gw}",
			"status: {loadBalancer: {ingress: [{ip: 198.18.0.7}, "
			"{ip: '2001:db8::7'}, {hostname: lb.example.com}]}}\n"));
	g = &w.out.gateways[0];
	assert_int_equal(g->conds[GW_G_PROGRAMMED].status, 1);
	assert_int_equal(g->naddresses, 2);
	assert_string_equal(g->addresses[0], "198.18.0.7");
	assert_string_equal(g->addresses[1], "2001:db8::7");
	/* Both addresses on both ports. */
	assert_int_equal(w.out.nvips, 4);
	assert_int_equal(w.out.nlbstale, 0);
	unload(&w);

	/* An address that cannot be a VIP: not programmed, and why. */
	load_kube(&w, CLASS GW_NOADDR
		  LBSVC(", labels: {snilb.io/gateway: gw}",
			"status: {loadBalancer: {ingress: [{ip: 127.0.0.1}]}}\n"));
	g = &w.out.gateways[0];
	assert_string_equal(g->conds[GW_G_PROGRAMMED].reason,
			    "AddressNotUsable");
	assert_int_equal(g->naddresses, 0);
	assert_int_equal(w.out.nvips, 0);
	unload(&w);
}

/* An ingress address that is not an IP: the Service is invalid, and the
 * diagnostic names the field. */
static void test_lb_ingress_decode(void **state)
{
	static const char y[] = "apiVersion: v1\nkind: Service\n"
		"metadata: {name: s, namespace: x, uid: u-2}\n"
		"spec: {type: LoadBalancer}\n"
		"status: {loadBalancer: {ingress: [{ip: 198.18.0.300}]}}\n";
	struct model m = { 0 };

	(void)state;
	assert_int_equal(manifest_decode_buf("t.yaml", y, strlen(y), &m), 0);
	assert_int_equal(m.ndiags, 1);
	assert_string_equal(m.diags[0].field,
			    "status.loadBalancer.ingress[0].ip");
	model_free(&m);
}

/* A Service of that name without snilb's label is never snilb's. */
static void test_lb_service_foreign(void **state)
{
	const struct gw_cond *p;
	struct world w;

	(void)state;
	load_kube(&w, CLASS GW_NOADDR
		  LBSVC("", "status: {loadBalancer: {ingress: "
			"[{ip: 198.18.0.7}]}}\n"));
	assert_int_equal(w.out.nlbsvcs, 1);
	assert_int_equal(w.out.lbsvcs[0].foreign, 1);
	p = &w.out.gateways[0].conds[GW_G_PROGRAMMED];
	assert_string_equal(p->reason, "AddressNotAssigned");
	assert_non_null(strstr(p->msg, "not snilb's"));
	assert_int_equal(w.out.nvips, 0);
	assert_int_equal(w.out.nlbstale, 0);
	unload(&w);
}

/* Services of snilb's label no Gateway wants: deleted; others never. */
static void test_lb_service_stale(void **state)
{
	struct world w;

	(void)state;
	load_kube(&w, CLASS
		  GW_HEAD
		  "  addresses: [{value: 198.18.0.1}]\n"
		  "  listeners: [{name: tls, port: 443, protocol: TLS}]\n---\n"
		  LBSVC(", labels: {snilb.io/gateway: gw}", "")
		  "apiVersion: v1\nkind: Service\n"
		  "metadata: {name: snilb-gw-old, namespace: x, labels: "
		  "{snilb.io/gateway: old}}\n---\n"
		  "apiVersion: v1\nkind: Service\n"
		  "metadata: {name: snilb-gw-other, namespace: x}\n");
	assert_int_equal(w.out.nlbsvcs, 0);
	assert_int_equal(w.out.nlbstale, 2);
	assert_string_equal(w.out.lbstale[0].ns, "infra");
	assert_string_equal(w.out.lbstale[0].name, "snilb-gw-gw");
	assert_string_equal(w.out.lbstale[1].ns, "x");
	assert_string_equal(w.out.lbstale[1].name, "snilb-gw-old");
	assert_int_equal(w.out.gateways[0].conds[GW_G_PROGRAMMED].status, 1);
	unload(&w);
}

/* A valid DNS-1035 label: a-z first, a-z0-9 last, at most 63. */
static int dns1035(const char *s)
{
	size_t n = strlen(s), i;

	if (!n || n > 63 || s[0] < 'a' || s[0] > 'z' || s[n - 1] == '-')
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return 0;
	return 1;
}

static void test_lb_service_names(void **state)
{
	char name[64], label[64], other[64], long_gw[254];

	(void)state;
	gw_lb_name("edge", name, label);
	assert_string_equal(name, "snilb-gw-edge");
	assert_string_equal(label, "edge");
	/* Dots are not in a DNS-1035 label: replaced, and hashed so that
	 * "a.b" and "a-b" differ. */
	gw_lb_name("a.b", name, label);
	gw_lb_name("a-b", other, label);
	assert_true(dns1035(name));
	assert_string_not_equal(name, other);
	assert_int_equal(strncmp(name, "snilb-gw-a-b-", 13), 0);
	/* 253 characters: cut to 63, hashed; the label value too. */
	memset(long_gw, 'x', 253);
	long_gw[253] = 0;
	long_gw[50] = '-';
	gw_lb_name(long_gw, name, label);
	assert_int_equal(strlen(name), 63);
	assert_true(dns1035(name));
	assert_int_equal(strlen(label), 63);
	long_gw[100] = 'y';
	gw_lb_name(long_gw, other, label);
	assert_string_not_equal(name, other);
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
		cmocka_unit_test(test_lb_service_wanted),
		cmocka_unit_test(test_lb_service_address),
		cmocka_unit_test(test_lb_ingress_decode),
		cmocka_unit_test(test_lb_service_foreign),
		cmocka_unit_test(test_lb_service_stale),
		cmocka_unit_test(test_lb_service_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

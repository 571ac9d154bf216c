// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Gateway API semantics (user/gwapi/), driven by manifests as a user
 * writes them: routes and their backends. The cases follow the
 * specification's TLSRoute rules and the conformance suite's TLSRoute tests
 * (hostname intersection, invalid references, ReferenceGrant,
 * allowedRoutes, weights, Pods by selector). Gateways and listeners:
 * test_gwapi_listeners.c.
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

/* --- hostname intersection (spec: ListenerHostname/Route hostnames) --- */

static void test_intersect(void **state)
{
	static const struct { const char *l, *r, *want; } c[] = {
		{ NULL, NULL, "*" },
		{ NULL, "foo.example.com", "foo.example.com" },
		{ "*.example.com", NULL, "*.example.com" },
		{ "foo.example.com", "foo.example.com", "foo.example.com" },
		{ "foo.example.com", "bar.example.com", NULL },
		{ "*.example.com", "foo.example.com", "foo.example.com" },
		{ "*.example.com", "a.b.example.com", "a.b.example.com" },
		{ "*.example.com", "example.com", NULL },
		{ "foo.example.com", "*.example.com", "foo.example.com" },
		{ "example.com", "*.example.com", NULL },
		{ "*.example.com", "*.foo.example.com", "*.foo.example.com" },
		{ "*.foo.example.com", "*.example.com", "*.foo.example.com" },
		{ "*.example.com", "*.example.com", "*.example.com" },
		{ "*.example.com", "*.example.org", NULL },
		{ "*.example.com", "*.com", "*.example.com" },
		{ "*.xample.com", "foo.example.com", NULL },
	};
	char out[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		int r = gw_intersect(c[i].l, c[i].r, out, sizeof(out));

		if (!c[i].want) {
			if (r)
				fail_msg("%s x %s: got %s, want none", c[i].l,
					 c[i].r, out);
			continue;
		}
		if (!r || strcmp(out, c[i].want))
			fail_msg("%s x %s: got %s, want %s", c[i].l, c[i].r,
				 r ? out : "none", c[i].want);
	}
}

static void test_basic(void **state)
{
	struct world w;

	(void)state;
	load(&w, CLASS GATEWAY("", "All") SERVICE("app", "svc", "198.18.2.11")
	     ROUTE("app", "r", "  hostnames: [a.example.com]\n",
		   "{name: svc, port: 443}"));
	assert_int_equal(w.out.nvips, 2);
	assert_string_equal(w.out.vips[1].addr, "2001:db8::1");
	assert_int_equal(w.out.nentries, 2);	/* one per VIP */
	assert_true(programmed(&w, "a.example.com", "r"));
	assert_int_equal(accepted(&w, "r")->status, 1);
	assert_int_equal(resolved(&w, "r")->status, 1);
	assert_int_equal(w.out.sets[0].neps, 1);
	assert_int_equal(w.out.sets[0].eps[0].port, 8443);
	assert_int_equal(w.out.gateways[0].listeners[0].attached, 1);
	assert_int_equal(w.out.gateways[0].listeners[0].tlsroute_ok, 1);
	assert_int_equal(w.out.gateways[0].listeners[0].nconds, 4);
	assert_string_equal(w.out.gateways[0].listeners[0].conds[3].type,
			    "Programmed");
	assert_int_equal(w.out.gateways[0].listeners[0].conds[3].status, 1);
	assert_int_equal(w.out.gateways[0].conds[0].status, 1);
	assert_int_equal(w.out.nclasses, 1);
	assert_string_equal(w.out.classes[0].name, "snilb");
	assert_string_equal(w.out.classes[0].conds[0].type, "Accepted");
	assert_int_equal(w.out.classes[0].conds[0].status, 1);
	unload(&w);
}

/* No NAT between families: each VIP gets the endpoints of its own. */
static void test_families(void **state)
{
	struct world w;
	size_t i;

	(void)state;
	load(&w, CLASS GATEWAY("", "All") SERVICE("app", "svc", "198.18.2.11")
	     "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
	     "metadata:\n  name: svc-6\n  namespace: app\n"
	     "  labels: {kubernetes.io/service-name: svc}\n"
	     "addressType: IPv6\nports: [{port: 8443}]\n"
	     "endpoints: [{addresses: ['2001:db8:2::11']}]\n---\n"
	     ROUTE("app", "r", "  hostnames: [a.example.com]\n",
		   "{name: svc, port: 443}"));
	assert_int_equal(w.out.nentries, 2);
	for (i = 0; i < 2; i++) {
		const struct gw_entry *e = &w.out.entries[i];
		const struct gw_set *set = &w.out.sets[e->set];

		assert_int_equal(set->neps, 1);
		assert_string_equal(set->eps[0].addr,
				    w.out.vips[e->vip].family == 6 ?
				    "2001:db8:2::11" : "198.18.2.11");
	}
	unload(&w);
}

static void test_other_controller(void **state)
{
	struct world w;

	(void)state;
	load(&w, "apiVersion: gateway.networking.k8s.io/v1\n"
	     "kind: GatewayClass\nmetadata: {name: snilb}\n"
	     "spec: {controllerName: example.com/other}\n---\n"
	     GATEWAY("", "All") SERVICE("app", "svc", "198.18.2.11")
	     ROUTE("app", "r", "", "{name: svc, port: 443}"));
	assert_int_equal(w.out.nclasses, 0);
	assert_int_equal(w.out.ngateways, 0);
	assert_int_equal(w.out.nroutes, 0);	/* no status from us */
	assert_int_equal(w.out.nentries, 0);
	unload(&w);
}

static void test_allowed_routes(void **state)
{
	struct world w;

	(void)state;
	load(&w, CLASS GATEWAY("", "Same") SERVICE("app", "svc", "198.18.2.11")
	     ROUTE("app", "r", "", "{name: svc, port: 443}"));
	assert_int_equal(accepted(&w, "r")->status, 0);
	assert_string_equal(accepted(&w, "r")->reason, "NotAllowedByListeners");
	assert_int_equal(w.out.nentries, 0);
	unload(&w);

	load(&w, CLASS
	     "apiVersion: v1\nkind: Namespace\n"
	     "metadata: {name: app, labels: {tenant: blue}}\n---\n"
	     "apiVersion: v1\nkind: Namespace\n"
	     "metadata: {name: other, labels: {tenant: red}}\n---\n"
	     GW_HEAD
	     "  addresses: [{value: 198.18.0.1}]\n"
	     "  listeners:\n  - name: tls\n    port: 443\n"
	     "    protocol: TLS\n    allowedRoutes:\n      namespaces:\n"
	     "        from: Selector\n"
	     "        selector: {matchLabels: {tenant: blue}}\n---\n"
	     SERVICE("app", "svc", "198.18.2.11")
	     SERVICE("other", "svc", "198.18.2.12")
	     ROUTE("app", "r", "  hostnames: [a.example.com]\n",
		   "{name: svc, port: 443}")
	     ROUTE("other", "r2", "  hostnames: [b.example.com]\n",
		   "{name: svc, port: 443}"));
	assert_int_equal(accepted(&w, "r")->status, 1);
	assert_int_equal(accepted(&w, "r2")->status, 0);
	assert_string_equal(accepted(&w, "r2")->reason,
			    "NotAllowedByListeners");
	assert_true(programmed(&w, "a.example.com", "r"));
	assert_false(programmed(&w, "b.example.com", "r2"));
	unload(&w);
}

/* Selectors on kubernetes.io/metadata.name, the label the API server
 * gives every Namespace: it matches a Namespace of the directory, and a
 * namespace the directory does not define. */
static void test_namespace_name_label(void **state)
{
	static const char *const sel[] = {
		"{matchLabels: {kubernetes.io/metadata.name: app}}",
		"{matchExpressions: [{key: kubernetes.io/metadata.name, "
		"operator: In, values: [app, bare]}]}",
	};
	char yaml[4096];
	struct world w;
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		snprintf(yaml, sizeof(yaml), "%s"
			 "apiVersion: v1\nkind: Namespace\n"
			 "metadata: {name: app}\n---\n"
			 GW_HEAD
			 "  addresses: [{value: 198.18.0.1}]\n"
			 "  listeners:\n  - name: tls\n    port: 443\n"
			 "    protocol: TLS\n    allowedRoutes:\n"
			 "      namespaces: {from: Selector, selector: %s}\n"
			 "---\n%s%s%s%s%s", CLASS, sel[i],
			 SERVICE("app", "svc", "198.18.2.11"),
			 SERVICE("bare", "svc", "198.18.2.12"),
			 ROUTE("app", "r", "  hostnames: [a.example.com]\n",
			       "{name: svc, port: 443}"),
			 ROUTE("bare", "r2", "  hostnames: [b.example.com]\n",
			       "{name: svc, port: 443}"),
			 ROUTE("other", "r3", "  hostnames: [c.example.com]\n",
			       "{name: svc, namespace: app, port: 443}"));
		load(&w, yaml);
		assert_int_equal(accepted(&w, "r")->status, 1);
		assert_int_equal(accepted(&w, "r2")->status, i == 1);
		assert_int_equal(accepted(&w, "r3")->status, 0);
		unload(&w);
	}
}

static void test_hostname_rules(void **state)
{
	struct world w;

	(void)state;
	/* Listener *.example.com: route names meet it or do not. */
	load(&w, CLASS GATEWAY("    hostname: '*.example.com'\n", "All")
	     SERVICE("app", "svc", "198.18.2.11")
	     ROUTE("app", "some", "  hostnames: [a.example.com, "
		   "b.example.org, '*.x.example.com']\n",
		   "{name: svc, port: 443}")
	     ROUTE("app", "none", "  hostnames: [example.org]\n",
		   "{name: svc, port: 443}")
	     ROUTE("app", "inherit", "", "{name: svc, port: 443}"));
	assert_true(programmed(&w, "a.example.com", "some"));
	assert_true(programmed(&w, "*.x.example.com", "some"));
	assert_false(programmed(&w, "b.example.org", "some"));
	assert_string_equal(accepted(&w, "none")->reason,
			    "NoMatchingListenerHostname");
	assert_true(programmed(&w, "*.example.com", "inherit"));
	assert_int_equal(w.out.gateways[0].listeners[0].attached, 2);
	unload(&w);

	/* No hostname anywhere: a catch-all. */
	load(&w, CLASS GATEWAY("", "All") SERVICE("app", "svc", "198.18.2.11")
	     ROUTE("app", "all", "", "{name: svc, port: 443}"));
	assert_true(programmed(&w, "*", "all"));
	unload(&w);
}

static void test_parent_refs(void **state)
{
	struct world w;

	(void)state;
	load(&w, CLASS GATEWAY("", "All") SERVICE("app", "svc", "198.18.2.11")
	     "apiVersion: gateway.networking.k8s.io/v1\nkind: TLSRoute\n"
	     "metadata: {name: nosection, namespace: app}\n"
	     "spec:\n  parentRefs: [{name: gw, namespace: infra, "
	     "sectionName: nope}]\n  hostnames: [n.example.com]\n"
	     "  rules: [{backendRefs: [{name: svc, port: 443}]}]\n---\n"
	     "apiVersion: gateway.networking.k8s.io/v1\nkind: TLSRoute\n"
	     "metadata: {name: badport, namespace: app}\n"
	     "spec:\n  parentRefs: [{name: gw, namespace: infra, "
	     "port: 8443}]\n  hostnames: [b.example.com]\n"
	     "  rules: [{backendRefs: [{name: svc, port: 443}]}]\n---\n"
	     "apiVersion: gateway.networking.k8s.io/v1\nkind: TLSRoute\n"
	     "metadata: {name: good, namespace: app}\n"
	     "spec:\n  parentRefs: [{name: gw, namespace: infra, "
	     "sectionName: tls, port: 443}]\n"
	     "  hostnames: [g.example.com]\n"
	     "  rules: [{backendRefs: [{name: svc, port: 443}]}]\n---\n");
	assert_string_equal(accepted(&w, "nosection")->reason,
			    "NoMatchingParent");
	assert_string_equal(accepted(&w, "badport")->reason,
			    "NoMatchingParent");
	assert_int_equal(accepted(&w, "good")->status, 1);
	assert_true(programmed(&w, "g.example.com", "good"));
	unload(&w);
}

static void test_backend_refs(void **state)
{
	struct world w;

	(void)state;
	load(&w, CLASS GATEWAY("", "All") SERVICE("app", "svc", "198.18.2.11")
	     SERVICE("shared", "db", "198.18.2.12")
	     ROUTE("app", "missing", "  hostnames: [m.example.com]\n",
		   "{name: nope, port: 443}")
	     ROUTE("app", "kind", "  hostnames: [k.example.com]\n",
		   "{name: svc, port: 443, kind: ConfigMap}")
	     ROUTE("app", "port", "  hostnames: [p.example.com]\n",
		   "{name: svc, port: 9999}")
	     ROUTE("app", "cross", "  hostnames: [c.example.com]\n",
		   "{name: db, namespace: shared, port: 443}")
	     ROUTE("app", "partial", "  hostnames: [x.example.com]\n",
		   "{name: nope, port: 443}, {name: svc, port: 443}"));
	assert_string_equal(resolved(&w, "missing")->reason, "BackendNotFound");
	assert_int_equal(accepted(&w, "missing")->status, 1);
	assert_string_equal(resolved(&w, "kind")->reason, "InvalidKind");
	assert_string_equal(resolved(&w, "port")->reason, "BackendNotFound");
	assert_string_equal(resolved(&w, "cross")->reason, "RefNotPermitted");
	assert_int_equal(w.out.sets[route(&w, "cross")->set[0]].neps, 0);
	/* The valid ref still carries traffic. */
	assert_string_equal(resolved(&w, "partial")->reason, "BackendNotFound");
	assert_int_equal(weight_of(&w, "partial", "198.18.2.11"), 1);
	unload(&w);

	/* A ReferenceGrant in the target namespace allows it; one naming
	 * another Service does not. */
	load(&w, CLASS GATEWAY("", "All") SERVICE("shared", "db", "198.18.2.12")
	     SERVICE("shared", "cache", "198.18.2.13")
	     "apiVersion: gateway.networking.k8s.io/v1beta1\n"
	     "kind: ReferenceGrant\nmetadata: {name: g, namespace: shared}\n"
	     "spec:\n  from: [{group: gateway.networking.k8s.io, "
	     "kind: TLSRoute, namespace: app}]\n"
	     "  to: [{group: '', kind: Service, name: db}]\n---\n"
	     ROUTE("app", "db", "  hostnames: [d.example.com]\n",
		   "{name: db, namespace: shared, port: 443}")
	     ROUTE("app", "cache", "  hostnames: [c.example.com]\n",
		   "{name: cache, namespace: shared, port: 443}"));
	assert_int_equal(resolved(&w, "db")->status, 1);
	assert_int_equal(weight_of(&w, "db", "198.18.2.12"), 1);
	assert_string_equal(resolved(&w, "cache")->reason, "RefNotPermitted");
	unload(&w);
}

static void test_precedence(void **state)
{
	struct world w;

	(void)state;
	load(&w, CLASS GATEWAY("", "All") SERVICE("app", "svc", "198.18.2.11")
	     "apiVersion: gateway.networking.k8s.io/v1\nkind: TLSRoute\n"
	     "metadata: {name: young, namespace: a, creationTimestamp: "
	     "'2026-02-01T00:00:00Z'}\n"
	     "spec:\n  parentRefs: [{name: gw, namespace: infra}]\n"
	     "  hostnames: [same.example.com]\n"
	     "  rules: [{backendRefs: [{name: svc, namespace: app, "
	     "port: 443}]}]\n---\n"
	     "apiVersion: gateway.networking.k8s.io/v1\nkind: TLSRoute\n"
	     "metadata: {name: old, namespace: z, creationTimestamp: "
	     "'2026-01-01T00:00:00Z'}\n"
	     "spec:\n  parentRefs: [{name: gw, namespace: infra}]\n"
	     "  hostnames: [same.example.com]\n"
	     "  rules: [{backendRefs: [{name: svc, namespace: app, "
	     "port: 443}]}]\n---\n"
	     ROUTE("b", "tie2", "  hostnames: [tie.example.com]\n",
		   "{name: svc, namespace: app, port: 443}")
	     ROUTE("a", "tie1", "  hostnames: [tie.example.com]\n",
		   "{name: svc, namespace: app, port: 443}"));
	assert_true(programmed(&w, "same.example.com", "old"));
	assert_false(programmed(&w, "same.example.com", "young"));
	assert_true(programmed(&w, "tie.example.com", "tie1"));
	assert_false(programmed(&w, "tie.example.com", "tie2"));
	unload(&w);
}

static void test_weights(void **state)
{
	struct world w;

	(void)state;
	load(&w, CLASS GATEWAY("", "All")
	     SERVICE("app", "one", "198.18.2.11")
	     SERVICE("app", "other", "198.18.2.12")
	     "apiVersion: v1\nkind: Service\n"
	     "metadata: {name: two, namespace: app}\n"
	     "spec: {ports: [{port: 443, targetPort: 8443}]}\n---\n"
	     "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
	     "metadata:\n  name: two-1\n  namespace: app\n"
	     "  labels: {kubernetes.io/service-name: two}\n"
	     "addressType: IPv4\nports: [{port: 8443}]\n"
	     "endpoints:\n- addresses: [198.18.2.21]\n"
	     "- addresses: [198.18.2.22]\n"
	     "- addresses: [198.18.2.23]\n  conditions: {ready: false}\n"
	     "---\n"
	     ROUTE("app", "split", "  hostnames: [s.example.com]\n",
		   "{name: one, port: 443, weight: 3}, "
		   "{name: other, port: 443, weight: 1}, "
		   "{name: two, port: 443, weight: 0}")
	     ROUTE("app", "even", "  hostnames: [e.example.com]\n",
		   "{name: one, port: 443}, {name: two, port: 443}"));
	assert_int_equal(weight_of(&w, "split", "198.18.2.11"), 3);
	assert_int_equal(weight_of(&w, "split", "198.18.2.12"), 1);
	assert_int_equal(weight_of(&w, "split", "198.18.2.21"), 0);
	/* Each ref's share split over its ready endpoints. */
	assert_int_equal(weight_of(&w, "even", "198.18.2.11"), 2);
	assert_int_equal(weight_of(&w, "even", "198.18.2.21"), 1);
	assert_int_equal(weight_of(&w, "even", "198.18.2.22"), 1);
	assert_int_equal(weight_of(&w, "even", "198.18.2.23"), 0);
	unload(&w);
}

static const struct gw_set *set_of(const struct world *w, const char *name,
				   int v6)
{
	return &w->out.sets[route(w, name)->set[v6]];
}

/* Rejections respect weight: a backendRef that is invalid, or has no
 * endpoint of the family, keeps its share, and those connections are
 * reset (TLSRouteRule.backendRefs in the spec). */
static void test_weighted_rejection(void **state)
{
	struct world w;
	int i;

	(void)state;
	load(&w, CLASS GATEWAY("", "All")
	     SERVICE("app", "svc", "198.18.2.11")
	     "apiVersion: v1\nkind: Service\n"
	     "metadata: {name: idle, namespace: app}\n"
	     "spec: {ports: [{port: 443}]}\n---\n"
	     "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
	     "metadata:\n  name: idle-1\n  namespace: app\n"
	     "  labels: {kubernetes.io/service-name: idle}\n"
	     "addressType: IPv4\nports: [{port: 443}]\n"
	     "endpoints: [{addresses: [198.18.2.99], conditions: "
	     "{ready: false}}]\n---\n"
	     ROUTE("app", "missing", "  hostnames: [m.example.com]\n",
		   "{name: nope, port: 443, weight: 80}, "
		   "{name: svc, port: 443, weight: 20}")
	     ROUTE("app", "unready", "  hostnames: [u.example.com]\n",
		   "{name: idle, port: 443}, {name: svc, port: 443}")
	     ROUTE("app", "zero", "  hostnames: [z.example.com]\n",
		   "{name: nope, port: 443, weight: 0}, "
		   "{name: svc, port: 443}")
	     ROUTE("app", "good", "  hostnames: [g.example.com]\n",
		   "{name: svc, port: 443}")
	     ROUTE("app", "none", "  hostnames: [n.example.com]\n",
		   "{name: nope, port: 443}"));
	/* 80 % of the connections reset, 20 % to svc. */
	assert_int_equal(set_of(&w, "missing", 0)->neps, 1);
	assert_int_equal(set_of(&w, "missing", 0)->eps[0].weight, 1);
	assert_int_equal(set_of(&w, "missing", 0)->reset, 4);
	assert_string_equal(resolved(&w, "missing")->reason, "BackendNotFound");
	/* A Service with no ready endpoint: its half is reset. */
	assert_int_equal(set_of(&w, "unready", 0)->eps[0].weight, 1);
	assert_int_equal(set_of(&w, "unready", 0)->reset, 1);
	/* Weight 0 asks for no traffic: nothing to reset. */
	assert_int_equal(set_of(&w, "zero", 0)->reset, 0);
	assert_true(route(&w, "zero")->set[0] == route(&w, "good")->set[0]);
	assert_true(route(&w, "unready")->set[0] !=
		    route(&w, "good")->set[0]);
	/* Nothing valid: an empty set, which resets all. */
	assert_int_equal(set_of(&w, "none", 0)->neps, 0);
	assert_int_equal(set_of(&w, "none", 0)->reset, 0);
	/* IPv6: svc has no IPv6 endpoint, so its IPv4 one (NAT46), with
	 * the same share. */
	assert_int_equal(set_of(&w, "missing", 1)->neps, 1);
	assert_string_equal(set_of(&w, "missing", 1)->eps[0].addr,
			    "198.18.2.11");
	assert_int_equal(set_of(&w, "missing", 1)->reset, 4);
	unload(&w);

	/* svc4 only IPv4, svc6 only IPv6: each set takes the endpoints of
	 * its family where a Service has them, the other's where it has
	 * not (NAT46/64), and every ref keeps its share. */
	load(&w, CLASS GATEWAY("", "All")
	     SERVICE("app", "svc4", "198.18.2.11")
	     "apiVersion: v1\nkind: Service\n"
	     "metadata: {name: svc6, namespace: app}\n"
	     "spec: {ports: [{port: 443}]}\n---\n"
	     "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
	     "metadata:\n  name: svc6-1\n  namespace: app\n"
	     "  labels: {kubernetes.io/service-name: svc6}\n"
	     "addressType: IPv6\nports: [{port: 443}]\n"
	     "endpoints: [{addresses: ['2001:db8:2::11']}]\n---\n"
	     ROUTE("app", "dual", "  hostnames: [d.example.com]\n",
		   "{name: svc4, port: 443, weight: 3}, "
		   "{name: svc6, port: 443, weight: 1}"));
	for (i = 0; i < 2; i++) {
		const struct gw_set *set = set_of(&w, "dual", i);

		assert_int_equal(set->neps, 2);
		assert_string_equal(set->eps[0].addr, "198.18.2.11");
		assert_int_equal(set->eps[0].weight, 3);
		assert_string_equal(set->eps[1].addr, "2001:db8:2::11");
		assert_int_equal(set->eps[1].weight, 1);
		assert_int_equal(set->reset, 0);
	}
	unload(&w);
}

#define POD(name, color, ip, ready)					\
	"apiVersion: v1\nkind: Pod\n"					\
	"metadata: {name: " name ", namespace: app, "			\
	"labels: {app: web, color: " color "}}\n"			\
	"spec: {containers: [{name: c, ports: [{name: https, "		\
	"containerPort: 9443}]}]}\n"					\
	"status: {podIP: " ip ", conditions: [{type: Ready, "		\
	"status: '" ready "'}]}\n---\n"

static void test_pods_and_selector_flip(void **state)
{
	static const char *const colors[] = { "blue", "green" };
	char yaml[4096];
	struct world w;
	int i;

	(void)state;
	for (i = 0; i < 2; i++) {
		snprintf(yaml, sizeof(yaml), "%s%s"
			 "apiVersion: v1\nkind: Service\n"
			 "metadata: {name: web, namespace: app}\n"
			 "spec:\n  selector: {app: web, color: %s}\n"
			 "  ports: [{port: 443, targetPort: https}]\n---\n"
			 "%s%s%s%s",
			 CLASS, GATEWAY("", "All"), colors[i],
			 POD("b1", "blue", "198.18.2.31", "True"),
			 POD("b2", "blue", "198.18.2.32", "False"),
			 POD("g1", "green", "198.18.2.41", "True"),
			 ROUTE("app", "web", "  hostnames: [w.example.com]\n",
			       "{name: web, port: 443}"));
		load(&w, yaml);
		assert_int_equal(w.out.sets[0].neps, 1);
		assert_string_equal(w.out.sets[0].eps[0].addr,
				    i ? "198.18.2.41" : "198.18.2.31");
		assert_int_equal(w.out.sets[0].eps[0].port, 9443);
		unload(&w);
	}
}

static void test_terminating_fallback(void **state)
{
	struct world w;

	(void)state;
	load(&w, CLASS GATEWAY("", "All")
	     "apiVersion: v1\nkind: Service\n"
	     "metadata: {name: web, namespace: app}\n"
	     "spec: {ports: [{name: tls, port: 443}]}\n---\n"
	     "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
	     "metadata:\n  name: web-1\n  namespace: app\n"
	     "  labels: {kubernetes.io/service-name: web}\n"
	     "addressType: IPv4\nports: [{name: tls, port: 443}]\n"
	     "endpoints:\n- addresses: [198.18.2.51]\n"
	     "  conditions: {ready: false, serving: true, terminating: true}\n"
	     "- addresses: [198.18.2.52]\n"
	     "  conditions: {ready: false, serving: false, terminating: true}\n"
	     "---\n"
	     ROUTE("app", "web", "  hostnames: [w.example.com]\n",
		   "{name: web, port: 443}"));
	assert_int_equal(w.out.sets[0].neps, 1);
	assert_string_equal(w.out.sets[0].eps[0].addr, "198.18.2.51");
	unload(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_intersect),
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_families),
		cmocka_unit_test(test_other_controller),
		cmocka_unit_test(test_allowed_routes),
		cmocka_unit_test(test_namespace_name_label),
		cmocka_unit_test(test_hostname_rules),
		cmocka_unit_test(test_parent_refs),
		cmocka_unit_test(test_backend_refs),
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_weights),
		cmocka_unit_test(test_weighted_rejection),
		cmocka_unit_test(test_pods_and_selector_flip),
		cmocka_unit_test(test_terminating_fallback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What the Gateway API rules' unit tests share (test_gwapi*.c): manifests
 * as a user writes them (CLASS, GATEWAY, SERVICE, ROUTE), a world decoded
 * and computed from them, and lookups of its routes, conditions and sets.
 */
#ifndef SNILB_TEST_GWAPI_CHECK_H
#define SNILB_TEST_GWAPI_CHECK_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gwapi.h"
#include "decode.h"

#define CLASS								\
	"apiVersion: gateway.networking.k8s.io/v1\n"			\
	"kind: GatewayClass\n"						\
	"metadata: {name: snilb}\n"					\
	"spec: {controllerName: snilb.io/gateway-controller}\n"		\
	"---\n"

/* A Gateway "gw" in "infra" on 198.18.0.1 and 2001:db8::1, listener
 * "tls" on 443 with @host (or none) admitting routes @from. */
#define GATEWAY(host, from)						\
	"apiVersion: gateway.networking.k8s.io/v1\n"			\
	"kind: Gateway\n"						\
	"metadata: {name: gw, namespace: infra}\n"			\
	"spec:\n"							\
	"  gatewayClassName: snilb\n"					\
	"  addresses: [{value: 198.18.0.1}, {type: IPAddress, value: "	\
	"'2001:db8::1'}]\n"						\
	"  listeners:\n"						\
	"  - name: tls\n"						\
	"    port: 443\n"						\
	"    protocol: TLS\n"						\
	host								\
	"    tls: {mode: Passthrough}\n"				\
	"    allowedRoutes: {namespaces: {from: " from "}}\n"		\
	"---\n"

/* The start of a Gateway "gw" in "infra" of class snilb, up to its
 * spec's other fields. */
#define GW_HEAD								\
	"apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\n"	\
	"metadata: {name: gw, namespace: infra}\n"			\
	"spec:\n  gatewayClassName: snilb\n"

#define SERVICE(ns, name, ip)						\
	"apiVersion: v1\nkind: Service\n"				\
	"metadata: {name: " name ", namespace: " ns "}\n"		\
	"spec: {ports: [{port: 443, targetPort: 8443}]}\n"		\
	"---\n"								\
	"apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"	\
	"metadata:\n  name: " name "-1\n  namespace: " ns "\n"		\
	"  labels: {kubernetes.io/service-name: " name "}\n"		\
	"addressType: IPv4\n"						\
	"ports: [{port: 8443}]\n"					\
	"endpoints: [{addresses: [" ip "], conditions: {ready: true}}]\n" \
	"---\n"

#define ROUTE(ns, name, hosts, svc)					\
	"apiVersion: gateway.networking.k8s.io/v1alpha2\n"		\
	"kind: TLSRoute\n"						\
	"metadata: {name: " name ", namespace: " ns "}\n"		\
	"spec:\n"							\
	"  parentRefs: [{name: gw, namespace: infra}]\n"		\
	hosts								\
	"  rules: [{backendRefs: [" svc "]}]\n"				\
	"---\n"

struct world {
	struct model m;
	struct gw_out out;
};

static inline void load(struct world *w, const char *yaml)
{
	memset(w, 0, sizeof(*w));
	assert_int_equal(manifest_decode_buf("t.yaml", yaml, strlen(yaml),
					     &w->m), 0);
	if (w->m.ndiags)
		fail_msg("decode: %s: %s", w->m.diags[0].field,
			 w->m.diags[0].msg);
	assert_int_equal(gw_compute(&w->m, GW_CONTROLLER, 16381, &w->out), 0);
}

static inline void unload(struct world *w)
{
	gw_out_free(&w->out);
	model_free(&w->m);
}

static inline const struct gw_route *route(const struct world *w, const char *name)
{
	size_t i;

	for (i = 0; i < w->out.nroutes; i++)
		if (!strcmp(w->out.routes[i].name, name))
			return &w->out.routes[i];
	fail_msg("no route %s", name);
	return NULL;
}

static inline const struct gw_cond *accepted(const struct world *w, const char *name)
{
	return &route(w, name)->parents[0].conds[0];
}

static inline const struct gw_cond *resolved(const struct world *w, const char *name)
{
	return &route(w, name)->parents[0].conds[1];
}

/* Is @host programmed on VIP 198.18.0.1:443 for route @name? */
static inline int programmed(const struct world *w, const char *host,
		      const char *name)
{
	size_t i;

	for (i = 0; i < w->out.nentries; i++) {
		const struct gw_entry *e = &w->out.entries[i];

		if (!strcmp(w->out.vips[e->vip].addr, "198.18.0.1") &&
		    !strcmp(e->hostname, host) && e->shadowed_by < 0 &&
		    !strcmp(w->out.routes[e->route].name, name))
			return 1;
	}
	return 0;
}

static inline uint32_t weight_of(const struct world *w, const char *name,
			  const char *addr)
{
	const struct gw_set *s = &w->out.sets[route(w, name)->set[0]];
	size_t i;

	for (i = 0; i < s->neps; i++)
		if (!strcmp(s->eps[i].addr, addr))
			return s->eps[i].weight;
	return 0;
}

#endif /* SNILB_TEST_GWAPI_CHECK_H */

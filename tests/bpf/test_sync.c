// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The agent's map sync (user/agent/sync.c) against the real maps of a loaded
 * data plane: what each Gateway API change writes, that a blue/green flip
 * is one route write to a set built beforehand, that retired sets and
 * backends live on while a flow uses them, and that a restarted agent
 * adopts the maps without deleting a route, its routes keeping their ids.
 * Needs root (BPF).
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <bpf/bpf.h>

#include "dataplane.h"
#include "gwapi.h"
#include "decode.h"
#include "sync.h"

#define WORLD(color, extra)						\
	"apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\n" \
	"metadata: {name: snilb}\n"					\
	"spec: {controllerName: snilb.io/gateway-controller}\n---\n"	\
	"apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\n"	\
	"metadata: {name: gw, namespace: app}\n"			\
	"spec:\n  gatewayClassName: snilb\n"				\
	"  addresses: [{value: 198.18.0.10}]\n"				\
	"  listeners: [{name: tls, port: 443, protocol: TLS}]\n---\n"	\
	"apiVersion: v1\nkind: Service\n"				\
	"metadata: {name: web, namespace: app}\n"			\
	"spec:\n  selector: {color: " color "}\n"			\
	"  ports: [{port: 443, targetPort: 9443}]\n---\n"		\
	"apiVersion: v1\nkind: Pod\n"					\
	"metadata: {name: blue, namespace: app, labels: {color: blue}}\n" \
	"status: {podIP: 198.18.2.11, conditions: [{type: Ready, "	\
	"status: 'True'}]}\n---\n"					\
	"apiVersion: v1\nkind: Pod\n"					\
	"metadata: {name: green, namespace: app, labels: {color: green}}\n" \
	"status: {podIP: 198.18.2.13, conditions: [{type: Ready, "	\
	"status: 'True'}]}\n---\n"					\
	"apiVersion: gateway.networking.k8s.io/v1\nkind: TLSRoute\n"	\
	"metadata: {name: web, namespace: app}\n"			\
	"spec:\n  parentRefs: [{name: gw}]\n"				\
	"  hostnames: [web.example.com]\n"				\
	"  rules: [{backendRefs: [{name: web, port: 443}]}]\n---\n"	\
	extra

#define OTHER_ROUTE							\
	"apiVersion: gateway.networking.k8s.io/v1\nkind: TLSRoute\n"	\
	"metadata: {name: other, namespace: app}\n"			\
	"spec:\n  parentRefs: [{name: gw}]\n"				\
	"  hostnames: ['*.other.example.com']\n"			\
	"  rules: [{backendRefs: [{name: web, port: 443}]}]\n---\n"

static struct dataplane *dp;

/* The backend id of @addr:@port without PROXY v2, or -1. */
static long be_id(const struct sync_state *s, const char *addr,
		  uint16_t port)
{
	struct gw_endpoint e = { .port = port };

	snprintf(e.addr, sizeof(e.addr), "%s", addr);
	return sync_backend_id(s, &e);
}

static void apply(struct sync_state *s, const char *yaml, uint64_t now,
		  struct sync_result *res)
{
	struct model m = {};
	struct gw_out out;

	assert_int_equal(manifest_decode_buf("t.yaml", yaml, strlen(yaml),
					     &m), 0);
	assert_int_equal(m.ndiags, 0);
	assert_int_equal(gw_compute(&m, GW_CONTROLLER, 251, &out), 0);
	assert_int_equal(sync_apply(s, &out, now, res), 0);
	gw_out_free(&out);
	model_free(&m);
}

static int route_of(const char *hostname, struct dp_route *r)
{
	return dp_route_get(dp, 0, hostname, r);
}

static size_t nroutes(void)
{
	struct dp_route *r;
	size_t n;

	assert_int_equal(dp_routes(dp, &r, &n), 0);
	free(r);
	return n;
}

static size_t nlisteners(void)
{
	struct dp_listener *l;
	size_t n;

	assert_int_equal(dp_listeners(dp, &l, &n), 0);
	free(l);
	return n;
}

/* An empty set has no table: size 0 reads as not installed. */
static int set_installed(uint32_t id)
{
	uint32_t size;

	return !dp_set_size(dp, id, &size) && size;
}

static int backend_live(long id)
{
	struct dp_backend *b;
	size_t n, i;
	int live = 0;

	assert_int_equal(dp_backends(dp, &b, &n), 0);
	for (i = 0; i < n; i++)
		live |= b[i].id == id;
	free(b);
	return live;
}

/* A flow binding from @set to @backend, as the data plane leaves it (its
 * set in its hello's entry, struct snilb_bind); @state SNILB_FS_SPLICED:
 * spliced, its hello's entry gone. */
static void fake_flow(uint32_t set, uint32_t backend, int add, uint16_t state)
{
	struct snilb_flow_key k = { .family = SNILB_AF_INET, .cport = 4242 };
	struct snilb_flow f = { .state = state, .backend = backend };
	static struct snilb_hello hb;
	int fd = dp_map_fd(dp, SNILB_MAP_FLOWS);
	int hfd = dp_map_fd(dp, SNILB_MAP_HELLOS);

	hb.b.set = set;
	if (add) {
		assert_int_equal(bpf_map_update_elem(fd, &k, &f, BPF_ANY), 0);
		if (state == SNILB_FS_ROUTED)
			assert_int_equal(bpf_map_update_elem(hfd, &k, &hb,
							     BPF_ANY), 0);
	} else {
		assert_int_equal(bpf_map_delete_elem(fd, &k), 0);
		bpf_map_delete_elem(hfd, &k);
	}
}

static void test_flip_and_reclaim(void **state)
{
	struct sync_state s;
	struct sync_result res;
	struct dp_route blue, green;
	long blue_be;
	uint16_t port = 443;

	(void)state;
	assert_int_equal(sync_init(&s, dp, 251), 0);
	apply(&s, WORLD("blue", ""), 1000, &res);
	assert_int_equal(res.listeners_added, 1);
	assert_int_equal(res.routes_set, 1);
	assert_int_equal(route_of("web.example.com", &blue), 0);
	assert_true(set_installed(blue.set));
	assert_int_equal(dp_port_get(dp, port), 1);
	blue_be = be_id(&s, "198.18.2.11", 9443);
	assert_true(blue_be >= 0);

	/* Same input: nothing written. */
	apply(&s, WORLD("blue", ""), 2000, &res);
	assert_int_equal(res.routes_set + res.sets_built, 0);

	/* The flip: a new set, then one route write. */
	apply(&s, WORLD("green", ""), 3000, &res);
	assert_int_equal(res.sets_built, 1);
	assert_int_equal(res.routes_set, 1);
	assert_int_equal(route_of("web.example.com", &green), 0);
	assert_int_not_equal(green.set, blue.set);
	assert_int_equal(green.id, blue.id);	/* same route, same counters */
	assert_true(set_installed(blue.set));	/* retired, not gone */

	/* A flow still binding on blue keeps its set and backend; a
	 * spliced one its backend (it binds no more). */
	fake_flow(blue.set, (uint32_t)blue_be, 1, SNILB_FS_ROUTED);
	assert_int_equal(sync_reclaim(&s, 3000, 0), 0);
	assert_true(set_installed(blue.set));
	fake_flow(blue.set, (uint32_t)blue_be, 0, SNILB_FS_ROUTED);
	/* Grace: nothing goes before it ran out. Spliced, the flow binds
	 * no more: the set goes, its backend stays while it lives. */
	fake_flow(blue.set, (uint32_t)blue_be, 1, SNILB_FS_SPLICED);
	assert_int_equal(sync_reclaim(&s, 3500, 1000), 0);
	assert_int_equal(sync_reclaim(&s, 4001, 1000), 1);
	assert_false(set_installed(blue.set));
	assert_true(be_id(&s, "198.18.2.11", 9443) >= 0);
	fake_flow(blue.set, (uint32_t)blue_be, 0, SNILB_FS_SPLICED);
	assert_int_equal(sync_reclaim(&s, 4001, 1000), 1);
	assert_true(be_id(&s, "198.18.2.11", 9443) < 0);
	assert_true(set_installed(green.set));
	sync_free(&s);
}

static void test_add_remove_and_adopt(void **state)
{
	struct sync_state s, again;
	struct sync_result res;
	struct dp_route before, after, web0, web1;
	uint16_t port = 443;

	(void)state;
	assert_int_equal(sync_init(&s, dp, 251), 0);
	apply(&s, WORLD("green", OTHER_ROUTE), 1000, &res);
	assert_int_equal(route_of("*.other.example.com", &before), 0);
	assert_int_equal(route_of("web.example.com", &web0), 0);
	assert_int_not_equal(web0.id, before.id);
	assert_int_equal(nroutes(), 2);

	/* A restarted agent: adopts the listener, moves routes to fresh
	 * identical sets, deletes nothing. */
	assert_int_equal(sync_init(&again, dp, 251), 0);
	assert_int_equal(again.nlisteners, 1);
	/* Before its first sync, nothing adopted is reclaimed: the old
	 * sets and their backends are what routes traffic meanwhile. */
	sync_reclaim(&again, 1ull << 62, 0);
	assert_true(backend_live(be_id(&again, "198.18.2.13", 9443)));
	assert_true(set_installed(before.set));
	apply(&again, WORLD("green", OTHER_ROUTE), 2000, &res);
	/* Moved to fresh sets; the adopted ones (content unknown) keep
	 * every backend until they are reclaimed themselves. */
	sync_reclaim(&again, 2001, 0);
	assert_true(backend_live(be_id(&again, "198.18.2.13", 9443)));
	assert_int_equal(res.listeners_added, 0);
	assert_int_equal(res.routes_deleted, 0);
	assert_int_equal(route_of("*.other.example.com", &after), 0);
	assert_string_equal(after.hostname, "*.other.example.com");
	/* Every route's id, and so its counters, from the maps. */
	assert_int_equal(after.id, before.id);
	assert_int_equal(route_of("web.example.com", &web1), 0);
	assert_int_equal(web1.id, web0.id);

	/* A route removed: its key goes. The Gateway removed: the
	 * listener and the port filter go too. */
	apply(&again, WORLD("green", ""), 3000, &res);
	assert_int_equal(res.routes_deleted, 1);
	assert_int_not_equal(route_of("*.other.example.com", &after), 0);
	apply(&again, "", 4000, &res);
	assert_int_equal(res.listeners_deleted, 1);
	assert_int_equal(nroutes(), 0);
	assert_int_equal(nlisteners(), 0);
	assert_int_equal(dp_port_get(dp, port), 0);
	sync_free(&again);
	sync_free(&s);
}

#define MIXED_ROUTE							\
	"apiVersion: gateway.networking.k8s.io/v1\nkind: TLSRoute\n"	\
	"metadata: {name: mixed, namespace: app}\n"			\
	"spec:\n  parentRefs: [{name: gw}]\n"				\
	"  hostnames: [mixed.example.com]\n"				\
	"  rules: [{backendRefs: [{name: web, port: 443}, "		\
	"{name: gone, port: 443, weight: 3}]}]\n---\n"

/* Slots of set @set's table that hold @id. */
static int slots_of(uint32_t set, uint32_t id)
{
	uint32_t inner_id, i, v;
	int fd, n = 0;

	assert_int_equal(bpf_map_lookup_elem(dp_map_fd(dp, SNILB_MAP_MAGLEV),
					     &set, &inner_id), 0);
	fd = bpf_map_get_fd_by_id(inner_id);
	assert_true(fd >= 0);
	for (i = 0; i < 251; i++) {
		assert_int_equal(bpf_map_lookup_elem(fd, &i, &v), 0);
		n += v == id;
	}
	close(fd);
	return n;
}

/* A backendRef that resolves to nothing keeps its share of the weight:
 * its slots hold SNILB_BACKEND_RESET, which the data plane resets. */
static void test_reset_share(void **state)
{
	struct sync_state s;
	struct sync_result res;
	struct dp_route r;
	struct snilb_set set;
	long be;
	int reset;

	(void)state;
	assert_int_equal(sync_init(&s, dp, 251), 0);
	apply(&s, WORLD("blue", MIXED_ROUTE), 1000, &res);
	assert_int_equal(route_of("mixed.example.com", &r), 0);
	assert_int_equal(bpf_map_lookup_elem(dp_map_fd(dp, SNILB_MAP_SETS),
					     &r.set, &set), 0);
	assert_int_equal(set.nbackends, 2);
	be = be_id(&s, "198.18.2.11", 9443);
	reset = slots_of(r.set, SNILB_BACKEND_RESET);
	/* Weights 1 and 3 of 251 slots: 63 and 188. */
	assert_in_range(reset, 180, 196);
	assert_int_equal(slots_of(r.set, (uint32_t)be), 251 - reset);
	/* The route's set is not rebuilt while nothing changes. */
	apply(&s, WORLD("blue", MIXED_ROUTE), 2000, &res);
	assert_int_equal(res.sets_built, 0);
	sync_free(&s);
}

/* @yaml with the annotation of docs/agent.md "PROXY protocol" on its
 * Service web (free() it). */
static char *with_proxy(const char *yaml)
{
	static const char svc[] = "kind: Service\nmetadata: {name: web, "
				  "namespace: app";
	static const char ann[] = ", annotations: {snilb.io/proxy-protocol: v2}";
	const char *at = strstr(yaml, svc);
	char *out = calloc(strlen(yaml) + sizeof(ann), 1);
	size_t n;

	assert_non_null(at);
	assert_non_null(out);
	n = (size_t)(at - yaml) + strlen(svc);
	memcpy(out, yaml, n);
	strcat(out, ann);
	strcat(out, yaml + n);
	return out;
}

static uint32_t backend_flags(long id)
{
	struct dp_backend *b;
	uint32_t flags = 0xffffffff;
	size_t n, i;

	assert_int_equal(dp_backends(dp, &b, &n), 0);
	for (i = 0; i < n; i++)
		if (b[i].id == id)
			flags = b[i].flags;
	free(b);
	return flags;
}

static uint32_t set_flags(uint32_t id)
{
	struct snilb_set set;

	assert_int_equal(bpf_map_lookup_elem(dp_map_fd(dp, SNILB_MAP_SETS),
					     &id, &set), 0);
	return set.flags;
}

/*
 * The Service's PROXY annotation: its endpoints become backends of their
 * own (the same address and port, SNILB_BE_PROXY_V2), in a new set the
 * route flips to, whose flags say so; taken away, the route flips back
 * to a set without. The status says it per backendRef.
 */
static void test_proxy_annotation(void **state)
{
	char *pp = with_proxy(WORLD("blue", ""));
	struct dp_route plain, with;
	struct sync_result res;
	struct sync_state s;
	struct gw_endpoint e = { .port = 9443, .proxy_v2 = 1 };
	long id0, id1;

	(void)state;
	snprintf(e.addr, sizeof(e.addr), "198.18.2.11");
	assert_int_equal(sync_init(&s, dp, 251), 0);
	apply(&s, WORLD("blue", ""), 1000, &res);
	assert_int_equal(route_of("web.example.com", &plain), 0);
	id0 = be_id(&s, "198.18.2.11", 9443);
	assert_true(id0 >= 0);
	assert_int_equal(backend_flags(id0), 0);
	assert_int_equal(set_flags(plain.set), 0);
	assert_true(sync_backend_id(&s, &e) < 0);

	apply(&s, pp, 2000, &res);
	assert_int_equal(res.sets_built, 1);
	assert_int_equal(route_of("web.example.com", &with), 0);
	assert_int_not_equal(with.set, plain.set);
	id1 = sync_backend_id(&s, &e);
	assert_true(id1 >= 0 && id1 != id0);
	assert_int_equal(backend_flags(id1), SNILB_BE_PROXY_V2);
	assert_int_equal(set_flags(with.set), SNILB_SET_PROXY_V2);

	apply(&s, WORLD("blue", ""), 3000, &res);
	assert_int_equal(route_of("web.example.com", &plain), 0);
	assert_int_equal(set_flags(plain.set), 0);
	assert_int_equal(be_id(&s, "198.18.2.11", 9443), id0);
	sync_free(&s);
	free(pp);
}

int main(void)
{
	const struct CMUnitTest flip[] = {
		cmocka_unit_test(test_flip_and_reclaim),
	};
	const struct CMUnitTest adopt[] = {
		cmocka_unit_test(test_add_remove_and_adopt),
	};
	const struct CMUnitTest reset[] = {
		cmocka_unit_test(test_reset_share),
	};
	const struct CMUnitTest proxy[] = {
		cmocka_unit_test(test_proxy_annotation),
	};
	char err[512];
	int fails;

	/* A fresh data plane per group: each starts from empty maps. */
	dp = dp_open(NULL, err, sizeof(err));
	if (!dp) {
		fprintf(stderr, "test_sync: %s\n", err);
		return 1;
	}
	fails = cmocka_run_group_tests_name("sync: flip", flip, NULL, NULL);
	dp_close(dp);
	dp = dp_open(NULL, err, sizeof(err));
	if (!dp)
		return 1;
	fails += cmocka_run_group_tests_name("sync: adopt", adopt, NULL, NULL);
	dp_close(dp);
	dp = dp_open(NULL, err, sizeof(err));
	if (!dp)
		return 1;
	fails += cmocka_run_group_tests_name("sync: reset share", reset, NULL,
					     NULL);
	dp_close(dp);
	dp = dp_open(NULL, err, sizeof(err));
	if (!dp)
		return 1;
	fails += cmocka_run_group_tests_name("sync: PROXY annotation", proxy,
					     NULL, NULL);
	dp_close(dp);
	return fails;
}

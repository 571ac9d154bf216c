// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "metrics.h"
#include "pinned.h"

/* --- rendering -------------------------------------------------------- */

struct mroute {
	uint32_t id;
	char ns[128], name[256];	/* escaped */
	struct snilb_route_stats st;
};

struct mlistener {
	char addr[64];
	struct snilb_listener_stats st;
};

struct mdata {
	struct mroute *routes;
	size_t nroutes;
	struct mlistener *lst;
	size_t nlst;
};

void metrics_label_escape(char *buf, size_t n, const char *s)
{
	size_t o = 0;

	if (!n)
		return;
	for (; s && *s && o + 1 < n; s++) {
		const char *esc = *s == '\\' ? "\\\\" : *s == '"' ? "\\\"" :
				  *s == '\n' ? "\\n" : NULL;

		if (!esc) {
			buf[o++] = *s;
			continue;
		}
		if (o + 2 >= n)
			break;	/* never half an escape */
		buf[o++] = esc[0];
		buf[o++] = esc[1];
	}
	buf[o] = 0;
}

static struct mroute *route_add(struct mdata *d, uint32_t id)
{
	struct mroute *r;
	size_t i;

	for (i = 0; i < d->nroutes; i++)
		if (d->routes[i].id == id)
			return NULL;	/* have it */
	r = realloc(d->routes, (d->nroutes + 1) * sizeof(*r));
	if (!r)
		return NULL;
	d->routes = r;
	r = &d->routes[d->nroutes++];
	memset(r, 0, sizeof(*r));
	r->id = id;
	return r;
}

/* Routes the agent names, then kernel routes it does not ("#id"). */
static void collect_routes(struct mdata *d, struct pinned *p,
			   const struct metrics_snapshot *snap)
{
	struct snilb_route_key k;
	struct snilb_route v;
	struct pinned_iter it;
	struct mroute *r;
	size_t i;

	for (i = 0; snap && i < snap->nroutes; i++) {
		const struct metrics_route *sr = &snap->routes[i];

		r = route_add(d, sr->id);
		if (!r)
			continue;
		metrics_label_escape(r->ns, sizeof(r->ns), sr->ns);
		metrics_label_escape(r->name, sizeof(r->name), sr->name);
	}
	if (p && !pinned_map_iter(p, SNILB_MAP_ROUTES, &it))
		while (pinned_iter_next(&it, &k, &v) == 1) {
			r = route_add(d, v.id);
			if (r)
				snprintf(r->name, sizeof(r->name), "#%u",
					 v.id);
		}
	for (i = 0; p && i < d->nroutes; i++)
		pinned_route_stats(p, d->routes[i].id, &d->routes[i].st);
}

static void collect_listeners(struct mdata *d, struct pinned *p)
{
	struct snilb_listener_key k;
	struct snilb_listener v;
	struct pinned_iter it;

	if (!p || pinned_map_iter(p, SNILB_MAP_LISTENERS, &it))
		return;
	while (pinned_iter_next(&it, &k, &v) == 1) {
		struct mlistener *l = realloc(d->lst, (d->nlst + 1) *
					      sizeof(*l));

		if (!l)
			return;
		d->lst = l;
		l = &d->lst[d->nlst++];
		pinned_fmt_addr(l->addr, sizeof(l->addr), k.family, k.addr,
				k.port);
		pinned_listener_stats(p, v.id, &l->st);
	}
}

static void family(FILE *out, const char *name, const char *type,
		   const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One sample per route of the route counter at @off. */
static void route_metric(FILE *out, const struct mdata *d, const char *name,
			 const char *extra, size_t off)
{
	size_t i;

	for (i = 0; i < d->nroutes; i++) {
		const struct mroute *r = &d->routes[i];
		uint64_t v = *(const uint64_t *)((const char *)&r->st + off);

		fprintf(out, "%s{namespace=\"%s\",name=\"%s\"%s} %llu\n",
			name, r->ns, r->name, extra, (unsigned long long)v);
	}
}

#define RS(f) offsetof(struct snilb_route_stats, f)

static void render_routes(FILE *out, const struct mdata *d)
{
	char reason[48];

	family(out, "snilb_route_connections_total", "counter",
	       "Connections whose ClientHello matched the route.");
	route_metric(out, d, "snilb_route_connections_total", "", RS(routed));
	family(out, "snilb_route_spliced_total", "counter",
	       "Routed connections a backend accepted.");
	route_metric(out, d, "snilb_route_spliced_total", "", RS(spliced));
	family(out, "snilb_route_rejected_total", "counter",
	       "Routed connections reset, by reason.");
	snprintf(reason, sizeof(reason), ",reason=\"%s\"",
		 pinned_reject_name(SNILB_REJ_NO_BACKEND));
	route_metric(out, d, "snilb_route_rejected_total", reason,
		     RS(no_backend));
	family(out, "snilb_route_retries_total", "counter",
	       "SYNs sent to a further backend after one failed.");
	route_metric(out, d, "snilb_route_retries_total", "", RS(retries));
	family(out, "snilb_route_bytes_total", "counter",
	       "TCP payload bytes forwarded, by direction.");
	route_metric(out, d, "snilb_route_bytes_total",
		     ",direction=\"c2b\"", RS(bytes_c2b));
	route_metric(out, d, "snilb_route_bytes_total",
		     ",direction=\"b2c\"", RS(bytes_b2c));
	family(out, "snilb_route_packets_total", "counter",
	       "Packets forwarded, by direction.");
	route_metric(out, d, "snilb_route_packets_total",
		     ",direction=\"c2b\"", RS(pkts_c2b));
	route_metric(out, d, "snilb_route_packets_total",
		     ",direction=\"b2c\"", RS(pkts_b2c));
}

static void render_listeners(FILE *out, const struct mdata *d)
{
	size_t i;
	uint32_t r;

	family(out, "snilb_listener_accepted_total", "counter",
	       "TCP handshakes completed on the listener.");
	for (i = 0; i < d->nlst; i++)
		fprintf(out, "snilb_listener_accepted_total{listener=\"%s\"} "
			"%llu\n", d->lst[i].addr,
			(unsigned long long)d->lst[i].st.accepted);
	family(out, "snilb_listener_rejected_total", "counter",
	       "Connections reset on the listener, by reason.");
	for (i = 0; i < d->nlst; i++)
		for (r = 0; r < SNILB_REJ_MAX; r++)
			fprintf(out, "snilb_listener_rejected_total{listener="
				"\"%s\",reason=\"%s\"} %llu\n", d->lst[i].addr,
				pinned_reject_name(r),
				(unsigned long long)d->lst[i].st.rejected[r]);
}

static void render_global(FILE *out, struct pinned *p)
{
	char name[96];
	uint32_t i, n, max;

	for (i = 0; i < SNILB_ST_MAX; i++) {
		uint64_t v = 0;

		if (pinned_stat(p, i, &v))
			continue;
		snprintf(name, sizeof(name), "snilb_%s_total",
			 pinned_stat_name(i));
		family(out, name, "counter", "Data plane counter (see "
		       "enum snilb_stat).");
		fprintf(out, "%s %llu\n", name, (unsigned long long)v);
	}
	if (!pinned_map_fill(p, SNILB_MAP_FLOWS, &n, &max)) {
		family(out, "snilb_flows_active", "gauge",
		       "Entries in the flow table.");
		fprintf(out, "snilb_flows_active %u\n", n);
	}
	family(out, "snilb_map_entries", "gauge", "Entries in use per map.");
	for (i = 0; pinned_fill_maps[i]; i++)
		if (!pinned_fill(p, pinned_fill_maps[i], &n, &max))
			fprintf(out, "snilb_map_entries{map=\"%s\"} %u\n",
				pinned_fill_maps[i], n);
	family(out, "snilb_map_capacity", "gauge", "Capacity per map.");
	for (i = 0; pinned_fill_maps[i]; i++)
		if (!pinned_fill(p, pinned_fill_maps[i], &n, &max))
			fprintf(out, "snilb_map_capacity{map=\"%s\"} %u\n",
				pinned_fill_maps[i], max);
}

/* The node table and the drain (docs/multinode.md); the packets steered
 * are the data plane's counters (snilb_steer_*_total). */
static void render_nodes(FILE *out, const struct metrics_nodes *n)
{
	if (!n->on)
		return;
	family(out, "snilb_node_generation", "gauge",
	       "The node table's generation (a hash of it: equal on every "
	       "node that has the same).");
	fprintf(out, "snilb_node_generation %u\n", n->generation);
	family(out, "snilb_nodes", "gauge", "Gateway nodes in the table.");
	fprintf(out, "snilb_nodes %u\n", n->nodes);
	family(out, "snilb_node_member", "gauge",
	       "1 when this node is in the table.");
	fprintf(out, "snilb_node_member %d\n", n->member);
	family(out, "snilb_node_draining", "gauge",
	       "1 while this node drains (SIGTERM with --drain).");
	fprintf(out, "snilb_node_draining %d\n", n->draining);
	family(out, "snilb_drained_connections_total", "counter",
	       "Connections that ended while this node drained.");
	fprintf(out, "snilb_drained_connections_total %u\n",
		n->drain_flows > n->drain_left ?
		n->drain_flows - n->drain_left : 0);
	family(out, "snilb_drain_connections_left", "gauge",
	       "Connections still served by this draining node.");
	fprintf(out, "snilb_drain_connections_left %u\n", n->drain_left);
}

static void render_reaper(FILE *out, const struct metrics_reaper *r)
{
	family(out, "snilb_agent_reaper_passes_total", "counter",
	       "Walks of the flow table (timeouts, orphans).");
	fprintf(out, "snilb_agent_reaper_passes_total %llu\n",
		(unsigned long long)r->passes);
	family(out, "snilb_agent_reaper_pass_seconds", "gauge",
	       "How long the last walk of the flow table took.");
	fprintf(out, "snilb_agent_reaper_pass_seconds %.6f\n", r->pass_s);
	family(out, "snilb_agent_reaper_interval_seconds", "gauge",
	       "From the last walk's start to the next's: 1, or five times "
	       "a walk longer than 0.2 s.");
	fprintf(out, "snilb_agent_reaper_interval_seconds %.3f\n", r->wait_s);
}

static void render_agent(FILE *out, const struct metrics_snapshot *snap)
{
	if (!snap)
		return;
	family(out, "snilb_agent_syncs_total", "counter",
	       "Times the agent programmed the data plane.");
	fprintf(out, "snilb_agent_syncs_total %llu\n",
		(unsigned long long)snap->syncs);
	family(out, "snilb_agent_sync_errors_total", "counter",
	       "Syncs that failed.");
	fprintf(out, "snilb_agent_sync_errors_total %llu\n",
		(unsigned long long)snap->sync_errors);
	family(out, "snilb_agent_last_sync_timestamp_seconds", "gauge",
	       "Unix time of the last sync.");
	fprintf(out, "snilb_agent_last_sync_timestamp_seconds %.3f\n",
		snap->last_sync);
	family(out, "snilb_agent_errors", "gauge",
	       "Configuration errors in the current manifests.");
	fprintf(out, "snilb_agent_errors %zu\n", snap->errors);
	render_reaper(out, &snap->reaper);
	render_nodes(out, &snap->nodes);
}

int metrics_render(FILE *out, struct pinned *p,
		   const struct metrics_snapshot *snap)
{
	struct mdata d = { 0 };

	/* Without the maps every counter would read 0: leave them out
	 * rather than report a reset. */
	if (p) {
		collect_routes(&d, p, snap);
		collect_listeners(&d, p);
		render_routes(out, &d);
		render_listeners(out, &d);
		render_global(out, p);
	}
	render_agent(out, snap);
	free(d.routes);
	free(d.lst);
	fflush(out);
	return ferror(out) ? -1 : 0;
}

int metrics_snapshot_copy(struct metrics_snapshot *dst,
			  const struct metrics_snapshot *src)
{
	*dst = *src;
	dst->routes = NULL;
	if (!src->nroutes)
		return 0;
	dst->routes = calloc(src->nroutes, sizeof(*dst->routes));
	if (!dst->routes) {
		dst->nroutes = 0;
		return -ENOMEM;
	}
	memcpy(dst->routes, src->routes, src->nroutes * sizeof(*src->routes));
	return 0;
}

void metrics_snapshot_free(struct metrics_snapshot *s)
{
	if (!s)
		return;
	free(s->routes);
	memset(s, 0, sizeof(*s));
}

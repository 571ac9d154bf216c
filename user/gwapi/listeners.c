// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Gateways and their listeners: which listeners are valid and what each
 * admits (protocol, TLS mode, route kinds, conflicts, allowedRoutes), the
 * VIPs (address x port) they listen on, and where a listener's hostname
 * meets a route's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gwapi_int.h"
#include "vec.h"

/* --- hostnames ---------------------------------------------------------- */

/* Does the exact name @h fall under the wildcard @w ("*.example.com")?
 * At least one label must stand in for the '*'. */
static int wild_covers(const char *w, const char *h)
{
	size_t wl = strlen(w) - 1, hl = strlen(h);	/* ".example.com" */

	return hl > wl && !strcmp(h + hl - wl, w + 1);
}

static void put(char *out, size_t outlen, const char *s)
{
	snprintf(out, outlen, "%s", s);
}

int gw_intersect(const char *l, const char *r, char *out, size_t outlen)
{
	int lw = l && l[0] == '*', rw = r && r[0] == '*';

	if (!l && !r) {
		put(out, outlen, "*");
		return 1;
	}
	if (!l || !r) {
		put(out, outlen, l ? l : r);
		return 1;
	}
	if (!lw && !rw) {
		if (strcmp(l, r))
			return 0;
		put(out, outlen, r);
		return 1;
	}
	if (lw && !rw) {
		if (!wild_covers(l, r))
			return 0;
		put(out, outlen, r);
		return 1;
	}
	if (!lw && rw) {
		if (!wild_covers(r, l))
			return 0;
		put(out, outlen, l);
		return 1;
	}
	/* Both wildcards: the narrower one, if it lies within the other. */
	if (!strcmp(l, r) || wild_covers(l, r + 2)) {
		put(out, outlen, r);
		return 1;
	}
	if (wild_covers(r, l + 2)) {
		put(out, outlen, l);
		return 1;
	}
	return 0;
}

/* --- gateways and listeners ----------------------------------------------- */

static const struct m_namespace *find_ns(const struct model *m,
					 const char *name)
{
	size_t i;

	for (i = 0; i < m->nnamespaces; i++)
		if (streq(m->namespaces[i].meta.name, name))
			return &m->namespaces[i];
	return NULL;
}

static long vip_index(struct gw_out *out, const char *addr, uint16_t port)
{
	struct gw_vip v = { .port = port }, *nv;
	size_t i;

	if (gw_canon_addr(addr, &v.family, v.addr))
		return -EINVAL;
	for (i = 0; i < out->nvips; i++)
		if (out->vips[i].port == port &&
		    !strcmp(out->vips[i].addr, v.addr))
			return (long)i;
	nv = PUSH(out->vips, out->nvips);
	if (!nv)
		return -ENOMEM;
	*nv = v;
	return (long)out->nvips - 1;
}

static int same_host(const char *a, const char *b)
{
	return (!a && !b) || streq(a, b);
}

/* TLS without a tls block passes through (snilb's only mode). */
static const char *tls_mode(const struct m_listener *l)
{
	return or(l->tls_mode, "Passthrough");
}

/*
 * Another listener of @gw on the port of listener @idx that cannot share
 * it: a different protocol, or TLS in another mode (upstream's
 * tlsroute-listener-mixed-termination-not-supported). Sets Conflicted and
 * returns 1 when there is one.
 */
static int protocol_conflict(struct lview *v, const struct m_gateway *gw,
			     size_t idx)
{
	const struct m_listener *l = v->l;
	size_t i;

	for (i = 0; i < gw->nlisteners; i++) {
		const struct m_listener *o = &gw->listeners[i];

		if (i == idx || o->port != l->port)
			continue;
		if (!streq(o->protocol, l->protocol)) {
			gw_cond_set(&v->st->conds[GW_L_CONFLICTED],
				    "Conflicted", 1, "ProtocolConflict",
				    "listener \"%s\" on port %u has protocol "
				    "%s", o->name, o->port, o->protocol);
			return 1;
		}
		if (streq(l->protocol, "TLS") &&
		    strcmp(tls_mode(o), tls_mode(l))) {
			gw_cond_set(&v->st->conds[GW_L_CONFLICTED],
				    "Conflicted", 1, "ProtocolConflict",
				    "listener \"%s\" on port %u has tls.mode "
				    "%s", o->name, o->port, tls_mode(o));
			return 1;
		}
	}
	return 0;
}

/* Another listener of @gw with the port and hostname of listener @idx. */
static int hostname_conflict(struct lview *v, const struct m_gateway *gw,
			     size_t idx)
{
	const struct m_listener *l = v->l;
	size_t i;

	for (i = 0; i < gw->nlisteners; i++) {
		const struct m_listener *o = &gw->listeners[i];

		if (i != idx && o->port == l->port &&
		    same_host(o->hostname, l->hostname)) {
			gw_cond_set(&v->st->conds[GW_L_CONFLICTED],
				    "Conflicted", 1, "HostnameConflict",
				    "listener \"%s\" has the same port and "
				    "hostname", o->name);
			return 1;
		}
	}
	return 0;
}

/* allowedRoutes.kinds: ResolvedRefs, and whether TLSRoutes may attach. */
static void check_kinds(struct lview *v)
{
	const struct m_listener *l = v->l;
	size_t i, bad = 0;

	v->kinds_ok = !l->nkinds;
	for (i = 0; i < l->nkinds; i++) {
		if (streq(l->kinds[i].kind, "TLSRoute") &&
		    streq(or(l->kinds[i].group, GW_GROUP), GW_GROUP))
			v->kinds_ok = 1;
		else
			bad++;
	}
	if (bad)
		gw_cond_set(&v->st->conds[GW_L_RESOLVED], "ResolvedRefs", 0,
			    "InvalidRouteKinds",
			    "only TLSRoute routes attach to a TLS listener");
	else
		gw_cond_set(&v->st->conds[GW_L_RESOLVED], "ResolvedRefs", 1,
			    "ResolvedRefs", "%s", "");
}

/*
 * Accepted and Conflicted. Conflicted listeners are neither accepted nor
 * programmed, each with the conflict as the reason, as upstream's
 * conformance tests expect; none of them wins.
 */
static void check_listener(struct lview *v, const struct m_gateway *gw,
			   size_t idx)
{
	const struct m_listener *l = v->l;
	struct gw_listener_status *st = v->st;
	struct gw_cond *acc = &st->conds[GW_L_ACCEPTED];

	check_kinds(v);
	gw_cond_set(&st->conds[GW_L_CONFLICTED], "Conflicted", 0,
		    "NoConflicts", "%s", "");
	if (protocol_conflict(v, gw, idx) || hostname_conflict(v, gw, idx))
		gw_cond_set(acc, "Accepted", 0,
			    st->conds[GW_L_CONFLICTED].reason, "%s",
			    st->conds[GW_L_CONFLICTED].msg);
	else if (!streq(l->protocol, "TLS"))
		gw_cond_set(acc, "Accepted", 0, "UnsupportedProtocol",
			    "protocol %s: snilb serves protocol TLS only",
			    or(l->protocol, "(none)"));
	else if (strcmp(tls_mode(l), "Passthrough"))
		gw_cond_set(acc, "Accepted", 0, "UnsupportedValue",
			    "tls.mode %s: snilb passes TLS through, it never "
			    "terminates it", l->tls_mode);
	else
		gw_cond_set(acc, "Accepted", 1, "Accepted", "%s", "");
	v->usable = acc->status;
}

/* Programmed and supportedKinds, once the Gateway's own conditions are
 * known: a listener is programmed when it is usable on a programmed
 * Gateway. */
static void listener_programmed(struct lview *v,
				const struct gw_gateway_status *gs)
{
	struct gw_listener_status *st = v->st;
	struct gw_cond *p = &st->conds[GW_L_PROGRAMMED];

	st->nconds = GW_L_NCONDS;
	st->tlsroute_ok = st->conds[GW_L_ACCEPTED].status && v->kinds_ok;
	if (st->conds[GW_L_CONFLICTED].status)
		gw_cond_set(p, "Programmed", 0,
			    st->conds[GW_L_CONFLICTED].reason, "%s",
			    st->conds[GW_L_CONFLICTED].msg);
	else if (!st->conds[GW_L_ACCEPTED].status)
		gw_cond_set(p, "Programmed", 0, "Invalid", "not accepted: %s",
			    st->conds[GW_L_ACCEPTED].reason);
	else if (!gs->conds[GW_G_PROGRAMMED].status)
		gw_cond_set(p, "Programmed", 0, "Invalid", "the Gateway is "
			    "not programmed: %s", gs->conds[GW_G_PROGRAMMED].reason);
	else
		gw_cond_set(p, "Programmed", 1, "Programmed", "%s", "");
}

/* Append @name to the list in @buf, "..." once it is full. */
static void list_add(char *buf, size_t len, const char *name)
{
	size_t n = strlen(buf);

	if (n + strlen(name) + 6 >= len) {
		if (!strstr(buf, "..."))
			snprintf(buf + n, len - n, ", ...");
		return;
	}
	snprintf(buf + n, len - n, "%s\"%s\"", n ? ", " : "", name);
}

/*
 * Accepted: the Gateway's own fields first, then its listeners (upstream's
 * gateway-invalid-listeners-unsupported-protocol): none valid is
 * Accepted=False, some invalid Accepted=True, both ListenersNotValid.
 */
static void gateway_accepted(struct gw_gateway_status *gs,
			     const struct m_gateway *gw,
			     const struct lview *v, size_t n)
{
	struct gw_cond *c = &gs->conds[GW_G_ACCEPTED];
	char bad[160] = "";
	size_t i, nbad = 0;

	if (gw->params.kind) {
		gw_cond_set(c, "Accepted", 0, "InvalidParameters",
			    "spec.infrastructure.parametersRef names %s %s: "
			    "snilb takes no parameters", gw->params.kind,
			    or(gw->params.name, "?"));
		return;
	}
	for (i = 0; i < gw->naddresses; i++) {
		const char *t = gw->addresses[i].type;

		if (t && strcmp(t, "IPAddress")) {
			gw_cond_set(c, "Accepted", 0, "UnsupportedAddress",
				    "address type %s: snilb needs IPAddress "
				    "VIPs", t);
			return;
		}
	}
	for (i = 0; i < n; i++) {
		if (v[i].usable)
			continue;
		nbad++;
		list_add(bad, sizeof(bad), v[i].l->name);
	}
	if (!n)
		gw_cond_set(c, "Accepted", 0, "ListenersNotValid",
			    "the Gateway has no listener");
	else if (nbad == n)
		gw_cond_set(c, "Accepted", 0, "ListenersNotValid",
			    "no listener is valid: %s (see each listener's "
			    "conditions)", bad);
	else if (nbad)
		gw_cond_set(c, "Accepted", 1, "ListenersNotValid",
			    "%zu of %zu listeners are not valid and not "
			    "served: %s", nbad, n, bad);
	else
		gw_cond_set(c, "Accepted", 1, "Accepted", "%s", "");
}

/* An address of @gs that cannot be a VIP: Programmed=False, 1. */
static int unusable_address(struct gw_gateway_status *gs,
			    const struct m_gateway *gw)
{
	struct gw_cond *c = &gs->conds[GW_G_PROGRAMMED];
	const char *why;
	size_t i;

	for (i = 0; i < gs->naddresses; i++) {
		why = gw_addr_unusable(gs->addresses[i]);
		if (!why)
			continue;
		gw_cond_set(c, "Programmed", 0, "AddressNotUsable",
			    "address %s is %s: it cannot be a VIP; %s",
			    gs->addresses[i], why, gw->naddresses ?
			    "remove it from spec.addresses" :
			    "the load balancer gave it to the Gateway's "
			    "Service");
		return 1;
	}
	return 0;
}

/*
 * Programmed: an accepted Gateway whose addresses can all be VIPs
 * (upstream's gateway-static-addresses: one unusable address and the
 * Gateway is not programmed; nothing of it is served). The addresses are
 * spec.addresses, or else its LoadBalancer Service's (lbsvc.c). Its VIPs
 * become status.addresses.
 */
static int gateway_programmed(const struct model *m,
			      struct gw_gateway_status *gs,
			      const struct m_gateway *gw,
			      const struct lview *v, struct gw_out *out)
{
	struct gw_cond *c = &gs->conds[GW_G_PROGRAMMED];
	size_t i;
	int err;

	if (!gs->conds[GW_G_ACCEPTED].status) {
		gw_cond_set(c, "Programmed", 0, "Invalid",
			    "the Gateway is not accepted (%s)",
			    gs->conds[GW_G_ACCEPTED].reason);
		return 0;
	}
	if (!gw->naddresses) {
		err = gw_lb_addresses(m, gw, v, gw->nlisteners, out, gs);
		if (err <= 0)
			return err;
	} else {
		gs->addresses = calloc(gw->naddresses,
				       sizeof(*gs->addresses));
		if (!gs->addresses)
			return -ENOMEM;
		for (i = 0; i < gw->naddresses; i++)
			gs->addresses[gs->naddresses++] =
				gw->addresses[i].value;
	}
	if (unusable_address(gs, gw)) {
		free(gs->addresses);
		gs->addresses = NULL;
		gs->naddresses = 0;
		return 0;
	}
	gw_cond_set(c, "Programmed", 1, "Programmed", "%s", "");
	return 0;
}

/* The VIPs of a listener that is usable on a programmed Gateway. */
static int listener_vips(struct gw_out *out,
			 const struct gw_gateway_status *gs, struct lview *v)
{
	size_t j;

	v->vips = calloc(gs->naddresses ? gs->naddresses : 1,
			 sizeof(*v->vips));
	if (!v->vips)
		return -ENOMEM;
	for (j = 0; j < gs->naddresses; j++) {
		long vi = vip_index(out, gs->addresses[j], v->l->port);

		if (vi == -ENOMEM)
			return -ENOMEM;
		if (vi >= 0)
			v->vips[v->nvips++] = (size_t)vi;
	}
	return 0;
}

static struct gw_gateway_status *new_gateway(const struct m_gateway *gw,
					     struct gw_out *out)
{
	struct gw_gateway_status *gs = PUSH(out->gateways, out->ngateways);

	if (!gs)
		return NULL;
	gs->src = gw;
	snprintf(gs->ns, sizeof(gs->ns), "%s", gw->meta.ns);
	snprintf(gs->name, sizeof(gs->name), "%s", gw->meta.name);
	snprintf(gs->class_name, sizeof(gs->class_name), "%s", gw->class);
	gs->listeners = calloc(gw->nlisteners ? gw->nlisteners : 1,
			       sizeof(*gs->listeners));
	if (!gs->listeners)
		return NULL;
	gs->nlisteners = gw->nlisteners;
	return gs;
}

int gw_add_gateway(const struct model *m, const struct m_gateway *gw,
		   struct gw_out *out, struct lview **views, size_t *nviews)
{
	struct gw_gateway_status *gs = new_gateway(gw, out);
	size_t i, first = *nviews, gs_index;
	struct lview *v;
	int err;

	if (!gs)
		return -ENOMEM;
	for (i = 0; i < gw->nlisteners; i++) {
		v = PUSH(*views, *nviews);
		if (!v)
			return -ENOMEM;
		v->gw = gw;
		v->l = &gw->listeners[i];
		v->gw_index = out->ngateways - 1;
		v->st = &gs->listeners[i];
		snprintf(v->st->name, sizeof(v->st->name), "%s", v->l->name);
		v->st->port = v->l->port;
		snprintf(v->st->hostname, sizeof(v->st->hostname), "%s",
			 or(v->l->hostname, ""));
		check_listener(v, gw, i);
	}
	gateway_accepted(gs, gw, *views + first, gw->nlisteners);
	gs_index = out->ngateways - 1;
	if ((err = gateway_programmed(m, gs, gw, *views + first, out)))
		return err;
	gs = &out->gateways[gs_index];
	for (i = first; i < *nviews; i++) {
		v = &(*views)[i];
		listener_programmed(v, gs);
		if (!v->st->conds[GW_L_PROGRAMMED].status)
			continue;
		if ((err = listener_vips(out, gs, v)))
			return err;
	}
	return 0;
}

int gw_ns_allowed(const struct model *m, const struct lview *v,
		  const char *route_ns)
{
	const struct m_namespace *n;

	switch (v->l->from) {
	case M_FROM_ALL:
		return 1;
	case M_FROM_SAME:
		return streq(v->gw->meta.ns, route_ns);
	case M_FROM_SELECTOR:
		n = find_ns(m, route_ns);
		if (n)
			return gw_selector_matches(&v->l->selector,
						   n->meta.labels,
						   n->meta.nlabels);
		/* No Namespace object (a directory that does not define
		 * it): the label the API server would have given it. */
		return gw_selector_matches(&v->l->selector, &(struct m_label){
			.key = M_NS_NAME_LABEL, .value = (char *)route_ns }, 1);
	}
	return 0;
}

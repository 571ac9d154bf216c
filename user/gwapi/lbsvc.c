// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The VIPs of a Gateway without spec.addresses: a LoadBalancer Service
 * of snilb's per such Gateway (its name, ports and owner), whose
 * status.loadBalancer.ingress addresses become the Gateway's; and the
 * Services of snilb's label that no Gateway wants any more. The agent's
 * status writer makes the API server follow (docs/kubernetes.md,
 * "Addresses from a LoadBalancer Service").
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gwapi_int.h"
#include "vec.h"

static uint32_t fnv1a(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* @s cut to @keep characters, no '-' at the end, then "-" and the hash
 * of all of @s. */
static void cut_hashed(char *out, size_t len, const char *pre,
		       const char *s, size_t keep)
{
	size_t n = strlen(s) < keep ? strlen(s) : keep;

	while (n && s[n - 1] == '-')
		n--;
	snprintf(out, len, "%s%.*s-%08x", pre, (int)n, s, fnv1a(s));
}

void gw_lb_name(const char *gateway, char *out, char *label)
{
	size_t plen = strlen(GW_LB_PREFIX);
	char flat[GW_NAME_MAX], *p;

	snprintf(flat, sizeof(flat), "%s", gateway);
	for (p = flat; *p; p++)
		if (*p == '.')
			*p = '-';
	if (plen + strlen(flat) <= 63 && !strchr(gateway, '.'))
		snprintf(out, 64, "%s%s", GW_LB_PREFIX, flat);
	else	/* 9 + 45 + 9 = 63 */
		cut_hashed(out, 64, GW_LB_PREFIX, flat, 63 - plen - 9);
	if (strlen(gateway) <= 63)
		snprintf(label, 64, "%s", gateway);
	else	/* a label value ends with an alphanumeric */
		cut_hashed(label, 64, "", gateway, 63 - 9);
}

static void add_port(struct gw_lbsvc *s, uint16_t port)
{
	size_t i, j;

	for (i = 0; i < s->nports && s->ports[i] < port; i++)
		;
	if ((i < s->nports && s->ports[i] == port) ||
	    s->nports == GW_LB_PORTS_MAX)
		return;
	for (j = s->nports; j > i; j--)
		s->ports[j] = s->ports[j - 1];
	s->ports[i] = port;
	s->nports++;
}

/* The Service wanted for @gw: one port per port of a usable listener.
 * NULL with no such listener (*err 0) or no memory (*err -ENOMEM). */
static struct gw_lbsvc *want(const struct m_gateway *gw,
			     const struct lview *v, size_t n,
			     struct gw_out *out, int *err)
{
	struct gw_lbsvc s = { 0 }, *ns;
	size_t i;

	*err = 0;
	for (i = 0; i < n; i++)
		if (v[i].usable)
			add_port(&s, v[i].l->port);
	if (!s.nports)
		return NULL;
	snprintf(s.ns, sizeof(s.ns), "%s", gw->meta.ns);
	snprintf(s.gateway, sizeof(s.gateway), "%s", gw->meta.name);
	gw_lb_name(gw->meta.name, s.name, s.label);
	s.gw_uid = gw->meta.uid;
	ns = PUSH(out->lbsvcs, out->nlbsvcs);
	if (!ns) {
		*err = -ENOMEM;
		return NULL;
	}
	*ns = s;
	return ns;
}

/* Programmed=False, AddressNotAssigned, and why; returns 0. */
#define not_assigned(gs, ...)						\
	(gw_cond_set(&(gs)->conds[GW_G_PROGRAMMED], "Programmed", 0,	\
		     "AddressNotAssigned", __VA_ARGS__), 0)

int gw_lb_addresses(const struct model *m, const struct m_gateway *gw,
		    const struct lview *v, size_t n, struct gw_out *out,
		    struct gw_gateway_status *gs)
{
	const struct m_service *svc;
	struct gw_lbsvc *s;
	size_t i;
	int err;

	if (!m->lb_services)
		return not_assigned(gs, "spec.addresses names no IPAddress, "
				    "and from manifests snilb creates no "
				    "LoadBalancer Service (it does with the "
				    "Kubernetes API): no VIP");
	s = want(gw, v, n, out, &err);
	if (!s)
		return err ? err : not_assigned(gs, "no usable listener: no "
						"LoadBalancer Service");
	svc = gw_find_svc(m, s->ns, s->name);
	if (!svc)
		return not_assigned(gs, "waiting for the LoadBalancer Service "
				    "%s/%s to be created", s->ns, s->name);
	if (!streq(gw_label_get(svc->meta.labels, svc->meta.nlabels,
				GW_LB_LABEL), s->label)) {
		s->foreign = 1;
		return not_assigned(gs, "Service %s/%s is not snilb's (no "
				    "label " GW_LB_LABEL " naming this Gateway)"
				    ": snilb leaves it alone; delete it, or "
				    "give the Gateway spec.addresses",
				    s->ns, s->name);
	}
	if (!streq(svc->type, "LoadBalancer") || !svc->nlb_ips)
		return not_assigned(gs, "waiting for a load balancer to give "
				    "the Service %s/%s an address "
				    "(status.loadBalancer.ingress)",
				    s->ns, s->name);
	gs->addresses = calloc(svc->nlb_ips, sizeof(*gs->addresses));
	if (!gs->addresses)
		return -ENOMEM;
	for (i = 0; i < svc->nlb_ips; i++)
		gs->addresses[gs->naddresses++] = svc->lb_ips[i];
	return 1;
}

static int wanted(const struct gw_out *out, const struct m_service *svc)
{
	size_t i;

	for (i = 0; i < out->nlbsvcs; i++)
		if (streq(out->lbsvcs[i].ns, svc->meta.ns) &&
		    streq(out->lbsvcs[i].name, svc->meta.name))
			return 1;
	return 0;
}

int gw_lb_stale(const struct model *m, struct gw_out *out)
{
	const struct m_service *svc;
	struct gw_svcname *g;
	size_t i;

	for (i = 0; m->lb_services && i < m->nservices; i++) {
		svc = &m->services[i];
		if (!gw_label_get(svc->meta.labels, svc->meta.nlabels,
				  GW_LB_LABEL) || wanted(out, svc))
			continue;
		g = PUSH(out->lbstale, out->nlbstale);
		if (!g)
			return -ENOMEM;
		snprintf(g->ns, sizeof(g->ns), "%s", svc->meta.ns);
		snprintf(g->name, sizeof(g->name), "%s", svc->meta.name);
	}
	return 0;
}

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Gateway API semantics for TLSRoute passthrough (see gwapi.h). The rules
 * come from the Gateway API specification (v1.x) and its conformance
 * tests; docs/agent.md lists every decision, including where the spec
 * leaves a choice to the implementation.
 *
 * This file: the entry point and the helpers every rule file uses; the
 * rules themselves in listeners.c, routes.c and backends.c, the status of
 * objects kept at their last good version in fallback.c (gwapi_int.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gwapi_int.h"
#include "vec.h"

/* --- what the rule files share ------------------------------------------ */

void gw_cond_set(struct gw_cond *c, const char *type, int status,
		 const char *reason, const char *fmt, ...)
{
	va_list ap;

	c->type = type;
	c->status = status;
	c->reason = reason;
	va_start(ap, fmt);
	vsnprintf(c->msg, sizeof(c->msg), fmt, ap);
	va_end(ap);
}

/* --- labels --------------------------------------------------------------- */

const char *gw_label_get(const struct m_label *l, size_t n, const char *key)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(l[i].key, key))
			return l[i].value ? l[i].value : "";
	return NULL;
}

static int expr_matches(const struct m_sel_expr *e, const struct m_label *l,
			size_t n)
{
	const char *v = gw_label_get(l, n, e->key);
	size_t i;
	int in = 0;

	switch (e->op) {
	case M_SEL_EXISTS:
		return v != NULL;
	case M_SEL_NOT_EXIST:
		return v == NULL;
	case M_SEL_IN:
	case M_SEL_NOT_IN:
		for (i = 0; v && i < e->nvalues; i++)
			in |= !strcmp(v, e->values[i]);
		return e->op == M_SEL_IN ? in : !in;
	}
	return 0;
}

int gw_selector_matches(const struct m_selector *sel,
			const struct m_label *labels, size_t nlabels)
{
	size_t i;

	for (i = 0; i < sel->nmatch; i++)
		if (!streq(gw_label_get(labels, nlabels, sel->match[i].key),
			   or(sel->match[i].value, "")))
			return 0;
	for (i = 0; i < sel->nexprs; i++)
		if (!expr_matches(&sel->exprs[i], labels, nlabels))
			return 0;
	return 1;
}

/* --- addresses and classes ------------------------------------------------ */

int gw_canon_addr(const char *s, int *family, char *out)
{
	unsigned char a[16];

	if (inet_pton(AF_INET, s, a) == 1) {
		*family = 4;
		inet_ntop(AF_INET, a, out, GW_ADDR_MAX);
		return 0;
	}
	if (inet_pton(AF_INET6, s, a) == 1) {
		*family = 6;
		inet_ntop(AF_INET6, a, out, GW_ADDR_MAX);
		return 0;
	}
	return -EINVAL;
}

const char *gw_addr_unusable(const char *s)
{
	static const unsigned char mapped[12] = { [10] = 0xff, [11] = 0xff };
	static const unsigned char zero[16];
	unsigned char a[16];

	if (inet_pton(AF_INET, s, a) == 1) {
		if (a[0] == 0)
			return "unspecified (0.0.0.0/8)";
		if (a[0] == 127)
			return "loopback";
		if (a[0] >= 224 && a[0] <= 239)
			return "multicast";
		if (a[0] == 255 && a[1] == 255 && a[2] == 255 && a[3] == 255)
			return "the broadcast address";
		return NULL;
	}
	if (inet_pton(AF_INET6, s, a) != 1)
		return "not an IP address";
	if (!memcmp(a, zero, 16))
		return "unspecified (::)";
	if (!memcmp(a, zero, 15) && a[15] == 1)
		return "loopback";
	if (a[0] == 0xff)
		return "multicast";
	if (!memcmp(a, mapped, 12))
		return "IPv4-mapped (use the IPv4 address)";
	return NULL;
}

int gw_class_ours(const struct model *m, const char *name,
		  const char *controller)
{
	size_t i;

	for (i = 0; i < m->nclasses; i++)
		if (streq(m->classes[i].meta.name, name))
			return streq(m->classes[i].controller, controller);
	return 0;
}

/* --- the entry point ------------------------------------------------------ */

/* The GatewayClasses of @controller: accepted (snilb takes no
 * parameters from a class, and reads none). */
static int add_classes(const struct model *m, const char *controller,
		       struct gw_out *out)
{
	struct gw_class_status *c;
	size_t i;

	for (i = 0; i < m->nclasses; i++) {
		if (!streq(m->classes[i].controller, controller))
			continue;
		c = PUSH(out->classes, out->nclasses);
		if (!c)
			return -ENOMEM;
		c->src = &m->classes[i];
		snprintf(c->name, sizeof(c->name), "%s",
			 m->classes[i].meta.name);
		gw_cond_set(&c->conds[0], "Accepted", 1, "Accepted", "%s", "");
	}
	return 0;
}

int gw_compute(const struct model *m, const char *controller,
	       uint32_t maglev_size, struct gw_out *out)
{
	struct lview *views = NULL;
	size_t nviews = 0, i;
	int err = 0;

	memset(out, 0, sizeof(*out));
	err = add_classes(m, controller, out);
	for (i = 0; i < m->ngateways && !err; i++)
		if (gw_class_ours(m, m->gateways[i].class, controller))
			err = gw_add_gateway(m, &m->gateways[i], out, &views,
					     &nviews);
	if (!err)
		err = gw_lb_stale(m, out);
	for (i = 0; i < m->nroutes && !err; i++)
		err = gw_add_route(m, controller, out, views, nviews,
				   &m->routes[i], maglev_size);
	if (!err)
		err = gw_resolve_conflicts(out);
	if (!err)
		gw_fall_back(m, out);
	for (i = 0; i < nviews; i++)
		free(views[i].vips);
	free(views);
	if (err)
		gw_out_free(out);
	return err;
}

void gw_out_free(struct gw_out *out)
{
	size_t i, j;

	for (i = 0; i < out->nsets; i++)
		free(out->sets[i].eps);
	for (i = 0; i < out->nroutes; i++) {
		for (j = 0; j < out->routes[i].nrefs; j++)
			free(out->routes[i].refs[j].eps);
		free(out->routes[i].refs);
		free(out->routes[i].parents);
	}
	free(out->lbsvcs);
	free(out->lbstale);
	for (i = 0; i < out->ngateways; i++) {
		free(out->gateways[i].listeners);
		free(out->gateways[i].addresses);
	}
	free(out->classes);
	free(out->vips);
	free(out->sets);
	free(out->routes);
	free(out->entries);
	free(out->gateways);
	memset(out, 0, sizeof(*out));
}

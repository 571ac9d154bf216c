// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Objects kept at their last good version. Both sources refuse an update
 * with an invalid field and keep the version before it (user/source/:
 * dir.c per manifest file, kube_store.c per API object); the decoder's
 * diags, which name the object, come along in the model. Such an object
 * is in the model AND has a diag about one of its fields (a diag without
 * a field names an object defined twice, or no object at all).
 *
 * Its status says why the update is not applied, as the Gateway API asks
 * of an implementation that falls back to the last known good state of
 * a route: PartiallyInvalid=True, reason UnsupportedValue, a message that
 * starts with "Fall Back", on every parent that accepted the route
 * (Accepted keeps the generation of the version in force, which is the
 * kept object's). A Gateway has no such condition: its Accepted message
 * says it.
 */
#include <stdio.h>
#include <string.h>

#include "gwapi_int.h"

/* The first diag about a field of @kind @ns/@name; how many in *@n. */
static const struct m_diag *field_diag(const struct model *m,
				       const char *kind, const char *ns,
				       const char *name, size_t *n)
{
	const struct m_diag *first = NULL;
	size_t i;

	*n = 0;
	for (i = 0; i < m->ndiags; i++) {
		const struct m_diag *d = &m->diags[i];

		if (!d->field || !streq(d->kind, kind) ||
		    !streq(d->ns, ns) || !streq(d->name, name))
			continue;
		if (!first)
			first = d;
		(*n)++;
	}
	return first;
}

static void fall_back_msg(char *out, size_t len, const struct m_diag *d,
			  size_t n, int64_t gen)
{
	char more[48] = "", g[48] = "";

	if (n > 1)
		snprintf(more, sizeof(more), " (and %zu more invalid field%s)",
			 n - 1, n > 2 ? "s" : "");
	if (gen)
		snprintf(g, sizeof(g), " (generation %lld)", (long long)gen);
	snprintf(out, len, "Fall Back: the last valid version%s stays in "
		 "force; the update is not applied: %s: %s%s", g, d->field,
		 or(d->msg, "invalid"), more);
}

static void route_fall_back(const struct model *m, struct gw_route *r)
{
	const struct m_diag *d;
	char msg[sizeof(r->parents[0].conds[0].msg)];
	size_t n, i;

	d = field_diag(m, "TLSRoute", r->ns, r->name, &n);
	if (!d)
		return;
	fall_back_msg(msg, sizeof(msg), d, n, r->src->meta.generation);
	/* Upstream: never on a parent that did not accept the route. */
	for (i = 0; i < r->nparents; i++)
		if (r->parents[i].conds[0].status)
			gw_cond_set(&r->parents[i].conds[2],
				    "PartiallyInvalid", 1, "UnsupportedValue",
				    "%s", msg);
}

static void gateway_fall_back(const struct model *m,
			      struct gw_gateway_status *g)
{
	struct gw_cond *acc = &g->conds[0];
	const struct m_diag *d;
	char msg[sizeof(acc->msg)], was[sizeof(acc->msg)];
	size_t n;

	d = field_diag(m, "Gateway", g->ns, g->name, &n);
	if (!d)
		return;
	fall_back_msg(msg, sizeof(msg), d, n, g->src->meta.generation);
	snprintf(was, sizeof(was), "%s", acc->msg);
	gw_cond_set(acc, acc->type, acc->status, acc->reason, "%s%s%s", was,
		    *was ? "; " : "", msg);
}

void gw_fall_back(const struct model *m, struct gw_out *out)
{
	size_t i;

	if (!m->ndiags)
		return;
	for (i = 0; i < out->nroutes; i++)
		route_fall_back(m, &out->routes[i]);
	for (i = 0; i < out->ngateways; i++)
		gateway_fall_back(m, &out->gateways[i]);
}

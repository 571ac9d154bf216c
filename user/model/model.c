// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The one table of kinds, and the operations on a model (model.h).
 *
 * Freeing and copying an object are one walk over its strings and arrays
 * (walk_*() below, one per struct): the free walker frees each, the copy
 * walker replaces each with a copy. A field with a pointer is named once,
 * in its struct's walk, and both stay right.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

/* --- walks ------------------------------------------------------------ */

struct m_walk {
	void (*str)(struct m_walk *w, char **s);
	/* The array at @arrp, of *@n elements of @size: before its elements
	 * are walked (@after 0), then after (1). */
	void (*arr)(struct m_walk *w, void *arrp, size_t *n, size_t size,
		    int after);
	int oom;
};

#define STR(w, s)	((w)->str((w), (s)))
#define OPEN(w, a, n)	((w)->arr((w), &(a), &(n), sizeof(*(a)), 0))
#define CLOSE(w, a, n)	((w)->arr((w), &(a), &(n), sizeof(*(a)), 1))

static void walk_strv(struct m_walk *w, char ***v, size_t *n)
{
	size_t i;

	w->arr(w, v, n, sizeof(**v), 0);
	for (i = 0; i < *n; i++)
		STR(w, &(*v)[i]);
	w->arr(w, v, n, sizeof(**v), 1);
}

static void walk_labels(struct m_walk *w, struct m_label **l, size_t *n)
{
	size_t i;

	w->arr(w, l, n, sizeof(**l), 0);
	for (i = 0; i < *n; i++) {
		STR(w, &(*l)[i].key);
		STR(w, &(*l)[i].value);
	}
	w->arr(w, l, n, sizeof(**l), 1);
}

static void walk_meta(struct m_walk *w, struct m_meta *m)
{
	STR(w, &m->ns);
	STR(w, &m->name);
	STR(w, &m->uid);
	STR(w, &m->where.file);
	walk_labels(w, &m->labels, &m->nlabels);
}

static void walk_namespace(struct m_walk *w, void *o)
{
	walk_meta(w, o);
}

static void walk_class(struct m_walk *w, void *o)
{
	struct m_gatewayclass *c = o;

	walk_meta(w, &c->meta);
	STR(w, &c->controller);
}

static void walk_selector(struct m_walk *w, struct m_selector *s)
{
	size_t i;

	walk_labels(w, &s->match, &s->nmatch);
	OPEN(w, s->exprs, s->nexprs);
	for (i = 0; i < s->nexprs; i++) {
		STR(w, &s->exprs[i].key);
		walk_strv(w, &s->exprs[i].values, &s->exprs[i].nvalues);
	}
	CLOSE(w, s->exprs, s->nexprs);
}

static void walk_listener(struct m_walk *w, struct m_listener *l)
{
	size_t i;

	STR(w, &l->name);
	STR(w, &l->hostname);
	STR(w, &l->protocol);
	STR(w, &l->tls_mode);
	walk_selector(w, &l->selector);
	OPEN(w, l->kinds, l->nkinds);
	for (i = 0; i < l->nkinds; i++) {
		STR(w, &l->kinds[i].group);
		STR(w, &l->kinds[i].kind);
	}
	CLOSE(w, l->kinds, l->nkinds);
}

static void walk_gateway(struct m_walk *w, void *o)
{
	struct m_gateway *g = o;
	size_t i;

	walk_meta(w, &g->meta);
	STR(w, &g->class);
	STR(w, &g->params.group);
	STR(w, &g->params.kind);
	STR(w, &g->params.name);
	OPEN(w, g->addresses, g->naddresses);
	for (i = 0; i < g->naddresses; i++) {
		STR(w, &g->addresses[i].type);
		STR(w, &g->addresses[i].value);
	}
	CLOSE(w, g->addresses, g->naddresses);
	OPEN(w, g->listeners, g->nlisteners);
	for (i = 0; i < g->nlisteners; i++)
		walk_listener(w, &g->listeners[i]);
	CLOSE(w, g->listeners, g->nlisteners);
}

static void walk_rule(struct m_walk *w, struct m_rule *r)
{
	size_t i;

	OPEN(w, r->refs, r->nrefs);
	for (i = 0; i < r->nrefs; i++) {
		STR(w, &r->refs[i].group);
		STR(w, &r->refs[i].kind);
		STR(w, &r->refs[i].ns);
		STR(w, &r->refs[i].name);
	}
	CLOSE(w, r->refs, r->nrefs);
}

static void walk_route(struct m_walk *w, void *o)
{
	struct m_tlsroute *t = o;
	size_t i;

	walk_meta(w, &t->meta);
	STR(w, &t->api_version);
	OPEN(w, t->parents, t->nparents);
	for (i = 0; i < t->nparents; i++) {
		STR(w, &t->parents[i].group);
		STR(w, &t->parents[i].kind);
		STR(w, &t->parents[i].ns);
		STR(w, &t->parents[i].name);
		STR(w, &t->parents[i].section);
	}
	CLOSE(w, t->parents, t->nparents);
	walk_strv(w, &t->hostnames, &t->nhostnames);
	OPEN(w, t->rules, t->nrules);
	for (i = 0; i < t->nrules; i++)
		walk_rule(w, &t->rules[i]);
	CLOSE(w, t->rules, t->nrules);
}

static void walk_service(struct m_walk *w, void *o)
{
	struct m_service *s = o;
	size_t i;

	walk_meta(w, &s->meta);
	walk_labels(w, &s->selector, &s->nselector);
	STR(w, &s->type);
	walk_strv(w, &s->lb_ips, &s->nlb_ips);
	OPEN(w, s->ports, s->nports);
	for (i = 0; i < s->nports; i++) {
		STR(w, &s->ports[i].name);
		STR(w, &s->ports[i].target_name);
		STR(w, &s->ports[i].protocol);
	}
	CLOSE(w, s->ports, s->nports);
}

static void walk_slice(struct m_walk *w, void *o)
{
	struct m_endpointslice *s = o;
	size_t i;

	walk_meta(w, &s->meta);
	STR(w, &s->service);
	STR(w, &s->address_type);
	OPEN(w, s->endpoints, s->nendpoints);
	for (i = 0; i < s->nendpoints; i++)
		walk_strv(w, &s->endpoints[i].addresses,
			  &s->endpoints[i].naddresses);
	CLOSE(w, s->endpoints, s->nendpoints);
	OPEN(w, s->ports, s->nports);
	for (i = 0; i < s->nports; i++) {
		STR(w, &s->ports[i].name);
		STR(w, &s->ports[i].protocol);
	}
	CLOSE(w, s->ports, s->nports);
}

static void walk_pod(struct m_walk *w, void *o)
{
	struct m_pod *p = o;
	size_t i;

	walk_meta(w, &p->meta);
	walk_strv(w, &p->ips, &p->nips);
	STR(w, &p->node_name);
	OPEN(w, p->ports, p->nports);
	for (i = 0; i < p->nports; i++) {
		STR(w, &p->ports[i].name);
		STR(w, &p->ports[i].protocol);
	}
	CLOSE(w, p->ports, p->nports);
}

static void walk_grant(struct m_walk *w, void *o)
{
	struct m_refgrant *g = o;
	size_t i;

	walk_meta(w, &g->meta);
	OPEN(w, g->from, g->nfrom);
	for (i = 0; i < g->nfrom; i++) {
		STR(w, &g->from[i].group);
		STR(w, &g->from[i].kind);
		STR(w, &g->from[i].ns);
	}
	CLOSE(w, g->from, g->nfrom);
	OPEN(w, g->to, g->nto);
	for (i = 0; i < g->nto; i++) {
		STR(w, &g->to[i].group);
		STR(w, &g->to[i].kind);
		STR(w, &g->to[i].name);
	}
	CLOSE(w, g->to, g->nto);
}

static void walk_diag(struct m_walk *w, void *o)
{
	struct m_diag *d = o;

	STR(w, &d->file);
	STR(w, &d->field);
	STR(w, &d->msg);
	STR(w, &d->kind);
	STR(w, &d->ns);
	STR(w, &d->name);
}

/* The free walker: every string, every array after its elements. */
static void free_str(struct m_walk *w, char **s)
{
	(void)w;
	free(*s);
}

static void free_arr(struct m_walk *w, void *arrp, size_t *n, size_t size,
		     int after)
{
	void *a;

	(void)w, (void)n, (void)size;
	if (!after)
		return;
	memcpy(&a, arrp, sizeof(a));
	free(a);
}

/*
 * The copy walker, on a memcpy of the object: every pointer replaced by a
 * copy, or by NULL (an array's count then 0) when out of memory, so that
 * model_free() of a partial copy frees only what is its own.
 */
static void copy_str(struct m_walk *w, char **s)
{
	if (*s && !(*s = strdup(*s)))
		w->oom = 1;
}

static void copy_arr(struct m_walk *w, void *arrp, size_t *n, size_t size,
		     int after)
{
	char *a, *c = NULL;

	if (after)
		return;
	memcpy(&a, arrp, sizeof(a));
	if (*n && (c = malloc(*n * size)))
		memcpy(c, a, *n * size);
	else if (*n)
		w->oom = 1;
	if (!c)
		*n = 0;
	memcpy(arrp, &c, sizeof(c));
}

/* --- the kinds -------------------------------------------------------- */

static const char *const v_core[] = { "v1", NULL };
static const char *const v_gw[] = { "v1", "v1beta1", NULL };
static const char *const v_route[] = { "v1", "v1alpha3", "v1alpha2", NULL };
static const char *const v_grant[] = { "v1beta1", "v1", "v1alpha2", NULL };

#define ARRAY(field) .arr = offsetof(struct model, field),		\
		     .count = offsetof(struct model, n##field),		\
		     .size = sizeof(*((struct model *)0)->field)

const struct m_kind m_kinds[M_NKINDS] = {
	[M_NAMESPACE] = { "Namespace", "", "namespaces", v_core,
		.label_name = 1, ARRAY(namespaces), .walk = walk_namespace },
	[M_GATEWAYCLASS] = { "GatewayClass", GW_GROUP, "gatewayclasses",
		v_gw, .crd = 1, ARRAY(classes), .walk = walk_class },
	[M_GATEWAY] = { "Gateway", GW_GROUP, "gateways", v_gw, .crd = 1,
		.namespaced = 1, ARRAY(gateways), .walk = walk_gateway },
	[M_TLSROUTE] = { "TLSRoute", GW_GROUP, "tlsroutes", v_route,
		.crd = 1, .namespaced = 1, ARRAY(routes), .walk = walk_route },
	[M_SERVICE] = { "Service", "", "services", v_core, .namespaced = 1,
		ARRAY(services), .walk = walk_service },
	[M_ENDPOINTSLICE] = { "EndpointSlice", "discovery.k8s.io",
		"endpointslices", v_core, .namespaced = 1, ARRAY(slices),
		.walk = walk_slice },
	[M_POD] = { "Pod", "", "pods", v_core, .namespaced = 1, ARRAY(pods),
		.walk = walk_pod },
	[M_REFERENCEGRANT] = { "ReferenceGrant", GW_GROUP, "referencegrants",
		v_grant, .crd = 1, .namespaced = 1, ARRAY(grants),
		.walk = walk_grant },
};

/* The diags: an array of struct model like the kinds', of no kind. */
static const struct m_kind diag_array = { ARRAY(diags), .walk = walk_diag };

#define NARRAYS		(M_NKINDS + 1)

static const struct m_kind *array_at(size_t i)
{
	return i < M_NKINDS ? &m_kinds[i] : &diag_array;
}

const struct m_kind *model_kind(const char *name)
{
	size_t i;

	for (i = 0; i < M_NKINDS; i++)
		if (!strcmp(m_kinds[i].name, name))
			return &m_kinds[i];
	return NULL;
}

/* The arrays are read and written as bytes: they are pointers of
 * different types. */
static char *arr_get(const struct model *m, const struct m_kind *k)
{
	char *p;

	memcpy(&p, (const char *)m + k->arr, sizeof(p));
	return p;
}

static void arr_set(struct model *m, const struct m_kind *k, char *p)
{
	memcpy((char *)m + k->arr, &p, sizeof(p));
}

static size_t *arr_count(const struct model *m, const struct m_kind *k)
{
	return (size_t *)((char *)m + k->count);
}

void *model_array(struct model *m, const struct m_kind *k, size_t **n)
{
	*n = arr_count(m, k);
	return arr_get(m, k);
}

/* Room for @n more elements at the end of @k's array in @m: where they
 * go (not counted yet), or NULL. */
static char *arr_grow(struct model *m, const struct m_kind *k, size_t n)
{
	size_t cnt = *arr_count(m, k);
	char *a = reallocarray(arr_get(m, k), cnt + n, k->size);

	if (!a)
		return NULL;
	arr_set(m, k, a);
	return a + cnt * k->size;
}

/* Append @n elements at @src to @k's array in @m: 0 or -ENOMEM. */
static int arr_append(struct model *m, const struct m_kind *k,
		      const char *src, size_t n)
{
	char *to;

	if (!n)
		return 0;
	to = arr_grow(m, k, n);
	if (!to)
		return -ENOMEM;
	memcpy(to, src, n * k->size);
	*arr_count(m, k) += n;
	return 0;
}

/* --- operations ------------------------------------------------------- */

void model_free_object(const struct m_kind *k, void *obj)
{
	struct m_walk w = { .str = free_str, .arr = free_arr };

	k->walk(&w, obj);
}

void model_free(struct model *m)
{
	size_t i, j;

	for (i = 0; i < NARRAYS; i++) {
		const struct m_kind *k = array_at(i);
		char *a = arr_get(m, k);

		for (j = 0; j < *arr_count(m, k); j++)
			model_free_object(k, a + j * k->size);
	}
	model_free_shallow(m);
}

void model_free_shallow(struct model *m)
{
	size_t i;

	for (i = 0; i < NARRAYS; i++)
		free(arr_get(m, array_at(i)));
	memset(m, 0, sizeof(*m));
}

int model_append(struct model *m, const struct m_kind *k, const void *obj)
{
	return arr_append(m, k, obj, 1);
}

int model_absorb(struct model *dst, struct model *src)
{
	size_t i, j;
	int ret = 0;

	for (i = 0; i < NARRAYS; i++) {
		const struct m_kind *k = array_at(i);
		char *a = arr_get(src, k);
		size_t n = *arr_count(src, k);

		if (arr_append(dst, k, a, n)) {
			for (j = 0; j < n; j++)
				model_free_object(k, a + j * k->size);
			ret = -ENOMEM;
		}
	}
	model_free_shallow(src);
	return ret;
}

int model_concat_shallow(struct model *dst, const struct model *src)
{
	size_t i;

	for (i = 0; i < NARRAYS; i++)
		if (arr_append(dst, array_at(i), arr_get(src, array_at(i)),
			       *arr_count(src, array_at(i))))
			return -ENOMEM;
	return 0;
}

/* Copies of @k's objects of every @src at the end of @dst's array. */
static int copy_array(struct model *dst, const struct m_kind *k,
		      const struct model *const *src, size_t nsrc)
{
	struct m_walk w = { .str = copy_str, .arr = copy_arr };
	size_t total = 0, i, j, *cnt = arr_count(dst, k);
	char *to;

	for (i = 0; i < nsrc; i++)
		total += *arr_count(src[i], k);
	if (!total)
		return 0;
	to = arr_grow(dst, k, total);
	if (!to)
		return -ENOMEM;
	for (i = 0; i < nsrc; i++) {
		const char *a = arr_get(src[i], k);

		for (j = 0; j < *arr_count(src[i], k); j++) {
			memcpy(to, a + j * k->size, k->size);
			k->walk(&w, to);
			to += k->size;
			(*cnt)++;
		}
	}
	return w.oom ? -ENOMEM : 0;
}

int model_copy(struct model *dst, const struct model *const *src, size_t n)
{
	size_t i;

	for (i = 0; i < NARRAYS; i++)
		if (copy_array(dst, array_at(i), src, n))
			return -ENOMEM;
	return 0;
}

static int same(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

int model_move_object(struct model *dst, struct model *src, const char *kind,
		      const char *ns, const char *name)
{
	const struct m_kind *k = model_kind(kind);
	size_t i, *n;
	char *a;

	if (!k)
		return -ENOENT;
	a = arr_get(src, k);
	n = arr_count(src, k);
	for (i = 0; i < *n; i++) {
		struct m_meta *meta = (struct m_meta *)(a + i * k->size);

		if (!same(meta->ns, ns) || !same(meta->name, name))
			continue;
		if (arr_append(dst, k, (char *)meta, 1))
			return -ENOMEM;
		memmove(meta, (char *)meta + k->size,
			(*n - i - 1) * k->size);
		if (!--*n) {
			free(a);
			arr_set(src, k, NULL);
		}
		return 0;
	}
	return -ENOENT;
}

int model_add_diag(struct model *m, const char *file, int line,
		   const char *field, const char *msg, const char *kind,
		   const char *ns, const char *name)
{
	struct m_diag *a = reallocarray(m->diags, m->ndiags + 1, sizeof(*a));
	struct m_diag *g;

	if (!a)
		return -ENOMEM;
	m->diags = a;
	g = &a[m->ndiags];
	memset(g, 0, sizeof(*g));
	g->line = line;
	g->file = strdup(file);
	g->msg = strdup(msg);
	g->field = field ? strdup(field) : NULL;
	g->kind = kind ? strdup(kind) : NULL;
	g->ns = ns ? strdup(ns) : NULL;
	g->name = name ? strdup(name) : NULL;
	m->ndiags++;
	if (!g->file || !g->msg || (field && !g->field) ||
	    (kind && !g->kind) || (ns && !g->ns) || (name && !g->name))
		return -ENOMEM;
	return 0;
}

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * YAML manifests -> struct model, with libyaml's document API (it resolves
 * anchors and aliases, and keeps every node's line).
 *
 * A stream is decoded into a model of its own and moved into the caller's
 * only when the whole stream parsed, so that a syntax error in the third
 * document does not leave the first two half-applied.
 *
 * An object is decoded into a zeroed struct; every invalid field adds a
 * diag and the decoder carries on, so that one run names every problem of
 * the object. An object with any diag is freed instead of appended.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "manifest.h"
#include "validate.h"

#define FIELD_MAX	256	/* longest field path kept in a diag */
#define MSG_MAX		512
#define WALK_DEPTH	64	/* deeper nesting is not looked at */
#define FILE_MAX	(64 << 20)

struct dec {
	const char *file;
	yaml_document_t *doc;
	struct model *m;	/* this stream's objects and diags */
	/* The object being decoded, named in its diags. */
	const char *kind, *ns, *name;
	const char *api_version;
	int line;		/* its `kind:` line, for fields it lacks */
	int errors;		/* diags about it so far */
	int oom;
};

/* --- allocation ------------------------------------------------------- */

static char *sdup(struct dec *d, const char *s)
{
	char *c = strdup(s);

	if (!c)
		d->oom = 1;
	return c;
}

/*
 * One more zeroed element at the end of the array whose pointer is at
 * @arrp (of @*n elements of @size), counted in @*n: a pointer to it, or
 * NULL when out of memory (the array unchanged). The array pointer is
 * read and written as bytes: it is of any element type.
 */
static void *append(struct dec *d, void *arrp, size_t *n, size_t size)
{
	char *a, *p;

	memcpy(&a, arrp, sizeof(a));
	p = reallocarray(a, *n + 1, size);
	if (!p) {
		d->oom = 1;
		return NULL;
	}
	memcpy(arrp, &p, sizeof(p));
	memset(p + *n * size, 0, size);
	return p + (*n)++ * size;
}

#define APPEND(d, arr, n) append((d), &(arr), &(n), sizeof(*(arr)))

/* --- diags ------------------------------------------------------------ */

/* A problem with field @field of the current object. */
__attribute__((format(printf, 4, 5)))
static void diag(struct dec *d, int line, const char *field,
		 const char *fmt, ...)
{
	char msg[MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	d->errors++;
	if (model_add_diag(d->m, d->file, line, field, msg, d->kind, d->ns,
		     d->name))
		d->oom = 1;
}

/* --- YAML nodes ------------------------------------------------------- */

/* What a scalar is, resolved as kubectl's YAML 1.1 (go-yaml v2) does:
 * only plain scalars are ever anything but strings. */
enum sclass { SC_NULL, SC_BOOL, SC_INT, SC_FLOAT, SC_STR };

static const char *const yaml_nulls[] = { "", "~", "null", "Null", "NULL",
					  NULL };
static const char *const yaml_trues[] = { "true", "True", "TRUE", "yes",
					  "Yes", "YES", "y", "Y", "on", "On",
					  "ON", NULL };
static const char *const yaml_falses[] = { "false", "False", "FALSE", "no",
					   "No", "NO", "n", "N", "off", "Off",
					   "OFF", NULL };

static int in_list(const char *s, const char *const *l)
{
	for (; *l; l++)
		if (!strcmp(s, *l))
			return 1;
	return 0;
}

/* Decimal, 0x hex or 0-led octal, as go-yaml v2's ParseInt(s, 0, 64). */
static int int_text(const char *s, long long *v)
{
	char *end;

	if (!(*s == '-' || *s == '+' || (*s >= '0' && *s <= '9')))
		return 0;
	errno = 0;
	*v = strtoll(s, &end, 0);
	return end != s && !*end;
}

static int digits(const char **s)
{
	const char *p = *s;

	while (**s >= '0' && **s <= '9')
		(*s)++;
	return *s != p;
}

/* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?, .inf, .nan */
static int float_text(const char *s)
{
	static const char *const special[] = { ".inf", ".Inf", ".INF",
		"+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", ".nan",
		".NaN", ".NAN", NULL };
	int n;

	if (in_list(s, special))
		return 1;
	if (*s == '-' || *s == '+')
		s++;
	n = digits(&s);
	if (*s == '.') {
		s++;
		n |= digits(&s);
	}
	if (!n)
		return 0;
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '-' || *s == '+')
			s++;
		if (!digits(&s))
			return 0;
	}
	return !*s;
}

static const char *text(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

static enum sclass sclass(const yaml_node_t *n)
{
	const char *s = text(n);
	long long v;

	if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return SC_STR;
	if (in_list(s, yaml_nulls))
		return SC_NULL;
	if (in_list(s, yaml_trues) || in_list(s, yaml_falses))
		return SC_BOOL;
	if (int_text(s, &v))
		return SC_INT;
	if (float_text(s))
		return SC_FLOAT;
	return SC_STR;
}

static int is_scalar(const yaml_node_t *n, enum sclass c)
{
	return n->type == YAML_SCALAR_NODE && sclass(n) == c;
}

/* "a map", "an integer", ...: what a diag says it found. */
static const char *what(const yaml_node_t *n)
{
	static const char *const names[] = {
		[SC_NULL] = "null", [SC_BOOL] = "a boolean",
		[SC_INT] = "an integer", [SC_FLOAT] = "a number",
		[SC_STR] = "a string",
	};

	if (n->type == YAML_MAPPING_NODE)
		return "a map";
	if (n->type == YAML_SEQUENCE_NODE)
		return "a list";
	return names[sclass(n)];
}

static yaml_node_t *node(struct dec *d, int i)
{
	return yaml_document_get_node(d->doc, i);
}

static int line_of(const yaml_node_t *n)
{
	return (int)n->start_mark.line + 1;
}

static size_t seq_len(const yaml_node_t *n)
{
	return (size_t)(n->data.sequence.items.top -
			n->data.sequence.items.start);
}

static yaml_node_t *seq_item(struct dec *d, const yaml_node_t *n, size_t i)
{
	return node(d, n->data.sequence.items.start[i]);
}

static yaml_node_pair_t *lookup_pair(struct dec *d, yaml_node_t *map,
				     const char *key)
{
	yaml_node_pair_t *p;

	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node(d, p->key);

		if (k->type == YAML_SCALAR_NODE && !strcmp(text(k), key))
			return p;
	}
	return NULL;
}

/* The value of @key in @map; NULL when absent or null (as for kubectl). */
static yaml_node_t *lookup(struct dec *d, yaml_node_t *map, const char *key)
{
	yaml_node_pair_t *p = lookup_pair(d, map, key);
	yaml_node_t *v = p ? node(d, p->value) : NULL;

	if (v && is_scalar(v, SC_NULL))
		return NULL;
	return v;
}

/* A string value without diags (to name an object before checking it). */
static const char *peek_str(struct dec *d, yaml_node_t *map, const char *key)
{
	yaml_node_t *n = lookup(d, map, key);

	return n && is_scalar(n, SC_STR) ? text(n) : NULL;
}

/* --- field paths and typed values ------------------------------------- */

/* @pre.@key, or @pre[@i], into @out (FIELD_MAX): a path too long is cut,
 * which still names the field well enough. */
static const char *join(char *out, const char *pre, const char *key)
{
	if (snprintf(out, FIELD_MAX, "%s%s%s", pre, *pre ? "." : "", key) < 0)
		*out = 0;
	return out;
}

static const char *joini(char *out, const char *pre, size_t i)
{
	if (snprintf(out, FIELD_MAX, "%s[%zu]", pre, i) < 0)
		*out = 0;
	return out;
}

static int type_err(struct dec *d, const yaml_node_t *n, const char *path,
		    const char *want)
{
	diag(d, line_of(n), path, "expected %s, found %s", want, what(n));
	return -1;
}

/* @n as a string (a copy in *@out): 0, or -1 with a diag. */
static int val_str(struct dec *d, yaml_node_t *n, const char *path,
		   char **out)
{
	if (!is_scalar(n, SC_STR))
		return type_err(d, n, path, "a string");
	if (strlen(text(n)) != n->data.scalar.length) {
		diag(d, line_of(n), path, "a string with a NUL character");
		return -1;
	}
	free(*out);
	*out = sdup(d, text(n));
	return *out ? 0 : -1;
}

static int val_int(struct dec *d, yaml_node_t *n, const char *path,
		   long long *out)
{
	if (!is_scalar(n, SC_INT))
		return type_err(d, n, path, "an integer");
	int_text(text(n), out);
	return 0;
}

/* Field @key of @map (@pre its path): 1 when present and valid, 0 when
 * absent or null, -1 when invalid (with a diag). */
static int f_str(struct dec *d, yaml_node_t *map, const char *pre,
		 const char *key, char **out)
{
	char path[FIELD_MAX];
	yaml_node_t *n = lookup(d, map, key);

	if (!n)
		return 0;
	return val_str(d, n, join(path, pre, key), out) ? -1 : 1;
}

static int f_int(struct dec *d, yaml_node_t *map, const char *pre,
		 const char *key, long long lo, long long hi, long long *out)
{
	char path[FIELD_MAX];
	yaml_node_t *n = lookup(d, map, key);

	if (!n)
		return 0;
	join(path, pre, key);
	if (val_int(d, n, path, out))
		return -1;
	if (*out < lo || *out > hi || errno == ERANGE) {
		diag(d, line_of(n), path, "%s %s is out of range %lld..%lld",
		     key, text(n), lo, hi);
		return -1;
	}
	return 1;
}

static int f_port(struct dec *d, yaml_node_t *map, const char *pre,
		  const char *key, uint16_t *out)
{
	long long v;
	int r = f_int(d, map, pre, key, 1, 65535, &v);

	if (r > 0)
		*out = (uint16_t)v;
	return r;
}

static int f_bool(struct dec *d, yaml_node_t *map, const char *pre,
		  const char *key, enum m_tristate *out)
{
	char path[FIELD_MAX];
	yaml_node_t *n = lookup(d, map, key);

	if (!n)
		return 0;
	if (!is_scalar(n, SC_BOOL))
		return type_err(d, n, join(path, pre, key), "a boolean");
	*out = in_list(text(n), yaml_trues) ? M_TRUE : M_FALSE;
	return 1;
}

static yaml_node_t *f_typed(struct dec *d, yaml_node_t *map, const char *pre,
			    const char *key, yaml_node_type_t type,
			    const char *want)
{
	char path[FIELD_MAX];
	yaml_node_t *n = lookup(d, map, key);

	if (!n)
		return NULL;
	if (n->type != type) {
		type_err(d, n, join(path, pre, key), want);
		return NULL;
	}
	return n;
}

/* The map or list in field @key; NULL when absent or not one (a diag). */
static yaml_node_t *f_map(struct dec *d, yaml_node_t *map, const char *pre,
			  const char *key)
{
	return f_typed(d, map, pre, key, YAML_MAPPING_NODE, "a map");
}

static yaml_node_t *f_seq(struct dec *d, yaml_node_t *map, const char *pre,
			  const char *key)
{
	return f_typed(d, map, pre, key, YAML_SEQUENCE_NODE, "a list");
}

/* @got is what f_*() returned for the required field @key of @map. */
static void required(struct dec *d, yaml_node_t *map, const char *pre,
		     const char *key, int got)
{
	char path[FIELD_MAX];

	if (got)
		return;
	diag(d, map ? line_of(map) : d->line, join(path, pre, key),
	     "%s is required", key);
}

/* A diag about the (present) value of @key in @map. */
__attribute__((format(printf, 5, 6)))
static void bad(struct dec *d, yaml_node_t *map, const char *pre,
		const char *key, const char *fmt, ...)
{
	char path[FIELD_MAX], msg[MSG_MAX];
	yaml_node_t *n = lookup(d, map, key);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diag(d, n ? line_of(n) : d->line, join(path, pre, key), "%s", msg);
}

/* A string that must be one of @allowed, e.g. a TLS mode. */
static int f_oneof(struct dec *d, yaml_node_t *map, const char *pre,
		   const char *key, const char *what,
		   const char *const *allowed, char **out)
{
	char list[MSG_MAX] = "";
	const char *const *a;
	int r = f_str(d, map, pre, key, out);

	if (r <= 0 || in_list(*out, allowed))
		return r;
	for (a = allowed; *a; a++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list),
			 "%s%s", a == allowed ? "" : ", ", *a);
	bad(d, map, pre, key, "\"%s\" is not %s (%s)", *out, what, list);
	return -1;
}

/* The map at list item @n (path @path); 0 with a diag when it is not. */
static int item_map(struct dec *d, yaml_node_t *n, const char *path)
{
	if (n->type == YAML_MAPPING_NODE)
		return 1;
	type_err(d, n, path, "a map");
	return 0;
}

/* --- common pieces ---------------------------------------------------- */

static const char *const protocols[] = { "TCP", "UDP", "SCTP", NULL };

/* A map of strings (labels, a selector) into @out. */
static void dec_labels(struct dec *d, yaml_node_t *map, const char *path,
		       struct m_label **out, size_t *n)
{
	char kpath[FIELD_MAX];
	yaml_node_pair_t *p;

	for (p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node(d, p->key), *v = node(d, p->value);
		struct m_label *l;

		if (k->type != YAML_SCALAR_NODE) {
			type_err(d, k, path, "a string key");
			continue;
		}
		join(kpath, path, text(k));
		/* A null value is "" to kubectl; anything else not a string
		 * is refused by the API server. */
		if (!is_scalar(v, SC_NULL) && !is_scalar(v, SC_STR)) {
			type_err(d, v, kpath, "a string");
			continue;
		}
		l = APPEND(d, *out, *n);
		if (!l)
			return;
		l->key = sdup(d, text(k));
		l->value = sdup(d, is_scalar(v, SC_NULL) ? "" : text(v));
	}
}

static void dec_sel_expr(struct dec *d, yaml_node_t *n, const char *pre,
			 struct m_sel_expr *e)
{
	static const char *const ops[] = { "In", "NotIn", "Exists",
					   "DoesNotExist", NULL };
	char *op = NULL, path[FIELD_MAX], vpath[FIELD_MAX];
	yaml_node_t *vals;
	size_t i;
	int r;

	required(d, n, pre, "key", f_str(d, n, pre, "key", &e->key));
	r = f_oneof(d, n, pre, "operator", "a selector operator", ops, &op);
	required(d, n, pre, "operator", r);
	if (r > 0) {
		for (i = 0; strcmp(ops[i], op); i++)
			;
		e->op = (enum m_sel_op)i;
	}
	free(op);
	vals = f_seq(d, n, pre, "values");
	join(path, pre, "values");
	for (i = 0; vals && i < seq_len(vals); i++) {
		char **v = APPEND(d, e->values, e->nvalues);

		if (!v)
			return;
		val_str(d, seq_item(d, vals, i), joini(vpath, path, i), v);
	}
	if (r <= 0)
		return;
	if ((e->op == M_SEL_IN || e->op == M_SEL_NOT_IN) && !e->nvalues)
		diag(d, line_of(n), path, "%s needs at least one value",
		     ops[e->op]);
	if ((e->op == M_SEL_EXISTS || e->op == M_SEL_NOT_EXIST) && e->nvalues)
		diag(d, line_of(n), path, "%s takes no values",
		     ops[e->op]);
}

static void dec_selector(struct dec *d, yaml_node_t *n, const char *pre,
			 struct m_selector *s)
{
	char path[FIELD_MAX], ipath[FIELD_MAX];
	yaml_node_t *ml = f_map(d, n, pre, "matchLabels");
	yaml_node_t *me = f_seq(d, n, pre, "matchExpressions");
	size_t i;

	if (ml)
		dec_labels(d, ml, join(path, pre, "matchLabels"), &s->match,
			   &s->nmatch);
	join(path, pre, "matchExpressions");
	for (i = 0; me && i < seq_len(me); i++) {
		yaml_node_t *it = seq_item(d, me, i);
		struct m_sel_expr *e;

		joini(ipath, path, i);
		if (!item_map(d, it, ipath))
			continue;
		e = APPEND(d, s->exprs, s->nexprs);
		if (!e)
			return;
		dec_sel_expr(d, it, ipath, e);
	}
}

/* Every string of list @key of @map into @out; returns the list. */
static yaml_node_t *dec_strv(struct dec *d, yaml_node_t *map, const char *pre,
			     const char *key, char ***out, size_t *n)
{
	char path[FIELD_MAX], ipath[FIELD_MAX];
	yaml_node_t *seq = f_seq(d, map, pre, key);
	size_t i;

	join(path, pre, key);
	for (i = 0; seq && i < seq_len(seq); i++) {
		char **s = APPEND(d, *out, *n);

		if (!s)
			break;
		val_str(d, seq_item(d, seq, i), joini(ipath, path, i), s);
	}
	return seq;
}

/* Default @s to @def when the manifest had none. */
static void dflt(struct dec *d, char **s, const char *def)
{
	if (!*s)
		*s = sdup(d, def);
}

/*
 * Calls @fn on every item of list @key of @map that is a map, with its
 * path, after appending a zeroed element for it to @arr.
 */
#define FOR_ITEMS(d, map, pre, key, arr, n, fn) do {			\
	char path_[FIELD_MAX], ipath_[FIELD_MAX];			\
	yaml_node_t *seq_ = f_seq((d), (map), (pre), (key));		\
	size_t i_;							\
									\
	join(path_, (pre), (key));					\
	for (i_ = 0; seq_ && i_ < seq_len(seq_); i_++) {		\
		yaml_node_t *it_ = seq_item((d), seq_, i_);		\
		void *e_;						\
									\
		joini(ipath_, path_, i_);				\
		if (!item_map((d), it_, ipath_))			\
			continue;					\
		e_ = APPEND((d), (arr), (n));				\
		if (!e_)						\
			break;						\
		fn((d), it_, ipath_, e_);				\
	}								\
} while (0)

/* --- the kinds -------------------------------------------------------- */

static void dec_namespace(struct dec *d, yaml_node_t *obj, void *out)
{
	(void)d;
	(void)obj;
	(void)out;
}

static void dec_class(struct dec *d, yaml_node_t *obj, void *out)
{
	struct m_gatewayclass *c = out;
	yaml_node_t *spec = f_map(d, obj, "", "spec");

	required(d, spec, "spec", "controllerName",
		 f_str(d, spec, "spec", "controllerName", &c->controller));
}

static void dec_address(struct dec *d, yaml_node_t *n, const char *pre,
			struct m_address *a)
{
	int r = f_str(d, n, pre, "value", &a->value);

	f_str(d, n, pre, "type", &a->type);
	dflt(d, &a->type, "IPAddress");
	required(d, n, pre, "value", r);
	if (r > 0 && a->type && !strcmp(a->type, "IPAddress") &&
	    !valid_ip(a->value))
		bad(d, n, pre, "value", "\"%s\" is not an IP address",
		    a->value);
}

static void dec_route_kind(struct dec *d, yaml_node_t *n, const char *pre,
			   struct m_route_kind *k)
{
	required(d, n, pre, "kind", f_str(d, n, pre, "kind", &k->kind));
	f_str(d, n, pre, "group", &k->group);
	dflt(d, &k->group, GW_GROUP);
}

/* Gateway API SectionName: an RFC 1123 subdomain. */
static void check_section(struct dec *d, yaml_node_t *n, const char *pre,
			  const char *key, const char *s)
{
	if (!valid_dns_subdomain(s))
		bad(d, n, pre, key,
		    "\"%s\" is not a valid section name (lower-case RFC 1123: a-z, 0-9, '-', '.')",
		    s);
}

static void check_hostname(struct dec *d, int line, const char *path,
			   const char *h)
{
	if (!valid_hostname(h, 1))
		diag(d, line, path,
		     "\"%s\" is not a valid hostname (lower-case RFC 1123, optional leading \"*.\")",
		     h);
}

/* allowedRoutes (@ar, at @path) of listener @l. */
static void dec_allowed(struct dec *d, yaml_node_t *ar, const char *path,
			struct m_listener *l)
{
	static const char *const froms[] = { "Same", "All", "Selector", NULL };
	char npath[FIELD_MAX], spath[FIELD_MAX];
	yaml_node_t *ns, *sel;
	char *from = NULL;

	FOR_ITEMS(d, ar, path, "kinds", l->kinds, l->nkinds, dec_route_kind);
	ns = f_map(d, ar, path, "namespaces");
	if (!ns)
		return;
	join(npath, path, "namespaces");
	if (f_oneof(d, ns, npath, "from", "a namespace source", froms,
		    &from) > 0)
		l->from = !strcmp(from, "All") ? M_FROM_ALL :
			  !strcmp(from, "Selector") ? M_FROM_SELECTOR :
			  M_FROM_SAME;
	free(from);
	sel = f_map(d, ns, npath, "selector");
	if (sel)
		dec_selector(d, sel, join(spath, npath, "selector"),
			     &l->selector);
	if (l->from == M_FROM_SELECTOR && !sel)
		bad(d, ns, npath, "from",
		    "from: Selector needs a selector");
}

static void dec_listener(struct dec *d, yaml_node_t *n, const char *pre,
			 struct m_listener *l)
{
	static const char *const modes[] = { "Passthrough", "Terminate",
					     NULL };
	char path[FIELD_MAX];
	yaml_node_t *tls, *ar;
	int r;

	l->line = line_of(n);
	r = f_str(d, n, pre, "name", &l->name);
	required(d, n, pre, "name", r);
	if (r > 0)
		check_section(d, n, pre, "name", l->name);
	if (f_str(d, n, pre, "hostname", &l->hostname) > 0)
		check_hostname(d, line_of(lookup(d, n, "hostname")),
			       join(path, pre, "hostname"), l->hostname);
	required(d, n, pre, "port", f_port(d, n, pre, "port", &l->port));
	required(d, n, pre, "protocol",
		 f_str(d, n, pre, "protocol", &l->protocol));
	tls = f_map(d, n, pre, "tls");
	if (tls) {
		/* The CRD's default when tls is given without a mode. */
		f_oneof(d, tls, join(path, pre, "tls"), "mode", "a TLS mode",
			modes, &l->tls_mode);
		dflt(d, &l->tls_mode, "Terminate");
	}
	ar = f_map(d, n, pre, "allowedRoutes");
	if (ar)
		dec_allowed(d, ar, join(path, pre, "allowedRoutes"), l);
}

static void dec_gateway(struct dec *d, yaml_node_t *obj, void *out)
{
	struct m_gateway *g = out;
	yaml_node_t *spec = f_map(d, obj, "", "spec");

	required(d, spec, "spec", "gatewayClassName",
		 f_str(d, spec, "spec", "gatewayClassName", &g->class));
	FOR_ITEMS(d, spec, "spec", "addresses", g->addresses, g->naddresses,
		  dec_address);
	FOR_ITEMS(d, spec, "spec", "listeners", g->listeners, g->nlisteners,
		  dec_listener);
	if (!lookup(d, spec, "listeners"))
		required(d, spec, "spec", "listeners", 0);
}

static void check_ns(struct dec *d, yaml_node_t *n, const char *pre,
		     const char *key, const char *ns)
{
	if (ns && !valid_dns_label(ns))
		bad(d, n, pre, key,
		    "\"%s\" is not a valid namespace (lower-case RFC 1123 label)",
		    ns);
}

static void dec_parent(struct dec *d, yaml_node_t *n, const char *pre,
		       struct m_parent_ref *p)
{
	p->line = line_of(n);
	required(d, n, pre, "name", f_str(d, n, pre, "name", &p->name));
	f_str(d, n, pre, "group", &p->group);
	dflt(d, &p->group, GW_GROUP);
	f_str(d, n, pre, "kind", &p->kind);
	dflt(d, &p->kind, "Gateway");
	if (f_str(d, n, pre, "namespace", &p->ns) > 0)
		check_ns(d, n, pre, "namespace", p->ns);
	if (f_str(d, n, pre, "sectionName", &p->section) > 0)
		check_section(d, n, pre, "sectionName", p->section);
	f_port(d, n, pre, "port", &p->port);
}

static void dec_backend(struct dec *d, yaml_node_t *n, const char *pre,
			struct m_backend_ref *b)
{
	long long w;

	b->line = line_of(n);
	required(d, n, pre, "name", f_str(d, n, pre, "name", &b->name));
	f_str(d, n, pre, "group", &b->group);
	dflt(d, &b->group, "");
	f_str(d, n, pre, "kind", &b->kind);
	dflt(d, &b->kind, "Service");
	if (f_str(d, n, pre, "namespace", &b->ns) > 0)
		check_ns(d, n, pre, "namespace", b->ns);
	f_port(d, n, pre, "port", &b->port);
	b->weight = 1;
	if (f_int(d, n, pre, "weight", 0, 1000000, &w) > 0)
		b->weight = (int32_t)w;
}

static void dec_rule(struct dec *d, yaml_node_t *n, const char *pre,
		     struct m_rule *r)
{
	r->line = line_of(n);
	FOR_ITEMS(d, n, pre, "backendRefs", r->refs, r->nrefs, dec_backend);
}

static void dec_route(struct dec *d, yaml_node_t *obj, void *out)
{
	struct m_tlsroute *t = out;
	yaml_node_t *spec = f_map(d, obj, "", "spec"), *hs;
	char path[FIELD_MAX];
	size_t i;

	if (d->api_version)	/* else a diag already */
		t->api_version = sdup(d, d->api_version);
	FOR_ITEMS(d, spec, "spec", "parentRefs", t->parents, t->nparents,
		  dec_parent);
	hs = dec_strv(d, spec, "spec", "hostnames", &t->hostnames,
		      &t->nhostnames);
	for (i = 0; hs && i < t->nhostnames; i++)
		if (t->hostnames[i])
			check_hostname(d, line_of(seq_item(d, hs, i)),
				       joini(path, "spec.hostnames", i),
				       t->hostnames[i]);
	FOR_ITEMS(d, spec, "spec", "rules", t->rules, t->nrules, dec_rule);
}

/* targetPort: a number, or the name of a Pod's port. */
static void dec_target_port(struct dec *d, yaml_node_t *n, const char *pre,
			    struct m_svc_port *p)
{
	yaml_node_t *v = lookup(d, n, "targetPort");
	const char *s;
	long port;

	if (!v || !is_scalar(v, SC_STR)) {
		f_port(d, n, pre, "targetPort", &p->target_port);
		return;
	}
	s = text(v);
	/* A quoted number is a number to kubectl's int-or-string too. */
	if (*s && strspn(s, "0123456789") == strlen(s)) {
		port = strlen(s) > 5 ? 0 : strtol(s, NULL, 10);
		if (port < 1 || port > 65535)
			bad(d, n, pre, "targetPort",
			    "targetPort %s is out of range 1..65535", s);
		else
			p->target_port = (uint16_t)port;
		return;
	}
	if (f_str(d, n, pre, "targetPort", &p->target_name) > 0 &&
	    !valid_port_name(p->target_name))
		bad(d, n, pre, "targetPort",
		    "\"%s\" is not a valid port name (1-15 of a-z, 0-9, '-', with a letter)",
		    p->target_name);
}

static void dec_svc_port(struct dec *d, yaml_node_t *n, const char *pre,
			 struct m_svc_port *p)
{
	if (f_str(d, n, pre, "name", &p->name) > 0 && !valid_dns_label(p->name))
		bad(d, n, pre, "name",
		    "\"%s\" is not a valid port name (lower-case RFC 1123 label)",
		    p->name);
	required(d, n, pre, "port", f_port(d, n, pre, "port", &p->port));
	dec_target_port(d, n, pre, p);
	f_oneof(d, n, pre, "protocol", "a protocol", protocols, &p->protocol);
	dflt(d, &p->protocol, "TCP");
}

static void dec_service(struct dec *d, yaml_node_t *obj, void *out)
{
	struct m_service *s = out;
	yaml_node_t *spec = f_map(d, obj, "", "spec"), *sel;

	sel = f_map(d, spec, "spec", "selector");
	if (sel)
		dec_labels(d, sel, "spec.selector", &s->selector,
			   &s->nselector);
	/* The API server stores an empty selector as none. */
	s->has_selector = s->nselector > 0;
	FOR_ITEMS(d, spec, "spec", "ports", s->ports, s->nports,
		  dec_svc_port);
}

static void dec_endpoint(struct dec *d, yaml_node_t *n, const char *pre,
			 struct m_endpoint *e)
{
	char path[FIELD_MAX];
	yaml_node_t *c;

	e->ready = e->serving = e->terminating = M_UNSET;
	if (!dec_strv(d, n, pre, "addresses", &e->addresses, &e->naddresses))
		required(d, n, pre, "addresses", 0);
	c = f_map(d, n, pre, "conditions");
	join(path, pre, "conditions");
	f_bool(d, c, path, "ready", &e->ready);
	f_bool(d, c, path, "serving", &e->serving);
	f_bool(d, c, path, "terminating", &e->terminating);
}

static void dec_eps_port(struct dec *d, yaml_node_t *n, const char *pre,
			 struct m_eps_port *p)
{
	f_str(d, n, pre, "name", &p->name);
	f_port(d, n, pre, "port", &p->port);
	f_oneof(d, n, pre, "protocol", "a protocol", protocols, &p->protocol);
	dflt(d, &p->protocol, "TCP");
}

/* Each endpoint address must be of the slice's addressType. */
static void check_eps_addresses(struct dec *d, yaml_node_t *obj,
				struct m_endpointslice *s)
{
	yaml_node_t *eps = lookup(d, obj, "endpoints"), *addrs;
	char path[FIELD_MAX];
	unsigned char buf[16];
	size_t i, j;
	int af = !strcmp(s->address_type, "IPv4") ? AF_INET :
		 !strcmp(s->address_type, "IPv6") ? AF_INET6 : 0;

	for (i = 0; i < s->nendpoints; i++) {
		addrs = lookup(d, seq_item(d, eps, i), "addresses");
		for (j = 0; j < s->endpoints[i].naddresses; j++) {
			const char *a = s->endpoints[i].addresses[j];

			if (!a || (af ? inet_pton(af, a, buf) == 1 :
				   valid_dns_subdomain(a)))
				continue;
			snprintf(path, sizeof(path),
				 "endpoints[%zu].addresses[%zu]", i, j);
			diag(d, line_of(seq_item(d, addrs, j)), path,
			     "\"%s\" is not an %s address", a,
			     s->address_type);
		}
	}
}

static void dec_slice(struct dec *d, yaml_node_t *obj, void *out)
{
	static const char *const types[] = { "IPv4", "IPv6", "FQDN", NULL };
	struct m_endpointslice *s = out;
	size_t i;
	int r;

	for (i = 0; i < s->meta.nlabels; i++)
		if (!strcmp(s->meta.labels[i].key,
			    "kubernetes.io/service-name"))
			s->service = sdup(d, s->meta.labels[i].value);
	r = f_oneof(d, obj, "", "addressType", "an address type", types,
		    &s->address_type);
	required(d, obj, "", "addressType", r);
	FOR_ITEMS(d, obj, "", "endpoints", s->endpoints, s->nendpoints,
		  dec_endpoint);
	FOR_ITEMS(d, obj, "", "ports", s->ports, s->nports, dec_eps_port);
	/* Only when every endpoint was a map: then endpoints[i] is item i. */
	if (r > 0 && !d->errors)
		check_eps_addresses(d, obj, s);
}

static void dec_container_port(struct dec *d, yaml_node_t *n,
			       const char *pre, struct m_container_port *p)
{
	if (f_str(d, n, pre, "name", &p->name) > 0 && !valid_port_name(p->name))
		bad(d, n, pre, "name",
		    "\"%s\" is not a valid port name (1-15 of a-z, 0-9, '-', with a letter)",
		    p->name);
	required(d, n, pre, "containerPort",
		 f_port(d, n, pre, "containerPort", &p->port));
	f_oneof(d, n, pre, "protocol", "a protocol", protocols, &p->protocol);
	dflt(d, &p->protocol, "TCP");
}

static void add_pod_ip(struct dec *d, struct m_pod *p, yaml_node_t *n,
		       const char *path)
{
	char *ip = NULL, **slot;
	size_t i;

	if (val_str(d, n, path, &ip))
		return;
	if (!valid_ip(ip)) {
		diag(d, line_of(n), path, "\"%s\" is not an IP address", ip);
		free(ip);
		return;
	}
	for (i = 0; i < p->nips; i++)
		if (!strcmp(p->ips[i], ip)) {
			free(ip);
			return;
		}
	slot = APPEND(d, p->ips, p->nips);
	if (slot)
		*slot = ip;
	else
		free(ip);
}

static void dec_pod_status(struct dec *d, yaml_node_t *st, struct m_pod *p)
{
	char path[FIELD_MAX];
	yaml_node_t *ip = lookup(d, st, "podIP"), *ips, *conds, *it;
	size_t i;

	if (ip)
		add_pod_ip(d, p, ip, "status.podIP");
	ips = f_seq(d, st, "status", "podIPs");
	for (i = 0; ips && i < seq_len(ips); i++) {
		it = seq_item(d, ips, i);
		joini(path, "status.podIPs", i);
		if (!item_map(d, it, path))
			continue;
		ip = lookup(d, it, "ip");
		snprintf(path, sizeof(path), "status.podIPs[%zu].ip", i);
		if (ip)
			add_pod_ip(d, p, ip, path);
	}
	conds = f_seq(d, st, "status", "conditions");
	for (i = 0; conds && i < seq_len(conds); i++) {
		char *type = NULL, *status = NULL;

		it = seq_item(d, conds, i);
		joini(path, "status.conditions", i);
		if (!item_map(d, it, path))
			continue;
		f_str(d, it, path, "type", &type);
		f_str(d, it, path, "status", &status);
		if (type && status && !strcmp(type, "Ready"))
			p->ready = !strcmp(status, "True");
		free(type);
		free(status);
	}
}

static void dec_pod(struct dec *d, yaml_node_t *obj, void *out)
{
	struct m_pod *p = out;
	yaml_node_t *spec = f_map(d, obj, "", "spec"), *cs, *st;
	char path[FIELD_MAX];
	size_t i;

	p->terminating = !!lookup(d, lookup(d, obj, "metadata"),
				  "deletionTimestamp");
	cs = f_seq(d, spec, "spec", "containers");
	for (i = 0; cs && i < seq_len(cs); i++) {
		yaml_node_t *c = seq_item(d, cs, i);

		joini(path, "spec.containers", i);
		if (item_map(d, c, path))
			FOR_ITEMS(d, c, path, "ports", p->ports, p->nports,
				  dec_container_port);
	}
	st = f_map(d, obj, "", "status");
	if (st)
		dec_pod_status(d, st, p);
}

static void dec_grant_from(struct dec *d, yaml_node_t *n, const char *pre,
			   struct m_grant_from *f)
{
	f_str(d, n, pre, "group", &f->group);
	dflt(d, &f->group, "");
	required(d, n, pre, "kind", f_str(d, n, pre, "kind", &f->kind));
	required(d, n, pre, "namespace",
		 f_str(d, n, pre, "namespace", &f->ns));
	check_ns(d, n, pre, "namespace", f->ns);
}

static void dec_grant_to(struct dec *d, yaml_node_t *n, const char *pre,
			 struct m_grant_to *t)
{
	f_str(d, n, pre, "group", &t->group);
	dflt(d, &t->group, "");
	required(d, n, pre, "kind", f_str(d, n, pre, "kind", &t->kind));
	f_str(d, n, pre, "name", &t->name);
}

static void dec_grant(struct dec *d, yaml_node_t *obj, void *out)
{
	struct m_refgrant *g = out;
	yaml_node_t *spec = f_map(d, obj, "", "spec");

	FOR_ITEMS(d, spec, "spec", "from", g->from, g->nfrom, dec_grant_from);
	FOR_ITEMS(d, spec, "spec", "to", g->to, g->nto, dec_grant_to);
}

/* --- the kinds' decoders ------------------------------------------- */

typedef void dec_fn(struct dec *d, yaml_node_t *obj, void *out);

static dec_fn *const decoders[M_NKINDS] = {
	[M_NAMESPACE] = dec_namespace,
	[M_GATEWAYCLASS] = dec_class,
	[M_GATEWAY] = dec_gateway,
	[M_TLSROUTE] = dec_route,
	[M_SERVICE] = dec_service,
	[M_ENDPOINTSLICE] = dec_slice,
	[M_POD] = dec_pod,
	[M_REFERENCEGRANT] = dec_grant,
};

/* --- objects and documents -------------------------------------------- */

static void check_version(struct dec *d, yaml_node_t *obj,
			  const struct m_kind *k)
{
	char list[MSG_MAX] = "", *v = NULL;
	const char *const *a;
	int r = f_str(d, obj, "", "apiVersion", &v), ok = 0;
	size_t glen = strlen(k->group);

	required(d, obj, "", "apiVersion", r);
	if (r <= 0) {
		free(v);
		return;
	}
	/* group/version; a core kind's is the version alone */
	for (a = k->versions; *a && !ok; a++)
		ok = glen ? !strncmp(v, k->group, glen) && v[glen] == '/' &&
			    !strcmp(v + glen + 1, *a) : !strcmp(v, *a);
	for (a = k->versions; !ok && *a; a++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list),
			 "%s%s%s%s", a == k->versions ? "" : ", ", k->group,
			 glen ? "/" : "", *a);
	if (!ok)
		bad(d, obj, "", "apiVersion",
		    "\"%s\" is not an apiVersion of %s (%s)", v, k->name,
		    list);
	free(v);
}

static void dec_meta(struct dec *d, yaml_node_t *obj, const struct m_kind *k,
		     struct m_meta *m)
{
	yaml_node_t *md = f_map(d, obj, "", "metadata"), *labels;
	char *ts = NULL;
	long long gen = 0;
	int r;

	m->where.file = sdup(d, d->file);
	m->where.line = d->line;
	r = f_str(d, md, "metadata", "name", &m->name);
	required(d, md, "metadata", "name", r);
	if (r > 0 && !(k->label_name ? valid_dns_label(m->name) :
		       valid_dns_subdomain(m->name)))
		bad(d, md, "metadata", "name",
		    "\"%s\" is not a valid name (lower-case RFC 1123 %s: a-z, 0-9, '-'%s)",
		    m->name, k->label_name ? "label" : "subdomain",
		    k->label_name ? "" : ", '.'");
	if (k->namespaced) {
		if (f_str(d, md, "metadata", "namespace", &m->ns) > 0)
			check_ns(d, md, "metadata", "namespace", m->ns);
		dflt(d, &m->ns, "default");
	}
	if (f_str(d, md, "metadata", "creationTimestamp", &ts) > 0 &&
	    rfc3339_parse(ts, &m->created))
		bad(d, md, "metadata", "creationTimestamp",
		    "\"%s\" is not an RFC 3339 time (e.g. 2026-01-02T03:04:05Z)",
		    ts);
	free(ts);
	f_int(d, md, "metadata", "generation", 0, INT64_MAX, &gen);
	m->generation = gen;
	labels = f_map(d, md, "metadata", "labels");
	if (labels)
		dec_labels(d, labels, "metadata.labels", &m->labels,
			   &m->nlabels);
}

/*
 * Keys kubectl would refuse or read differently: a key twice in one map,
 * and merge keys (<<), which libyaml leaves unresolved. @seen marks the
 * nodes already walked (aliases share nodes, and can make cycles).
 */
static void check_keys(struct dec *d, yaml_node_t *n, const char *path,
		       unsigned char *seen, int depth)
{
	char sub[FIELD_MAX];
	size_t idx = (size_t)(n - d->doc->nodes.start), i;
	yaml_node_pair_t *p, *q;

	if (seen[idx] || depth > WALK_DEPTH)
		return;
	seen[idx] = 1;
	if (n->type == YAML_SEQUENCE_NODE) {
		for (i = 0; i < seq_len(n); i++)
			check_keys(d, seq_item(d, n, i), joini(sub, path, i),
				   seen, depth + 1);
		return;
	}
	if (n->type != YAML_MAPPING_NODE)
		return;
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = node(d, p->key);

		if (k->type != YAML_SCALAR_NODE)
			continue;
		join(sub, path, text(k));
		if (!strcmp(text(k), "<<") &&
		    k->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
			diag(d, line_of(k), sub,
			     "merge keys (<<) are not supported");
		for (q = n->data.mapping.pairs.start; q < p; q++) {
			yaml_node_t *o = node(d, q->key);

			if (o->type == YAML_SCALAR_NODE &&
			    !strcmp(text(o), text(k))) {
				diag(d, line_of(k), sub,
				     "key \"%s\" appears twice in this map",
				     text(k));
				break;
			}
		}
		check_keys(d, node(d, p->value), sub, seen, depth + 1);
	}
}

static void keep_object(struct dec *d, const struct m_kind *k, char *obj)
{
	if (!d->errors && !d->oom && !model_append(d->m, k, obj))
		return;
	if (!d->errors)
		d->oom = 1;
	model_free_object(k, obj);
}

static void dec_list(struct dec *d, yaml_node_t *obj);

static void dec_object(struct dec *d, yaml_node_t *obj, int top)
{
	yaml_node_pair_t *kp = lookup_pair(d, obj, "kind");
	yaml_node_t *md = lookup(d, obj, "metadata");
	const struct m_kind *k;
	unsigned char *seen;
	char *o;

	d->kind = peek_str(d, obj, "kind");
	d->ns = d->name = NULL;
	d->line = kp ? line_of(node(d, kp->key)) : line_of(obj);
	if (!d->kind) {
		char *tmp = NULL;

		if (f_str(d, obj, "", "kind", &tmp) == 0)
			required(d, obj, "", "kind", 0);
		free(tmp);
		return;
	}
	if (top && !strcmp(d->kind, "List")) {
		dec_list(d, obj);
		return;
	}
	k = model_kind(d->kind);
	if (!k)
		return;
	/* Named in every diag, before the fields are checked. */
	d->kind = k->name;
	d->name = peek_str(d, md, "name");
	d->ns = k->namespaced ? peek_str(d, md, "namespace") : NULL;
	if (k->namespaced && !d->ns)
		d->ns = "default";
	d->api_version = peek_str(d, obj, "apiVersion");
	d->errors = 0;
	seen = calloc(d->doc->nodes.top - d->doc->nodes.start, 1);
	o = calloc(1, k->size);
	if (!seen || !o) {
		free(seen);
		free(o);
		d->oom = 1;
		return;
	}
	check_keys(d, obj, "", seen, 0);
	free(seen);
	check_version(d, obj, k);
	dec_meta(d, obj, k, (struct m_meta *)o);
	decoders[k - m_kinds](d, obj, o);
	keep_object(d, k, o);
	free(o);
}

static void dec_list(struct dec *d, yaml_node_t *obj)
{
	char path[FIELD_MAX];
	yaml_node_t *items;
	size_t i;

	d->kind = "List";
	items = f_seq(d, obj, "", "items");
	for (i = 0; items && i < seq_len(items); i++) {
		yaml_node_t *it = seq_item(d, items, i);

		d->kind = "List";
		d->ns = d->name = NULL;
		if (item_map(d, it, joini(path, "items", i)))
			dec_object(d, it, 0);
	}
}

static void dec_document(struct dec *d, yaml_node_t *root)
{
	/* `---` alone, or a document of comments: nothing to decode. */
	if (is_scalar(root, SC_NULL))
		return;
	if (root->type != YAML_MAPPING_NODE) {
		d->kind = d->ns = d->name = NULL;
		diag(d, line_of(root), NULL,
		     "a document must be a map (a Kubernetes object), not %s",
		     what(root));
		return;
	}
	dec_object(d, root, 1);
}

/* --- streams ---------------------------------------------------------- */

static int line_at_offset(const char *buf, size_t len, size_t off)
{
	int line = 1;
	size_t i;

	for (i = 0; i < off && i < len; i++)
		line += buf[i] == '\n';
	return line;
}

/* The last line with text: libyaml marks an error found at the end of
 * the input on the line after the final newline, which no editor shows. */
static int clamp_line(const char *buf, size_t len, int line)
{
	int last = 1;
	size_t i;

	for (i = 0; i < len; i++)
		if (buf[i] == '\n' && i + 1 < len)
			last++;
	return line > last ? last : line;
}

static int syntax_error(const char *file, const char *buf, size_t len,
			const yaml_parser_t *p, struct model *m)
{
	char msg[MSG_MAX];
	int line;

	if (p->error == YAML_READER_ERROR)
		line = line_at_offset(buf, len, p->problem_offset);
	else
		line = clamp_line(buf, len, (int)p->problem_mark.line + 1);
	if (p->error == YAML_MEMORY_ERROR)
		snprintf(msg, sizeof(msg), "out of memory");
	else if (p->context)
		snprintf(msg, sizeof(msg),
			 "YAML syntax error: %s (%s at line %d)",
			 p->problem ? p->problem : "?", p->context,
			 clamp_line(buf, len, (int)p->context_mark.line + 1));
	else
		snprintf(msg, sizeof(msg), "YAML syntax error: %s",
			 p->problem ? p->problem : "?");
	model_add_diag(m, file, line, NULL, msg, NULL, NULL, NULL);
	return -1;
}

int manifest_decode_buf(const char *file, const char *buf, size_t len,
			struct model *m)
{
	struct model tmp = { 0 };
	struct dec d = { .file = file, .m = &tmp };
	yaml_document_t doc;
	yaml_node_t *root;
	yaml_parser_t p;
	int ok = 1;

	if (!buf)
		buf = "";
	if (!yaml_parser_initialize(&p)) {
		model_add_diag(m, file, 0, NULL, "out of memory", NULL, NULL, NULL);
		return -1;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	while (!d.oom) {
		ok = yaml_parser_load(&p, &doc);
		if (!ok)
			break;
		root = yaml_document_get_root_node(&doc);
		if (root) {
			d.doc = &doc;
			dec_document(&d, root);
		}
		yaml_document_delete(&doc);
		if (!root)
			break;
	}
	if (!ok || d.oom) {
		model_free(&tmp);
		if (d.oom)
			model_add_diag(m, file, 0, NULL, "out of memory", NULL, NULL,
				 NULL);
		else
			syntax_error(file, buf, len, &p, m);
		yaml_parser_delete(&p);
		return -1;
	}
	yaml_parser_delete(&p);
	return model_absorb(m, &tmp) ? -1 : 0;
}

static int read_all(int fd, char **out, size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap), *nb;
	ssize_t r;

	for (;;) {
		if (!buf)
			return -ENOMEM;
		if (n == cap) {
			if (cap >= FILE_MAX) {
				free(buf);
				return -EFBIG;
			}
			cap *= 2;
			nb = realloc(buf, cap);
			if (!nb)
				free(buf);
			buf = nb;
			continue;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			r = -errno;
			free(buf);
			return (int)r;
		}
		if (!r)
			break;
		n += (size_t)r;
	}
	*out = buf;
	*len = n;
	return 0;
}

int manifest_decode_file(const char *path, struct model *m)
{
	char msg[MSG_MAX], *buf = NULL;
	size_t len = 0;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
	} else {
		r = read_all(fd, &buf, &len);
		close(fd);
	}
	if (r) {
		snprintf(msg, sizeof(msg), "cannot read: %s", strerror(-r));
		model_add_diag(m, path, 0, NULL, msg, NULL, NULL, NULL);
		return -1;
	}
	r = manifest_decode_buf(path, buf, len, m);
	free(buf);
	return r;
}

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The decoder's view of YAML (decode_int.h): scalars typed as kubectl
 * types them, nodes looked up by key, and fields read as the type they
 * must be, every problem a diag that names the field's path.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode_int.h"

/* --- allocation ------------------------------------------------------- */

char *dec_strdup(struct dec *d, const char *s)
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
void *dec_append(struct dec *d, void *arrp, size_t *n, size_t size)
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

/* --- diags ------------------------------------------------------------ */

/* A problem with field @field of the current object. */
__attribute__((format(printf, 4, 5)))
void dec_diag(struct dec *d, int line, const char *field,
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

static enum sclass sclass(const yaml_node_t *n)
{
	const char *s = ytext(n);
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

int yis(const yaml_node_t *n, enum sclass c)
{
	return n->type == YAML_SCALAR_NODE && sclass(n) == c;
}

/* "a map", "an integer", ...: what a diag says it found. */
const char *ywhat(const yaml_node_t *n)
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

yaml_node_pair_t *ypair(struct dec *d, yaml_node_t *map,
			const char *key)
{
	yaml_node_pair_t *p;

	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = ynode(d, p->key);

		if (k->type == YAML_SCALAR_NODE && !strcmp(ytext(k), key))
			return p;
	}
	return NULL;
}

/* The value of @key in @map; NULL when absent or null (as for kubectl). */
yaml_node_t *ylookup(struct dec *d, yaml_node_t *map, const char *key)
{
	yaml_node_pair_t *p = ypair(d, map, key);
	yaml_node_t *v = p ? ynode(d, p->value) : NULL;

	if (v && yis(v, SC_NULL))
		return NULL;
	return v;
}

/* A string value without diags (to name an object before checking it). */
const char *ypeek_str(struct dec *d, yaml_node_t *map, const char *key)
{
	yaml_node_t *n = ylookup(d, map, key);

	return n && yis(n, SC_STR) ? ytext(n) : NULL;
}

/* --- field paths and typed values ------------------------------------- */

/* @pre.@key, or @pre[@i], into @out (FIELD_MAX): a path too long is cut,
 * which still names the field well enough. */
const char *path_key(char *out, const char *pre, const char *key)
{
	if (snprintf(out, FIELD_MAX, "%s%s%s", pre, *pre ? "." : "", key) < 0)
		*out = 0;
	return out;
}

const char *path_idx(char *out, const char *pre, size_t i)
{
	if (snprintf(out, FIELD_MAX, "%s[%zu]", pre, i) < 0)
		*out = 0;
	return out;
}

int f_type_err(struct dec *d, const yaml_node_t *n, const char *path,
	       const char *want)
{
	dec_diag(d, yline(n), path, "expected %s, found %s", want, ywhat(n));
	return -1;
}

/* @n as a string (a copy in *@out): 0, or -1 with a diag. */
int f_val_str(struct dec *d, yaml_node_t *n, const char *path,
	      char **out)
{
	if (!yis(n, SC_STR))
		return f_type_err(d, n, path, "a string");
	if (strlen(ytext(n)) != n->data.scalar.length) {
		dec_diag(d, yline(n), path, "a string with a NUL character");
		return -1;
	}
	free(*out);
	*out = dec_strdup(d, ytext(n));
	return *out ? 0 : -1;
}

static int val_int(struct dec *d, yaml_node_t *n, const char *path,
		   long long *out)
{
	if (!yis(n, SC_INT))
		return f_type_err(d, n, path, "an integer");
	int_text(ytext(n), out);
	return 0;
}

/* Field @key of @map (@pre its path): 1 when present and valid, 0 when
 * absent or null, -1 when invalid (with a diag). */
int f_str(struct dec *d, yaml_node_t *map, const char *pre,
		 const char *key, char **out)
{
	char path[FIELD_MAX];
	yaml_node_t *n = ylookup(d, map, key);

	if (!n)
		return 0;
	return f_val_str(d, n, path_key(path, pre, key), out) ? -1 : 1;
}

int f_int(struct dec *d, yaml_node_t *map, const char *pre,
		 const char *key, long long lo, long long hi, long long *out)
{
	char path[FIELD_MAX];
	yaml_node_t *n = ylookup(d, map, key);

	if (!n)
		return 0;
	path_key(path, pre, key);
	if (val_int(d, n, path, out))
		return -1;
	if (*out < lo || *out > hi || errno == ERANGE) {
		dec_diag(d, yline(n), path, "%s %s is out of range %lld..%lld",
			 key, ytext(n), lo, hi);
		return -1;
	}
	return 1;
}

int f_port(struct dec *d, yaml_node_t *map, const char *pre,
		  const char *key, uint16_t *out)
{
	long long v;
	int r = f_int(d, map, pre, key, 1, 65535, &v);

	if (r > 0)
		*out = (uint16_t)v;
	return r;
}

int f_bool(struct dec *d, yaml_node_t *map, const char *pre,
		  const char *key, enum m_tristate *out)
{
	char path[FIELD_MAX];
	yaml_node_t *n = ylookup(d, map, key);

	if (!n)
		return 0;
	if (!yis(n, SC_BOOL))
		return f_type_err(d, n, path_key(path, pre, key), "a boolean");
	*out = in_list(ytext(n), yaml_trues) ? M_TRUE : M_FALSE;
	return 1;
}

static yaml_node_t *f_typed(struct dec *d, yaml_node_t *map, const char *pre,
			    const char *key, yaml_node_type_t type,
			    const char *want)
{
	char path[FIELD_MAX];
	yaml_node_t *n = ylookup(d, map, key);

	if (!n)
		return NULL;
	if (n->type != type) {
		f_type_err(d, n, path_key(path, pre, key), want);
		return NULL;
	}
	return n;
}

/* The map or list in field @key; NULL when absent or not one (a diag). */
yaml_node_t *f_map(struct dec *d, yaml_node_t *map, const char *pre,
			  const char *key)
{
	return f_typed(d, map, pre, key, YAML_MAPPING_NODE, "a map");
}

yaml_node_t *f_seq(struct dec *d, yaml_node_t *map, const char *pre,
			  const char *key)
{
	return f_typed(d, map, pre, key, YAML_SEQUENCE_NODE, "a list");
}

/* @got is what f_*() returned for the required field @key of @map. */
void f_required(struct dec *d, yaml_node_t *map, const char *pre,
		const char *key, int got)
{
	char path[FIELD_MAX];

	if (got)
		return;
	dec_diag(d, map ? yline(map) : d->line, path_key(path, pre, key),
		 "%s is required", key);
}

/* A diag about the (present) value of @key in @map. */
__attribute__((format(printf, 5, 6)))
void f_bad(struct dec *d, yaml_node_t *map, const char *pre,
	   const char *key, const char *fmt, ...)
{
	char path[FIELD_MAX], msg[MSG_MAX];
	yaml_node_t *n = ylookup(d, map, key);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	dec_diag(d, n ? yline(n) : d->line, path_key(path, pre, key), "%s",
		 msg);
}

/* A string that must be one of @allowed, e.g. a TLS mode. */
int f_oneof(struct dec *d, yaml_node_t *map, const char *pre,
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
	f_bad(d, map, pre, key, "\"%s\" is not %s (%s)", *out, what, list);
	return -1;
}

/* The map at list item @n (path @path); 0 with a diag when it is not. */
int f_item_map(struct dec *d, yaml_node_t *n, const char *path)
{
	if (n->type == YAML_MAPPING_NODE)
		return 1;
	f_type_err(d, n, path, "a map");
	return 0;
}

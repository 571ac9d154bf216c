/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The decoder's insides, shared by its four files: decode.c (streams,
 * documents, objects), decode_node.c (YAML nodes and typed fields, each
 * problem a diag), decode_kinds.c (the fields of the core kinds, metadata)
 * and decode_gwapi.c (the fields of the Gateway API kinds).
 */
#ifndef SNILB_USER_DECODE_INT_H
#define SNILB_USER_DECODE_INT_H

#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "model.h"

#define FIELD_MAX	256	/* longest field path kept in a diag */
#define MSG_MAX		512

/* One stream being decoded. */
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

/* --- allocation and diags (out of memory sets d->oom) ----------------- */

char *dec_strdup(struct dec *d, const char *s);
void *dec_append(struct dec *d, void *arrp, size_t *n, size_t size);
#define APPEND(d, arr, n) dec_append((d), &(arr), &(n), sizeof(*(arr)))

__attribute__((format(printf, 4, 5)))
void dec_diag(struct dec *d, int line, const char *field, const char *fmt,
	      ...);

/* --- YAML nodes ------------------------------------------------------- */

/* What a scalar is, resolved as kubectl's YAML 1.1 (go-yaml v2) does:
 * only plain scalars are ever anything but strings. */
enum sclass { SC_NULL, SC_BOOL, SC_INT, SC_FLOAT, SC_STR };

static inline const char *ytext(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

static inline yaml_node_t *ynode(struct dec *d, int i)
{
	return yaml_document_get_node(d->doc, i);
}

static inline int yline(const yaml_node_t *n)
{
	return (int)n->start_mark.line + 1;
}

static inline size_t ylen(const yaml_node_t *n)
{
	return (size_t)(n->data.sequence.items.top -
			n->data.sequence.items.start);
}

static inline yaml_node_t *yitem(struct dec *d, const yaml_node_t *n,
				 size_t i)
{
	return ynode(d, n->data.sequence.items.start[i]);
}

int yis(const yaml_node_t *n, enum sclass c);
const char *ywhat(const yaml_node_t *n);
yaml_node_pair_t *ypair(struct dec *d, yaml_node_t *map, const char *key);
yaml_node_t *ylookup(struct dec *d, yaml_node_t *map, const char *key);
const char *ypeek_str(struct dec *d, yaml_node_t *map, const char *key);

/* --- field paths and typed fields ------------------------------------- */

const char *path_key(char *out, const char *pre, const char *key);
const char *path_idx(char *out, const char *pre, size_t i);

/*
 * Field @key of @map, @pre its path: 1 when present and valid, 0 when
 * absent or null, -1 when invalid (with a diag).
 */
int f_str(struct dec *d, yaml_node_t *map, const char *pre, const char *key,
	  char **out);
int f_int(struct dec *d, yaml_node_t *map, const char *pre, const char *key,
	  long long lo, long long hi, long long *out);
int f_port(struct dec *d, yaml_node_t *map, const char *pre, const char *key,
	   uint16_t *out);
int f_bool(struct dec *d, yaml_node_t *map, const char *pre, const char *key,
	   enum m_tristate *out);
int f_oneof(struct dec *d, yaml_node_t *map, const char *pre,
	    const char *key, const char *what, const char *const *allowed,
	    char **out);
yaml_node_t *f_map(struct dec *d, yaml_node_t *map, const char *pre,
		   const char *key);
yaml_node_t *f_seq(struct dec *d, yaml_node_t *map, const char *pre,
		   const char *key);
int f_val_str(struct dec *d, yaml_node_t *n, const char *path, char **out);
int f_type_err(struct dec *d, const yaml_node_t *n, const char *path,
	       const char *want);
void f_required(struct dec *d, yaml_node_t *map, const char *pre,
		const char *key, int got);
__attribute__((format(printf, 5, 6)))
void f_bad(struct dec *d, yaml_node_t *map, const char *pre, const char *key,
	   const char *fmt, ...);
int f_item_map(struct dec *d, yaml_node_t *n, const char *path);

/* --- the kinds (decode_kinds.c, decode_gwapi.c) ------------------------ */

/* Default @s to @def when the manifest had none. */
static inline void dflt(struct dec *d, char **s, const char *def)
{
	if (!*s)
		*s = dec_strdup(d, def);
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
	path_key(path_, (pre), (key));					\
	for (i_ = 0; seq_ && i_ < ylen(seq_); i_++) {		\
		yaml_node_t *it_ = yitem((d), seq_, i_);		\
		void *e_;						\
									\
		path_idx(ipath_, path_, i_);				\
		if (!f_item_map((d), it_, ipath_))			\
			continue;					\
		e_ = APPEND((d), (arr), (n));				\
		if (!e_)						\
			break;						\
		fn((d), it_, ipath_, e_);				\
	}								\
} while (0)

/* Decodes the fields of an object of one kind into @out, zeroed. */
typedef void dec_fn(struct dec *d, yaml_node_t *obj, void *out);

extern dec_fn *const dec_kinds[M_NKINDS];

/* metadata: name, namespace, labels, creationTimestamp, generation. */
void dec_meta(struct dec *d, yaml_node_t *obj, const struct m_kind *k,
	      struct m_meta *m);

/* A map of strings (labels, a selector) at @path into @out. */
void dec_labels(struct dec *d, yaml_node_t *map, const char *path,
		struct m_label **out, size_t *n);
/* Every string of list @key of @map into @out; returns the list. */
yaml_node_t *dec_strv(struct dec *d, yaml_node_t *map, const char *pre,
		      const char *key, char ***out, size_t *n);
/* A namespace named in field @key: an RFC 1123 label. */
void check_ns(struct dec *d, yaml_node_t *n, const char *pre,
	      const char *key, const char *ns);

/* decode_gwapi.c */
dec_fn dec_class, dec_gateway, dec_route, dec_grant;

#endif /* SNILB_USER_DECODE_INT_H */

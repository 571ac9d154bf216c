// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * YAML manifests -> struct model (decode.h), with libyaml's document API
 * (it resolves anchors and aliases, and keeps every node's line).
 *
 * A stream is decoded into a model of its own and moved into the caller's
 * only when the whole stream parsed, so that a syntax error in the third
 * document does not leave the first two half-applied.
 *
 * An object is decoded into a zeroed struct (decode_kinds.c,
 * decode_gwapi.c); every invalid field adds a diag and the decoder
 * carries on, so that one run names every problem of the object. An
 * object with any diag is freed instead of appended.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "decode.h"
#include "decode_int.h"

#define WALK_DEPTH	64	/* deeper nesting is not looked at */
#define FILE_MAX	(64 << 20)

/* --- objects and documents -------------------------------------------- */

static void check_version(struct dec *d, yaml_node_t *obj,
			  const struct m_kind *k)
{
	char list[MSG_MAX] = "", *v = NULL;
	const char *const *a;
	int r = f_str(d, obj, "", "apiVersion", &v), ok = 0;
	size_t glen = strlen(k->group);

	f_required(d, obj, "", "apiVersion", r);
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
		f_bad(d, obj, "", "apiVersion",
		      "\"%s\" is not an apiVersion of %s (%s)", v, k->name,
		      list);
	free(v);
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
		for (i = 0; i < ylen(n); i++)
			check_keys(d, yitem(d, n, i), path_idx(sub, path, i),
				   seen, depth + 1);
		return;
	}
	if (n->type != YAML_MAPPING_NODE)
		return;
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = ynode(d, p->key);

		if (k->type != YAML_SCALAR_NODE)
			continue;
		path_key(sub, path, ytext(k));
		if (!strcmp(ytext(k), "<<") &&
		    k->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
			dec_diag(d, yline(k), sub,
				 "merge keys (<<) are not supported");
		for (q = n->data.mapping.pairs.start; q < p; q++) {
			yaml_node_t *o = ynode(d, q->key);

			if (o->type == YAML_SCALAR_NODE &&
			    !strcmp(ytext(o), ytext(k))) {
				dec_diag(d, yline(k), sub,
					 "key \"%s\" appears twice in this map",
					 ytext(k));
				break;
			}
		}
		check_keys(d, ynode(d, p->value), sub, seen, depth + 1);
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
	yaml_node_pair_t *kp = ypair(d, obj, "kind");
	yaml_node_t *md = ylookup(d, obj, "metadata");
	const struct m_kind *k;
	unsigned char *seen;
	char *o;

	d->kind = ypeek_str(d, obj, "kind");
	d->ns = d->name = NULL;
	d->line = kp ? yline(ynode(d, kp->key)) : yline(obj);
	if (!d->kind) {
		char *tmp = NULL;

		if (f_str(d, obj, "", "kind", &tmp) == 0)
			f_required(d, obj, "", "kind", 0);
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
	d->name = ypeek_str(d, md, "name");
	d->ns = k->namespaced ? ypeek_str(d, md, "namespace") : NULL;
	if (k->namespaced && !d->ns)
		d->ns = "default";
	d->api_version = ypeek_str(d, obj, "apiVersion");
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
	dec_kinds[k - m_kinds](d, obj, o);
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
	for (i = 0; items && i < ylen(items); i++) {
		yaml_node_t *it = yitem(d, items, i);

		d->kind = "List";
		d->ns = d->name = NULL;
		if (f_item_map(d, it, path_idx(path, "items", i)))
			dec_object(d, it, 0);
	}
}

static void dec_document(struct dec *d, yaml_node_t *root)
{
	/* `---` alone, or a document of comments: nothing to decode. */
	if (yis(root, SC_NULL))
		return;
	if (root->type != YAML_MAPPING_NODE) {
		d->kind = d->ns = d->name = NULL;
		dec_diag(d, yline(root), NULL,
			 "a document must be a map (a Kubernetes object), not %s",
			 ywhat(root));
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
		model_add_diag(m, file, 0, NULL, "out of memory", NULL, NULL,
			       NULL);
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
			model_add_diag(m, file, 0, NULL, "out of memory", NULL,
				       NULL, NULL);
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

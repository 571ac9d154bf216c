/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Kubernetes YAML manifests (multi-document, `kind: List` too, as
 * `kubectl apply -f` takes them) decoded into a struct model (model.h).
 *
 * Scalars are typed as kubectl types them (YAML 1.1, go-yaml v2): a plain
 * 443 is an integer, a quoted "443" a string, a plain yes a boolean. A
 * field of the wrong type is an error, as it is for kubectl; null is the
 * same as absent.
 */
#ifndef SNILB_USER_MANIFEST_H
#define SNILB_USER_MANIFEST_H

#include <stddef.h>

#include "model.h"

/*
 * Decode one YAML stream. Objects of the kinds in model.h are appended to
 * @m; other kinds are skipped. An object with an invalid field is NOT
 * appended: one diag per invalid field is, naming @file, the line, the
 * field path ("spec.listeners[0].port") and the object's kind/ns/name. A
 * YAML syntax error: nothing from this stream is appended but one diag
 * (file, line, message); returns -1. Otherwise returns 0, even if some
 * objects had errors. Out of memory: -1, with a diag when one fits.
 */
int manifest_decode_buf(const char *file, const char *buf, size_t len,
			struct model *m);

/* manifest_decode_buf() on a file's contents; -1 also on an I/O error,
 * with a diag (line 0). */
int manifest_decode_file(const char *path, struct model *m);

/* Frees every object, diag and string of @m, and zeroes it. */
void model_free(struct model *m);

/*
 * Move the object @kind/@ns/@name (@ns NULL for cluster-scoped kinds) from
 * @src to the end of @dst, e.g. to keep the last good version of an object
 * whose new version is bad. @kind is "Gateway", "TLSRoute", ... Returns 0,
 * -ENOENT (no such object, or not a kind of model.h) or -ENOMEM.
 */
int model_move_object(struct model *dst, struct model *src, const char *kind,
		      const char *ns, const char *name);

/*
 * Append shallow copies of every object and diag of @src to @dst: the
 * strings stay owned by @src, which must outlive @dst. Free such a model
 * with model_free_shallow() (arrays only). Returns 0 or -ENOMEM (then @dst
 * may hold part of @src).
 */
int model_concat_shallow(struct model *dst, const struct model *src);
void model_free_shallow(struct model *m);

/* Append a diag (strings copied) to @m. */
int model_add_diag(struct model *m, const char *file, int line,
		   const char *field, const char *msg, const char *kind,
		   const char *ns, const char *name);

#endif /* SNILB_USER_MANIFEST_H */

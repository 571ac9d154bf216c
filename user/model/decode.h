/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Kubernetes YAML manifests (multi-document, `kind: List` too, as
 * `kubectl apply -f` takes them) decoded into a struct model (model.h).
 * JSON is YAML too: the Kubernetes source decodes each object it watches
 * with the same decoder, so that both sources check alike.
 *
 * Scalars are typed as kubectl types them (YAML 1.1, go-yaml v2): a plain
 * 443 is an integer, a quoted "443" a string, a plain yes a boolean. A
 * field of the wrong type is an error, as it is for kubectl; null is the
 * same as absent.
 */
#ifndef SNILB_USER_DECODE_H
#define SNILB_USER_DECODE_H

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

#endif /* SNILB_USER_DECODE_H */

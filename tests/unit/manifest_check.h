/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What the manifest decoder's unit tests share (test_manifest*.c): one
 * model decoded from a buffer, its teardown, and checks of the diagnostics
 * by line, field and message.
 */
#ifndef SNILB_TEST_MANIFEST_CHECK_H
#define SNILB_TEST_MANIFEST_CHECK_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "decode.h"
#include "validate.h"

#define FILE_NAME "test.yaml"

static struct model M __attribute__((unused));

static inline int decode(const char *yaml)
{
	return manifest_decode_buf(FILE_NAME, yaml, strlen(yaml), &M);
}

static inline int teardown(void **state)
{
	(void)state;
	model_free(&M);
	return 0;
}

static inline size_t nobjects(const struct model *m)
{
	return m->nnamespaces + m->nclasses + m->ngateways + m->nroutes +
	       m->nservices + m->nslices + m->npods + m->ngrants;
}

static inline void print_diags(void)
{
	size_t i;

	for (i = 0; i < M.ndiags; i++)
		print_message("diag: %s:%d: %s: %s\n", M.diags[i].file,
			      M.diags[i].line,
			      M.diags[i].field ? M.diags[i].field : "-",
			      M.diags[i].msg);
}

static inline void assert_no_diags(void)
{
	if (M.ndiags)
		print_diags();
	assert_int_equal(M.ndiags, 0);
}

static inline void assert_str_or_null(const char *got, const char *want)
{
	if (!want)
		assert_null(got);
	else
		assert_string_equal(got, want);
}

/* The diag about @field at @line; its message is @msg when not NULL. */
static inline const struct m_diag *assert_diag(int line, const char *field,
					const char *msg)
{
	size_t i;

	for (i = 0; i < M.ndiags; i++) {
		const struct m_diag *g = &M.diags[i];

		if (!g->field || strcmp(g->field, field) || g->line != line)
			continue;
		assert_string_equal(g->file, FILE_NAME);
		if (msg)
			assert_string_equal(g->msg, msg);
		return g;
	}
	print_diags();
	fail_msg("no diag about %s at line %d", field, line);
	return NULL;
}

/* Exactly one diag, about @field of @kind @ns/@name, and no object. */
static inline void assert_only_diag(int line, const char *field, const char *msg,
			     const char *kind, const char *ns,
			     const char *name)
{
	const struct m_diag *g;

	if (M.ndiags != 1)
		print_diags();
	assert_int_equal(M.ndiags, 1);
	assert_int_equal(nobjects(&M), 0);
	g = assert_diag(line, field, msg);
	assert_str_or_null(g->kind, kind);
	assert_str_or_null(g->ns, ns);
	assert_str_or_null(g->name, name);
}

/* A TLSRoute with every field, line numbers in comments. */
static const char route_yaml[] __attribute__((unused)) =
	"apiVersion: gateway.networking.k8s.io/v1alpha2\n"	/* 1 */
	"kind: TLSRoute\n"
	"metadata:\n"
	"  name: web\n"
	"  namespace: team-a\n"					/* 5 */
	"spec:\n"
	"  parentRefs:\n"
	"  - name: edge\n"
	"    namespace: infra\n"
	"    sectionName: tls\n"				/* 10 */
	"    port: 443\n"
	"    group: gateway.networking.k8s.io\n"
	"    kind: Gateway\n"
	"  - {name: other}\n"
	"  hostnames: [a.example.com, \"*.b.example.com\"]\n"	/* 15 */
	"  rules:\n"
	"  - backendRefs:\n"
	"    - name: web\n"
	"      port: 8443\n"
	"      weight: 0\n"					/* 20 */
	"    - name: web2\n"
	"      namespace: team-b\n"
	"      port: 443\n"
	"      group: \"\"\n"
	"      kind: Service\n"					/* 25 */
	"      weight: 1000000\n"
	"  - backendRefs:\n"
	"    - {name: solo, port: 9}\n";

#endif /* SNILB_TEST_MANIFEST_CHECK_H */

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Userspace face of the shared ClientHello parser (include/clienthello.h). */
#ifndef SNILB_USER_HELLO_H
#define SNILB_USER_HELLO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "clienthello.h"

/* Parse @len bytes with the userspace build of the parser. */
int hello_parse(const void *buf, size_t len, unsigned int cap,
		struct ch_result *res);

/* "no-sni", "bad-length", ...; "none" for CH_R_NONE. */
const char *hello_reason_name(unsigned int reason);
const char *hello_status_name(unsigned int status);

/* One line, as `snilb sni` prints it; @name prefixes it. */
void hello_print_text(FILE *out, const char *name, const struct ch_result *r);
/* One JSON object on one line; returns -1 when out of memory. */
int hello_print_json(FILE *out, const char *name, const struct ch_result *r);

/*
 * Walk the ALPN protocol_name_list kept in @r: calls @fn for each complete
 * entry. Returns false when the list is cut short or malformed.
 */
bool hello_alpn_each(const struct ch_result *r,
		     void (*fn)(const unsigned char *p, size_t n, void *arg),
		     void *arg);

#endif /* SNILB_USER_HELLO_H */

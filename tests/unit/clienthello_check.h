/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What the ClientHello parser's unit tests share (test_clienthello*.c):
 * parsing into one result, checks of what was found or why it was
 * rejected, and building blocks for hellos field by field.
 */
#ifndef SNILB_TEST_CLIENTHELLO_CHECK_H
#define SNILB_TEST_CLIENTHELLO_CHECK_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hello.h"
#include "../lib/hello_builder.h"

static struct hb H __attribute__((unused));
static struct ch_result R __attribute__((unused));

static inline int parse_cap(const void *buf, size_t len, unsigned int cap)
{
	return hello_parse(buf, len, cap, &R);
}

static inline int parse(const void *buf, size_t len)
{
	return parse_cap(buf, len, CH_CAP_DEFAULT);
}

#define assert_found(buf, len, name) do {				\
	assert_int_equal(parse(buf, len), CH_FOUND);			\
	assert_string_equal(R.sni, name);				\
} while (0)

#define assert_rejected(buf, len, why) do {				\
	int st_ = parse(buf, len);					\
	if (st_ != CH_REJECTED || R.reason != (why))			\
		fail_msg("expected rejected reason=%s, got %s reason=%s", \
			 hello_reason_name(why), hello_status_name(st_), \
			 hello_reason_name(R.reason));			\
} while (0)

/* --- building blocks -------------------------------------------------- */

/* A hello whose only extension is server_name with @name. */
static inline void build_name(const char *name)
{
	struct hb_marks m = hb_begin(&H);

	hb_ext_sni(&H, name);
	hb_end(&H, m);
}

/* Record header + handshake header + legacy fields, with chosen sizes. */
static inline size_t begin_fields(unsigned int sid, unsigned int cs, unsigned int cm)
{
	unsigned int i;

	H.n = 0;
	hb_u8(&H, 22);
	hb_u16(&H, 0x0301);
	hb_u16(&H, 0);
	hb_u8(&H, 1);
	hb_u24(&H, 0);
	hb_u16(&H, 0x0303);
	for (i = 0; i < 32; i++)
		hb_u8(&H, i);
	hb_u8(&H, sid);
	for (i = 0; i < sid; i++)
		hb_u8(&H, i);
	hb_u16(&H, cs);
	for (i = 0; i < cs; i++)
		hb_u8(&H, 0x13);
	hb_u8(&H, cm);
	for (i = 0; i < cm; i++)
		hb_u8(&H, 0);
	return H.n;
}

static inline void end_fields(void)
{
	hb_patch(&H, 6, 3);
	hb_patch(&H, 3, 2);
}

static inline void with_fields(unsigned int sid, unsigned int cs, unsigned int cm)
{
	size_t ext;

	begin_fields(sid, cs, cm);
	ext = H.n;
	hb_u16(&H, 0);
	hb_ext_sni(&H, "example.com");
	hb_patch(&H, ext, 2);
	end_fields();
}

#endif /* SNILB_TEST_CLIENTHELLO_CHECK_H */

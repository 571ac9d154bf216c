// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libFuzzer target for the shared ClientHello parser (built with ASan and
 * UBSan: a read past the input is a crash). Beyond "does not crash" it
 * checks the properties the data plane relies on, and aborts when one
 * breaks:
 *  - the answer is well formed (status/reason agree, names are valid);
 *  - parsing is deterministic;
 *  - any prefix of a routed hello is "need more", never a rejection or
 *    another name; bytes after the hello change nothing;
 *  - the same hello framed as two TLS records routes the same way.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hello.h"
#include "../tests/lib/hello_builder.h"

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "property failed: %s (line %d)\n",	\
			#cond, __LINE__);				\
		abort();						\
	}								\
} while (0)

static void check_shape(const struct ch_result *r, size_t size)
{
	size_t i;

	CHECK(r->status <= CH_REJECTED);
	CHECK((r->status == CH_REJECTED) == (r->reason != CH_R_NONE));
	CHECK(r->reason < CH_R_MAX);
	if (r->status == CH_NEED_MORE)
		CHECK(r->need > size);
	if (r->status != CH_FOUND)
		return;
	CHECK(r->sni_len >= 1 && r->sni_len <= CH_SNI_MAX);
	CHECK(strlen(r->sni) == r->sni_len);
	for (i = 0; i < r->sni_len; i++) {
		char c = r->sni[i];

		CHECK((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.');
	}
	CHECK(r->records >= 1 && r->records <= CH_MAX_RECORDS);
	CHECK(r->hello_len <= size && r->hello_len <= CH_CAP_DEFAULT);
	CHECK(r->alpn_len <= CH_ALPN_MAX);
}

static int same_route(const struct ch_result *a, const struct ch_result *b)
{
	return a->status == CH_FOUND && b->status == CH_FOUND &&
	       !strcmp(a->sni, b->sni) && a->tls13 == b->tls13 &&
	       a->ech == b->ech && a->alpn_len == b->alpn_len &&
	       !memcmp(a->alpn, b->alpn, a->alpn_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t split[HB_MAX];
	struct ch_result r, again;
	size_t cut, n;

	if (size > CH_BUF_SIZE)
		size = CH_BUF_SIZE;
	hello_parse(data, size, CH_CAP_DEFAULT, &r);
	check_shape(&r, size);
	hello_parse(data, size, CH_CAP_DEFAULT, &again);
	CHECK(!memcmp(&r, &again, sizeof(r)));
	if (r.status != CH_FOUND)
		return 0;

	/* A prefix cut at a point the input chooses. */
	cut = size ? data[size - 1] * r.hello_len / 256 : 0;
	hello_parse(data, cut, CH_CAP_DEFAULT, &again);
	CHECK(again.status == CH_NEED_MORE);
	CHECK(again.need > cut && again.need <= r.hello_len);
	hello_parse(data, r.hello_len, CH_CAP_DEFAULT, &again);
	CHECK(!memcmp(&r, &again, sizeof(r)));

	/* Re-framed: the first record split in two. */
	if (r.records == 1 && r.hello_len + 5 <= CH_CAP_DEFAULT) {
		size_t first = 1 + (size ? data[0] : 0) % (r.hello_len - 5);

		n = hb_split(data, r.hello_len, &first, 1, split);
		if (n) {
			hello_parse(split, n, CH_CAP_DEFAULT, &again);
			CHECK(same_route(&r, &again));
			CHECK(again.records == 2 && again.hello_len == n);
		}
	}
	return 0;
}

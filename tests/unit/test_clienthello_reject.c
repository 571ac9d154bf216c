// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Unit tests of the shared ClientHello parser (userspace build): every
 * rejection reason, and the boundaries of every limit (cap, extension,
 * name and record counts, what "need more" asks for).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "clienthello_check.h"

/* --- rejections ------------------------------------------------------- */

static void test_not_handshake(void **state)
{
	size_t sizes[] = { 20 };
	uint8_t out[HB_MAX];
	size_t n;

	(void)state;
	assert_rejected("\x17\x03\x03\x00\x10", 5, CH_R_NOT_HANDSHAKE);
	assert_rejected("GET / HTTP/1.1\r\n", 16, CH_R_NOT_HANDSHAKE);
	assert_rejected("\x80\x2e\x02\x00", 4, CH_R_NOT_HANDSHAKE);
	/* An alert record in the middle of the hello. */
	hb_simple(&H, "a.example");
	n = hb_split(H.b, H.n, sizes, 1, out);
	out[5 + 20] = 21;
	assert_rejected(out, n, CH_R_NOT_HANDSHAKE);
}

static void test_sslv2(void **state)
{
	(void)state;
	assert_rejected("\x80\x2e\x01\x00\x02", 5, CH_R_SSLV2);
	assert_rejected("\x80\x2e\x01", 3, CH_R_SSLV2);
	assert_int_equal(parse("\x80\x2e", 2), CH_NEED_MORE);
}

static void test_bad_version(void **state)
{
	size_t sizes[] = { 30 };
	uint8_t out[HB_MAX];
	size_t n;

	(void)state;
	assert_rejected("\x16\x02", 2, CH_R_BAD_VERSION);
	assert_rejected("\x16\x03\x05", 3, CH_R_BAD_VERSION);
	assert_int_equal(parse("\x16\x03\x04", 3), CH_NEED_MORE);
	hb_simple(&H, "a.example");
	n = hb_split(H.b, H.n, sizes, 1, out);
	out[5 + 30 + 1] = 2;			/* second record: 2.x */
	assert_rejected(out, n, CH_R_BAD_VERSION);
}

static void test_not_client_hello(void **state)
{
	(void)state;
	hb_simple(&H, "a.example");
	H.b[5] = 2;				/* server_hello */
	assert_rejected(H.b, H.n, CH_R_NOT_CLIENT_HELLO);
	assert_rejected(H.b, 6, CH_R_NOT_CLIENT_HELLO);	/* decided early */
}

static void test_legacy_field_lengths(void **state)
{
	(void)state;
	with_fields(32, 2, 1);
	assert_found(H.b, H.n, "example.com");
	with_fields(0, 2, 1);
	assert_found(H.b, H.n, "example.com");
	with_fields(33, 2, 1);
	assert_rejected(H.b, H.n, CH_R_BAD_LENGTH);
	with_fields(0, 0, 1);
	assert_rejected(H.b, H.n, CH_R_BAD_LENGTH);
	with_fields(0, 3, 1);			/* odd: half a suite */
	assert_rejected(H.b, H.n, CH_R_BAD_LENGTH);
	with_fields(0, 2, 0);
	assert_rejected(H.b, H.n, CH_R_BAD_LENGTH);
	with_fields(0, 2, 255);
	assert_found(H.b, H.n, "example.com");
}

static void test_body_too_short(void **state)
{
	(void)state;
	/* A handshake length under the 41-byte minimum body. */
	assert_rejected("\x16\x03\x01\x00\x2c\x01\x00\x00\x28", 9,
			CH_R_BAD_LENGTH);
}

static void test_no_extensions(void **state)
{
	(void)state;
	begin_fields(0, 2, 1);
	end_fields();
	assert_rejected(H.b, H.n, CH_R_NO_SNI);
}

/* hb_begin's layout: headers 9, version 2, random 32, session id 1 + 32,
 * cipher suites 2 + 4, compression 1 + 1. */
#define EXT_LEN_AT 84

static void test_extensions_length(void **state)
{
	(void)state;
	build_name("a.example");
	H.b[EXT_LEN_AT + 1]++;		/* extensions length + 1 */
	assert_rejected(H.b, H.n, CH_R_BAD_LENGTH);
	build_name("a.example");
	H.b[EXT_LEN_AT + 1] -= 1;
	assert_rejected(H.b, H.n, CH_R_BAD_LENGTH);
	/* One stray byte where an extension header should be. */
	build_name("a.example");
	H.b[EXT_LEN_AT + 1]++;
	hb_u8(&H, 0);
	hb_end(&H, (struct hb_marks){ 3, 6, EXT_LEN_AT });
	assert_rejected(H.b, H.n, CH_R_BAD_LENGTH);
}

static void test_extension_overruns(void **state)
{
	struct hb_marks m = hb_begin(&H);

	(void)state;
	hb_u16(&H, 0x0017);
	hb_u16(&H, 5);				/* 5 bytes claimed, 0 there */
	hb_end(&H, m);
	assert_rejected(H.b, H.n, CH_R_BAD_LENGTH);
}

static void test_server_name_lengths(void **state)
{
	struct hb_marks m;

	(void)state;
	/* Empty server_name_list. */
	m = hb_begin(&H);
	hb_ext(&H, 0, "\0\0", 2);
	hb_end(&H, m);
	assert_rejected(H.b, H.n, CH_R_BAD_LENGTH);
	/* Extension body shorter than the list length field. */
	m = hb_begin(&H);
	hb_ext(&H, 0, "\0", 1);
	hb_end(&H, m);
	assert_rejected(H.b, H.n, CH_R_BAD_LENGTH);
	/* Empty extension (as servers send it). */
	m = hb_begin(&H);
	hb_ext(&H, 0, "", 0);
	hb_end(&H, m);
	assert_rejected(H.b, H.n, CH_R_BAD_LENGTH);
	/* List length disagrees with the extension length. */
	m = hb_begin(&H);
	hb_ext(&H, 0, "\0\x05\0\0\x01x", 6);
	hb_end(&H, m);
	assert_rejected(H.b, H.n, CH_R_BAD_LENGTH);
	/* Name longer than the list. */
	m = hb_begin(&H);
	hb_ext(&H, 0, "\0\x04\0\0\x09x", 6);
	hb_end(&H, m);
	assert_rejected(H.b, H.n, CH_R_BAD_LENGTH);
	/* Entry header cut by the list end. */
	m = hb_begin(&H);
	hb_ext(&H, 0, "\0\x02\0\0", 4);
	hb_end(&H, m);
	assert_rejected(H.b, H.n, CH_R_BAD_LENGTH);
	/* Only a non-host_name entry. */
	m = hb_begin(&H);
	hb_ext(&H, 0, "\0\x04\x05\0\x01x", 6);
	hb_end(&H, m);
	assert_rejected(H.b, H.n, CH_R_NO_SNI);
}

static void test_other_extension_lengths(void **state)
{
	struct hb_marks m;

	(void)state;
	m = hb_begin(&H);
	hb_ext_sni(&H, "a.example");
	hb_ext(&H, 0x10, "\0\x05\x02h2", 5);	/* ALPN list 5, has 3 */
	hb_end(&H, m);
	assert_rejected(H.b, H.n, CH_R_BAD_LENGTH);
	m = hb_begin(&H);
	hb_ext_sni(&H, "a.example");
	hb_ext(&H, 0x2b, "\x03\x03\x04\x03", 4);	/* odd versions */
	hb_end(&H, m);
	assert_rejected(H.b, H.n, CH_R_BAD_LENGTH);
	m = hb_begin(&H);
	hb_ext_sni(&H, "a.example");
	hb_ext(&H, 0x2b, "", 0);
	hb_end(&H, m);
	assert_rejected(H.b, H.n, CH_R_BAD_LENGTH);
}

static void test_malformed(void **state)
{
	struct hb_marks m;

	(void)state;
	assert_rejected("\x16\x03\x01\x00\x00", 5, CH_R_MALFORMED);
	m = hb_begin(&H);
	hb_ext_sni(&H, "a.example");
	hb_ext_sni(&H, "b.example");
	hb_end(&H, m);
	assert_rejected(H.b, H.n, CH_R_MALFORMED);
}

static void test_no_sni(void **state)
{
	struct hb_marks m = hb_begin(&H);

	(void)state;
	hb_ext_alpn(&H, "h2");
	hb_end(&H, m);
	assert_rejected(H.b, H.n, CH_R_NO_SNI);
}

static void test_bad_sni(void **state)
{
	static const char *const bad[] = {
		"example.com.", ".example.com", "a..b", "under_score.example",
		"*.example.com", "-a.example", "a-.example", "a.-b", "sp ace.x",
		"192.0.2.1", "a.123", "caf\xc3\xa9.example", "a:b", "[::1]",
		".", "-",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		build_name(bad[i]);
		assert_rejected(H.b, H.n, CH_R_BAD_SNI);
	}
	/* A NUL inside the name. */
	build_name("ab.example");
	H.b[H.n - 9] = 0;
	assert_rejected(H.b, H.n, CH_R_BAD_SNI);
	/* Empty host_name. */
	build_name("");
	assert_rejected(H.b, H.n, CH_R_BAD_SNI);
}

static void test_good_names(void **state)
{
	static const char *const good[] = {
		"a", "localhost", "xn--caf-dma.example", "1.2.3.example",
		"0a.9z", "a-b--c.example", "123abc",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		build_name(good[i]);
		assert_found(H.b, H.n, good[i]);
	}
}

static void test_name_lengths(void **state)
{
	char name[300];

	(void)state;
	/* Labels: 63 is the limit. */
	memset(name, 'a', 63);
	strcpy(name + 63, ".example");
	build_name(name);
	assert_found(H.b, H.n, name);
	memset(name, 'a', 64);
	strcpy(name + 64, ".example");
	build_name(name);
	assert_rejected(H.b, H.n, CH_R_BAD_SNI);
	/* Whole name: 253 is the limit (4 labels: 63+63+63+61 + 3 dots). */
	memset(name, 'b', 253);
	name[63] = name[127] = name[191] = '.';
	name[253] = 0;
	build_name(name);
	assert_found(H.b, H.n, name);
	assert_int_equal(R.sni_len, 253);
	name[253] = 'b';
	name[254] = 0;
	build_name(name);
	assert_rejected(H.b, H.n, CH_R_BAD_SNI);
	/* 255 bytes: the most a name can take with a trailing dot. */
	name[254] = '.';
	name[255] = 0;
	build_name(name);
	assert_rejected(H.b, H.n, CH_R_BAD_SNI);
}

/* A hello of exactly @total bytes, grown with a padding extension. */
static void build_size(size_t total)
{
	static uint8_t pad[CH_BUF_SIZE];
	struct hb_marks m = hb_begin(&H);

	hb_ext_sni(&H, "cap.example");
	hb_ext(&H, 0x0015, pad, total - H.n - 4);
	hb_end(&H, m);
}

static void test_cap(void **state)
{
	(void)state;
	build_size(600);
	assert_int_equal(H.n, 600);
	assert_int_equal(parse_cap(H.b, H.n, 600), CH_FOUND);
	assert_int_equal(parse_cap(H.b, H.n, 599), CH_REJECTED);
	assert_int_equal(R.reason, CH_R_TOO_LARGE);
	/* Decided from the first 9 bytes, before the hello is all there. */
	assert_int_equal(parse_cap(H.b, 9, 599), CH_REJECTED);
	assert_int_equal(parse_cap(H.b, 9, 600), CH_NEED_MORE);
	assert_int_equal(R.need, 600);
	/* Default cap: 16 KiB in all. */
	build_size(CH_CAP_DEFAULT);
	assert_found(H.b, H.n, "cap.example");
	H.b[8]++;			/* handshake length + 1 */
	assert_rejected(H.b, 9, CH_R_TOO_LARGE);
	/* Record length over 2^14. */
	assert_rejected("\x16\x03\x01\x40\x01\x01", 6, CH_R_BAD_LENGTH);
	/* A cap of 0 means the default. */
	build_size(1000);
	assert_int_equal(parse_cap(H.b, H.n, 0), CH_FOUND);
}

static void test_cap_counts_record_headers(void **state)
{
	size_t sizes[] = { 300 };
	uint8_t out[HB_MAX];
	size_t n;

	(void)state;
	build_size(600);
	n = hb_split(H.b, H.n, sizes, 1, out);	/* 605 bytes in all */
	assert_int_equal(parse_cap(out, n, 605), CH_FOUND);
	assert_int_equal(R.records, 2);
	assert_int_equal(parse_cap(out, n, 604), CH_REJECTED);
	assert_int_equal(R.reason, CH_R_TOO_LARGE);
}

static void test_extension_count(void **state)
{
	struct hb_marks m;
	int i;

	(void)state;
	m = hb_begin(&H);
	hb_ext_sni(&H, "many.example");
	for (i = 1; i < CH_MAX_EXTENSIONS; i++)
		hb_ext(&H, 0xff00 + (i & 0xff), "", 0);
	hb_end(&H, m);
	assert_found(H.b, H.n, "many.example");
	m = hb_begin(&H);
	hb_ext_sni(&H, "many.example");
	for (i = 0; i < CH_MAX_EXTENSIONS; i++)
		hb_ext(&H, 0xff00 + (i & 0xff), "", 0);
	hb_end(&H, m);
	assert_rejected(H.b, H.n, CH_R_TOO_COMPLEX);
}

static void build_entries(int others)
{
	struct hb_marks m = hb_begin(&H);
	size_t at, lat;
	int i;

	hb_u16(&H, 0);
	at = H.n;
	hb_u16(&H, 0);
	lat = H.n;
	hb_u16(&H, 0);
	for (i = 0; i < others; i++) {
		hb_u8(&H, 9);
		hb_u16(&H, 1);
		hb_u8(&H, 'z');
	}
	hb_u8(&H, 0);
	hb_u16(&H, 6);
	hb_bytes(&H, "e.test", 6);
	hb_patch(&H, lat, 2);
	hb_patch(&H, at, 2);
	hb_end(&H, m);
}

static void test_name_entry_count(void **state)
{
	(void)state;
	build_entries(CH_MAX_NAME_ENTRIES - 1);
	assert_found(H.b, H.n, "e.test");
	build_entries(CH_MAX_NAME_ENTRIES);
	assert_rejected(H.b, H.n, CH_R_TOO_COMPLEX);
}

static void test_record_count(void **state)
{
	size_t sizes[CH_MAX_RECORDS];
	uint8_t out[HB_MAX];
	size_t n;
	int i;

	(void)state;
	hb_simple(&H, "rec.example");
	for (i = 0; i < CH_MAX_RECORDS; i++)
		sizes[i] = 1;
	n = hb_split(H.b, H.n, sizes, CH_MAX_RECORDS - 1, out);
	assert_found(out, n, "rec.example");
	assert_int_equal(R.records, CH_MAX_RECORDS);
	n = hb_split(H.b, H.n, sizes, CH_MAX_RECORDS, out);
	assert_rejected(out, n, CH_R_TOO_COMPLEX);
}

static void test_need(void **state)
{
	size_t sizes[] = { 2, 100 };
	uint8_t out[HB_MAX];
	size_t n, k;

	(void)state;
	assert_int_equal(parse("", 0), CH_NEED_MORE);
	assert_int_equal(R.need, 5);
	assert_int_equal(parse("\x16", 1), CH_NEED_MORE);
	assert_int_equal(parse("\x16\x03\x01\x02\x00", 5), CH_NEED_MORE);
	hb_simple(&H, "need.example");
	for (k = 9; k < H.n; k++) {
		assert_int_equal(parse(H.b, k), CH_NEED_MORE);
		assert_int_equal(R.need, H.n);	/* exact for one record */
	}
	/* Handshake header split across records: need is a lower bound. */
	n = hb_split(H.b, H.n, sizes, 2, out);
	for (k = 0; k < n; k++) {
		assert_int_equal(parse(out, k), CH_NEED_MORE);
		assert_true(R.need > k && R.need <= n);
	}
	assert_found(out, n, "need.example");
	assert_int_equal(R.records, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_not_handshake),
		cmocka_unit_test(test_sslv2),
		cmocka_unit_test(test_bad_version),
		cmocka_unit_test(test_not_client_hello),
		cmocka_unit_test(test_legacy_field_lengths),
		cmocka_unit_test(test_body_too_short),
		cmocka_unit_test(test_no_extensions),
		cmocka_unit_test(test_extensions_length),
		cmocka_unit_test(test_extension_overruns),
		cmocka_unit_test(test_server_name_lengths),
		cmocka_unit_test(test_other_extension_lengths),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_no_sni),
		cmocka_unit_test(test_bad_sni),
		cmocka_unit_test(test_good_names),
		cmocka_unit_test(test_name_lengths),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_cap_counts_record_headers),
		cmocka_unit_test(test_extension_count),
		cmocka_unit_test(test_name_entry_count),
		cmocka_unit_test(test_record_count),
		cmocka_unit_test(test_need),
	};

	return cmocka_run_group_tests_name("clienthello rejections", tests, NULL, NULL);
}

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Unit tests of the shared ClientHello parser (userspace build): every
 * rejection reason, the boundaries of every limit, and truncation and
 * re-framing of real hellos (HELLO_DIRS: directories of *.bin captures).
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hello.h"
#include "kver.h"
#include "../lib/hello_builder.h"

static struct hb H;
static struct ch_result R;

static int parse_cap(const void *buf, size_t len, unsigned int cap)
{
	return hello_parse(buf, len, cap, &R);
}

static int parse(const void *buf, size_t len)
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
static void build_name(const char *name)
{
	struct hb_marks m = hb_begin(&H);

	hb_ext_sni(&H, name);
	hb_end(&H, m);
}

/* Record header + handshake header + legacy fields, with chosen sizes. */
static size_t begin_fields(unsigned int sid, unsigned int cs, unsigned int cm)
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

static void end_fields(void)
{
	hb_patch(&H, 6, 3);
	hb_patch(&H, 3, 2);
}

static void with_fields(unsigned int sid, unsigned int cs, unsigned int cm)
{
	size_t ext;

	begin_fields(sid, cs, cm);
	ext = H.n;
	hb_u16(&H, 0);
	hb_ext_sni(&H, "example.com");
	hb_patch(&H, ext, 2);
	end_fields();
}

/* --- found ------------------------------------------------------------ */

static void test_simple(void **state)
{
	(void)state;
	hb_simple(&H, "www.example.com");
	assert_found(H.b, H.n, "www.example.com");
	assert_int_equal(R.records, 1);
	assert_int_equal(R.hello_len, H.n);
	assert_int_equal(R.tls13, 1);
	assert_int_equal(R.ech, 0);
	assert_int_equal(R.sni_len, 15);
	assert_int_equal(R.alpn_len, 12);
	assert_memory_equal(R.alpn, "\x02h2\x08http/1.1", 12);
}

static void test_lower_cased(void **state)
{
	(void)state;
	build_name("WWW.Example.COM");
	assert_found(H.b, H.n, "www.example.com");
	assert_int_equal(R.tls13, 0);
	assert_int_equal(R.alpn_len, 0);
}

static void test_trailing_bytes_ignored(void **state)
{
	size_t n;

	(void)state;
	hb_simple(&H, "a.example");
	n = H.n;
	hb_bytes(&H, "\x14\x03\x03\x00\x01\x01", 6);	/* CCS record */
	assert_found(H.b, H.n, "a.example");
	assert_int_equal(R.hello_len, n);
}

static void test_extension_order(void **state)
{
	static const uint16_t v[] = { 0x0304 };
	struct hb_marks m;
	int pos;

	(void)state;
	for (pos = 0; pos < 3; pos++) {
		m = hb_begin(&H);
		if (pos == 0)
			hb_ext_sni(&H, "order.example");
		hb_ext(&H, 0x1a1a, "\0", 1);		/* GREASE */
		hb_ext_versions(&H, v, 1);
		if (pos == 1)
			hb_ext_sni(&H, "order.example");
		hb_ext(&H, 0xfe0d, "\0\0\1", 3);	/* ECH */
		hb_ext_alpn(&H, "h2");
		if (pos == 2)
			hb_ext_sni(&H, "order.example");
		hb_end(&H, m);
		assert_found(H.b, H.n, "order.example");
		assert_int_equal(R.tls13, 1);
		assert_int_equal(R.ech, 1);
		assert_int_equal(R.alpn_len, 3);
	}
}

static void test_huge_and_empty_extensions(void **state)
{
	static uint8_t pad[12000];
	struct hb_marks m = hb_begin(&H);

	(void)state;
	hb_ext(&H, 0x0015, pad, sizeof(pad));	/* padding */
	hb_ext(&H, 0x0023, "", 0);		/* session_ticket, empty */
	hb_ext_sni(&H, "big.example");
	hb_end(&H, m);
	assert_found(H.b, H.n, "big.example");
}

static void test_alpn_cut(void **state)
{
	char list[200];
	struct hb_marks m;

	(void)state;
	memset(list, 'p', sizeof(list) - 1);
	list[sizeof(list) - 1] = 0;
	list[10] = ',';
	m = hb_begin(&H);
	hb_ext_alpn(&H, list);			/* p{10}, p{188}: > 64 B */
	hb_ext_sni(&H, "alpn.example");
	hb_end(&H, m);
	assert_found(H.b, H.n, "alpn.example");
	assert_int_equal(R.alpn_len, CH_ALPN_MAX);
	assert_int_equal(R.alpn_cut, 1);
}

static void test_skips_other_name_types(void **state)
{
	struct hb_marks m = hb_begin(&H);

	(void)state;
	hb_u16(&H, 0);
	hb_u16(&H, 5 + 3 + 6);
	hb_u16(&H, 3 + 3 + 6);
	hb_u8(&H, 7);				/* unknown name_type */
	hb_u16(&H, 0);
	hb_u8(&H, 0);
	hb_u16(&H, 6);
	hb_bytes(&H, "x.test", 6);
	hb_end(&H, m);
	assert_found(H.b, H.n, "x.test");
}

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

/* --- real hellos: truncation and re-framing --------------------------- */

typedef void (*file_fn)(const char *path, const uint8_t *b, size_t n);

static int for_each_hello(file_fn fn)
{
	static uint8_t buf[CH_BUF_SIZE];
	const char *env = getenv("HELLO_DIRS");
	char dirs[4096], *save = NULL, *d;
	int files = 0;

	snprintf(dirs, sizeof(dirs), "%s", env ? env : "");
	for (d = strtok_r(dirs, " :", &save); d;
	     d = strtok_r(NULL, " :", &save)) {
		DIR *dir = opendir(d);
		struct dirent *e;

		if (!dir) {
			print_message("note: %s: not found, its hellos not "
				      "tested\n", d);
			continue;
		}
		while ((e = readdir(dir))) {
			char path[8192];
			size_t len = strlen(e->d_name), n;
			FILE *f;

			if (len < 5 || strcmp(e->d_name + len - 4, ".bin"))
				continue;
			snprintf(path, sizeof(path), "%s/%s", d, e->d_name);
			f = fopen(path, "rb");
			assert_non_null(f);
			n = fread(buf, 1, sizeof(buf), f);
			fclose(f);
			fn(path, buf, n);
			files++;
		}
		closedir(dir);
	}
	return files;
}

/* Every prefix: "need more", or the whole input's own rejection. */
static void check_prefixes(const char *path, const uint8_t *b, size_t n)
{
	struct ch_result whole;
	size_t k;

	parse(b, n);
	whole = R;
	for (k = 0; k < n; k++) {
		int st = parse(b, k);

		if (whole.status == CH_FOUND && k >= whole.hello_len) {
			if (st != CH_FOUND || strcmp(R.sni, whole.sni))
				fail_msg("%s: %zu bytes past the hello changed "
					 "the answer", path, k);
			continue;
		}
		if (st == CH_NEED_MORE && R.need > k &&
		    (whole.status != CH_FOUND || R.need <= whole.hello_len))
			continue;
		if (st == CH_REJECTED && whole.status == CH_REJECTED &&
		    R.reason == whole.reason)
			continue;
		fail_msg("%s: prefix of %zu bytes gave %s reason=%s need=%u",
			 path, k, hello_status_name(st),
			 hello_reason_name(R.reason), R.need);
	}
}

static void test_truncation(void **state)
{
	(void)state;
	if (!for_each_hello(check_prefixes))
		skip();
}

/* The same hello re-framed into records must give the same answer. */
static void check_reframed(const char *path, const uint8_t *b, size_t n)
{
	static const size_t plans[][4] = {
		{ 1 }, { 2 }, { 3 }, { 4 }, { 5 }, { 1, 1, 1, 1 },
		{ 40, 40 }, { 100 }, { 255, 1, 3 },
	};
	static uint8_t out[HB_MAX];
	struct ch_result whole;
	size_t i, m, k;

	parse(b, n);
	whole = R;
	if (whole.status != CH_FOUND || whole.records != 1)
		return;
	for (i = 0; i < sizeof(plans) / sizeof(plans[0]); i++) {
		int np = 0;

		while (np < 4 && plans[i][np])
			np++;
		m = hb_split(b, whole.hello_len, plans[i], np, out);
		assert_true(m > 0);
		if (parse(out, m) != CH_FOUND || strcmp(R.sni, whole.sni) ||
		    R.tls13 != whole.tls13 || R.ech != whole.ech ||
		    R.alpn_len != whole.alpn_len ||
		    memcmp(R.alpn, whole.alpn, R.alpn_len) ||
		    R.hello_len != m)
			fail_msg("%s: plan %zu gave %s reason=%s", path, i,
				 hello_status_name(R.status),
				 hello_reason_name(R.reason));
		for (k = 0; k < m; k++)
			if (parse(out, k) != CH_NEED_MORE)
				fail_msg("%s: plan %zu, prefix %zu: %s", path,
					 i, k, hello_status_name(R.status));
	}
}

static void test_reframing(void **state)
{
	(void)state;
	if (!for_each_hello(check_reframed))
		skip();
}

/* Not the parser, but userspace-only and tiny: the minimum kernel. */
static void test_kernel_version_check(void **state)
{
	char err[256] = "";

	(void)state;
	assert_int_equal(kver_check_release("6.1.0-56-amd64", err, 256), 0);
	assert_int_equal(kver_check_release("6.0.0", err, 256), 0);
	assert_int_equal(kver_check_release("10.2.1", err, 256), 0);
	assert_int_equal(kver_check_release("5.15.0-91-generic", err, 256), -1);
	assert_non_null(strstr(err, "5.15.0-91-generic is too old"));
	assert_non_null(strstr(err, ">= 6.0"));
	assert_int_equal(kver_check_release("4.19", err, 256), -1);
	assert_int_equal(kver_check_release("garbage", err, 256), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple),
		cmocka_unit_test(test_lower_cased),
		cmocka_unit_test(test_trailing_bytes_ignored),
		cmocka_unit_test(test_extension_order),
		cmocka_unit_test(test_huge_and_empty_extensions),
		cmocka_unit_test(test_alpn_cut),
		cmocka_unit_test(test_skips_other_name_types),
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
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_reframing),
		cmocka_unit_test(test_kernel_version_check),
	};

	return cmocka_run_group_tests_name("clienthello", tests, NULL, NULL);
}

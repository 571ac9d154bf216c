// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Unit tests of the shared ClientHello parser (userspace build): what it
 * finds, and truncation and re-framing of real hellos (HELLO_DIRS:
 * directories of *.bin captures). Every rejection reason and the
 * boundaries of every limit: test_clienthello_reject.c.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kver.h"
#include "clienthello_check.h"

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
	assert_int_equal(kver_check_release("6.1.0", err, 256), 0);
	assert_int_equal(kver_check_release("6.0.9", err, 256), -1);
	assert_int_equal(kver_check_release("10.2.1", err, 256), 0);
	assert_int_equal(kver_check_release("5.15.0-91-generic", err, 256), -1);
	assert_non_null(strstr(err, "5.15.0-91-generic is too old"));
	assert_non_null(strstr(err, ">= 6.1"));
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
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_reframing),
		cmocka_unit_test(test_kernel_version_check),
	};

	return cmocka_run_group_tests_name("clienthello", tests, NULL, NULL);
}

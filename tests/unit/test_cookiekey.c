// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* --cookie-key FILE (user/agent/cookiekey.c): hex or raw, 32 bytes or
 * more; every refusal names the file and what is wrong. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cookiekey.h"

static char path[64];

static void puts_(const char *s)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(s, f);
	fclose(f);
}

static void put(const void *b, size_t n)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(b, 1, n, f), n);
	fclose(f);
}

static int rd(uint8_t *key, size_t *len, char *err)
{
	return cookie_key_read(path, key, len, err, 256);
}

static void test_raw_and_hex(void **state)
{
	static uint8_t key[COOKIE_KEY_MAX];
	uint8_t raw[40];
	char err[256] = "";
	size_t len, i;

	(void)state;
	for (i = 0; i < sizeof(raw); i++)
		raw[i] = (uint8_t)(0xf0 ^ i * 7);	/* not all hex text */
	put(raw, sizeof(raw));
	assert_int_equal(rd(key, &len, err), 0);
	assert_int_equal(len, 40);
	assert_memory_equal(key, raw, 40);
	puts_("00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f\n"
	      "10111213141516171819 1a1b1c1d1e1F\n");
	assert_int_equal(rd(key, &len, err), 0);
	assert_int_equal(len, 32);
	for (i = 0; i < 32; i++)
		assert_int_equal(key[i], i);
}

static void test_refused(void **state)
{
	static uint8_t key[COOKIE_KEY_MAX];
	char err[256] = "";
	size_t len;

	(void)state;
	puts_("0123456789abcdef0123456789abcdef");	/* 16 bytes, hex */
	assert_int_equal(rd(key, &len, err), -1);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "16 bytes of key, at least 32"));
	puts_("0123456789abcdef0123456789abcdef"
	      "0123456789abcdef0123456789abcde\n");	/* 63 digits */
	assert_int_equal(rd(key, &len, err), -1);
	assert_non_null(strstr(err, "odd number of hex digits"));
	puts_("");
	assert_int_equal(rd(key, &len, err), -1);
	assert_non_null(strstr(err, "0 bytes of key"));
	unlink(path);
	assert_int_equal(rd(key, &len, err), -1);
	assert_non_null(strstr(err, "No such file"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_raw_and_hex),
		cmocka_unit_test(test_refused),
	};

	snprintf(path, sizeof(path), "/tmp/snilb-test-key.%d", getpid());
	return cmocka_run_group_tests_name("cookiekey", tests, NULL, NULL);
}

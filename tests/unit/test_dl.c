// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Libraries loaded when needed (user/lib/dl.h): a library or a symbol
 * missing is named in the error and no slot is left half filled; the
 * libcurl forwarders (user/source/curl_dl.c) reach the real library.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "dl.h"

static void test_missing_library(void **state)
{
	void *a = (void *)1;
	const struct dl_sym syms[] = { { "f", &a } };
	char err[256];

	(void)state;
	assert_int_equal(dl_bind("libsnilb-none.so.9", syms, 1, err,
				 sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot load libsnilb-none.so.9"));
	assert_non_null(strstr(err, "is its package installed?"));
}

static void test_missing_symbol(void **state)
{
	void *a = NULL, *b = NULL;
	const struct dl_sym syms[] = { { "curl_easy_init", &a },
				       { "curl_no_such_thing", &b } };
	char err[256];

	(void)state;
	assert_int_equal(dl_bind(DL_CURL, syms, 2, err, sizeof(err)), -1);
	assert_string_equal(err, DL_CURL " has no curl_no_such_thing: another "
			    "version than snilb was built for");
	assert_null(a);		/* nothing kept */
	assert_null(b);
}

/* Through the forwarders, as the Kubernetes source calls them. */
static void test_curl_forwarders(void **state)
{
	CURL *h;
	char *e;
	long v = -1;

	(void)state;
	assert_int_equal(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
	h = curl_easy_init();
	assert_non_null(h);
	assert_int_equal(curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 1000L),
			 CURLE_OK);
	assert_int_equal(curl_easy_setopt(h, CURLOPT_URL, "http://x/"),
			 CURLE_OK);
	assert_int_equal(curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &v),
			 CURLE_OK);
	assert_int_equal(v, 0);
	e = curl_easy_escape(h, "a b", 0);
	assert_string_equal(e, "a%20b");
	curl_free(e);
	assert_string_equal(curl_easy_strerror(CURLE_OK), "No error");
	curl_easy_cleanup(h);
	curl_global_cleanup();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_missing_library),
		cmocka_unit_test(test_missing_symbol),
		cmocka_unit_test(test_curl_forwarders),
	};

	return cmocka_run_group_tests_name("dl", tests, NULL, NULL);
}

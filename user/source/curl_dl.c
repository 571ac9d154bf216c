// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The libcurl functions the Kubernetes source calls, defined here and
 * forwarded to the library, which the first call loads (user/lib/dl.h):
 * an agent that reads manifests never maps it. Until it is loaded, or if
 * it cannot be, each returns libcurl's own failure (CURLE_FAILED_INIT,
 * NULL), and curl_dl_error() says why. The callers keep curl.h's type
 * checks of curl_easy_setopt(); this file alone turns them off, to define
 * the functions.
 */
#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>
#include <pthread.h>
#include <stdarg.h>

#include "curl_dl.h"
#include "dl.h"

static struct {
	CURLcode (*global_init)(long);
	void (*global_cleanup)(void);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	CURLcode (*easy_perform)(CURL *);
	void (*easy_cleanup)(CURL *);
	void (*easy_reset)(CURL *);
	const char *(*easy_strerror)(CURLcode);
	char *(*easy_escape)(CURL *, const char *, int);
	void (*free)(void *);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
} fn;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int loaded;
static char why[256];

static void load(void)
{
	const struct dl_sym syms[] = {
		{ "curl_global_init", (void **)&fn.global_init },
		{ "curl_global_cleanup", (void **)&fn.global_cleanup },
		{ "curl_easy_init", (void **)&fn.easy_init },
		{ "curl_easy_setopt", (void **)&fn.easy_setopt },
		{ "curl_easy_getinfo", (void **)&fn.easy_getinfo },
		{ "curl_easy_perform", (void **)&fn.easy_perform },
		{ "curl_easy_cleanup", (void **)&fn.easy_cleanup },
		{ "curl_easy_reset", (void **)&fn.easy_reset },
		{ "curl_easy_strerror", (void **)&fn.easy_strerror },
		{ "curl_easy_escape", (void **)&fn.easy_escape },
		{ "curl_free", (void **)&fn.free },
		{ "curl_slist_append", (void **)&fn.slist_append },
		{ "curl_slist_free_all", (void **)&fn.slist_free_all },
	};

	loaded = !dl_bind(DL_CURL, syms, sizeof(syms) / sizeof(syms[0]), why,
			  sizeof(why));
}

static int ready(void)
{
	pthread_once(&once, load);
	return loaded;
}

const char *curl_dl_error(void)
{
	return why;
}

CURLcode curl_global_init(long flags)
{
	return ready() ? fn.global_init(flags) : CURLE_FAILED_INIT;
}

void curl_global_cleanup(void)
{
	if (ready())
		fn.global_cleanup();
}

CURL *curl_easy_init(void)
{
	return ready() ? fn.easy_init() : NULL;
}

/* The option's number says its argument's type (curl.h, CURLOPTTYPE_*). */
CURLcode curl_easy_setopt(CURL *h, CURLoption o, ...)
{
	CURLcode r;
	va_list ap;

	if (!ready())
		return CURLE_FAILED_INIT;
	va_start(ap, o);
	if (o < CURLOPTTYPE_OBJECTPOINT)
		r = fn.easy_setopt(h, o, va_arg(ap, long));
	else if (o < CURLOPTTYPE_FUNCTIONPOINT)
		r = fn.easy_setopt(h, o, va_arg(ap, void *));
	else if (o < CURLOPTTYPE_OFF_T)
		r = fn.easy_setopt(h, o, va_arg(ap, void (*)(void)));
	else if (o < CURLOPTTYPE_BLOB)
		r = fn.easy_setopt(h, o, va_arg(ap, curl_off_t));
	else
		r = fn.easy_setopt(h, o, va_arg(ap, void *));
	va_end(ap);
	return r;
}

/* Every CURLINFO takes a pointer. */
CURLcode curl_easy_getinfo(CURL *h, CURLINFO i, ...)
{
	CURLcode r;
	va_list ap;

	if (!ready())
		return CURLE_FAILED_INIT;
	va_start(ap, i);
	r = fn.easy_getinfo(h, i, va_arg(ap, void *));
	va_end(ap);
	return r;
}

CURLcode curl_easy_perform(CURL *h)
{
	return ready() ? fn.easy_perform(h) : CURLE_FAILED_INIT;
}

void curl_easy_cleanup(CURL *h)
{
	if (ready())
		fn.easy_cleanup(h);
}

void curl_easy_reset(CURL *h)
{
	if (ready())
		fn.easy_reset(h);
}

const char *curl_easy_strerror(CURLcode c)
{
	return ready() ? fn.easy_strerror(c) : why;
}

char *curl_easy_escape(CURL *h, const char *s, int len)
{
	return ready() ? fn.easy_escape(h, s, len) : NULL;
}

void curl_free(void *p)
{
	if (ready())
		fn.free(p);
}

struct curl_slist *curl_slist_append(struct curl_slist *l, const char *s)
{
	return ready() ? fn.slist_append(l, s) : NULL;
}

void curl_slist_free_all(struct curl_slist *l)
{
	if (ready())
		fn.slist_free_all(l);
}

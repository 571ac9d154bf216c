// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Requests to the API server with curl: TLS from the credentials, the
 * bearer token, timeouts (connect 10 s, TCP keepalive after 30 s idle,
 * a whole request 60 s; a watch sets its own), kube_stop() aborting a
 * transfer in progress, the Retry-After of a 429 or 503 noted.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube_int.h"
#include "log.h"

#include "version.h"

#define CONNECT_S	10L
#define KEEPIDLE_S	30L

/* --- buffers ---------------------------------------------------------- */

int kube_buf_add(struct buf *b, const char *p, size_t n)
{
	size_t cap = b->cap ? b->cap : 4096;
	char *np;

	while (cap < b->len + n + 1)
		cap *= 2;
	if (cap != b->cap) {
		np = realloc(b->p, cap);
		if (!np)
			return -ENOMEM;
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

void kube_buf_free(struct buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* --- requests --------------------------------------------------------- */

/* Called at least once a second, even while the server says nothing:
 * a stop or an abort ends a request that hangs within a second. */
static int on_progress(void *arg, curl_off_t dt, curl_off_t dn,
		       curl_off_t ut, curl_off_t un)
{
	struct req *r = arg;

	(void)dt, (void)dn, (void)ut, (void)un;
	return kube_stopping(r->k) ||
	       (r->abort && __atomic_load_n(r->abort, __ATOMIC_RELAXED));
}

static size_t on_body(char *p, size_t sz, size_t nm, void *arg)
{
	return kube_buf_add(arg, p, sz * nm) ? 0 : sz * nm;
}

static void setup_tls(struct kube *k, CURL *h)
{
	struct creds *c = &k->c;
	struct curl_blob b = { .flags = CURL_BLOB_COPY };

	if (c->ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
	if (c->ca_data) {
		b.data = c->ca_data;
		b.len = c->ca_len;
		curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &b);
	}
	if (c->insecure) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (c->cert_file)
		curl_easy_setopt(h, CURLOPT_SSLCERT, c->cert_file);
	if (c->key_file)
		curl_easy_setopt(h, CURLOPT_SSLKEY, c->key_file);
	if (c->cert_data) {
		b.data = c->cert_data;
		b.len = c->cert_len;
		curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &b);
		curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
	}
	if (c->key_data) {
		b.data = c->key_data;
		b.len = c->key_len;
		curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &b);
		curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
	}
}

static struct curl_slist *headers(struct kube *k, const struct req *r,
				  int reload)
{
	struct curl_slist *l = curl_slist_append(NULL,
						 "Accept: application/json");
	char *auth = kube_auth_header(k, reload);
	const char *ct = NULL;

	if (r->body && r->method && !strcmp(r->method, "PATCH"))
		ct = "Content-Type: application/merge-patch+json";
	else if (r->body)
		ct = "Content-Type: application/json";
	if (l && ct)
		l = curl_slist_append(l, ct);
	if (l && auth)
		l = curl_slist_append(l, auth);
	free(auth);
	return l;
}

static long perform_once(struct kube *k, CURL *h, struct req *r, int reload)
{
	struct curl_slist *hl = headers(k, r, reload);
	char *url = NULL;
	long code = 0;

	if (!hl || asprintf(&url, "%s%s", k->c.server, r->path) < 0) {
		curl_slist_free_all(hl);
		r->cc = CURLE_OUT_OF_MEMORY;
		return 0;
	}
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "snilb/" SNILB_VERSION);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, CONNECT_S);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, r->timeout_s * 1000L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, r->idle_s);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPIDLE, KEEPIDLE_S);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPINTVL, KEEPIDLE_S / 2);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, r);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, r->write ? r->write :
			 on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, r->write ? r->wdata : r->resp);
	if (r->method && strcmp(r->method, "GET") &&
	    strcmp(r->method, "POST"))
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->method);
	if (r->body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, r->body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)strlen(r->body));
	}
	setup_tls(k, h);
	r->errbuf[0] = '\0';
	r->retry_after_s = 0;
	r->cc = curl_easy_perform(h);
	if (r->cc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	if (code == 429 || code == 503) {
		curl_off_t ra = 0;

		if (!curl_easy_getinfo(h, CURLINFO_RETRY_AFTER, &ra) && ra > 0)
			r->retry_after_s = ra > LONG_MAX ? LONG_MAX : (long)ra;
	}
	if (k->verbose) {
		char st[16];

		snprintf(st, sizeof(st), "%ld", code);
		log_event("debug", "kube: request", "method",
			  r->method ? r->method : "GET", "path", r->path,
			  "status", st, "error", code ? NULL : r->errbuf,
			  NULL);
	}
	curl_slist_free_all(hl);
	free(url);
	return code;
}

long kube_perform(struct kube *k, CURL *h, struct req *r)
{
	long code;

	r->k = k;
	code = perform_once(k, h, r, 0);

	if (code != 401 || !k->c.token_file)
		return code;
	if (r->resp)
		r->resp->len = 0;
	return perform_once(k, h, r, 1);
}

void kube_req_error(const struct req *r, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s", r->errbuf[0] ? r->errbuf :
		 curl_easy_strerror(r->cc));
}


/* --- connections of their own (kube.h) ---------------------------------- */

struct kube_conn {
	struct kube *k;
	CURL *h;		/* kept: the connection is reused */
	long timeout_s;
	int abort;		/* atomic */
};

struct kube_conn *kube_conn_new(struct kube *k, long timeout_s)
{
	struct kube_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->h = curl_easy_init();
	if (!c->h) {
		free(c);
		return NULL;
	}
	c->k = k;
	c->timeout_s = timeout_s > 0 ? timeout_s : REQUEST_S;
	return c;
}

void kube_conn_abort(struct kube_conn *c)
{
	if (c)
		__atomic_store_n(&c->abort, 1, __ATOMIC_RELAXED);
}

void kube_conn_free(struct kube_conn *c)
{
	if (!c)
		return;
	curl_easy_cleanup(c->h);
	free(c);
}

long kube_conn_request(struct kube_conn *c, const char *method,
		       const char *path, const char *body, char **resp,
		       char *err, size_t errlen)
{
	struct buf b = { 0 };
	struct req r = { .method = method, .path = path, .body = body,
			 .timeout_s = c->timeout_s, .idle_s = c->timeout_s,
			 .resp = &b, .abort = &c->abort };
	long code;

	if (resp)
		*resp = NULL;
	if (__atomic_load_n(&c->abort, __ATOMIC_RELAXED)) {
		snprintf(err, errlen, "aborted");
		return 0;
	}
	code = kube_perform(c->k, c->h, &r);
	if (!code)
		kube_req_error(&r, err, errlen);
	if (resp)
		*resp = b.p;
	else
		free(b.p);
	return code;
}

long kube_request(struct kube *k, const char *method, const char *path,
		  const char *body, char **resp, char *err, size_t errlen)
{
	struct kube_conn *c = kube_conn_new(k, REQUEST_S);
	long code;

	if (!c) {
		snprintf(err, errlen, "curl_easy_init failed");
		if (resp)
			*resp = NULL;
		return 0;
	}
	code = kube_conn_request(c, method, path, body, resp, err, errlen);
	kube_conn_free(c);
	return code;
}

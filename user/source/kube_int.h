/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The Kubernetes client's insides, shared by its files (and its unit
 * test): kube.c starts and stops it, kube_creds.c reads the credentials,
 * kube_http.c makes the requests, kube_store.c keeps the objects and
 * their decoded models, kube_watch.c runs each kind's list and watch.
 */
#ifndef SNILB_USER_KUBE_INT_H
#define SNILB_USER_KUBE_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "kube.h"
#include "model.h"

#define REQUEST_S	60L	/* whole request, other than watches */
/* A 429 or 503 with Retry-After: N is retried after N s, at most this. */
#define RETRY_AFTER_MAX_S	60L

/* A growing buffer, always NUL-terminated once written to. */
struct buf {
	char *p;
	size_t len, cap;
};

/* One stored object: its JSON text, and the model decoded from it. */
struct obj {
	char *key;		/* "ns/name", or "name" */
	char *uid, *rv;
	char *json;
	size_t len;
	int decoded;		/* @one is valid (under kube.lock) */
	int adopt;		/* a relist: take @one from the old object */
	struct model one;
};

/* One kind: its thread's list and watch, and its objects. */
struct kube_kind {
	const struct m_kind *def;
	struct kube *k;
	pthread_t thread;
	int started;
	/* Under k->lock. */
	void *root;		/* tsearch tree of struct obj, by key */
	size_t n;
	int listed;
	/* NULL while not served; read by other threads (atomic). */
	const char *version;
	/* The kind's thread only. */
	CURL *h;
	char rv[128];		/* last seen resourceVersion; "": relist */
	long backoff_ms;
	unsigned int seed;
	int warned_missing, warned_code;
	unsigned int failures;	/* in a row, for the log */
	long failed_code;	/* the last one logged */
	long retry_after_s;	/* the last answer's Retry-After, or 0 */
	/* The watch stream being read. */
	struct buf line;
	struct buf errbody;
	int relist;		/* ERROR 410 seen */
	long event_err;		/* another ERROR event's code */
	char event_msg[256];
	size_t events;
};

/* How to reach and authenticate to the API server (kube_creds.c). */
struct creds {
	char *server;		/* "https://host:port" */
	char *ca_file;
	char *ca_data;
	size_t ca_len;
	char *cert_file, *key_file;
	char *cert_data, *key_data;
	size_t cert_len, key_len;
	int insecure;
	char *token_file;
	char *ns;
	/* Under kube.token_lock. */
	char *token;
	struct timespec token_mtime;
	int64_t token_checked;
};

struct kube {
	struct creds c;
	int notify_fd;
	int verbose;
	pthread_mutex_t lock;		/* the stores */
	pthread_mutex_t token_lock;
	pthread_mutex_t stop_lock;
	pthread_cond_t stop_cond;
	int stop;
	struct kube_kind kinds[M_NKINDS];
};

/* One request (kube_perform()). */
struct req {
	const char *method;	/* NULL: GET */
	const char *path;	/* with its query */
	const char *body;
	long timeout_s;		/* 0: none (watches: idle limit only) */
	long idle_s;		/* no byte for this long: abort */
	curl_write_callback write;	/* NULL: into @resp */
	void *wdata;
	struct buf *resp;
	CURLcode cc;
	char errbuf[CURL_ERROR_SIZE];
	long retry_after_s;	/* of a 429 or 503 (seconds, or an HTTP
				 * date from now); 0: none */
	const int *abort;	/* non-zero: end the transfer (NULL: only
				 * kube_stop() does) */
	struct kube *k;		/* set by kube_perform() */
};

static inline int kube_stopping(struct kube *k)
{
	return __atomic_load_n(&k->stop, __ATOMIC_RELAXED);
}

static inline const char *jstr(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* kube.c */
int64_t kube_now_ms(void);

/* kube_creds.c: 0, or a negative errno with @err. */
int kube_creds_kubeconfig(struct creds *c, const char *path, char *err,
			  size_t errlen);
int kube_creds_incluster(struct creds *c, char *err, size_t errlen);
void kube_creds_free(struct creds *c);
/* "Authorization: Bearer ..." (malloc'd), or NULL without a token. */
char *kube_auth_header(struct kube *k, int force_reload);
/* Standard or URL-safe base64, whitespace ignored: malloc'd, or NULL. */
char *kube_b64decode(const char *s, size_t *lenp);

/* kube_http.c */
int kube_buf_add(struct buf *b, const char *p, size_t n);
void kube_buf_free(struct buf *b);
/*
 * The request; after a 401 the token file is read again and the request
 * made once more (the token may have been rotated). The HTTP status, or 0
 * on a transport error (r->cc, r->errbuf).
 */
long kube_perform(struct kube *k, CURL *h, struct req *r);
void kube_req_error(const struct req *r, char *err, size_t errlen);

/* kube_store.c: the objects of each kind, by key, under k->lock. */
int kube_obj_cmp(const void *a, const void *b);
void kube_obj_free(void *p);
struct obj *kube_obj_make(struct kube_kind *kd, json_t *o);
void kube_store_put(struct kube_kind *kd, struct obj *o);
void kube_store_del(struct kube_kind *kd, const char *key);
void kube_store_replace(struct kube_kind *kd, void *root, size_t n);

/* kube_watch.c */
void *kube_kind_main(void *arg);
/* How long to wait after an answer @code with Retry-After @retry_after_s
 * (0: none): the server's word for a 429 or 503, capped at
 * RETRY_AFTER_MAX_S, in ms; 0: back off as for any failure. */
long kube_retry_after_ms(long code, long retry_after_s);
/* The watch stream, fed as it comes: -1 ends it. */
int kube_watch_feed(struct kube_kind *kd, const char *p, size_t n);

#endif /* SNILB_USER_KUBE_INT_H */

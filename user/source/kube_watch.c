// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * One thread per kind: discovery (for a CRD's version), LIST in pages,
 * then WATCH from the list's resourceVersion until the server ends it,
 * as client-go's reflector does on the wire: a watch that ends, cleanly
 * or cut, is resumed at once; 410 relists (an expired continue token
 * restarts the list at once); a 429 or 503 waits its Retry-After; other
 * failures back off and are logged once per outage.
 *
 * A watch that receives no byte for 90 s is considered dead (bookmarks
 * arrive about once a minute; a quiet server that sends none just costs
 * a re-watch); timeoutSeconds is 240..300 s, jittered so that the
 * watches of many agents do not restart together.
 */
#include <errno.h>
#include <pthread.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kube_int.h"
#include "log.h"

#define PAGE_LIMIT	500
#define WATCH_IDLE_S	90L	/* no byte for this long: the server is gone */
#define BACKOFF_MIN_MS	200L
#define BACKOFF_MAX_MS	30000L
#define SLOW_MS		30000L	/* 403, 404 */
/* A kind not served yet (its CRD not installed): one discovery GET this
 * often, so routing starts soon after it appears. */
#define DISCOVERY_MS	10000L
#define LINE_MAX_BYTES	(32u << 20)	/* one watch event */
#define ERRBODY_MAX	1024

/* Sleep @ms or until kube_stop(); 1 when stopping. */
static int nap(struct kube *k, long ms)
{
	struct timespec ts;
	int stop;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&k->stop_lock);
	while (!k->stop &&
	       pthread_cond_timedwait(&k->stop_cond, &k->stop_lock, &ts) !=
	       ETIMEDOUT)
		;
	stop = k->stop;
	pthread_mutex_unlock(&k->stop_lock);
	return stop;
}

static void notify(struct kube *k)
{
	uint64_t one = 1;

	/* EAGAIN (the counter is full) is fine: the agent wakes anyway. */
	if (k->notify_fd >= 0 && write(k->notify_fd, &one, sizeof(one)) < 0)
		return;
}

/* --- list ------------------------------------------------------------- */

static int kind_path(struct kube_kind *kd, char *out, size_t len)
{
	const struct m_kind *d = kd->def;

	if (!*d->group)
		return snprintf(out, len, "/api/%s/%s", kd->version,
				d->resource);
	return snprintf(out, len, "/apis/%s/%s/%s", d->group, kd->version,
			d->resource);
}

/* The Status message of an error body, for the log. */
static void status_msg(const char *body, size_t len, char *out, size_t olen)
{
	json_t *j = body ? json_loadb(body, len, 0, NULL) : NULL;
	const char *m = jstr(j, "message");

	snprintf(out, olen, "%s", m ? m : "");
	json_decref(j);
}

/* Items of one page into @root; its continue token and resourceVersion. */
static int list_page(struct kube_kind *kd, const struct buf *b, void **root,
		     size_t *n, char **cont)
{
	json_t *j = json_loadb(b->p, b->len, 0, NULL), *items, *it;
	json_t *md = json_object_get(j, "metadata");
	struct obj *o;
	size_t i;

	items = json_object_get(j, "items");
	if (!j || (items && !json_is_array(items) && !json_is_null(items))) {
		json_decref(j);
		return -EINVAL;
	}
	json_array_foreach(items, i, it) {
		o = kube_obj_make(kd, it);
		if (!o)
			continue;
		if (*(struct obj **)tsearch(o, root, kube_obj_cmp) != o)
			kube_obj_free(o);
		else
			(*n)++;
	}
	snprintf(kd->rv, sizeof(kd->rv), "%s",
		 jstr(md, "resourceVersion") ? jstr(md, "resourceVersion") :
		 "");
	free(*cont);
	*cont = jstr(md, "continue") && *jstr(md, "continue") ?
		strdup(jstr(md, "continue")) : NULL;
	json_decref(j);
	return 0;
}

static void log_listed(struct kube_kind *kd, size_t n, int pages, int64_t t0)
{
	char ns[24], np[24], ms[24];

	snprintf(ns, sizeof(ns), "%zu", n);
	snprintf(np, sizeof(np), "%d", pages);
	snprintf(ms, sizeof(ms), "%lld", (long long)(kube_now_ms() - t0));
	log_event("info", "kube: listed", "kind", kd->def->name, "version",
		  kd->version, "objects", ns, "pages", np, "ms", ms,
		  "resourceVersion", kd->rv, NULL);
}

/* The path of the next page: @limit items (0: all) after @cont. */
static void page_path(struct kube_kind *kd, char *path, size_t len,
		      int limit, const char *cont)
{
	int n = kind_path(kd, path, len);
	char *esc = cont ? curl_easy_escape(kd->h, cont, 0) : NULL;

	if (limit)
		snprintf(path + n, len - n, "?limit=%d%s%s", limit,
			 esc ? "&continue=" : "", esc ? esc : "");
	curl_free(esc);
}

/*
 * A continue token the server no longer knows (410: compacted since the
 * first page): the pages read so far are dropped and the list starts
 * again at once, not after a failure's backoff; the second time in one
 * list, as one request without pages, which cannot expire (client-go's
 * pager does the same). 1 when it starts again.
 */
static int list_restart(struct kube_kind *kd, long code, char **cont,
			void **root, size_t *n, int *restarts)
{
	if (code != 410 || !*cont || *restarts >= 2)
		return 0;
	(*restarts)++;
	log_event("info", "kube: list continue token expired (410), "
		  "listing again from the start", "kind", kd->def->name,
		  "pages", *restarts < 2 ? "yes" : "no (one request)", NULL);
	free(*cont);
	*cont = NULL;
	tdestroy(*root, kube_obj_free);
	*root = NULL;
	*n = 0;
	return 1;
}

/*
 * LIST in pages of PAGE_LIMIT, then the kind's store replaced at once.
 * The HTTP status (200: done), 0 on a transport error.
 */
static long do_list(struct kube_kind *kd, char *err, size_t errlen)
{
	struct kube *k = kd->k;
	struct buf b = { 0 };
	struct req r = { .timeout_s = REQUEST_S, .idle_s = REQUEST_S,
			 .resp = &b };
	char path[512], *cont = NULL;
	void *root = NULL;
	size_t n = 0;
	long code;
	int64_t t0 = kube_now_ms();
	int pages = 0, restarts = 0;

	for (;;) {
		page_path(kd, path, sizeof(path), restarts < 2 ? PAGE_LIMIT : 0,
			  cont);
		b.len = 0;
		r.path = path;
		code = kube_perform(k, kd->h, &r);
		kd->retry_after_s = r.retry_after_s;
		if (list_restart(kd, code, &cont, &root, &n, &restarts)) {
			pages = 0;
			continue;
		}
		if (code != 200) {
			if (!code)
				kube_req_error(&r, err, errlen);
			else
				status_msg(b.p, b.len, err, errlen);
			break;
		}
		pages++;
		if (list_page(kd, &b, &root, &n, &cont)) {
			snprintf(err, errlen, "list: response is not a list");
			code = 0;
			break;
		}
		if (!cont || kube_stopping(k))
			break;
	}
	free(cont);
	kube_buf_free(&b);
	if (code != 200 || kube_stopping(k) || !kd->rv[0]) {
		if (code == 200 && !kd->rv[0])
			snprintf(err, errlen, "list has no resourceVersion");
		tdestroy(root, kube_obj_free);
		kd->rv[0] = '\0';
		return code == 200 ? 0 : code;
	}
	kube_store_replace(kd, root, n);
	notify(k);
	log_listed(kd, n, pages, t0);
	return 200;
}

/* --- watch ------------------------------------------------------------ */

static void succeeded(struct kube_kind *kd);

static void set_rv(struct kube_kind *kd, json_t *obj)
{
	const char *rv = jstr(json_object_get(obj, "metadata"),
			      "resourceVersion");

	if (rv && *rv)
		snprintf(kd->rv, sizeof(kd->rv), "%s", rv);
}

/* One watch event; -1 ends the stream (an ERROR, or garbage). */
static int watch_event(struct kube_kind *kd, const char *line, size_t len)
{
	json_t *ev = json_loadb(line, len, 0, NULL), *obj;
	const char *type = jstr(ev, "type");
	json_t *md;
	struct obj *o;
	int r = 0;

	obj = json_object_get(ev, "object");
	if (!type || !json_is_object(obj)) {
		snprintf(kd->event_msg, sizeof(kd->event_msg),
			 "watch event is not JSON with type and object");
		kd->event_err = -1;
		json_decref(ev);
		return -1;
	}
	md = json_object_get(obj, "metadata");
	if (!strcmp(type, "ADDED") || !strcmp(type, "MODIFIED")) {
		set_rv(kd, obj);
		o = kube_obj_make(kd, obj);
		if (o) {
			kube_store_put(kd, o);
			notify(kd->k);
		}
	} else if (!strcmp(type, "DELETED")) {
		char key[512];
		const char *ns = jstr(md, "namespace"), *name = jstr(md, "name");

		set_rv(kd, obj);
		if (name) {
			snprintf(key, sizeof(key), "%s%s%s", ns ? ns : "",
				 ns ? "/" : "", name);
			kube_store_del(kd, key);
			notify(kd->k);
		}
	} else if (!strcmp(type, "BOOKMARK")) {
		set_rv(kd, obj);
	} else if (!strcmp(type, "ERROR")) {
		long code = (long)json_integer_value(json_object_get(obj,
								     "code"));

		if (code == 410)
			kd->relist = 1;
		else
			kd->event_err = code ? code : -1;
		snprintf(kd->event_msg, sizeof(kd->event_msg), "%s",
			 jstr(obj, "message") ? jstr(obj, "message") : "");
		r = -1;
	}
	kd->events++;
	json_decref(ev);
	return r;
}

/*
 * The watch stream, one JSON event per line: a line may come in several
 * pieces and a piece may hold several lines. -1 ends the stream.
 */
int kube_watch_feed(struct kube_kind *kd, const char *p, size_t n)
{
	size_t start = 0;
	char *nl;

	if (kd->line.len + n > LINE_MAX_BYTES) {
		snprintf(kd->event_msg, sizeof(kd->event_msg),
			 "watch event longer than %u bytes", LINE_MAX_BYTES);
		kd->event_err = -1;
		return -1;
	}
	if (kube_buf_add(&kd->line, p, n))
		return -1;
	while ((nl = memchr(kd->line.p + start, '\n',
			    kd->line.len - start))) {
		size_t len = (size_t)(nl - (kd->line.p + start));

		if (len && watch_event(kd, kd->line.p + start, len))
			return -1;
		start += len + 1;
	}
	memmove(kd->line.p, kd->line.p + start, kd->line.len - start);
	kd->line.len -= start;
	return 0;
}

static size_t on_watch_data(char *p, size_t sz, size_t nm, void *arg)
{
	struct kube_kind *kd = arg;
	size_t n = sz * nm;
	long code = 0;

	curl_easy_getinfo(kd->h, CURLINFO_RESPONSE_CODE, &code);
	if (code != 200) {
		if (kd->errbody.len < ERRBODY_MAX)
			kube_buf_add(&kd->errbody, p, n);
		return n;
	}
	if (!kd->events && kd->failures)
		succeeded(kd);
	return kube_watch_feed(kd, p, n) ? 0 : n;
}

/* do_watch(): a watch the server answered that ended without its last
 * chunk, the ordinary way for a connection to end (a server restarting,
 * a proxy's idle limit): resumed at once, as after a clean end. */
#define WATCH_IDLE	(-1)	/* no byte for WATCH_IDLE_S, or too long */
#define WATCH_CUT	(-2)	/* the connection ended mid-stream */

/* WATCH from kd->rv until the server ends it; the HTTP status, 0 (a
 * transport error), WATCH_IDLE or WATCH_CUT. */
static long do_watch(struct kube_kind *kd, char *err, size_t errlen)
{
	struct req r = { .idle_s = WATCH_IDLE_S, .write = on_watch_data,
			 .wdata = kd };
	char path[768], *esc = curl_easy_escape(kd->h, kd->rv, 0);
	long timeout = 240 + rand_r(&kd->seed) % 61, code;
	int len = kind_path(kd, path, sizeof(path));

	snprintf(path + len, sizeof(path) - len,
		 "?watch=1&allowWatchBookmarks=true&resourceVersion=%s&timeoutSeconds=%ld",
		 esc ? esc : "", timeout);
	curl_free(esc);
	/* The server ends the watch; this is the backstop. */
	r.timeout_s = timeout + 60;
	r.path = path;
	kd->line.len = 0;
	kd->errbody.len = 0;
	kd->relist = 0;
	kd->event_err = 0;
	kd->event_msg[0] = '\0';
	kd->events = 0;
	code = kube_perform(kd->k, kd->h, &r);
	kd->retry_after_s = r.retry_after_s;
	if (kd->relist || kd->event_err) {
		snprintf(err, errlen, "%s", kd->event_msg);
		return 200;
	}
	if (!code)
		kube_req_error(&r, err, errlen);
	else if (code != 200)
		status_msg(kd->errbody.p, kd->errbody.len, err, errlen);
	/*
	 * A watch that was answered and then went quiet for WATCH_IDLE_S
	 * (the server may just not send bookmarks), or was cut: re-watch at
	 * once; if the server is gone, that attempt fails and is logged and
	 * backed off. (A write error is ours: an event too long.)
	 */
	if (!code && r.cc != CURLE_WRITE_ERROR) {
		long answered = 0;

		curl_easy_getinfo(kd->h, CURLINFO_RESPONSE_CODE, &answered);
		if (answered == 200)
			return r.cc == CURLE_OPERATION_TIMEDOUT ? WATCH_IDLE :
			       WATCH_CUT;
	}
	return code;
}

/* --- discovery -------------------------------------------------------- */

/* Has an item of the list @list of @o its @field equal to @value? (A
 * group's "versions" by "version", a version's "resources" by "name".) */
static int has_item(json_t *o, const char *list, const char *field,
		    const char *value)
{
	json_t *it;
	size_t i;

	json_array_foreach(json_object_get(o, list), i, it) {
		const char *v = jstr(it, field);

		if (v && !strcmp(v, value))
			return 1;
	}
	return 0;
}

/* GET @path as JSON: 1 (*out set), 0 (404), -1 (error, @err, the HTTP
 * status in *@codep). */
static int get_json(struct kube_kind *kd, const char *path, json_t **out,
		    long *codep, char *err, size_t errlen)
{
	struct buf b = { 0 };
	struct req r = { .timeout_s = REQUEST_S, .idle_s = REQUEST_S,
			 .resp = &b, .path = path };
	long code = kube_perform(kd->k, kd->h, &r);

	kd->retry_after_s = r.retry_after_s;
	*codep = code;
	*out = NULL;
	if (code == 200)
		*out = json_loadb(b.p ? b.p : "", b.len, 0, NULL);
	if (!code)
		kube_req_error(&r, err, errlen);
	else if (code == 200 && !*out)
		snprintf(err, errlen, "%s: response is not JSON", path);
	else if (code != 200 && code != 404)
		snprintf(err, errlen, "%s: HTTP %ld", path, code);
	kube_buf_free(&b);
	if (code == 404)
		return 0;
	return *out ? 1 : -1;
}

/*
 * The first of the kind's versions the API server serves (a CRD's
 * versions come and go): 1 with kd->version set, 0 if none, -1 on error
 * (@err, the HTTP status in *@code).
 */
static int discover(struct kube_kind *kd, long *code, char *err,
		    size_t errlen)
{
	const struct m_kind *d = kd->def;
	const char *const *v;
	char path[256];
	json_t *group, *list;
	int r;

	snprintf(path, sizeof(path), "/apis/%s", d->group);
	r = get_json(kd, path, &group, code, err, errlen);
	if (r <= 0)
		return r;
	for (v = d->versions; *v; v++) {
		if (!has_item(group, "versions", "version", *v))
			continue;
		snprintf(path, sizeof(path), "/apis/%s/%s", d->group, *v);
		r = get_json(kd, path, &list, code, err, errlen);
		if (r < 0)
			break;
		r = r && has_item(list, "resources", "name", d->resource);
		json_decref(list);
		if (r) {
			__atomic_store_n(&kd->version, *v, __ATOMIC_RELEASE);
			break;
		}
	}
	json_decref(group);
	return r;
}

/* A kind that is not served has no objects (and is complete). */
static void kind_gone(struct kube_kind *kd)
{
	__atomic_store_n(&kd->version, NULL, __ATOMIC_RELEASE);
	kd->rv[0] = '\0';
	kube_store_replace(kd, NULL, 0);
	notify(kd->k);
}

/* --- the kind's thread ------------------------------------------------ */

static long backoff(struct kube_kind *kd)
{
	long b;

	kd->backoff_ms = kd->backoff_ms ? kd->backoff_ms * 2 : BACKOFF_MIN_MS;
	if (kd->backoff_ms > BACKOFF_MAX_MS)
		kd->backoff_ms = BACKOFF_MAX_MS;
	b = kd->backoff_ms;
	return b / 2 + rand_r(&kd->seed) % (b / 2 + 1);
}

static void log_failure(struct kube_kind *kd, const char *what, long code,
			const char *err, long retry_ms, const char *level)
{
	char st[16], rt[24];

	snprintf(st, sizeof(st), "%ld", code);
	snprintf(rt, sizeof(rt), "%ld", retry_ms);
	log_event(level, what, "kind", kd->def->name, "status", st,
		  "error", err, "retry_ms", rt, "kept", code == 404 &&
		  kd->def->crd ? "the objects, until discovery decides" :
		  "the objects of the last good list and watch", NULL);
}

long kube_retry_after_ms(long code, long retry_after_s)
{
	if ((code != 429 && code != 503) || retry_after_s <= 0)
		return 0;
	if (retry_after_s > RETRY_AFTER_MAX_S)
		retry_after_s = RETRY_AFTER_MAX_S;
	return retry_after_s * 1000;
}

/*
 * What to do after a failed list or watch: the milliseconds to wait (the
 * Retry-After of a 429 or 503, as client-go; else an exponential backoff
 * with jitter). An outage is logged at its first failure, when the
 * status changes and every tenth failure, not at every retry of every
 * kind.
 */
static long failed(struct kube_kind *kd, const char *what, long code,
		   const char *err)
{
	long ms = kube_retry_after_ms(code, kd->retry_after_s);

	if (code == 403 || code == 404) {
		if (code == 404 && kd->def->crd) {
			/* Discovery decides: a CRD gone empties the kind, one
			 * still served (another version) is relisted. */
			log_failure(kd, "kube: kind no longer served?", code,
				    err, 0, "warn");
			__atomic_store_n(&kd->version, NULL, __ATOMIC_RELEASE);
			kd->rv[0] = '\0';
			return 0;
		}
		if (kd->warned_code != code)
			log_failure(kd, what, code, err, SLOW_MS, "error");
		kd->warned_code = code;
		return SLOW_MS;
	}
	if (!ms)
		ms = backoff(kd);
	if (kd->failures++ % 10 == 0 || code != kd->failed_code)
		log_failure(kd, what, code, err, ms, code ? "warn" : "error");
	kd->failed_code = code;
	return ms;
}

/* A list or watch worked: the next failure starts from the shortest wait. */
static void succeeded(struct kube_kind *kd)
{
	char n[16];

	if (kd->failures) {
		snprintf(n, sizeof(n), "%u", kd->failures);
		log_event("info", "kube: recovered", "kind", kd->def->name,
			  "failures", n, NULL);
	}
	kd->failures = 0;
	kd->backoff_ms = 0;
	kd->warned_code = 0;
}

/* Discovery, until the kind is served: 0 (served), else ms to wait. */
static long await_version(struct kube_kind *kd)
{
	char err[256] = "";
	long code = 0;
	int r = discover(kd, &code, err, sizeof(err));

	if (kube_stopping(kd->k))
		return 0;
	if (r < 0)
		return failed(kd, "kube: discovery failed", code, err);
	if (!r) {
		if (!kd->warned_missing) {
			char msg[128];

			snprintf(msg, sizeof(msg),
				 "%s not served by the API server; checking again every %ld s",
				 kd->def->name, DISCOVERY_MS / 1000);
			log_event("warn", msg, "kind", kd->def->name, NULL);
			kind_gone(kd);
		}
		kd->warned_missing = 1;
		kd->backoff_ms = 0;
		return DISCOVERY_MS;
	}
	if (kd->warned_missing)
		log_event("info", "kube: kind now served", "kind",
			  kd->def->name, "version", kd->version, NULL);
	kd->warned_missing = 0;
	kd->rv[0] = '\0';
	return 0;
}

/* A watch that ended as watches do: said, not as an error. */
static void watch_ended(struct kube_kind *kd, long code, const char *err)
{
	char n[24];

	snprintf(n, sizeof(n), "%zu", kd->events);
	if (code == WATCH_CUT)
		log_event("info", "kube: watch ended without its last chunk, "
			  "resuming", "kind", kd->def->name, "events", n,
			  "error", err, "resourceVersion", kd->rv, NULL);
	else if (kd->k->verbose)
		log_event("debug", code == WATCH_IDLE ? "kube: watch idle, "
			  "resuming" : "kube: watch ended, resuming", "kind",
			  kd->def->name, "events", n, "resourceVersion",
			  kd->rv, NULL);
}

/* One round: discovery, list or watch. Returns the ms to wait. */
static long kind_step(struct kube_kind *kd)
{
	char err[512] = "";
	int64_t t0;
	long code;

	if (!kd->version)
		return await_version(kd);
	if (!kd->rv[0]) {
		code = do_list(kd, err, sizeof(err));
		if (kube_stopping(kd->k))
			return 0;
		if (code != 200)
			return failed(kd, "kube: list failed", code, err);
		succeeded(kd);
	}
	t0 = kube_now_ms();
	code = do_watch(kd, err, sizeof(err));
	if (kube_stopping(kd->k))
		return 0;
	if (code == 410 || kd->relist) {
		log_event("info", "kube: watch expired (410), relisting",
			  "kind", kd->def->name, "resourceVersion", kd->rv,
			  NULL);
		kd->rv[0] = '\0';
		return 0;
	}
	if (code == 200 && kd->event_err)
		return failed(kd, "kube: watch error event", kd->event_err,
			      err);
	if (code != 200 && code != WATCH_IDLE && code != WATCH_CUT)
		return failed(kd, "kube: watch failed", code, err);
	watch_ended(kd, code, err);
	/* A server that ends every watch at once must not make us spin. */
	if (!kd->events && kube_now_ms() - t0 < 1000)
		return backoff(kd);
	succeeded(kd);
	return 0;
}

void *kube_kind_main(void *arg)
{
	struct kube_kind *kd = arg;
	struct kube *k = kd->k;
	long ms;

	while (!kube_stopping(k)) {
		ms = kind_step(kd);
		if (ms && nap(k, ms))
			break;
	}
	return NULL;
}

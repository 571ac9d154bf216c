// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The access log: records to lines, limits, histograms (accesslog.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "accesslog.h"
#include "defaults.h"
#include "metrics.h"
#include "vec.h"

static const char *const end_names[] = {
#define END_NAME(id, name) name,
	SNILB_ENDS(END_NAME)
#undef END_NAME
};

static const char *const ch_names[] = {
#define CH_NAME(id, name) name,
	CH_REASONS(CH_NAME)
#undef CH_NAME
};

static const char *const rej_names[] = {
#define REJ_NAME(id, name) name,
	SNILB_REJECTS(REJ_NAME)
#undef REJ_NAME
};

/* A reject reason's name, as the counters have it. */
static const char *reason_name(uint32_t r)
{
	if (r < CH_R_MAX)
		return ch_names[r];
	if (r - CH_R_MAX < sizeof(rej_names) / sizeof(rej_names[0]))
		return rej_names[r - CH_R_MAX];
	return "unknown";
}

static const double dur_le[] = { 0.01, 0.1, 1, 10, 60, 600, 3600 };
static const double setup_le[] = { 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
				   0.1, 0.25, 0.5, 1, 2.5 };
#define NDUR	(sizeof(dur_le) / sizeof(dur_le[0]))
#define NSETUP	(sizeof(setup_le) / sizeof(setup_le[0]))

struct hist {
	uint64_t b[12];		/* per bucket, then +Inf */
	uint64_t n;
	double sum;
};

struct route_hist {
	uint32_t id;
	char name[160];
	struct hist dur, setup;
};

/* The SNIs most rejected: the "space saving" count of the top ones (a
 * new name takes the place of the least counted, with its count + 1),
 * bounded whatever a flood sends. */
struct rej_sni {
	char sni[CH_SNI_MAX + 1];
	uint8_t reason;
	uint64_t n;
};

struct alog {
	struct rej_sni top[SNILB_REJECTS_TOP];
	size_t ntop;
	int top_dirty;
	FILE *f;
	int own;			/* fclose() it */
	struct alog_opts o;
	alog_route_fn route;
	void *ctx;
	uint64_t ends;			/* for sampling */
	uint32_t used[SNILB_REJ_MAX];	/* this second, per reason */
	uint64_t dropped[SNILB_REJ_MAX];
	uint64_t lost;			/* log_lost as last reported */
	pthread_mutex_t lock;		/* the histograms */
	struct route_hist *rh;
	size_t nrh;
};

struct alog *alog_open(const struct alog_opts *o, alog_route_fn route,
		       void *ctx, char *err, size_t errlen)
{
	struct alog *l = calloc(1, sizeof(*l));

	if (!l) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	l->o = *o;
	l->route = route;
	l->ctx = ctx;
	l->lost = UINT64_MAX;
	pthread_mutex_init(&l->lock, NULL);
	if (!strcmp(o->path, "-")) {
		l->f = stdout;
	} else {
		l->f = fopen(o->path, "ae");
		l->own = 1;
	}
	if (!l->f) {
		snprintf(err, errlen, "%s: %s", o->path, strerror(errno));
		free(l);
		return NULL;
	}
	return l;
}

void alog_close(struct alog *l)
{
	if (!l)
		return;
	fflush(l->f);
	if (l->own)
		fclose(l->f);
	pthread_mutex_destroy(&l->lock);
	free(l->rh);
	free(l);
}

void alog_flush(struct alog *l)
{
	fflush(l->f);
}

/* --- one line ------------------------------------------------------------ */

/* A line being written: JSON or logfmt, the same keys. */
struct line {
	FILE *f;
	int logfmt, n;
};

static void line_start(struct line *ln, FILE *f, int logfmt)
{
	ln->f = f;
	ln->logfmt = logfmt;
	ln->n = 0;
	if (!logfmt)
		fputc('{', f);
}

static void line_end(struct line *ln)
{
	fputs(ln->logfmt ? "\n" : "}\n", ln->f);
}

static void key(struct line *ln, const char *k)
{
	if (ln->logfmt)
		fprintf(ln->f, "%s%s=", ln->n++ ? " " : "", k);
	else
		fprintf(ln->f, "%s\"%s\":", ln->n++ ? "," : "", k);
}

/* A string from the wire: anything but a host name's characters is
 * escaped, so a hostile SNI cannot break a line. */
static void str(struct line *ln, const char *k, const char *s, size_t len)
{
	size_t i;

	key(ln, k);
	fputc('"', ln->f);
	for (i = 0; i < len && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr(".-_*/:,[]", c))
			fputc(c, ln->f);
		else
			fprintf(ln->f, ln->logfmt ? "\\x%02x" : "\\u%04x", c);
	}
	fputc('"', ln->f);
}

static void text(struct line *ln, const char *k, const char *s)
{
	str(ln, k, s, strlen(s));
}

static void num(struct line *ln, const char *k, uint64_t v)
{
	key(ln, k);
	fprintf(ln->f, "%llu", (unsigned long long)v);
}

static void msec(struct line *ln, const char *k, uint64_t from, uint64_t to)
{
	if (!from || !to || to < from)
		return;
	key(ln, k);
	fprintf(ln->f, "%.3f", (double)(to - from) / 1e6);
}

/* "2026-12-02T13:30:00.123456Z" of CLOCK_MONOTONIC @mono. */
static void stamp(struct line *ln, uint64_t mono)
{
	struct timespec rt, mt;
	char buf[40];
	uint64_t ago, ns;
	time_t s;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mt);
	ns = (uint64_t)rt.tv_sec * 1000000000ull + (uint64_t)rt.tv_nsec;
	ago = (uint64_t)mt.tv_sec * 1000000000ull + (uint64_t)mt.tv_nsec;
	ago = mono && ago > mono ? ago - mono : 0;
	ns -= ago;
	s = (time_t)(ns / 1000000000ull);
	gmtime_r(&s, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	key(ln, "ts");
	fprintf(ln->f, "\"%s.%06lluZ\"", buf,
		(unsigned long long)(ns % 1000000000ull / 1000));
}

static void addr(struct line *ln, const char *k, uint8_t family,
		 const __be32 *a, __be16 port)
{
	char buf[INET6_ADDRSTRLEN], out[INET6_ADDRSTRLEN + 10];
	int v6 = family == SNILB_AF_INET6;

	inet_ntop(v6 ? AF_INET6 : AF_INET, a, buf, sizeof(buf));
	snprintf(out, sizeof(out), v6 ? "[%s]:%u" : "%s:%u", buf, ntohs(port));
	text(ln, k, out);
}

/* The ALPN list, as on the wire (length, name, ...), "h2,http/1.1". */
static void alpn(struct line *ln, const uint8_t *w, size_t len)
{
	char buf[CH_ALPN_MAX + 1];
	size_t i = 0, o = 0;

	while (i < len && o < sizeof(buf) - 1) {
		size_t n = w[i++];

		if (o)
			buf[o++] = ',';
		while (n-- && i < len && o < sizeof(buf) - 1)
			buf[o++] = (char)w[i++];
	}
	buf[o] = 0;
	str(ln, "alpn", buf, o);
}

static void tls(struct line *ln, const struct snilb_log_rec *e)
{
	static const char *const v[] = { "1.0", "1.1", "1.2" };
	char buf[16] = "";
	unsigned m = e->tls_version & 0xff;

	if (e->tls_version >> 8 == 3 && m >= 1 && m <= 3)
		snprintf(buf, sizeof(buf), "%s%s", e->tls13 ? "1.3," : "",
			 v[m - 1]);
	else if (e->tls13)
		snprintf(buf, sizeof(buf), "1.3");
	if (buf[0])
		text(ln, "tls", buf);
}

static void times(struct line *ln, const struct snilb_log_rec *e)
{
	msec(ln, "duration_ms", e->created_ns, e->end_ns);
	msec(ln, "setup_ms", e->created_ns, e->first_ns);
	msec(ln, "hello_ms", e->created_ns, e->routed_ns);
	msec(ln, "connect_ms", e->routed_ns, e->spliced_ns);
	msec(ln, "replay_ms", e->spliced_ns, e->first_ns);
}

static void write_rec(struct alog *l, const struct snilb_log_rec *e)
{
	/* Routed: its state says so (a flow adopted from an earlier agent
	 * has no conns entry, so no routing time, but has its route). */
	int routed = e->state >= SNILB_FS_ROUTED || e->routed_ns;
	const char *rn = routed && l->route ? l->route(l->ctx, e->route) :
					      NULL;
	struct line ln;
	char id[20];

	line_start(&ln, l->f, l->o.logfmt);
	stamp(&ln, e->end_ns);
	text(&ln, "type", e->end == SNILB_END_REJECT ? "reject" : "end");
	if (e->conn_id) {
		snprintf(id, sizeof(id), "%016llx",
			 (unsigned long long)e->conn_id);
		text(&ln, "conn_id", id);
	}
	addr(&ln, "client", e->family, e->caddr, e->cport);
	addr(&ln, "vip", e->family, e->vaddr, e->vport);
	if (e->sni_len)
		str(&ln, "sni", e->sni, e->sni_len);
	if (e->alpn_len)
		alpn(&ln, e->alpn, e->alpn_len);
	tls(&ln, e);
	if (rn)
		text(&ln, "route", rn);
	else if (routed)
		num(&ln, "route_id", e->route);
	if (e->bfamily) {
		addr(&ln, "backend", e->bfamily, e->baddr, e->bport);
		num(&ln, "snat_port", ntohs(e->nport));
	}
	num(&ln, "bytes_c2b", e->bytes_c2b);
	num(&ln, "bytes_b2c", e->bytes_b2c);
	num(&ln, "pkts_c2b", e->pkts_c2b);
	num(&ln, "pkts_b2c", e->pkts_b2c);
	times(&ln, e);
	if (e->tries > 1)
		num(&ln, "tries", e->tries);
	text(&ln, "end", e->end < SNILB_END_MAX ? end_names[e->end] : "?");
	if (e->reason != SNILB_LOG_NO_REASON)
		text(&ln, "reason", reason_name(e->reason));
	line_end(&ln);
}

/* --- histograms ------------------------------------------------------------ */

static void observe(struct hist *h, const double *le, size_t n, double v)
{
	size_t i;

	for (i = 0; i < n && v > le[i]; i++)
		;
	h->b[i]++;
	h->n++;
	h->sum += v;
}

static struct route_hist *route_hist(struct alog *l, uint32_t id)
{
	const char *name = l->route ? l->route(l->ctx, id) : NULL;
	struct route_hist *h;
	size_t i;

	for (i = 0; i < l->nrh; i++)
		if (l->rh[i].id == id)
			return &l->rh[i];
	h = PUSH(l->rh, l->nrh);
	if (!h)
		return NULL;
	memset(h, 0, sizeof(*h));
	h->id = id;
	if (name)
		snprintf(h->name, sizeof(h->name), "%s", name);
	else
		snprintf(h->name, sizeof(h->name), "%u", id);
	return h;
}

static void account(struct alog *l, const struct snilb_log_rec *e)
{
	struct route_hist *h;

	if (!e->spliced_ns || e->end == SNILB_END_REJECT)
		return;
	pthread_mutex_lock(&l->lock);
	h = route_hist(l, e->route);
	if (h) {
		observe(&h->dur, dur_le, NDUR,
			(double)(e->end_ns - e->created_ns) / 1e9);
		if (e->first_ns)
			observe(&h->setup, setup_le, NSETUP,
				(double)(e->first_ns - e->created_ns) / 1e9);
	}
	pthread_mutex_unlock(&l->lock);
}

/* @route: the labels, namespace="ns",name="name" */
static void render_hist(FILE *out, const char *name, const char *route,
			const struct hist *h, const double *le, size_t n)
{
	uint64_t cum = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		cum += h->b[i];
		fprintf(out, "%s_bucket{%s,le=\"%g\"} %llu\n", name, route,
			le[i], (unsigned long long)cum);
	}
	fprintf(out, "%s_bucket{%s,le=\"+Inf\"} %llu\n", name, route,
		(unsigned long long)h->n);
	fprintf(out, "%s_sum{%s} %.6f\n", name, route, h->sum);
	fprintf(out, "%s_count{%s} %llu\n", name, route,
		(unsigned long long)h->n);
}

/* A route's labels, as the other per-route metrics have them. */
static void route_labels(char *buf, size_t n, const char *route)
{
	char ns[160], name[400], esc[400];
	const char *slash = strchr(route, '/');

	snprintf(ns, sizeof(ns), "%.*s",
		 slash ? (int)(slash - route) : 0, route);
	metrics_label_escape(name, sizeof(name), slash ? slash + 1 : route);
	metrics_label_escape(esc, sizeof(esc), ns);
	snprintf(buf, n, "namespace=\"%s\",name=\"%s\"", esc, name);
}

int alog_metrics(struct alog *l, FILE *out)
{
	static const char *const nm[2] = {
		"snilb_connection_duration_seconds",
		"snilb_connection_setup_seconds",
	};
	static const char *const help[2] = {
		"Spliced connections' time from the handshake to their end, "
		"per route (access log)",
		"Spliced connections' time from the handshake to the "
		"backend's first byte, per route (access log)",
	};
	char esc[900];
	size_t i;
	int k;

	pthread_mutex_lock(&l->lock);
	for (k = 0; k < 2; k++) {
		fprintf(out, "# HELP %s %s\n# TYPE %s histogram\n", nm[k],
			help[k], nm[k]);
		for (i = 0; i < l->nrh; i++) {
			route_labels(esc, sizeof(esc), l->rh[i].name);
			if (k)
				render_hist(out, nm[k], esc, &l->rh[i].setup,
					    setup_le, NSETUP);
			else
				render_hist(out, nm[k], esc, &l->rh[i].dur,
					    dur_le, NDUR);
		}
	}
	pthread_mutex_unlock(&l->lock);
	return ferror(out) ? -1 : 0;
}

/* --- limits ----------------------------------------------------------------- */

/* Is this record logged: rejections within their reason's budget, ends
 * 1 in --access-log-sample. */
static int admit(struct alog *l, const struct snilb_log_rec *e)
{
	if (e->end == SNILB_END_REJECT ||
	    e->reason != SNILB_LOG_NO_REASON) {
		uint32_t r = e->reason < SNILB_REJ_MAX ? e->reason : 0;

		if (l->o.rejects_per_s && l->used[r] >= l->o.rejects_per_s) {
			l->dropped[r]++;
			return 0;
		}
		l->used[r]++;
		return 1;
	}
	return l->o.sample <= 1 || l->ends++ % l->o.sample == 0;
}

static void count_sni(struct alog *l, const struct snilb_log_rec *e)
{
	size_t i, min = 0, len = e->sni_len < CH_SNI_MAX ? e->sni_len :
						CH_SNI_MAX;
	struct rej_sni *t;

	for (i = 0; i < l->ntop; i++) {
		t = &l->top[i];
		if (t->reason == e->reason && !strncmp(t->sni, e->sni, len) &&
		    !t->sni[len]) {
			t->n++;
			l->top_dirty = 1;
			return;
		}
		if (t->n < l->top[min].n)
			min = i;
	}
	if (l->ntop < SNILB_REJECTS_TOP)
		t = &l->top[l->ntop++], t->n = 1;
	else
		t = &l->top[min], t->n++;
	memcpy(t->sni, e->sni, len);
	t->sni[len] = 0;
	t->reason = e->reason;
	l->top_dirty = 1;
}

static int by_count(const void *a, const void *b)
{
	const struct rej_sni *x = a, *y = b;

	return x->n < y->n ? 1 : x->n > y->n ? -1 : strcmp(x->sni, y->sni);
}

int alog_write_rejects(struct alog *l, const char *path)
{
	json_t *doc, *arr = json_array();
	char tmp[4096];
	size_t i;
	int e = 0;

	if (!l->top_dirty)
		return 0;
	qsort(l->top, l->ntop, sizeof(l->top[0]), by_count);
	for (i = 0; i < l->ntop; i++)
		json_array_append_new(arr, json_pack("{s:s, s:s, s:I}",
			"sni", l->top[i].sni,
			"reason", reason_name(l->top[i].reason),
			"count", (json_int_t)l->top[i].n));
	doc = json_pack("{s:I, s:o}", "updated", (json_int_t)time(NULL),
			"rejected_snis", arr);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (!doc || json_dump_file(doc, tmp, JSON_COMPACT) ||
	    rename(tmp, path))
		e = -EIO;
	json_decref(doc);
	if (!e)
		l->top_dirty = 0;
	return e;
}

void alog_record(const struct snilb_log_rec *rec, void *arg)
{
	struct alog *l = arg;

	if (rec->end == SNILB_END_REJECT && rec->sni_len)
		count_sni(l, rec);
	account(l, rec);
	if (admit(l, rec))
		write_rec(l, rec);
}

void alog_tick(struct alog *l, uint64_t lost)
{
	struct line ln;
	uint32_t r;

	for (r = 0; r < SNILB_REJ_MAX; r++) {
		l->used[r] = 0;
		if (!l->dropped[r])
			continue;
		line_start(&ln, l->f, l->o.logfmt);
		stamp(&ln, 0);
		text(&ln, "type", "suppressed");
		text(&ln, "reason", reason_name(r));
		num(&ln, "count", l->dropped[r]);
		line_end(&ln);
		l->dropped[r] = 0;
	}
	if (l->lost != UINT64_MAX && lost > l->lost) {
		line_start(&ln, l->f, l->o.logfmt);
		stamp(&ln, 0);
		text(&ln, "type", "lost");
		num(&ln, "count", lost - l->lost);
		line_end(&ln);
	}
	l->lost = lost;
	fflush(l->f);
}

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The Kubernetes API as a source (kube.h). One thread per kind lists and
 * watches it; each object is kept as its compact JSON text and, once per
 * resourceVersion, as the one-object model the manifest decoder makes of
 * it. kube_model() copies those into a model the caller owns, so that an
 * unchanged cluster costs a copy, not a decode.
 *
 * Timeouts: connect 10 s; a watch that receives no byte for 90 s is
 * considered dead (bookmarks arrive about once a minute; a quiet server
 * that sends none just costs a re-watch); timeoutSeconds 240..300 s,
 * jittered so that the watches of many agents do not restart together;
 * other requests 60 s. TCP keepalive after 30 s idle.
 */
#include <errno.h>
#include <pthread.h>
#include <search.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <yaml.h>

#include "kube.h"
#include "log.h"
#include "decode.h"

#include "version.h"

#define SA_DIR		"/var/run/secrets/kubernetes.io/serviceaccount"
#define PAGE_LIMIT	500
#define CONNECT_S	10L
#define WATCH_IDLE_S	90L	/* no byte for this long: the server is gone */
#define REQUEST_S	60L	/* whole request, other than watches */
#define KEEPIDLE_S	30L
#define BACKOFF_MIN_MS	200L
#define BACKOFF_MAX_MS	30000L
#define SLOW_MS		30000L	/* 403, 404 */
/* A kind not served yet (its CRD not installed): one discovery GET this
 * often, so routing starts soon after it appears. */
#define DISCOVERY_MS	10000L
#define TOKEN_CHECK_S	60	/* token file's mtime looked at */
#define LINE_MAX_BYTES	(32u << 20)	/* one watch event */
#define ERRBODY_MAX	1024

/* --- small helpers ---------------------------------------------------- */

struct buf {
	char *p;
	size_t len, cap;
};

static int buf_add(struct buf *b, const char *p, size_t n)
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

static void buf_free(struct buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *read_file(const char *path, size_t *lenp)
{
	struct buf b = { 0 };
	char chunk[4096];
	size_t n;
	FILE *f = fopen(path, "re");
	int bad = 0;

	if (!f)
		return NULL;
	while (!bad && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		bad = buf_add(&b, chunk, n);
	bad = bad || ferror(f);
	fclose(f);
	if (bad) {
		buf_free(&b);
		errno = errno ? errno : EIO;
		return NULL;
	}
	if (!b.p)
		b.p = strdup("");
	if (lenp)
		*lenp = b.len;
	return b.p;
}

static int b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

/* Standard or URL-safe base64, whitespace ignored: malloc'd, or NULL. */
static char *b64decode(const char *s, size_t *lenp)
{
	char *out = malloc(strlen(s) / 4 * 3 + 4);
	unsigned int acc = 0;
	size_t n = 0;
	int bits = 0, v;

	if (!out)
		return NULL;
	for (; *s && *s != '='; s++) {
		if (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t')
			continue;
		v = b64val((unsigned char)*s);
		if (v < 0) {
			free(out);
			return NULL;
		}
		acc = (acc << 6) | (unsigned int)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (char)((acc >> bits) & 0xff);
		}
	}
	out[n] = '\0';
	*lenp = n;
	return out;
}

static void trim_end(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' ||
		     s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
}

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

struct kube;

struct kind {
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
	/* The watch stream being read. */
	struct buf line;
	struct buf errbody;
	int relist;		/* ERROR 410 seen */
	long event_err;		/* another ERROR event's code */
	char event_msg[256];
	size_t events;
};

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
	struct kind kinds[M_NKINDS];
};

static int stopping(struct kube *k)
{
	return __atomic_load_n(&k->stop, __ATOMIC_RELAXED);
}

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

/* --- credentials ------------------------------------------------------ */

static void creds_free(struct creds *c)
{
	free(c->server);
	free(c->ca_file);
	free(c->ca_data);
	free(c->cert_file);
	free(c->key_file);
	free(c->cert_data);
	free(c->key_data);
	free(c->token_file);
	free(c->ns);
	free(c->token);
	memset(c, 0, sizeof(*c));
}

static int token_read(struct creds *c, char *err, size_t errlen)
{
	struct stat st;
	char *t;

	if (stat(c->token_file, &st) || !(t = read_file(c->token_file, NULL))) {
		snprintf(err, errlen, "token file %s: %s", c->token_file,
			 strerror(errno));
		return -1;
	}
	trim_end(t);
	free(c->token);
	c->token = t;
	c->token_mtime = st.st_mtim;
	c->token_checked = now_ms();
	return 0;
}

/*
 * The token file again when it changed (checked once a minute) or when
 * @force (after a 401): projected service account tokens are rotated.
 */
static void token_refresh(struct kube *k, int force)
{
	struct creds *c = &k->c;
	char err[256];
	struct stat st;

	if (!c->token_file)
		return;
	if (!force && now_ms() - c->token_checked < TOKEN_CHECK_S * 1000)
		return;
	c->token_checked = now_ms();
	if (!force && !stat(c->token_file, &st) &&
	    st.st_mtim.tv_sec == c->token_mtime.tv_sec &&
	    st.st_mtim.tv_nsec == c->token_mtime.tv_nsec)
		return;
	if (token_read(c, err, sizeof(err)))
		log_event("error", "kube: cannot re-read the token", "error",
			  err, NULL);
	else if (k->verbose)
		log_event("info", "kube: token re-read", "file", c->token_file,
			  NULL);
}

/* "Authorization: Bearer ..." (malloc'd), or NULL without a token. */
static char *auth_header(struct kube *k, int force_reload)
{
	char *h = NULL;

	pthread_mutex_lock(&k->token_lock);
	token_refresh(k, force_reload);
	if (k->c.token && *k->c.token &&
	    asprintf(&h, "Authorization: Bearer %s", k->c.token) < 0)
		h = NULL;
	pthread_mutex_unlock(&k->token_lock);
	return h;
}

static char *path_in(const char *dir, const char *p)
{
	char *r;

	if (p[0] == '/' || !dir)
		return strdup(p);
	if (asprintf(&r, "%s/%s", dir, p) < 0)
		return NULL;
	return r;
}

/* --- kubeconfig (YAML or JSON, libyaml's document API) ---------------- */

struct kcfg {
	const char *path;
	char *dir;
	yaml_document_t doc;
	char *err;
	size_t errlen;
};

static yaml_node_t *ynode(struct kcfg *y, int i)
{
	return yaml_document_get_node(&y->doc, i);
}

static yaml_node_t *yget(struct kcfg *y, yaml_node_t *m, const char *key)
{
	yaml_node_pair_t *p;

	if (!m || m->type != YAML_MAPPING_NODE)
		return NULL;
	for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *kn = ynode(y, p->key);

		if (kn && kn->type == YAML_SCALAR_NODE &&
		    !strcmp((char *)kn->data.scalar.value, key))
			return ynode(y, p->value);
	}
	return NULL;
}

static const char *ystr(struct kcfg *y, yaml_node_t *m, const char *key)
{
	yaml_node_t *n = yget(y, m, key);

	if (!n || n->type != YAML_SCALAR_NODE || !n->data.scalar.length)
		return NULL;
	return (const char *)n->data.scalar.value;
}

/* The @inner map of the item of list @list named @name. */
static yaml_node_t *ynamed(struct kcfg *y, const char *list, const char *name,
			   const char *inner)
{
	yaml_node_t *seq = yget(y, ynode(y, 1), list);
	yaml_node_item_t *it;

	if (!seq || seq->type != YAML_SEQUENCE_NODE)
		return NULL;
	for (it = seq->data.sequence.items.start;
	     it < seq->data.sequence.items.top; it++) {
		yaml_node_t *n = ynode(y, *it);
		const char *nm = ystr(y, n, "name");

		if (nm && !strcmp(nm, name))
			return yget(y, n, inner);
	}
	return NULL;
}

/* A file path field (relative to the kubeconfig) or its -data twin. */
static int yfile_or_data(struct kcfg *y, yaml_node_t *m, const char *field,
			 char **file, char **data, size_t *len)
{
	char dfield[64];
	const char *v = ystr(y, m, field);

	if (v) {
		*file = path_in(y->dir, v);
		return *file ? 0 : -ENOMEM;
	}
	snprintf(dfield, sizeof(dfield), "%s-data", field);
	v = ystr(y, m, dfield);
	if (!v)
		return 0;
	*data = b64decode(v, len);
	if (!*data) {
		snprintf(y->err, y->errlen, "kubeconfig %s: %s is not base64",
			 y->path, dfield);
		return -EINVAL;
	}
	return 0;
}

static int kcfg_cluster(struct kcfg *y, struct creds *c, const char *name)
{
	yaml_node_t *cl = ynamed(y, "clusters", name, "cluster");
	const char *v;

	if (!cl) {
		snprintf(y->err, y->errlen,
			 "kubeconfig %s: cluster \"%s\" not found in clusters",
			 y->path, name);
		return -EINVAL;
	}
	v = ystr(y, cl, "server");
	if (!v) {
		snprintf(y->err, y->errlen,
			 "kubeconfig %s: cluster \"%s\" has no server",
			 y->path, name);
		return -EINVAL;
	}
	c->server = strdup(v);
	if (!c->server)
		return -ENOMEM;
	while (c->server[0] && c->server[strlen(c->server) - 1] == '/')
		c->server[strlen(c->server) - 1] = '\0';
	v = ystr(y, cl, "insecure-skip-tls-verify");
	c->insecure = v && !strcmp(v, "true");
	return yfile_or_data(y, cl, "certificate-authority", &c->ca_file,
			     &c->ca_data, &c->ca_len);
}

static int kcfg_user(struct kcfg *y, struct creds *c, const char *name)
{
	yaml_node_t *u = ynamed(y, "users", name, "user");
	const char *v;
	int r;

	if (!u) {
		snprintf(y->err, y->errlen,
			 "kubeconfig %s: user \"%s\" not found in users",
			 y->path, name);
		return -EINVAL;
	}
	if (yget(y, u, "exec") || yget(y, u, "auth-provider")) {
		snprintf(y->err, y->errlen,
			 "kubeconfig %s: user \"%s\" uses exec or auth-provider, which snilb does not run; give it a token, tokenFile or client certificate",
			 y->path, name);
		return -ENOTSUP;
	}
	r = yfile_or_data(y, u, "client-certificate", &c->cert_file,
			  &c->cert_data, &c->cert_len);
	if (!r)
		r = yfile_or_data(y, u, "client-key", &c->key_file,
				  &c->key_data, &c->key_len);
	if (r)
		return r;
	if (!(c->cert_file || c->cert_data) != !(c->key_file || c->key_data)) {
		snprintf(y->err, y->errlen,
			 "kubeconfig %s: user \"%s\" has a client certificate without a key or a key without a certificate",
			 y->path, name);
		return -EINVAL;
	}
	v = ystr(y, u, "token");
	if (v && !(c->token = strdup(v)))
		return -ENOMEM;
	v = ystr(y, u, "tokenFile");
	if (v && !c->token) {
		c->token_file = path_in(y->dir, v);
		if (!c->token_file)
			return -ENOMEM;
		if (token_read(c, y->err, y->errlen)) {
			char tmp[256];

			snprintf(tmp, sizeof(tmp), "%s", y->err);
			snprintf(y->err, y->errlen, "kubeconfig %s: user \"%s\": %s",
				 y->path, name, tmp);
			return -EINVAL;
		}
	}
	return 0;
}

static int kcfg_parse(struct kcfg *y, struct creds *c)
{
	const char *cur = ystr(y, ynode(y, 1), "current-context");
	yaml_node_t *ctx;
	const char *cl, *user;
	int r;

	if (!cur) {
		snprintf(y->err, y->errlen,
			 "kubeconfig %s: no current-context", y->path);
		return -EINVAL;
	}
	ctx = ynamed(y, "contexts", cur, "context");
	if (!ctx) {
		snprintf(y->err, y->errlen,
			 "kubeconfig %s: context \"%s\" (current-context) not found in contexts",
			 y->path, cur);
		return -EINVAL;
	}
	cl = ystr(y, ctx, "cluster");
	user = ystr(y, ctx, "user");
	if (!cl) {
		snprintf(y->err, y->errlen,
			 "kubeconfig %s: context \"%s\" has no cluster",
			 y->path, cur);
		return -EINVAL;
	}
	r = kcfg_cluster(y, c, cl);
	if (!r && user)
		r = kcfg_user(y, c, user);
	return r;
}

static int creds_kubeconfig(struct creds *c, const char *path, char *err,
			    size_t errlen)
{
	struct kcfg y = { .path = path, .err = err, .errlen = errlen };
	yaml_parser_t p;
	size_t len;
	char *text = read_file(path, &len), *slash;
	int r = -EINVAL;

	if (!text) {
		snprintf(err, errlen, "kubeconfig %s: %s", path,
			 strerror(errno));
		return -errno;
	}
	y.dir = strdup(path);
	slash = y.dir ? strrchr(y.dir, '/') : NULL;
	if (slash)
		*slash = '\0';
	else if (y.dir)
		strcpy(y.dir, ".");
	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	if (!yaml_parser_load(&p, &y.doc)) {
		snprintf(err, errlen, "kubeconfig %s: line %zu: %s", path,
			 p.problem_mark.line + 1,
			 p.problem ? p.problem : "invalid YAML");
	} else {
		if (!ynode(&y, 1) || ynode(&y, 1)->type != YAML_MAPPING_NODE)
			snprintf(err, errlen, "kubeconfig %s: not a map", path);
		else
			r = kcfg_parse(&y, c);
		yaml_document_delete(&y.doc);
	}
	if (r == -ENOMEM)
		snprintf(err, errlen, "kubeconfig %s: out of memory", path);
	yaml_parser_delete(&p);
	free(y.dir);
	free(text);
	return r;
}

static char *sa_file(const char *dir, const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", dir, name) < 0)
		return NULL;
	return p;
}

/*
 * In-cluster: the service's address from the environment, the service
 * account's files (SNILB_SA_DIR instead of the usual place: tests).
 */
static int creds_incluster(struct creds *c, char *err, size_t errlen)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	const char *dir = getenv("SNILB_SA_DIR");
	char *nsf;
	int v6;

	if (!dir)
		dir = SA_DIR;
	if (!host || !*host || !port || !*port) {
		snprintf(err, errlen,
			 "not in a cluster: KUBERNETES_SERVICE_HOST or KUBERNETES_SERVICE_PORT is not set (give a kubeconfig)");
		return -EINVAL;
	}
	v6 = strchr(host, ':') != NULL;
	if (asprintf(&c->server, "https://%s%s%s:%s", v6 ? "[" : "", host,
		     v6 ? "]" : "", port) < 0) {
		c->server = NULL;
		return -ENOMEM;
	}
	c->ca_file = sa_file(dir, "ca.crt");
	c->token_file = sa_file(dir, "token");
	nsf = sa_file(dir, "namespace");
	if (!c->ca_file || !c->token_file || !nsf) {
		free(nsf);
		return -ENOMEM;
	}
	if (access(c->ca_file, R_OK)) {
		snprintf(err, errlen, "service account CA %s: %s", c->ca_file,
			 strerror(errno));
		free(nsf);
		return -errno;
	}
	c->ns = read_file(nsf, NULL);
	if (c->ns)
		trim_end(c->ns);
	free(nsf);
	return token_read(c, err, errlen) ? -EINVAL : 0;
}

/* --- requests --------------------------------------------------------- */

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
};

static int on_progress(void *arg, curl_off_t dt, curl_off_t dn,
		       curl_off_t ut, curl_off_t un)
{
	(void)dt, (void)dn, (void)ut, (void)un;
	return stopping(arg);
}

static size_t on_body(char *p, size_t sz, size_t nm, void *arg)
{
	return buf_add(arg, p, sz * nm) ? 0 : sz * nm;
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
	char *auth = auth_header(k, reload);
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
	curl_easy_setopt(h, CURLOPT_TIMEOUT, r->timeout_s);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, r->idle_s);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPIDLE, KEEPIDLE_S);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPINTVL, KEEPIDLE_S / 2);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, k);
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
	r->cc = curl_easy_perform(h);
	if (r->cc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
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

/*
 * The request; after a 401 the token file is read again and the request
 * made once more (the token may have been rotated). The HTTP status, or 0
 * on a transport error (r->cc, r->errbuf).
 */
static long perform(struct kube *k, CURL *h, struct req *r)
{
	long code = perform_once(k, h, r, 0);

	if (code != 401 || !k->c.token_file)
		return code;
	if (r->resp)
		r->resp->len = 0;
	return perform_once(k, h, r, 1);
}

static void req_error(const struct req *r, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s", r->errbuf[0] ? r->errbuf :
		 curl_easy_strerror(r->cc));
}

/* --- objects ---------------------------------------------------------- */

static int obj_cmp(const void *a, const void *b)
{
	return strcmp(((const struct obj *)a)->key,
		      ((const struct obj *)b)->key);
}

static void obj_free(void *p)
{
	struct obj *o = p;

	if (!o)
		return;
	free(o->key);
	free(o->uid);
	free(o->rv);
	free(o->json);
	model_free(&o->one);
	free(o);
}

static const char *jstr(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* Keep of a map only the fields named (NULL-terminated). */
static void keep_fields(json_t *o, const char *const *keep)
{
	const char *key;
	const char *const *k;
	json_t *v;
	void *tmp;

	json_object_foreach_safe(o, tmp, key, v) {
		for (k = keep; *k && strcmp(*k, key); k++)
			;
		if (!*k)
			json_object_del(o, key);
	}
}

/*
 * Pods are the bulk of a cluster's objects; the decoder reads only their
 * containers' ports, IPs and conditions, so the rest is not kept.
 */
static void trim_pod(json_t *o)
{
	static const char *const spec[] = { "containers", NULL };
	static const char *const ctr[] = { "name", "ports", NULL };
	static const char *const status[] = { "podIP", "podIPs", "conditions",
					      NULL };
	static const char *const cond[] = { "type", "status", NULL };
	json_t *spec_o = json_object_get(o, "spec");
	json_t *st = json_object_get(o, "status"), *v;
	size_t i;

	if (json_is_object(spec_o))
		keep_fields(spec_o, spec);
	json_array_foreach(json_object_get(spec_o, "containers"), i, v)
		if (json_is_object(v))
			keep_fields(v, ctr);
	if (json_is_object(st))
		keep_fields(st, status);
	json_array_foreach(json_object_get(st, "conditions"), i, v)
		if (json_is_object(v))
			keep_fields(v, cond);
}

/*
 * An object of the API as it is stored: what the decoder does not read
 * and takes the most memory removed (managedFields; the last-applied
 * annotation, a whole copy of the object), apiVersion and kind set (list
 * items lack them), then compact JSON.
 */
static struct obj *obj_make(struct kind *kd, json_t *o)
{
	const struct m_kind *d = kd->def;
	json_t *md = json_object_get(o, "metadata");
	const char *name = jstr(md, "name"), *ns = jstr(md, "namespace");
	char apiv[128];
	struct obj *ob;

	if (!json_is_object(o) || !name)
		return NULL;
	json_object_del(md, "managedFields");
	json_object_del(json_object_get(md, "annotations"),
			"kubectl.kubernetes.io/last-applied-configuration");
	if (!strcmp(d->name, "Pod"))
		trim_pod(o);
	snprintf(apiv, sizeof(apiv), "%s%s%s", d->group,
		 *d->group ? "/" : "", kd->version);
	json_object_set_new(o, "apiVersion", json_string(apiv));
	json_object_set_new(o, "kind", json_string(d->name));
	ob = calloc(1, sizeof(*ob));
	if (!ob)
		return NULL;
	if (!ns)
		ob->key = strdup(name);
	else if (asprintf(&ob->key, "%s/%s", ns, name) < 0)
		ob->key = NULL;
	ob->uid = strdup(jstr(md, "uid") ? jstr(md, "uid") : "");
	ob->rv = strdup(jstr(md, "resourceVersion") ?
			jstr(md, "resourceVersion") : "");
	ob->json = json_dumps(o, JSON_COMPACT);
	if (!ob->key || !ob->uid || !ob->rv || !ob->json) {
		obj_free(ob);
		return NULL;
	}
	ob->len = strlen(ob->json);
	return ob;
}

/* Under k->lock, or before @o is published. */
static void obj_decode(struct kind *kd, struct obj *o)
{
	char file[512];

	if (o->decoded)
		return;
	snprintf(file, sizeof(file), "kube:%s/%s", kd->def->name, o->key);
	manifest_decode_buf(file, o->json, o->len, &o->one);
	o->decoded = 1;
}

/* Objects are decoded by their kind's thread before they are published. */
static void store_put(struct kind *kd, struct obj *o)
{
	struct obj **slot, *old = NULL;

	obj_decode(kd, o);
	pthread_mutex_lock(&kd->k->lock);
	slot = tsearch(o, &kd->root, obj_cmp);
	if (!slot) {
		old = o;
	} else if (*slot != o) {
		old = *slot;
		*slot = o;
	} else {
		kd->n++;
	}
	pthread_mutex_unlock(&kd->k->lock);
	obj_free(old);
}

static void store_del(struct kind *kd, const char *key)
{
	struct obj probe = { .key = (char *)key }, **slot, *old = NULL;

	pthread_mutex_lock(&kd->k->lock);
	slot = tfind(&probe, &kd->root, obj_cmp);
	if (slot) {
		old = *slot;
		tdelete(&probe, &kd->root, obj_cmp);
		kd->n--;
	}
	pthread_mutex_unlock(&kd->k->lock);
	obj_free(old);
}

/*
 * A relisted object keeps the model decoded from the same uid and
 * resourceVersion: marked under k->lock, the others decoded without it,
 * then the models moved under it again as the trees are swapped. Only the
 * kind's thread changes its tree, so the old objects are still there.
 */
struct relist {
	struct kind *kd;
	void *old;
	int phase;		/* 0: mark, 1: decode, 2: adopt */
};

static void relist_walk(const void *node, VISIT v, void *arg)
{
	struct obj *o = *(struct obj *const *)node, **slot, *p;
	struct relist *r = arg;

	if (v != postorder && v != leaf)
		return;
	if (r->phase == 1) {
		if (!o->adopt)
			obj_decode(r->kd, o);
		return;
	}
	if (r->phase == 2 && (!o->adopt || o->decoded))
		return;
	slot = tfind(o, &r->old, obj_cmp);
	p = slot ? *slot : NULL;
	if (!p || !p->decoded || strcmp(p->uid, o->uid) ||
	    strcmp(p->rv, o->rv))
		return;
	if (r->phase == 0) {
		o->adopt = 1;
		return;
	}
	o->one = p->one;
	o->decoded = 1;
	memset(&p->one, 0, sizeof(p->one));
	p->decoded = 0;
}

/* Replace the kind's objects with @root (@n objects) at once. */
static void store_replace(struct kind *kd, void *root, size_t n)
{
	struct relist r = { .kd = kd };

	pthread_mutex_lock(&kd->k->lock);
	r.old = kd->root;
	twalk_r(root, relist_walk, &r);
	pthread_mutex_unlock(&kd->k->lock);
	r.phase = 1;
	twalk_r(root, relist_walk, &r);
	pthread_mutex_lock(&kd->k->lock);
	r.phase = 2;
	twalk_r(root, relist_walk, &r);
	kd->root = root;
	kd->n = n;
	kd->listed = 1;
	pthread_mutex_unlock(&kd->k->lock);
	tdestroy(r.old, obj_free);
}

/* --- list ------------------------------------------------------------- */

static int kind_path(struct kind *kd, char *out, size_t len)
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
static int list_page(struct kind *kd, const struct buf *b, void **root,
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
		o = obj_make(kd, it);
		if (!o)
			continue;
		if (*(struct obj **)tsearch(o, root, obj_cmp) != o)
			obj_free(o);
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

/*
 * LIST in pages of PAGE_LIMIT, then the kind's store replaced at once.
 * The HTTP status (200: done), 0 on a transport error.
 */
static long do_list(struct kind *kd, char *err, size_t errlen)
{
	struct kube *k = kd->k;
	struct buf b = { 0 };
	struct req r = { .timeout_s = REQUEST_S, .idle_s = REQUEST_S,
			 .resp = &b };
	char path[512], *cont = NULL, *esc;
	void *root = NULL;
	size_t n = 0;
	long code;
	int64_t t0 = now_ms();
	int pages = 0;

	do {
		int len = kind_path(kd, path, sizeof(path));

		esc = cont ? curl_easy_escape(kd->h, cont, 0) : NULL;
		snprintf(path + len, sizeof(path) - len, "?limit=%d%s%s",
			 PAGE_LIMIT, esc ? "&continue=" : "", esc ? esc : "");
		curl_free(esc);
		b.len = 0;
		r.path = path;
		code = perform(k, kd->h, &r);
		if (code != 200) {
			if (!code)
				req_error(&r, err, errlen);
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
	} while (cont && !stopping(k));
	free(cont);
	buf_free(&b);
	if (code != 200 || stopping(k) || !kd->rv[0]) {
		if (code == 200 && !kd->rv[0])
			snprintf(err, errlen, "list has no resourceVersion");
		tdestroy(root, obj_free);
		kd->rv[0] = '\0';
		return code == 200 ? 0 : code;
	}
	store_replace(kd, root, n);
	notify(k);
	{
		char ns[24], np[24], ms[24];

		snprintf(ns, sizeof(ns), "%zu", n);
		snprintf(np, sizeof(np), "%d", pages);
		snprintf(ms, sizeof(ms), "%lld", (long long)(now_ms() - t0));
		log_event("info", "kube: listed", "kind", kd->def->name,
			  "version", kd->version, "objects", ns, "pages", np,
			  "ms", ms, "resourceVersion", kd->rv, NULL);
	}
	return 200;
}

/* --- watch ------------------------------------------------------------ */

static void succeeded(struct kind *kd);

static void set_rv(struct kind *kd, json_t *obj)
{
	const char *rv = jstr(json_object_get(obj, "metadata"),
			      "resourceVersion");

	if (rv && *rv)
		snprintf(kd->rv, sizeof(kd->rv), "%s", rv);
}

/* One watch event; -1 ends the stream (an ERROR, or garbage). */
static int watch_event(struct kind *kd, const char *line, size_t len)
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
		o = obj_make(kd, obj);
		if (o) {
			store_put(kd, o);
			notify(kd->k);
		}
	} else if (!strcmp(type, "DELETED")) {
		char key[512];
		const char *ns = jstr(md, "namespace"), *name = jstr(md, "name");

		set_rv(kd, obj);
		if (name) {
			snprintf(key, sizeof(key), "%s%s%s", ns ? ns : "",
				 ns ? "/" : "", name);
			store_del(kd, key);
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
static int watch_feed(struct kind *kd, const char *p, size_t n)
{
	size_t start = 0;
	char *nl;

	if (kd->line.len + n > LINE_MAX_BYTES) {
		snprintf(kd->event_msg, sizeof(kd->event_msg),
			 "watch event longer than %u bytes", LINE_MAX_BYTES);
		kd->event_err = -1;
		return -1;
	}
	if (buf_add(&kd->line, p, n))
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
	struct kind *kd = arg;
	size_t n = sz * nm;
	long code = 0;

	curl_easy_getinfo(kd->h, CURLINFO_RESPONSE_CODE, &code);
	if (code != 200) {
		if (kd->errbody.len < ERRBODY_MAX)
			buf_add(&kd->errbody, p, n);
		return n;
	}
	if (!kd->events && kd->failures)
		succeeded(kd);
	return watch_feed(kd, p, n) ? 0 : n;
}

/* WATCH from kd->rv until the server ends it; the HTTP status or 0. */
static long do_watch(struct kind *kd, char *err, size_t errlen)
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
	code = perform(kd->k, kd->h, &r);
	if (kd->relist || kd->event_err) {
		snprintf(err, errlen, "%s", kd->event_msg);
		return 200;
	}
	if (!code)
		req_error(&r, err, errlen);
	else if (code != 200)
		status_msg(kd->errbody.p, kd->errbody.len, err, errlen);
	/*
	 * A watch that was answered and then went quiet for WATCH_IDLE_S:
	 * re-watch at once (the server may just not send bookmarks); if it
	 * is gone, that attempt fails and is logged and backed off.
	 */
	if (!code && r.cc == CURLE_OPERATION_TIMEDOUT) {
		long answered = 0;

		curl_easy_getinfo(kd->h, CURLINFO_RESPONSE_CODE, &answered);
		if (answered == 200)
			return -1;
	}
	return code;
}

/* --- discovery -------------------------------------------------------- */

static int has_version(json_t *group, const char *v)
{
	json_t *it;
	size_t i;

	json_array_foreach(json_object_get(group, "versions"), i, it) {
		const char *gv = jstr(it, "version");

		if (gv && !strcmp(gv, v))
			return 1;
	}
	return 0;
}

static int has_resource(json_t *list, const char *res)
{
	json_t *it;
	size_t i;

	json_array_foreach(json_object_get(list, "resources"), i, it) {
		const char *n = jstr(it, "name");

		if (n && !strcmp(n, res))
			return 1;
	}
	return 0;
}

/* GET @path as JSON: 1 (*out set), 0 (404), -1 (error, @err). */
static int get_json(struct kind *kd, const char *path, json_t **out,
		    char *err, size_t errlen)
{
	struct buf b = { 0 };
	struct req r = { .timeout_s = REQUEST_S, .idle_s = REQUEST_S,
			 .resp = &b, .path = path };
	long code = perform(kd->k, kd->h, &r);

	*out = NULL;
	if (code == 200)
		*out = json_loadb(b.p ? b.p : "", b.len, 0, NULL);
	if (!code)
		req_error(&r, err, errlen);
	else if (code == 200 && !*out)
		snprintf(err, errlen, "%s: response is not JSON", path);
	else if (code != 200 && code != 404)
		snprintf(err, errlen, "%s: HTTP %ld", path, code);
	buf_free(&b);
	if (code == 404)
		return 0;
	return *out ? 1 : -1;
}

/*
 * The first of the kind's versions the API server serves (a CRD's
 * versions come and go): 1 with kd->version set, 0 if none, -1 on error.
 */
static int discover(struct kind *kd, char *err, size_t errlen)
{
	const struct m_kind *d = kd->def;
	const char *const *v;
	char path[256];
	json_t *group, *list;
	int r;

	snprintf(path, sizeof(path), "/apis/%s", d->group);
	r = get_json(kd, path, &group, err, errlen);
	if (r <= 0)
		return r;
	for (v = d->versions; *v; v++) {
		if (!has_version(group, *v))
			continue;
		snprintf(path, sizeof(path), "/apis/%s/%s", d->group, *v);
		r = get_json(kd, path, &list, err, errlen);
		if (r < 0)
			break;
		r = r && has_resource(list, d->resource);
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
static void kind_gone(struct kind *kd)
{
	__atomic_store_n(&kd->version, NULL, __ATOMIC_RELEASE);
	kd->rv[0] = '\0';
	store_replace(kd, NULL, 0);
	notify(kd->k);
}

/* --- the kind's thread ------------------------------------------------ */

static long backoff(struct kind *kd)
{
	long b;

	kd->backoff_ms = kd->backoff_ms ? kd->backoff_ms * 2 : BACKOFF_MIN_MS;
	if (kd->backoff_ms > BACKOFF_MAX_MS)
		kd->backoff_ms = BACKOFF_MAX_MS;
	b = kd->backoff_ms;
	return b / 2 + rand_r(&kd->seed) % (b / 2 + 1);
}

static void log_failure(struct kind *kd, const char *what, long code,
			const char *err, long retry_ms, const char *level)
{
	char st[16], rt[24];

	snprintf(st, sizeof(st), "%ld", code);
	snprintf(rt, sizeof(rt), "%ld", retry_ms);
	log_event(level, what, "kind", kd->def->name, "status", st,
		  "error", err, "retry_ms", rt, NULL);
}

/*
 * What to do after a failed list or watch: the milliseconds to wait. An
 * outage is logged at its first failure, when the status changes and
 * every tenth failure, not at every retry of every kind.
 */
static long failed(struct kind *kd, const char *what, long code,
		   const char *err)
{
	long ms;

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
	ms = backoff(kd);
	if (kd->failures++ % 10 == 0 || code != kd->failed_code)
		log_failure(kd, what, code, err, ms, code ? "warn" : "error");
	kd->failed_code = code;
	return ms;
}

/* A list or watch worked: the next failure starts from the shortest wait. */
static void succeeded(struct kind *kd)
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
static long await_version(struct kind *kd)
{
	char err[256] = "";
	int r = discover(kd, err, sizeof(err));

	if (stopping(kd->k))
		return 0;
	if (r < 0)
		return failed(kd, "kube: discovery failed", 0, err);
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

/* One round: discovery, list or watch. Returns the ms to wait. */
static long kind_step(struct kind *kd)
{
	char err[512] = "";
	int64_t t0;
	long code;

	if (!kd->version)
		return await_version(kd);
	if (!kd->rv[0]) {
		code = do_list(kd, err, sizeof(err));
		if (stopping(kd->k))
			return 0;
		if (code != 200)
			return failed(kd, "kube: list failed", code, err);
		succeeded(kd);
	}
	t0 = now_ms();
	code = do_watch(kd, err, sizeof(err));
	if (stopping(kd->k))
		return 0;
	if (code == 410 || kd->relist) {
		log_event("info", "kube: watch expired (410), relisting",
			  "kind", kd->def->name, "resourceVersion", kd->rv,
			  NULL);
		kd->rv[0] = '\0';
		return 0;
	}
	if (code == -1) {
		if (kd->k->verbose)
			log_event("debug", "kube: watch idle, restarting",
				  "kind", kd->def->name, NULL);
		return 0;
	}
	if (code == 200 && kd->event_err)
		return failed(kd, "kube: watch error event", kd->event_err,
			      err);
	if (code != 200)
		return failed(kd, "kube: watch failed", code, err);
	/* A server that ends every watch at once must not make us spin. */
	if (!kd->events && now_ms() - t0 < 1000)
		return backoff(kd);
	succeeded(kd);
	return 0;
}

static void *kind_main(void *arg)
{
	struct kind *kd = arg;
	struct kube *k = kd->k;
	long ms;

	while (!stopping(k)) {
		ms = kind_step(kd);
		if (ms && nap(k, ms))
			break;
	}
	return NULL;
}

/* --- the model ------------------------------------------------------- */

/* Every object's model, decoded when it is not yet, in one array. */
struct gather {
	struct kind *kd;
	const struct model **one;
	size_t n, cap;
};

static void gather_walk(const void *node, VISIT v, void *arg)
{
	struct obj *o = *(struct obj *const *)node;
	struct gather *g = arg;

	if ((v != postorder && v != leaf) || g->n == g->cap)
		return;
	obj_decode(g->kd, o);
	g->one[g->n++] = &o->one;
}

/* Copies of the cached models, under the lock: the kinds' threads replace
 * objects meanwhile, never the models handed out. */
int kube_model(struct kube *k, struct model *m)
{
	struct gather g = { 0 };
	size_t i;
	int err = -ENOMEM;

	memset(m, 0, sizeof(*m));
	pthread_mutex_lock(&k->lock);
	for (i = 0; i < M_NKINDS; i++)
		g.cap += k->kinds[i].n;
	g.one = calloc(g.cap ? g.cap : 1, sizeof(*g.one));
	if (g.one) {
		for (i = 0; i < M_NKINDS; i++) {
			g.kd = &k->kinds[i];
			twalk_r(g.kd->root, gather_walk, &g);
		}
		err = model_copy(m, g.one, g.n);
	}
	pthread_mutex_unlock(&k->lock);
	free(g.one);
	if (err)
		model_free(m);
	return err;
}

/* --- the interface ---------------------------------------------------- */

/*
 * A Gateway API kind that discovery says is not served counts as listed:
 * it has no objects, and the agent must not wait for a CRD forever.
 */
int kube_synced(struct kube *k)
{
	size_t i;
	int all = 1;

	pthread_mutex_lock(&k->lock);
	for (i = 0; i < M_NKINDS; i++)
		all &= k->kinds[i].listed;
	pthread_mutex_unlock(&k->lock);
	return all;
}

const char *kube_tlsroute_version(struct kube *k)
{
	return __atomic_load_n(&k->kinds[M_TLSROUTE].version,
			       __ATOMIC_ACQUIRE);
}

const char *kube_namespace(struct kube *k)
{
	return k->c.ns;
}

long kube_request(struct kube *k, const char *method, const char *path,
		  const char *body, char **resp, char *err, size_t errlen)
{
	struct buf b = { 0 };
	struct req r = { .method = method, .path = path, .body = body,
			 .timeout_s = REQUEST_S, .idle_s = REQUEST_S,
			 .resp = &b };
	CURL *h = curl_easy_init();
	long code;

	if (resp)
		*resp = NULL;
	if (!h) {
		snprintf(err, errlen, "curl_easy_init failed");
		return 0;
	}
	code = perform(k, h, &r);
	if (!code)
		req_error(&r, err, errlen);
	curl_easy_cleanup(h);
	if (resp)
		*resp = b.p;
	else
		free(b.p);
	return code;
}

void kube_stop(struct kube *k)
{
	size_t i;

	if (!k)
		return;
	pthread_mutex_lock(&k->stop_lock);
	k->stop = 1;
	pthread_cond_broadcast(&k->stop_cond);
	pthread_mutex_unlock(&k->stop_lock);
	for (i = 0; i < M_NKINDS; i++) {
		struct kind *kd = &k->kinds[i];

		if (kd->started)
			pthread_join(kd->thread, NULL);
		if (kd->h)
			curl_easy_cleanup(kd->h);
		tdestroy(kd->root, obj_free);
		buf_free(&kd->line);
		buf_free(&kd->errbody);
	}
	creds_free(&k->c);
	pthread_mutex_destroy(&k->lock);
	pthread_mutex_destroy(&k->token_lock);
	pthread_mutex_destroy(&k->stop_lock);
	pthread_cond_destroy(&k->stop_cond);
	free(k);
	curl_global_cleanup();
}

static int kube_init(struct kube *k, int notify_fd, int verbose)
{
	pthread_condattr_t ca;

	k->notify_fd = notify_fd;
	k->verbose = verbose;
	pthread_mutex_init(&k->lock, NULL);
	pthread_mutex_init(&k->token_lock, NULL);
	pthread_mutex_init(&k->stop_lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&k->stop_cond, &ca);
	pthread_condattr_destroy(&ca);
	return curl_global_init(CURL_GLOBAL_DEFAULT) ? -1 : 0;
}

static int start_threads(struct kube *k, char *err, size_t errlen)
{
	unsigned int seed = (unsigned int)(now_ms() ^ getpid());
	size_t i;
	int r;

	for (i = 0; i < M_NKINDS; i++) {
		struct kind *kd = &k->kinds[i];

		kd->def = &m_kinds[i];
		kd->k = k;
		kd->seed = seed + (unsigned int)i * 7919;
		kd->version = kd->def->crd ? NULL : kd->def->versions[0];
		kd->h = curl_easy_init();
		if (!kd->h) {
			snprintf(err, errlen, "curl_easy_init failed");
			return -1;
		}
	}
	for (i = 0; i < M_NKINDS; i++) {
		r = pthread_create(&k->kinds[i].thread, NULL, kind_main,
				   &k->kinds[i]);
		if (r) {
			snprintf(err, errlen, "pthread_create: %s",
				 strerror(r));
			return -1;
		}
		k->kinds[i].started = 1;
	}
	return 0;
}

struct kube *kube_start(const struct kube_config *cfg, int notify_fd,
			char *err, size_t errlen)
{
	struct kube *k = calloc(1, sizeof(*k));
	int r;

	if (!k) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (kube_init(k, notify_fd, cfg->verbose)) {
		snprintf(err, errlen, "curl_global_init failed");
		kube_stop(k);
		return NULL;
	}
	if (cfg->kubeconfig)
		r = creds_kubeconfig(&k->c, cfg->kubeconfig, err, errlen);
	else
		r = creds_incluster(&k->c, err, errlen);
	if (r == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	if (r || start_threads(k, err, errlen)) {
		kube_stop(k);
		return NULL;
	}
	log_event("info", "kube: watching", "server", k->c.server,
		  "credentials", cfg->kubeconfig ? cfg->kubeconfig :
		  "in-cluster", NULL);
	return k;
}

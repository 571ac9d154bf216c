// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The credentials for the API server: a kubeconfig's current context
 * (cluster server and CA, client certificate and key, token or token
 * file; YAML or JSON) or the pod's service account in-cluster; and the
 * token file read again when it is rotated.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "kube_int.h"
#include "log.h"

#define SA_DIR		"/var/run/secrets/kubernetes.io/serviceaccount"
#define TOKEN_CHECK_S	60	/* token file's mtime looked at */

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
		bad = kube_buf_add(&b, chunk, n);
	bad = bad || ferror(f);
	fclose(f);
	if (bad) {
		kube_buf_free(&b);
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

char *kube_b64decode(const char *s, size_t *lenp)
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

/* --- credentials ------------------------------------------------------ */

void kube_creds_free(struct creds *c)
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
	c->token_checked = kube_now_ms();
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
	if (!force && kube_now_ms() - c->token_checked < TOKEN_CHECK_S * 1000)
		return;
	c->token_checked = kube_now_ms();
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

char *kube_auth_header(struct kube *k, int force_reload)
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
	*data = kube_b64decode(v, len);
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

int kube_creds_kubeconfig(struct creds *c, const char *path, char *err,
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
int kube_creds_incluster(struct creds *c, char *err, size_t errlen)
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

/* A file the credentials name that cannot be read: -errno and @err. */
static int unreadable(const char *what, const char *file, const char *from,
		      char *err, size_t errlen)
{
	int e;

	if (!file || !access(file, R_OK))
		return 0;
	e = errno;
	snprintf(err, errlen, "%s: %s %s: %s", from, what, file, strerror(e));
	return -e;
}

int kube_check(const struct kube_config *cfg, char *err, size_t errlen)
{
	const char *from = cfg->kubeconfig ? cfg->kubeconfig : "in-cluster";
	char where[600];
	struct creds c = { 0 };
	int r;

	if (cfg->kubeconfig)
		r = kube_creds_kubeconfig(&c, cfg->kubeconfig, err, errlen);
	else
		r = kube_creds_incluster(&c, err, errlen);
	if (r == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	snprintf(where, sizeof(where), "%s%s", cfg->kubeconfig ?
		 "kubeconfig " : "", from);
	if (!r)
		r = unreadable("certificate-authority", c.ca_file, where, err,
			       errlen);
	if (!r)
		r = unreadable("client-certificate", c.cert_file, where, err,
			       errlen);
	if (!r)
		r = unreadable("client-key", c.key_file, where, err, errlen);
	kube_creds_free(&c);
	return r;
}

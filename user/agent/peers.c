// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * --peers: the node table's input (docs/multinode.md). A file holds a
 * line per node, "NAME ADDRESS [draining]", '#' starting a comment; the
 * command line, NAME=ADDR,NAME=ADDR. The table changes when the input
 * does: the table in force becomes the previous generation (its owners
 * are asked once for connections they still hold). A bad file keeps the
 * table in force, and says where it is wrong.
 *
 * "--peers pods": the DaemonSet's pods (label app.kubernetes.io/name=snilb
 * in $POD_NAMESPACE, else snilb-system), from the source's objects at
 * each sync: each ready pod a node named by its spec.nodeName, at its
 * IPv4 address (the node's: hostNetwork); a terminating pod draining.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "defaults.h"
#include "log.h"
#include "model.h"
#include "peers.h"
#include "reaper.h"

struct peers {
	char *spec;		/* the file, or NULL */
	char self[SNILB_NODE_NAME];
	struct dp_node cur[SNILB_MAX_NODES], prev[SNILB_MAX_NODES];
	size_t ncur, nprev;
	int have;		/* cur is written */
	int draining;		/* SIGTERM with --drain */
	struct timespec mtime;
	off_t size;
	uint32_t gen, prev_gen;
	char *list;		/* NAME=ADDR,... (no file) */
	int pods;		/* --peers pods: from the model */
	char pods_ns[64];
	struct dp_node in[SNILB_MAX_NODES];	/* pods: the last input */
	size_t nin;
	int have_in;
	uint64_t drain_ns, drain_until;
	uint32_t drain_flows, drain_left;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int add_node(struct dp_node *n, size_t *cnt, const char *name,
		    const char *addr, int draining, const char *where)
{
	size_t i;

	if (*cnt >= SNILB_MAX_NODES) {
		log_event("error", "too many peers", "at", where, "max",
			  SNILB_STR(SNILB_MAX_NODES), NULL);
		return -E2BIG;
	}
	if (strlen(name) >= sizeof(n->name) || strlen(addr) >= sizeof(n->addr)) {
		log_event("error", "peer name or address too long", "at",
			  where, NULL);
		return -EINVAL;
	}
	for (i = 0; i < *cnt; i++)
		if (!strcmp(n[i].name, name)) {
			log_event("error", "peer listed twice", "at", where,
				  "name", name, NULL);
			return -EINVAL;
		}
	memset(&n[*cnt], 0, sizeof(n[*cnt]));
	strcpy(n[*cnt].name, name);
	strcpy(n[*cnt].addr, addr);
	n[*cnt].draining = draining;
	(*cnt)++;
	return 0;
}

/* One line of the file: 0, or an error logged with @where. */
static int parse_line(char *line, struct dp_node *n, size_t *cnt,
		      const char *where)
{
	char *w[4], *save = NULL, *c = strchr(line, '#');
	int k = 0;

	if (c)
		*c = 0;
	for (c = strtok_r(line, " \t\r\n", &save); c && k < 4;
	     c = strtok_r(NULL, " \t\r\n", &save))
		w[k++] = c;
	if (!k)
		return 0;
	if (k < 2 || k > 3 || (k == 3 && strcmp(w[2], "draining"))) {
		log_event("error", "bad peers line", "at", where, "want",
			  "NAME ADDRESS [draining]", NULL);
		return -EINVAL;
	}
	return add_node(n, cnt, w[0], w[1], k == 3, where);
}

static int read_file(const char *path, struct dp_node *n, size_t *cnt)
{
	char line[512], where[4200];
	FILE *f = fopen(path, "r");
	int no = 0, err = 0;

	if (!f) {
		err = -errno;
		log_event("error", "cannot read the peers file", "path", path,
			  "error", strerror(errno), NULL);
		return err;
	}
	*cnt = 0;
	while (!err && fgets(line, sizeof(line), f)) {
		snprintf(where, sizeof(where), "%s:%d", path, ++no);
		err = parse_line(line, n, cnt, where);
	}
	fclose(f);
	return err;
}

static int read_list(const char *list, struct dp_node *n, size_t *cnt)
{
	char *copy = strdup(list), *save = NULL, *item, *eq;
	int err = copy ? 0 : -ENOMEM;

	*cnt = 0;
	for (item = copy ? strtok_r(copy, ",", &save) : NULL; item && !err;
	     item = strtok_r(NULL, ",", &save)) {
		eq = strchr(item, '=');
		if (!eq || eq == item || !eq[1]) {
			log_event("error", "bad --peers item", "item", item,
				  "want", "NAME=ADDR", NULL);
			err = -EINVAL;
			break;
		}
		*eq = 0;
		err = add_node(n, cnt, item, eq + 1, 0, "--peers");
	}
	free(copy);
	return err;
}

static void default_name(char *out, size_t len, const char *name)
{
	const char *env = getenv("NODE_NAME");

	if (name && *name)
		snprintf(out, len, "%s", name);
	else if (env && *env)
		snprintf(out, len, "%s", env);
	else if (gethostname(out, len - 1))
		snprintf(out, len, "localhost");
	out[len - 1] = 0;
}

struct peers *peers_open(const char *spec, const char *node_name,
			 uint32_t drain_timeout_s)
{
	struct peers *p = calloc(1, sizeof(*p));

	if (!p) {
		log_event("error", "out of memory", NULL);
		return NULL;
	}
	default_name(p->self, sizeof(p->self), node_name);
	p->drain_ns = drain_timeout_s * 1000000000ull;
	if (!spec)
		return p;
	if (!strcmp(spec, PEERS_PODS)) {
		const char *ns = getenv("POD_NAMESPACE");

		p->pods = 1;
		snprintf(p->pods_ns, sizeof(p->pods_ns), "%s",
			 ns && *ns ? ns : SNILB_LEASE_NAMESPACE);
		return p;
	}
	if (strchr(spec, '=') && !strchr(spec, '/'))
		p->list = strdup(spec);
	else
		p->spec = strdup(spec);
	if (p->list || p->spec)
		return p;
	free(p);
	log_event("error", "out of memory", NULL);
	return NULL;
}

void peers_free(struct peers *p)
{
	if (!p)
		return;
	free(p->spec);
	free(p->list);
	free(p);
}

/* Has the file moved since it was read? (Always, the first time.) */
static int file_moved(struct peers *p)
{
	struct stat st;

	if (stat(p->spec, &st))
		return 1;		/* read_file() says why */
	if (p->have && st.st_mtim.tv_sec == p->mtime.tv_sec &&
	    st.st_mtim.tv_nsec == p->mtime.tv_nsec && st.st_size == p->size)
		return 0;
	p->mtime = st.st_mtim;
	p->size = st.st_size;
	return 1;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct dp_node *)a)->name,
		      ((const struct dp_node *)b)->name);
}

static int same(const struct dp_node *a, size_t na, const struct dp_node *b,
		size_t nb)
{
	return na == nb && !memcmp(a, b, na * sizeof(*a));
}

/* Our own drain, over what the input says. */
static void overlay(struct peers *p, struct dp_node *n, size_t cnt)
{
	size_t i;

	for (i = 0; i < cnt && p->draining; i++)
		if (!strcmp(n[i].name, p->self))
			n[i].draining = 1;
}

static int write_table(struct peers *p, struct dataplane *dp,
		       const struct dp_node *n, size_t cnt)
{
	struct dp_nodes t = { n, p->cur, cnt, p->have ? p->ncur : 0,
			      p->self, !p->have };
	struct snilb_cluster cl;
	char err[256], gen[16], nodes[16];
	int rv = dp_nodes_set(dp, &t, err, sizeof(err));

	if (rv) {
		log_event("error", "cannot write the node table", "error", err,
			  "kept", "the table in force", NULL);
		return rv;
	}
	if (p->have) {
		memcpy(p->prev, p->cur, p->ncur * sizeof(*n));
		p->nprev = p->ncur;
	}
	memcpy(p->cur, n, cnt * sizeof(*n));
	p->ncur = cnt;
	p->have = 1;
	if (!dp_nodes_get(dp, &cl)) {
		p->gen = cl.generation;
		p->prev_gen = cl.prev_generation;
	}
	if (!p->spec && !p->list && !p->pods)
		return 1;		/* none: a single node, as before */
	snprintf(gen, sizeof(gen), "%08x", p->gen);
	snprintf(nodes, sizeof(nodes), "%zu", cnt);
	log_event("info", "node table", "generation", gen, "nodes", nodes,
		  "self", p->self, "draining", p->draining ? "yes" : "no",
		  NULL);
	return 1;
}

int peers_apply(struct peers *p, struct dataplane *dp)
{
	struct dp_node n[SNILB_MAX_NODES];
	size_t cnt = 0;
	int err;

	if (!p)
		return 0;
	if (p->spec && !file_moved(p) && !p->draining)
		return 0;
	if (p->pods && !p->have_in)
		return 0;		/* until the first sync */
	if (!p->spec && !p->list && !p->pods)
		return p->have ? 0 : write_table(p, dp, n, 0);
	if (p->pods) {
		cnt = p->nin;
		memcpy(n, p->in, cnt * sizeof(*n));
		err = 0;
	} else {
		err = p->spec ? read_file(p->spec, n, &cnt) :
				read_list(p->list, n, &cnt);
	}
	if (err) {
		if (p->spec)
			p->mtime.tv_sec = 0;	/* read again next time */
		return err;
	}
	/* Sorted as the maps hold them: the same nodes in another order
	 * are the same table (no new generation, the previous one kept). */
	qsort(n, cnt, sizeof(*n), by_name);
	overlay(p, n, cnt);
	if (p->have && same(n, cnt, p->cur, p->ncur))
		return 0;
	return write_table(p, dp, n, cnt);
}

static const char *label(const struct m_meta *m, const char *key)
{
	size_t i;

	for (i = 0; i < m->nlabels; i++)
		if (!strcmp(m->labels[i].key, key))
			return m->labels[i].value;
	return NULL;
}

/* The node of @name among @n, or NULL. */
static struct dp_node *node_named(struct dp_node *out, size_t n,
				  const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(out[i].name, name))
			return &out[i];
	return NULL;
}

/*
 * A node may run two of the DaemonSet's pods for a while (maxSurge: the
 * new one ready while the old one terminates): it is one node, draining
 * only when all of its pods terminate, at the address of one that does
 * not.
 */
size_t peers_of_pods(const struct model *m, const char *ns,
		     struct dp_node *out, size_t max)
{
	const char *app, *ip, *name;
	struct dp_node *d;
	size_t i, j, n = 0;

	for (i = 0; i < m->npods; i++) {
		const struct m_pod *pod = &m->pods[i];

		app = label(&pod->meta, PEERS_POD_LABEL);
		if (strcmp(pod->meta.ns, ns) || !app ||
		    strcmp(app, PEERS_POD_APP) ||
		    (!pod->ready && !pod->terminating))
			continue;
		for (j = 0, ip = NULL; j < pod->nips && !ip; j++)
			if (strchr(pod->ips[j], '.'))
				ip = pod->ips[j];
		if (!ip)
			continue;
		name = pod->node_name ? pod->node_name : pod->meta.name;
		d = node_named(out, n, name);
		if (d && (pod->terminating || !d->draining))
			continue;
		if (!d && n >= max)
			continue;
		if (!d) {
			d = &out[n++];
			memset(d, 0, sizeof(*d));
			snprintf(d->name, sizeof(d->name), "%s", name);
		}
		snprintf(d->addr, sizeof(d->addr), "%s", ip);
		d->draining = pod->terminating;
	}
	return n;
}

int peers_model(struct peers *p, struct dataplane *dp, const struct model *m)
{
	if (!p || !p->pods)
		return 0;
	p->nin = peers_of_pods(m, p->pods_ns, p->in, SNILB_MAX_NODES);
	p->have_in = 1;
	return peers_apply(p, dp);
}

int peers_drain(struct peers *p, struct dataplane *dp)
{
	struct reap_result gr;
	char n[16], t[16];

	if (p->draining)
		return -1;
	p->draining = 1;
	p->drain_until = mono_ns() + p->drain_ns;
	p->drain_flows = dp_reap(dp, mono_ns(), &gr) ? 0 : gr.flows;
	p->drain_left = p->drain_flows;
	peers_apply(p, dp);
	snprintf(n, sizeof(n), "%u", p->drain_flows);
	snprintf(t, sizeof(t), "%llu",
		 (unsigned long long)(p->drain_ns / 1000000000ull));
	log_event("info", "SIGTERM: draining, no new connections", "flows", n,
		  "timeout_s", t, NULL);
	return 0;
}

int peers_drain_done(struct peers *p, uint32_t flows)
{
	char left[16];

	if (!p->draining)
		return 0;
	p->drain_left = flows;
	if (flows && mono_ns() < p->drain_until)
		return 0;
	snprintf(left, sizeof(left), "%u", flows);
	log_event("info", flows ? "drain deadline: stopping" :
		  "drained: every flow ended", "flows_left", left, NULL);
	return 1;
}

void peers_info(const struct peers *p, struct peers_info *out)
{
	size_t i;

	memset(out, 0, sizeof(*out));
	if (!p)
		return;
	out->generation = p->gen;
	out->prev_generation = p->prev_gen;
	out->nodes = p->ncur;
	out->draining = p->draining;
	out->drain_flows = p->drain_flows;
	out->drain_left = p->drain_left;
	for (i = 0; i < p->ncur; i++)
		out->member |= !strcmp(p->cur[i].name, p->self);
}

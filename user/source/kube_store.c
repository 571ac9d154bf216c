// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The objects of each kind as the API sent them, trimmed and kept as
 * compact JSON, each with the one-object model the decoder made of it,
 * once per resourceVersion: kube_model() copies those into a model the
 * caller owns, so that an unchanged cluster costs a copy, not a decode.
 */
#include <errno.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "kube_int.h"

/* --- objects ---------------------------------------------------------- */

int kube_obj_cmp(const void *a, const void *b)
{
	return strcmp(((const struct obj *)a)->key,
		      ((const struct obj *)b)->key);
}

void kube_obj_free(void *p)
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
 * containers' ports, node (--peers pods), IPs and conditions, so the rest
 * is not kept.
 */
static void trim_pod(json_t *o)
{
	static const char *const spec[] = { "containers", "nodeName", NULL };
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
struct obj *kube_obj_make(struct kube_kind *kd, json_t *o)
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
		kube_obj_free(ob);
		return NULL;
	}
	ob->len = strlen(ob->json);
	return ob;
}

/* Under k->lock, or before @o is published. */
static void obj_decode(struct kube_kind *kd, struct obj *o)
{
	char file[512];

	if (o->decoded)
		return;
	snprintf(file, sizeof(file), "kube:%s/%s", kd->def->name, o->key);
	manifest_decode_buf(file, o->json, o->len, &o->one);
	o->decoded = 1;
}

/* The object @o's model holds, or NULL: the decoder refused it. */
static const struct m_meta *obj_meta(struct kube_kind *kd, struct obj *o)
{
	size_t *n;
	const void *a = model_array(&o->one, kd->def, &n);

	return *n ? a : NULL;
}

/*
 * An update the decoder refused (a field is invalid) keeps the last good
 * version of the same object (same uid), as a manifest file does (dir.c):
 * @o's model takes @old's object and keeps its own diags, which name the
 * object, so that its status says why the update is not applied. Under
 * k->lock: @old is published.
 */
static void keep_last_good(struct kube_kind *kd, struct obj *o,
			   struct obj *old)
{
	const struct m_meta *m;

	if (!old || !old->decoded || !o->decoded || !o->one.ndiags ||
	    strcmp(old->uid, o->uid) || obj_meta(kd, o))
		return;
	m = obj_meta(kd, old);
	/* Out of memory: the update is refused all the same. */
	if (m)
		model_move_object(&o->one, &old->one, kd->def->name, m->ns,
				  m->name);
}

/* Objects are decoded by their kind's thread before they are published. */
void kube_store_put(struct kube_kind *kd, struct obj *o)
{
	struct obj **slot, *old = NULL;

	obj_decode(kd, o);
	pthread_mutex_lock(&kd->k->lock);
	slot = tsearch(o, &kd->root, kube_obj_cmp);
	if (!slot) {
		old = o;
	} else if (*slot != o) {
		old = *slot;
		keep_last_good(kd, o, old);
		*slot = o;
	} else {
		kd->n++;
	}
	pthread_mutex_unlock(&kd->k->lock);
	kube_obj_free(old);
}

void kube_store_del(struct kube_kind *kd, const char *key)
{
	struct obj probe = { .key = (char *)key }, **slot, *old = NULL;

	pthread_mutex_lock(&kd->k->lock);
	slot = tfind(&probe, &kd->root, kube_obj_cmp);
	if (slot) {
		old = *slot;
		tdelete(&probe, &kd->root, kube_obj_cmp);
		kd->n--;
	}
	pthread_mutex_unlock(&kd->k->lock);
	kube_obj_free(old);
}

/*
 * A relisted object keeps the model decoded from the same uid and
 * resourceVersion: marked under k->lock, the others decoded without it,
 * then the models moved under it again as the trees are swapped (and a
 * new version the decoder refused takes the old one's object, as in
 * kube_store_put()). Only the kind's thread changes its tree, so the old
 * objects are still there.
 */
struct relist {
	struct kube_kind *kd;
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
	if (r->phase == 2 && o->decoded) {
		slot = tfind(o, &r->old, kube_obj_cmp);
		if (slot && !o->adopt)
			keep_last_good(r->kd, o, *slot);
		return;
	}
	if (r->phase == 2 && !o->adopt)
		return;
	slot = tfind(o, &r->old, kube_obj_cmp);
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
void kube_store_replace(struct kube_kind *kd, void *root, size_t n)
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
	tdestroy(r.old, kube_obj_free);
}

/* --- the model -------------------------------------------------------- */

/* Every object's model, decoded when it is not yet, in one array. */
struct gather {
	struct kube_kind *kd;
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

/* Copies of the cached models, made under the lock: a kind's thread
 * frees the object it replaces, model and all. */
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

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The LoadBalancer Services of Gateways without addresses (klbsvc.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "klbsvc.h"
#include "log.h"

json_t *klbsvc_object(const struct gw_lbsvc *s)
{
	json_t *ports = json_array(), *md, *spec;
	char pname[16];
	size_t i;

	for (i = 0; i < s->nports; i++) {
		snprintf(pname, sizeof(pname), "tls-%u", s->ports[i]);
		json_array_append_new(ports, json_pack(
			"{s:s, s:s, s:i, s:i}", "name", pname,
			"protocol", "TCP", "port", s->ports[i],
			"targetPort", s->ports[i]));
	}
	md = json_pack("{s:s, s:s, s:{s:s, s:s}}", "name", s->name,
		       "namespace", s->ns, "labels", GW_LB_LABEL, s->label,
		       "app.kubernetes.io/managed-by", "snilb");
	if (md && s->gw_uid)
		json_object_set_new(md, "ownerReferences", json_pack(
			"[{s:s, s:s, s:s, s:s, s:b}]",
			"apiVersion", GW_GROUP "/v1", "kind", "Gateway",
			"name", s->gateway, "uid", s->gw_uid,
			"controller", 1));
	/* Local: the load balancer (MetalLB's BGP speaker, a cloud's
	 * health check) sends a VIP's traffic only to nodes with a ready
	 * snilb pod, and the client's address is kept. */
	spec = json_pack("{s:s, s:s, s:s, s:{s:s}, s:o}",
			 "type", "LoadBalancer",
			 "externalTrafficPolicy", "Local",
			 "ipFamilyPolicy", "PreferDualStack",
			 "selector", KLB_SELECTOR_KEY, KLB_SELECTOR_VALUE,
			 "ports", ports);
	return json_pack("{s:s, s:s, s:o, s:o}", "apiVersion", "v1",
			 "kind", "Service", "metadata", md, "spec", spec);
}

static const char *label_of(json_t *obj)
{
	json_t *l = json_object_get(json_object_get(obj, "metadata"),
				    "labels");

	return json_string_value(json_object_get(l, GW_LB_LABEL));
}

static int field_same(json_t *a, json_t *b, const char *key)
{
	json_t *x = json_object_get(a, key), *y = json_object_get(b, key);

	return (!x && !y) || (x && y && json_equal(x, y));
}

/* The ports' fields snilb sets (the API server adds nodePort). */
static int ports_same(json_t *have, json_t *want)
{
	static const char *const keys[] = { "name", "protocol", "port",
					    "targetPort" };
	size_t i, k;

	if (json_array_size(have) != json_array_size(want))
		return 0;
	for (i = 0; i < json_array_size(want); i++)
		for (k = 0; k < 4; k++)
			if (!field_same(json_array_get(have, i),
					json_array_get(want, i), keys[k]))
				return 0;
	return 1;
}

/* Does @have carry all of what snilb wants of it? */
static int svc_same(json_t *have, json_t *want)
{
	json_t *hm = json_object_get(have, "metadata");
	json_t *wm = json_object_get(want, "metadata");
	json_t *hs = json_object_get(have, "spec");
	json_t *ws = json_object_get(want, "spec");
	json_t *hl = json_object_get(hm, "labels"), *v;
	const char *k;

	json_object_foreach(json_object_get(wm, "labels"), k, v)
		if (!json_equal(json_object_get(hl, k), v))
			return 0;
	return (!json_object_get(wm, "ownerReferences") ||
		field_same(hm, wm, "ownerReferences")) &&
	       field_same(hs, ws, "type") &&
	       field_same(hs, ws, "externalTrafficPolicy") &&
	       field_same(hs, ws, "selector") &&
	       ports_same(json_object_get(hs, "ports"),
			  json_object_get(ws, "ports"));
}

static long request(struct kstatus_pass *p, const char *method,
		    const char *path, json_t *body, json_t **resp)
{
	char err[256], *b = body ? json_dumps(body, JSON_COMPACT) : NULL;
	char *r = NULL;
	long code = kube_conn_request(p->conn, method, path, b, &r, err,
				      sizeof(err));

	if (!code)
		kstatus_fail(p->res, "%s %s: %s", method, path, err);
	else if (code >= 300 && code != 404)
		kstatus_fail(p->res, "%s %s: HTTP %ld", method, path, code);
	if (resp && code == 200)
		*resp = json_loads(r ? r : "", 0, NULL);
	free(b);
	free(r);
	return code;
}

static void logged(const char *what, const struct gw_lbsvc *s)
{
	char svc[140];

	snprintf(svc, sizeof(svc), "%s/%s", s->ns, s->name);
	log_event("info", what, "service", svc, "gateway", s->gateway,
		  NULL);
}

/* Create @want, or bring the Service in place back to it: 0 done (or
 * nothing to do), -1 failed or not snilb's (not cached). */
static int converge(struct kstatus_pass *p, const struct gw_lbsvc *s,
		    json_t *want)
{
	char path[400], list[300];
	json_t *have = NULL;
	long code;
	int ret = -1;

	snprintf(list, sizeof(list), "/api/v1/namespaces/%s/services", s->ns);
	snprintf(path, sizeof(path), "%s/%s", list, s->name);
	code = request(p, "GET", path, NULL, &have);
	if (code == 404) {
		if (request(p, "POST", list, want, NULL) != 201)
			return -1;
		p->res->written++;
		logged("LoadBalancer Service created", s);
		return 0;
	}
	if (code != 200 || !have)
		return -1;
	if (!label_of(have) || strcmp(label_of(have), s->label)) {
		p->res->unchanged++;	/* not snilb's: never touched */
	} else if (svc_same(have, want)) {
		p->res->unchanged++;
		ret = 0;
	} else {
		json_object_del(want, "apiVersion");
		json_object_del(want, "kind");
		if (request(p, "PATCH", path, want, NULL) == 200) {
			p->res->written++;
			logged("LoadBalancer Service updated", s);
			ret = 0;
		}
	}
	json_decref(have);
	return ret;
}

static void one(struct kstatus_pass *p, const struct gw_lbsvc *s)
{
	json_t *want = klbsvc_object(s);
	char key[200], **slot, *sig;
	unsigned int failed = p->res->failed;

	sig = want ? json_dumps(want, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	if (!sig) {
		kstatus_fail(p->res, "Service %s/%s: out of memory", s->ns,
			     s->name);
		json_decref(want);
		return;
	}
	snprintf(key, sizeof(key), "Service/%s/%s", s->ns, s->name);
	slot = kstatus_cache_slot(p->cache, key);
	if (slot && *slot && !strcmp(*slot, sig)) {
		p->res->unchanged++;
	} else if (p->interrupt && p->interrupt(p->ictx)) {
		p->res->interrupted = 1;
	} else if (!converge(p, s, want) && slot &&
		   p->res->failed == failed) {
		free(*slot);
		*slot = sig;
		sig = NULL;
	}
	free(sig);
	json_decref(want);
}

/* Delete a Service of snilb's label no Gateway wants: read first, so
 * that one without the label (changed meanwhile) is left alone, and
 * deleted only if it is still that object (its uid). */
static void stale(struct kstatus_pass *p, const struct gw_svcname *g)
{
	char path[400], svc[140];
	json_t *have = NULL, *pre;
	const char *uid;

	snprintf(path, sizeof(path), "/api/v1/namespaces/%s/services/%s",
		 g->ns, g->name);
	if (request(p, "GET", path, NULL, &have) != 200 || !have)
		return;		/* gone already, or failed (counted) */
	uid = json_string_value(json_object_get(
		json_object_get(have, "metadata"), "uid"));
	snprintf(svc, sizeof(svc), "%s/%s", g->ns, g->name);
	if (label_of(have)) {
		pre = json_pack("{s:s, s:s, s:{s:s?}}", "kind",
				"DeleteOptions", "apiVersion", "v1",
				"preconditions", "uid", uid);
		if (request(p, "DELETE", path, pre, NULL) == 200) {
			p->res->written++;
			log_event("info", "LoadBalancer Service deleted",
				  "service", svc,
				  "why", "no Gateway without addresses "
				  "wants it", NULL);
		}
		json_decref(pre);
	}
	json_decref(have);
}

void klbsvc_write(struct kstatus_pass *p, const struct gw_out *out)
{
	size_t i;

	for (i = 0; i < out->nlbsvcs && !p->res->interrupted; i++)
		if (!out->lbsvcs[i].foreign)
			one(p, &out->lbsvcs[i]);
	for (i = 0; i < out->nlbstale && !p->res->interrupted; i++) {
		if (p->interrupt && p->interrupt(p->ictx)) {
			p->res->interrupted = 1;
			break;
		}
		stale(p, &out->lbstale[i]);
	}
}

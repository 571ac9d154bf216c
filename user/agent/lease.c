// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Leader election with a Lease (see lease.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <jansson.h>

#include "lease.h"
#include "log.h"

/* MicroTime, as the API writes it. */
static void micro_now(char *buf, size_t len)
{
	struct timeval tv;
	struct tm tm;
	size_t n;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%06ldZ", (long)tv.tv_usec);
}

static void path_of(const struct lease *l, char *buf, size_t len, int item)
{
	snprintf(buf, len, "/apis/coordination.k8s.io/v1/namespaces/%s/leases%s%s",
		 l->ns, item ? "/" : "", item ? l->name : "");
}

static const char *spec_str(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(json_object_get(obj, "spec"),
						 key)) ?: "";
}

static long put_obj(struct kube_conn *k, const char *method, const char *path,
		 json_t *obj)
{
	char *body = json_dumps(obj, JSON_COMPACT), *resp = NULL, err[256];
	long code = body ? kube_conn_request(k, method, path, body, &resp, err,
					sizeof(err)) : 0;

	free(body);
	free(resp);
	return code;
}

/* Make @obj ours: holder, renewTime (and acquireTime, transitions when
 * it changes hands). */
static void claim(struct lease *l, json_t *obj, int takeover)
{
	json_t *spec = json_object_get(obj, "spec");
	char now[40];

	micro_now(now, sizeof(now));
	if (!json_is_object(spec)) {
		spec = json_object();
		json_object_set_new(obj, "spec", spec);
	}
	json_object_set_new(spec, "holderIdentity", json_string(l->identity));
	json_object_set_new(spec, "leaseDurationSeconds",
			    json_integer(l->duration_s));
	json_object_set_new(spec, "renewTime", json_string(now));
	if (takeover) {
		json_int_t t = json_integer_value(json_object_get(spec,
						  "leaseTransitions"));

		json_object_set_new(spec, "acquireTime", json_string(now));
		json_object_set_new(spec, "leaseTransitions",
				    json_integer(t + 1));
	}
}

static int create(struct kube_conn *k, struct lease *l, uint64_t now_ns)
{
	char path[512];
	json_t *obj = json_pack("{s:s,s:s,s:{s:s,s:s}}", "apiVersion",
				"coordination.k8s.io/v1", "kind", "Lease",
				"metadata", "name", l->name, "namespace", l->ns);
	long code;

	claim(l, obj, 1);
	json_object_set_new(json_object_get(obj, "spec"), "leaseTransitions",
			    json_integer(0));
	path_of(l, path, sizeof(path), 0);
	code = put_obj(k, "POST", path, obj);
	json_decref(obj);
	if (code != 201 && code != 200)
		return 0;
	l->renewed_ns = now_ns;
	return 1;
}

static void set_held(struct lease *l, int held)
{
	if (held != l->held)
		log_event(held ? "info" : "warn", held ? "leader: this agent "
			  "writes status" : "not the leader: status is "
			  "written by another agent", "lease", l->name,
			  "holder", held ? l->identity : l->holder, NULL);
	l->held = held;
}

int lease_tick(struct kube_conn *k, struct lease *l, uint64_t now_ns)
{
	char path[512], *body = NULL, err[256];
	uint64_t ttl = (uint64_t)l->duration_s * 1000000000ull;
	json_t *obj;
	long code;
	int mine, takeover;

	path_of(l, path, sizeof(path), 1);
	code = kube_conn_request(k, "GET", path, NULL, &body, err, sizeof(err));
	if (code == 404) {
		free(body);
		set_held(l, create(k, l, now_ns));
		return l->held;
	}
	obj = code == 200 ? json_loads(body ? body : "", 0, NULL) : NULL;
	free(body);
	if (!obj) {
		/* Cannot tell: a leader that cannot renew steps down once
		 * its own lease would have run out. */
		if (l->held && now_ns - l->renewed_ns > ttl)
			set_held(l, 0);
		return l->held;
	}
	if (strcmp(spec_str(obj, "holderIdentity"), l->holder) ||
	    strcmp(spec_str(obj, "renewTime"), l->renew_time)) {
		snprintf(l->holder, sizeof(l->holder), "%s",
			 spec_str(obj, "holderIdentity"));
		snprintf(l->renew_time, sizeof(l->renew_time), "%s",
			 spec_str(obj, "renewTime"));
		l->seen_change_ns = now_ns;
	}
	mine = !strcmp(l->holder, l->identity);
	takeover = !mine && (!l->holder[0] ||
			     now_ns - l->seen_change_ns > ttl);
	if (!mine && !takeover) {
		json_decref(obj);
		set_held(l, 0);
		return 0;
	}
	claim(l, obj, takeover);
	code = put_obj(k, "PUT", path, obj);	/* carries resourceVersion */
	json_decref(obj);
	if (code == 200) {
		l->renewed_ns = now_ns;
		snprintf(l->holder, sizeof(l->holder), "%s", l->identity);
		set_held(l, 1);
	} else if (!mine || now_ns - l->renewed_ns > ttl) {
		set_held(l, 0);
	}
	return l->held;
}

void lease_release(struct kube_conn *k, struct lease *l)
{
	char path[512], *body = NULL, err[256];
	json_t *obj, *spec;

	if (!l->held)
		return;
	path_of(l, path, sizeof(path), 1);
	if (kube_conn_request(k, "GET", path, NULL, &body, err, sizeof(err)) != 200) {
		free(body);
		return;
	}
	obj = json_loads(body ? body : "", 0, NULL);
	free(body);
	spec = json_object_get(obj, "spec");
	if (spec && !strcmp(spec_str(obj, "holderIdentity"), l->identity)) {
		json_object_set_new(spec, "holderIdentity", json_string(""));
		json_object_set_new(spec, "leaseDurationSeconds", json_integer(1));
		put_obj(k, "PUT", path, obj);
	}
	json_decref(obj);
	l->held = 0;
}

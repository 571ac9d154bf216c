/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The Kubernetes API as a source of objects: list+watch of the kinds the
 * Gateway API rules read, kept in memory, handed to the agent as the same
 * model the manifest directory produces (each object's JSON goes through
 * the one decoder, user/model/decode.h). Also plain requests, for status and
 * Leases.
 */
#ifndef SNILB_USER_KUBE_H
#define SNILB_USER_KUBE_H

#include <stddef.h>

#include "model.h"

struct kube_config {
	const char *kubeconfig;	/* path; NULL: in-cluster */
	int verbose;		/* log every request */
};

struct kube;

/*
 * Read the credentials (kubeconfig: current context's cluster server, CA
 * (file or data), client certificate and key (file or data), bearer token
 * (token or tokenFile); in-cluster: KUBERNETES_SERVICE_HOST/PORT, the
 * service account's token, CA and namespace) and start watching. Every
 * change in the watched objects writes to @notify_fd (an eventfd: the
 * agent's poll wakes and calls kube_model()). NULL and @err on failure.
 */
struct kube *kube_start(const struct kube_config *cfg, int notify_fd,
			char *err, size_t errlen);
/*
 * Read the credentials as kube_start() would, and the files they name,
 * without starting anything: 0, or a negative errno and @err naming the
 * file and what is wrong with it.
 */
int kube_check(const struct kube_config *cfg, char *err, size_t errlen);
void kube_stop(struct kube *k);

/* Have all kinds been listed at least once (the model is complete)? */
int kube_synced(struct kube *k);

/*
 * The objects as a model (owned by the caller: model_free()). Each object
 * decoded once per resourceVersion; the decoder's diags come with it,
 * file "kube:KIND/NS/NAME". Objects also carry metadata.generation.
 */
int kube_model(struct kube *k, struct model *m);

/*
 * One request: @method "GET", "PUT", "POST", "PATCH" (body as
 * application/merge-patch+json), @path "/apis/...". Returns the HTTP
 * status (0 on a transport error, with @err) and the response body in
 * *@resp (malloc'd; may be NULL). A 401 re-reads the token file once and
 * retries.
 */
long kube_request(struct kube *k, const char *method, const char *path,
		  const char *body, char **resp, char *err, size_t errlen);

/*
 * A connection of its own, for a thread that makes requests (status, the
 * Lease): kept open between requests, each request limited to @timeout_s
 * (0: 60 s). kube_conn_abort(), from any thread, ends the request in
 * flight within a second and fails every later one (the way to stop a
 * thread that waits on a server that hangs); kube_stop() does too.
 */
struct kube_conn;

struct kube_conn *kube_conn_new(struct kube *k, long timeout_s);
void kube_conn_abort(struct kube_conn *c);
void kube_conn_free(struct kube_conn *c);
/* As kube_request(), on @c. */
long kube_conn_request(struct kube_conn *c, const char *method,
		       const char *path, const char *body, char **resp,
		       char *err, size_t errlen);

/* The TLSRoute version being watched ("v1", "v1alpha3", "v1alpha2"), or
 * NULL while the API server serves none (checked again periodically). */
const char *kube_tlsroute_version(struct kube *k);

/* The service account's namespace in-cluster, else NULL. */
const char *kube_namespace(struct kube *k);

#endif /* SNILB_USER_KUBE_H */

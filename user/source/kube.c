// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The Kubernetes API as a source of objects (kube.h): the credentials
 * read, one thread per kind started (kube_watch.c), each keeping its
 * objects and their decoded models (kube_store.c), and stopped.
 */
#include <errno.h>
#include <pthread.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "curl_dl.h"
#include "kube_int.h"
#include "log.h"

int64_t kube_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- kube.h ----------------------------------------------------------- */

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
		struct kube_kind *kd = &k->kinds[i];

		if (kd->started)
			pthread_join(kd->thread, NULL);
		if (kd->h)
			curl_easy_cleanup(kd->h);
		tdestroy(kd->root, kube_obj_free);
		kube_buf_free(&kd->line);
		kube_buf_free(&kd->errbody);
	}
	kube_creds_free(&k->c);
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
	unsigned int seed = (unsigned int)(kube_now_ms() ^ getpid());
	size_t i;
	int r;

	for (i = 0; i < M_NKINDS; i++) {
		struct kube_kind *kd = &k->kinds[i];

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
		r = pthread_create(&k->kinds[i].thread, NULL, kube_kind_main,
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
		snprintf(err, errlen, "cannot start libcurl: %s",
			 *curl_dl_error() ? curl_dl_error() :
			 "curl_global_init failed");
		kube_stop(k);
		return NULL;
	}
	if (cfg->kubeconfig)
		r = kube_creds_kubeconfig(&k->c, cfg->kubeconfig, err, errlen);
	else
		r = kube_creds_incluster(&k->c, err, errlen);
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

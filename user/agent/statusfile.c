// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The status file written by a thread of its own (see statusfile.h). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "status.h"
#include "statusfile.h"

#define DROP_MAX	8

struct statusfile {
	const char *path;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	/* Under @lock. */
	json_t *pending;		/* the newest document, not written */
	json_t *drop[DROP_MAX];		/* to let go of, here */
	size_t ndrop;
	int stop;
};

static void write_one(struct statusfile *f, json_t *doc)
{
	int err = status_write(f->path, doc);

	if (err)
		log_event("error", "cannot write the status file", "path",
			  f->path, "error", strerror(-err), NULL);
}

static void *sf_main(void *arg)
{
	struct statusfile *f = arg;
	json_t *doc, *drop[DROP_MAX];
	size_t n, i;
	int stop;

	pthread_mutex_lock(&f->lock);
	for (;;) {
		while (!f->stop && !f->pending && !f->ndrop)
			pthread_cond_wait(&f->cond, &f->lock);
		doc = f->pending;
		f->pending = NULL;
		n = f->ndrop;
		memcpy(drop, f->drop, n * sizeof(*drop));
		f->ndrop = 0;
		stop = f->stop;
		pthread_mutex_unlock(&f->lock);
		if (doc)
			write_one(f, doc);	/* the last one too, on a stop */
		json_decref(doc);
		for (i = 0; i < n; i++)
			json_decref(drop[i]);
		if (stop)
			return NULL;
		pthread_mutex_lock(&f->lock);
	}
}

struct statusfile *statusfile_start(const char *path)
{
	struct statusfile *f = calloc(1, sizeof(*f));
	int err;

	if (!f) {
		log_event("error", "cannot start the status file's writer",
			  "error", strerror(ENOMEM), NULL);
		return NULL;
	}
	f->path = path;
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->cond, NULL);
	err = pthread_create(&f->thread, NULL, sf_main, f);
	if (!err)
		return f;
	log_event("error", "cannot start the status file's writer", "error",
		  strerror(err), NULL);
	pthread_mutex_destroy(&f->lock);
	pthread_cond_destroy(&f->cond);
	free(f);
	return NULL;
}

void statusfile_put(struct statusfile *f, json_t *doc, json_t *old)
{
	json_t *late = NULL;

	pthread_mutex_lock(&f->lock);
	if (f->pending && f->ndrop < DROP_MAX)
		f->drop[f->ndrop++] = f->pending;
	else
		late = f->pending;	/* the thread is far behind */
	f->pending = doc;
	if (old && f->ndrop < DROP_MAX) {
		f->drop[f->ndrop++] = old;
		old = NULL;
	}
	pthread_cond_signal(&f->cond);
	pthread_mutex_unlock(&f->lock);
	json_decref(late);
	json_decref(old);
}

void statusfile_stop(struct statusfile *f)
{
	if (!f)
		return;
	pthread_mutex_lock(&f->lock);
	f->stop = 1;
	pthread_cond_signal(&f->cond);
	pthread_mutex_unlock(&f->lock);
	pthread_join(f->thread, NULL);
	pthread_mutex_destroy(&f->lock);
	pthread_cond_destroy(&f->cond);
	free(f);
}

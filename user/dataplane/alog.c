// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The access log's reader: the data plane's ring buffer (bpf/alog.h), and
 * the records the reaper makes for the ends it acts on (reaper.c), both
 * handed to one callback.
 */
#include <errno.h>
#include <stdlib.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "dataplane.h"
#include "dp_int.h"

static int on_record(void *ctx, void *data, size_t len)
{
	struct dp_log *l = ctx;

	if (len < sizeof(struct snilb_log_rec))
		return 0;
	l->fn(data, l->arg);
	return 0;
}

int dp_log_open(struct dataplane *dp, dp_log_fn fn, void *arg)
{
	struct dp_log *l = dp_log_of(dp);
	int fd = dp_map_fd(dp, SNILB_MAP_ACCESS_LOG);

	if (l->rb)
		return -EBUSY;
	if (fd < 0)
		return fd;
	l->fn = fn;
	l->arg = arg;
	l->rb = ring_buffer__new(fd, on_record, l, NULL);
	if (!l->rb) {
		l->fn = NULL;
		return -errno;
	}
	return 0;
}

int dp_log_fd(struct dataplane *dp)
{
	struct dp_log *l = dp_log_of(dp);

	return l->rb ? ring_buffer__epoll_fd(l->rb) : -ENOENT;
}

int dp_log_read(struct dataplane *dp)
{
	struct dp_log *l = dp_log_of(dp);

	return l->rb ? ring_buffer__consume(l->rb) : -ENOENT;
}

void dp_log_close(struct dataplane *dp)
{
	struct dp_log *l = dp_log_of(dp);

	ring_buffer__free(l->rb);
	l->rb = NULL;
	l->fn = NULL;
}

void dp_log_emit(struct dataplane *dp, const struct snilb_log_rec *rec)
{
	struct dp_log *l = dp_log_of(dp);

	if (l->fn)
		l->fn(rec, l->arg);
}

int dp_log_lost(struct dataplane *dp, uint64_t *lost)
{
	int ncpus = libbpf_num_possible_cpus(), i;
	uint32_t idx = SNILB_ST_LOG_LOST;
	uint64_t *v;

	if (ncpus <= 0)
		return ncpus ? ncpus : -EINVAL;
	v = calloc((size_t)ncpus, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(dp_map_fd(dp, SNILB_MAP_STATS), &idx, v)) {
		free(v);
		return -errno;
	}
	*lost = 0;
	for (i = 0; i < ncpus; i++)
		*lost += v[i];
	free(v);
	return 0;
}

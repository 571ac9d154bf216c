// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Walking a hash map in batches (BPF_MAP_LOOKUP_BATCH, 5.6+): one system
 * call per up to WALK_BATCH entries, keys and values both, where
 * get_next_key and a lookup cost two per entry. The reaper walks the flow
 * table once a second: at 100,000 flows, 200,000 calls a pass were seconds
 * of a core. The kernel walks bucket by bucket, so entries deleted or
 * added meanwhile are seen or not, but a delete never restarts the walk
 * (get_next_key on a deleted key starts over from the first bucket).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "dp_int.h"

#define WALK_BATCH	1024

int dp_walk(int fd, size_t ks, size_t vs, dp_walk_fn fn, void *arg)
{
	LIBBPF_OPTS(bpf_map_batch_opts, o);
	/* The position token: a bucket index for a hash map. */
	unsigned char in[64], out[64];
	unsigned char *keys = malloc(WALK_BATCH * ks);
	unsigned char *vals = malloc(WALK_BATCH * vs);
	bool first = true;
	int e = 0;
	__u32 i;

	if (!keys || !vals || ks > sizeof(in)) {
		e = -ENOMEM;
		goto out;
	}
	for (;;) {
		__u32 n = WALK_BATCH;

		e = bpf_map_lookup_batch(fd, first ? NULL : in, out, keys,
					 vals, &n, &o) ? -errno : 0;
		if (e && e != -ENOENT)
			break;
		for (i = 0; i < n; i++)
			fn(arg, keys + i * ks, vals + i * vs);
		if (e == -ENOENT) {	/* the last batch */
			e = 0;
			break;
		}
		memcpy(in, out, sizeof(in));
		first = false;
	}
out:
	free(keys);
	free(vals);
	return e;
}

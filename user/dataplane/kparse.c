// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "kparse.h"
#include "probe_abi.h"
#include "hello_probe.skel.h"
#include "kver.h"

struct kparse {
	struct hello_probe_bpf *skel;
	struct probe_input *in;
};

/* libbpf's own chatter (verifier logs) only when asked for. */
static int libbpf_quiet(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (level == LIBBPF_WARN && getenv("SNILB_DEBUG_BPF"))
		return vfprintf(stderr, fmt, ap);
	return 0;
}

struct kparse *kparse_open(char *err, size_t errlen)
{
	struct kparse *k = calloc(1, sizeof(*k));

	if (!k || !(k->in = calloc(1, sizeof(*k->in)))) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (kver_check(err, errlen))
		goto fail;
	libbpf_set_print(libbpf_quiet);
	k->skel = hello_probe_bpf__open_and_load();
	if (!k->skel) {
		snprintf(err, errlen,
			 "cannot load the in-kernel parser: %s (needs root or "
			 "CAP_BPF+CAP_NET_ADMIN and kernel >= 6.0; "
			 "SNILB_DEBUG_BPF=1 shows the verifier log)",
			 strerror(errno));
		goto fail;
	}
	return k;
fail:
	kparse_close(k);
	return NULL;
}

void kparse_close(struct kparse *k)
{
	if (!k)
		return;
	hello_probe_bpf__destroy(k->skel);
	free(k->in);
	free(k);
}

int kparse_run(struct kparse *k, const void *buf, size_t len,
	       unsigned int cap, unsigned int repeat, struct ch_result *res,
	       unsigned int *ns)
{
	/* The program ignores its packet; test_run wants an Ethernet frame. */
	unsigned char frame[64] = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = frame,
		.data_size_in = sizeof(frame),
		.repeat = repeat ? repeat : 1,
	);
	__u32 zero = 0;

	if (len > CH_BUF_SIZE)
		len = CH_BUF_SIZE;
	k->in->len = (__u32)len;
	k->in->cap = cap;
	memcpy(k->in->buf, buf, len);
	memset(k->in->buf + len, 0, CH_BUF_SIZE - len);
	if (bpf_map_update_elem(bpf_map__fd(k->skel->maps.probe_input), &zero,
				k->in, BPF_ANY))
		return -errno;
	if (bpf_prog_test_run_opts(bpf_program__fd(k->skel->progs.hello_probe),
				   &opts))
		return -errno;
	if (bpf_map_lookup_elem(bpf_map__fd(k->skel->maps.probe_result), &zero,
				res))
		return -errno;
	if (opts.retval != res->status)
		return -EPROTO;
	if (ns)
		*ns = opts.duration;
	return 0;
}

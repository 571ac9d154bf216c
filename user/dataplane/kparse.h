/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Run the BPF build of the ClientHello parser in the kernel, with
 * BPF_PROG_TEST_RUN, on bytes given from userspace.
 */
#ifndef SNILB_USER_KPARSE_H
#define SNILB_USER_KPARSE_H

#include <stddef.h>

#include "clienthello.h"

struct kparse;

/* Load the probe program; on failure writes why into @err and returns NULL. */
struct kparse *kparse_open(char *err, size_t errlen);
void kparse_close(struct kparse *k);

/*
 * Parse @len bytes in the kernel, @repeat times (>= 1). On success fills
 * @res and, when @ns is set, the kernel's mean run time in ns; returns 0 or
 * a negative errno.
 */
int kparse_run(struct kparse *k, const void *buf, size_t len,
	       unsigned int cap, unsigned int repeat, struct ch_result *res,
	       unsigned int *ns);

#endif /* SNILB_USER_KPARSE_H */

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The oldest kernel snilb runs on, checked before loading BPF. */
#ifndef SNILB_USER_KVER_H
#define SNILB_USER_KVER_H

#include <stddef.h>

/* bpf_ktime_get_tai_ns(), the SYN cookie's minute (bpf/cookie.h), arrived
 * in 6.1. */
#define SNILB_MIN_KERNEL_MAJOR 6
#define SNILB_MIN_KERNEL_MINOR 1

/* 0 when the running kernel is new enough; otherwise -1 and a message in
 * @err naming both versions. */
int kver_check(char *err, size_t errlen);
int kver_check_release(const char *release, char *err, size_t errlen);

#endif /* SNILB_USER_KVER_H */

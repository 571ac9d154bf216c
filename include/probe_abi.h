/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Map ABI of the parser probe program (bpf/hello_probe.bpf.c). */
#ifndef SNILB_PROBE_ABI_H
#define SNILB_PROBE_ABI_H

#include <linux/types.h>
#include "clienthello.h"

/* probe_input[0]: the bytes to parse and the cap to parse them with. */
struct probe_input {
	__u32 len;
	__u32 cap;
	__u8 buf[CH_BUF_SIZE];
};

#endif /* SNILB_PROBE_ABI_H */

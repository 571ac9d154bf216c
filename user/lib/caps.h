/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Least privilege after start-up: once the programs are loaded, attached
 * and pinned, the agent needs only CAP_BPF (it creates a map per Maglev
 * table) and CAP_NET_RAW (the flow-table timeouts send RSTs on a packet
 * socket). Everything else goes, from the bounding set too, and
 * no_new_privs is set, so a bug in the YAML or HTTP handling cannot be
 * turned into more.
 */
#ifndef SNILB_USER_CAPS_H
#define SNILB_USER_CAPS_H

/* Returns 0, or a negative errno (then nothing was changed). */
int caps_drop_to_runtime(void);

/* Is capability @cap in the effective set? (-1: cannot tell) */
int caps_effective(int cap);

#endif /* SNILB_USER_CAPS_H */

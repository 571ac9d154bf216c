// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "caps.h"

#ifndef CAP_BPF
#define CAP_BPF 39
#endif

static int capget_(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};

	return syscall(SYS_capget, &h, d) ? -errno : 0;
}

int caps_effective(int cap)
{
	struct __user_cap_data_struct d[2];

	if (capget_(d))
		return -1;
	return !!(d[cap / 32].effective & (1u << (cap % 32)));
}

int caps_drop_to_runtime(void)
{
	static const int keep[] = { CAP_BPF, CAP_NET_RAW };
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2] = {};
	unsigned int i;
	int cap;

	if (capget_(d))
		return -errno;
	/* Keep only what we have and need. */
	for (i = 0; i < 2; i++) {
		unsigned int want = 0;
		unsigned int k;

		for (k = 0; k < sizeof(keep) / sizeof(keep[0]); k++)
			if (keep[k] / 32 == (int)i)
				want |= 1u << (keep[k] % 32);
		d[i].permitted &= want;
		d[i].effective &= want;
		d[i].inheritable = 0;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -errno;
	/* The bounding set first: dropping from it needs CAP_SETPCAP, which
	 * the capset below takes away. Errors are not fatal: past the
	 * kernel's last capability (EINVAL) or without CAP_SETPCAP in a
	 * container (EPERM), no_new_privs already keeps exec from
	 * regaining anything. */
	for (cap = 0; cap <= 63; cap++)
		if (cap != CAP_BPF && cap != CAP_NET_RAW)
			prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
	if (syscall(SYS_capset, &h, d))
		return -errno;
	return 0;
}

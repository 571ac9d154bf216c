// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <stdio.h>
#include <sys/utsname.h>

#include "kver.h"

int kver_check_release(const char *release, char *err, size_t errlen)
{
	int major = 0, minor = 0;

	if (sscanf(release, "%d.%d", &major, &minor) != 2)
		return 0;	/* unknown: let the verifier decide */
	if (major > SNILB_MIN_KERNEL_MAJOR ||
	    (major == SNILB_MIN_KERNEL_MAJOR &&
	     minor >= SNILB_MIN_KERNEL_MINOR))
		return 0;
	snprintf(err, errlen, "kernel %s is too old: snilb needs Linux >= "
		 "%d.%d (the BPF SYN cookie helpers)", release,
		 SNILB_MIN_KERNEL_MAJOR, SNILB_MIN_KERNEL_MINOR);
	return -1;
}

int kver_check(char *err, size_t errlen)
{
	struct utsname u;

	if (uname(&u))
		return 0;
	return kver_check_release(u.release, err, errlen);
}

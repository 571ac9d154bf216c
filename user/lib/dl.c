// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Libraries loaded when first needed (dl.h). */
#include <dlfcn.h>
#include <stdio.h>

#include "dl.h"

const char *const dl_libs[] = { DL_CURL, DL_MHD, NULL };

int dl_bind(const char *soname, const struct dl_sym *syms, size_t n,
	    char *err, size_t errlen)
{
	void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
	size_t i;

	if (!h) {
		snprintf(err, errlen, "cannot load %s: %s (is its package "
			 "installed?)", soname, dlerror());
		return -1;
	}
	for (i = 0; i < n; i++) {
		*syms[i].slot = dlsym(h, syms[i].name);
		if (*syms[i].slot)
			continue;
		snprintf(err, errlen, "%s has no %s: another version than "
			 "snilb was built for", soname, syms[i].name);
		while (i--)
			*syms[i].slot = NULL;
		dlclose(h);
		return -1;
	}
	return 0;
}

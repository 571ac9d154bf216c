/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Libraries loaded when a feature first needs them (dlopen), not at the
 * start: an agent that reads manifests and serves no metrics maps neither
 * libcurl nor libmicrohttpd, nor what they pull in (OpenSSL, GnuTLS,
 * Kerberos, LDAP, SSH: 5.8 MiB resident). The build links neither; the
 * package and the image name them (`snilb version --dlopen`).
 */
#ifndef SNILB_USER_LIB_DL_H
#define SNILB_USER_LIB_DL_H

#include <stddef.h>

#define DL_CURL	"libcurl.so.4"		/* the Kubernetes API (user/source) */
#define DL_MHD	"libmicrohttpd.so.12"	/* --metrics-listen (user/agent) */

/* Every library above, NULL-terminated. */
extern const char *const dl_libs[];

/* A symbol to look up, and where its address goes. */
struct dl_sym {
	const char *name;
	void **slot;
};

/* Open @soname and fill every slot of @syms (@n of them); 0, or -1 with
 * @err saying which library or symbol failed (nothing is kept then). */
int dl_bind(const char *soname, const struct dl_sym *syms, size_t n,
	    char *err, size_t errlen);

#endif /* SNILB_USER_LIB_DL_H */

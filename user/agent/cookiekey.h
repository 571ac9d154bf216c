/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * --cookie-key FILE: the SYN cookie's key, shared by the nodes of a
 * cluster (a file, a Kubernetes Secret mounted as one): 32 bytes or more,
 * as hex (64 digits or more, whitespace ignored) or raw. Read at start
 * (a bad file stops the start), again on SIGHUP and when the file changes
 * (a Secret's update swaps a symlink): a new key becomes the current one
 * and the one it replaces the previous, whose cookies are still taken. A
 * bad file then is logged and the keys in force stay.
 */
#ifndef SNILB_USER_COOKIEKEY_H
#define SNILB_USER_COOKIEKEY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "dataplane.h"

#define COOKIE_KEY_MAX	4096	/* bytes of key material read */

struct cookie_key {
	const char *path;		/* NULL: no --cookie-key */
	struct timespec mtime;		/* the file last read */
	ino_t ino;
	dev_t dev;
	off_t size;
};

/* The key in @path: *@len bytes of @key; 0, or -1 with @err saying why
 * (the file, and what is wrong). */
int cookie_key_read(const char *path, uint8_t *key, size_t *len, char *err,
		    size_t errlen);
/* The start's check: the file can be read and holds a key (logged). */
int cookie_key_check(const char *path);
/* Read the file and make its key current (@why: "start", "SIGHUP",
 * "changed"), logged; 0 or -1 (the keys in force stay). */
int cookie_key_load(struct cookie_key *ck, struct dataplane *dp,
		    const char *why);
/* Once a second: load it again if the file changed. */
void cookie_key_poll(struct cookie_key *ck, struct dataplane *dp);

#endif /* SNILB_USER_COOKIEKEY_H */

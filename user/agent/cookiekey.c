// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* --cookie-key FILE (cookiekey.h). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cookiekey.h"
#include "log.h"

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* @buf as hex digits (whitespace between them ignored) into @key; the
 * number of bytes, -1 if it is not hex, -2 if an odd number of digits. */
static ssize_t from_hex(const uint8_t *buf, size_t n, uint8_t *key)
{
	size_t i, digits = 0;
	int v;

	for (i = 0; i < n; i++) {
		if (isspace(buf[i]))
			continue;
		v = hexval(buf[i]);
		if (v < 0)
			return -1;
		if (digits % 2)
			key[digits / 2] |= (uint8_t)v;
		else
			key[digits / 2] = (uint8_t)(v << 4);
		digits++;
	}
	return digits % 2 ? -2 : (ssize_t)(digits / 2);
}

int cookie_key_read(const char *path, uint8_t *key, size_t *len, char *err,
		    size_t errlen)
{
	static uint8_t buf[COOKIE_KEY_MAX + 1];
	ssize_t n, h;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (n > COOKIE_KEY_MAX) {
		snprintf(err, errlen, "%s: longer than %d bytes", path,
			 COOKIE_KEY_MAX);
		return -1;
	}
	h = from_hex(buf, (size_t)n, key);
	if (h == -2) {
		memset(key, 0, (size_t)n / 2 + 1);
		snprintf(err, errlen, "%s: an odd number of hex digits", path);
		return -1;
	}
	if (h < 0) {			/* raw bytes */
		memcpy(key, buf, (size_t)n);
		h = n;
	}
	memset(buf, 0, sizeof(buf));
	*len = (size_t)h;
	if (h >= DP_COOKIE_KEY_MIN)
		return 0;
	memset(key, 0, (size_t)h);
	snprintf(err, errlen, "%s: %zd bytes of key, at least %d needed (as "
		 "hex: %d digits)", path, h, DP_COOKIE_KEY_MIN,
		 2 * DP_COOKIE_KEY_MIN);
	return -1;
}

int cookie_key_check(const char *path)
{
	static uint8_t key[COOKIE_KEY_MAX];
	char err[512];
	size_t len;
	int rc;

	if (!path)
		return 0;
	rc = cookie_key_read(path, key, &len, err, sizeof(err));
	memset(key, 0, sizeof(key));
	if (rc)
		log_event("error", "cannot read the SYN cookie key", "error",
			  err, "option", "--cookie-key", NULL);
	return rc;
}

static void stamp(struct cookie_key *ck, const struct stat *st)
{
	ck->mtime = st->st_mtim;
	ck->ino = st->st_ino;
	ck->dev = st->st_dev;
	ck->size = st->st_size;
}

int cookie_key_load(struct cookie_key *ck, struct dataplane *dp,
		    const char *why)
{
	static uint8_t key[COOKIE_KEY_MAX];
	struct stat st;
	char err[512];
	size_t len;
	int e;

	if (!ck->path)
		return 0;
	if (!stat(ck->path, &st))
		stamp(ck, &st);
	if (cookie_key_read(ck->path, key, &len, err, sizeof(err))) {
		log_event("error", "cannot read the SYN cookie key", "error",
			  err, "why", why, "kept", "the keys in force", NULL);
		return -1;
	}
	e = dp_cookie_key_set(dp, key, len);
	memset(key, 0, sizeof(key));
	if (e < 0) {
		log_event("error", "cannot write the SYN cookie key", "path",
			  ck->path, "error", strerror(-e), "kept",
			  "the keys in force", NULL);
		return -1;
	}
	log_event("info", e ? "SYN cookie key rotated" :
		  "SYN cookie key unchanged", "path", ck->path, "why", why,
		  "previous", e ? "the key it replaced, still taken" : "kept",
		  NULL);
	return 0;
}

void cookie_key_poll(struct cookie_key *ck, struct dataplane *dp)
{
	struct stat st;

	if (!ck->path || stat(ck->path, &st))
		return;
	if (st.st_mtim.tv_sec == ck->mtime.tv_sec &&
	    st.st_mtim.tv_nsec == ck->mtime.tv_nsec &&
	    st.st_ino == ck->ino && st.st_dev == ck->dev &&
	    st.st_size == ck->size)
		return;
	cookie_key_load(ck, dp, "changed");
}

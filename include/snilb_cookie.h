/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The SYN cookie's keys (the map cookie_keys, bpf/cookie.h,
 * user/dataplane/cookie.c); included by snilb_abi.h. */
#ifndef SNILB_COOKIE_H
#define SNILB_COOKIE_H

#include <linux/types.h>

/*
 * cookie_keys[0]: the SYN cookie's keys (bpf/cookie.h), SipHash-2-4's
 * 128 bits each: the current one makes cookies, it and the previous one
 * check them (a rotation keeps the cookies in flight). Three slots and
 * the index of the current one, so a rotation is two writes, each
 * consistent: the new key into the slot that is neither current nor
 * previous, then `cur` moved to it (the old current becomes the
 * previous). A slot with `set` 0 holds no key.
 */
#define SNILB_COOKIE_SLOTS	3

struct snilb_cookie_key {
	__u64 k[2];
	__u32 set;
	__u32 pad;
};

struct snilb_cookie_keys {
	__u32 cur;		/* the current key's slot */
	__u32 pad;
	struct snilb_cookie_key slot[SNILB_COOKIE_SLOTS];
};

#endif /* SNILB_COOKIE_H */

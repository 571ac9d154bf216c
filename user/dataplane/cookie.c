// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The SYN cookie's keys (cookie_keys, bpf/cookie.h): a new key becomes
 * the current one and the current one the previous, in two writes each
 * consistent (struct snilb_cookie_keys); a first load makes a random key
 * of its own, a later one keeps the pinned keys (cookies in flight stay
 * good across a restart).
 */
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "dataplane.h"
#include "dp_int.h"

static int keys_get(struct dataplane *dp, struct snilb_cookie_keys *ks)
{
	__u32 zero = 0;

	return map_get(dp, SNILB_MAP_COOKIE_KEYS, &zero, ks);
}

static int keys_put(struct dataplane *dp, const struct snilb_cookie_keys *ks)
{
	__u32 zero = 0;

	return map_set(dp, SNILB_MAP_COOKIE_KEYS, &zero, ks);
}

/* @len bytes of @key folded into SipHash's 128 bits. */
static void fold(struct snilb_cookie_key *k, const uint8_t *key, size_t len)
{
	uint8_t b[16] = { 0 };
	size_t i;

	for (i = 0; i < len; i++)
		b[i % 16] ^= key[i];
	memset(k, 0, sizeof(*k));
	memcpy(k->k, b, sizeof(b));
	k->set = 1;
}

int dp_cookie_key_set(struct dataplane *dp, const uint8_t *key, size_t len)
{
	struct snilb_cookie_keys ks;
	struct snilb_cookie_key nk;
	uint32_t next;
	int e;

	if (len < DP_COOKIE_KEY_MIN)
		return -EINVAL;
	if ((e = keys_get(dp, &ks)))
		return e;
	fold(&nk, key, len);
	if (ks.cur < SNILB_COOKIE_SLOTS && ks.slot[ks.cur].set &&
	    !memcmp(ks.slot[ks.cur].k, nk.k, sizeof(nk.k)))
		return 0;
	next = ks.cur < SNILB_COOKIE_SLOTS ? (ks.cur + 1) % SNILB_COOKIE_SLOTS :
	       0;
	/* The slot that is neither current nor previous first... */
	ks.slot[next] = nk;
	if ((e = keys_put(dp, &ks)))
		return e;
	/* ... then the switch. */
	ks.cur = next;
	if ((e = keys_put(dp, &ks)))
		return e;
	return 1;
}

int dp_cookie_key_state(struct dataplane *dp, bool *current, bool *previous)
{
	struct snilb_cookie_keys ks;
	int e = keys_get(dp, &ks);

	if (e)
		return e;
	*current = ks.cur < SNILB_COOKIE_SLOTS && ks.slot[ks.cur].set;
	*previous = *current &&
		    ks.slot[(ks.cur + SNILB_COOKIE_SLOTS - 1) %
			    SNILB_COOKIE_SLOTS].set;
	return 0;
}

int dp_cookie_key_random(struct dataplane *dp, bool only_if_none)
{
	uint8_t key[DP_COOKIE_KEY_MIN];
	bool cur, prev;
	int e;

	if (only_if_none && !(e = dp_cookie_key_state(dp, &cur, &prev)) &&
	    cur)
		return 0;
	if (getrandom(key, sizeof(key), 0) != (ssize_t)sizeof(key))
		return -errno ? -errno : -EIO;
	e = dp_cookie_key_set(dp, key, sizeof(key));
	memset(key, 0, sizeof(key));
	return e < 0 ? e : 1;
}

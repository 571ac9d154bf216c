/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Builds ClientHellos byte by byte for tests: every length field is written
 * by the builder, so a test states only what it changes. Also re-frames a
 * hello into several TLS records, the way RFC 8446 5.1 allows.
 */
#ifndef SNILB_TEST_HELLO_BUILDER_H
#define SNILB_TEST_HELLO_BUILDER_H

#include <stdint.h>
#include <string.h>

#define HB_MAX 40000

struct hb {
	uint8_t b[HB_MAX];
	size_t n;
};

static inline void hb_u8(struct hb *h, unsigned int v)
{
	h->b[h->n++] = (uint8_t)v;
}

static inline void hb_u16(struct hb *h, unsigned int v)
{
	hb_u8(h, v >> 8);
	hb_u8(h, v);
}

static inline void hb_u24(struct hb *h, unsigned int v)
{
	hb_u8(h, v >> 16);
	hb_u16(h, v);
}

static inline void hb_bytes(struct hb *h, const void *p, size_t n)
{
	memcpy(h->b + h->n, p, n);
	h->n += n;
}

/* Patch a big-endian length of @width bytes at @at to cover up to h->n. */
static inline void hb_patch(struct hb *h, size_t at, int width)
{
	size_t v = h->n - at - width;
	int i;

	for (i = width - 1; i >= 0; i--, v >>= 8)
		h->b[at + i] = (uint8_t)v;
}

/* An extension with raw body bytes. */
static inline void hb_ext(struct hb *h, unsigned int type, const void *body,
			  size_t n)
{
	hb_u16(h, type);
	hb_u16(h, (unsigned int)n);
	hb_bytes(h, body, n);
}

static inline void hb_ext_sni(struct hb *h, const char *name)
{
	size_t n = strlen(name);

	hb_u16(h, 0);			/* server_name */
	hb_u16(h, (unsigned int)(n + 5));
	hb_u16(h, (unsigned int)(n + 3));	/* server_name_list */
	hb_u8(h, 0);			/* host_name */
	hb_u16(h, (unsigned int)n);
	hb_bytes(h, name, n);
}

/* @list: protocol names separated by ','. */
static inline void hb_ext_alpn(struct hb *h, const char *list)
{
	size_t at, lat;
	const char *p = list;

	hb_u16(h, 0x10);
	at = h->n;
	hb_u16(h, 0);
	lat = h->n;
	hb_u16(h, 0);
	while (*p) {
		size_t n = strcspn(p, ",");

		hb_u8(h, (unsigned int)n);
		hb_bytes(h, p, n);
		p += n + (p[n] == ',');
	}
	hb_patch(h, lat, 2);
	hb_patch(h, at, 2);
}

static inline void hb_ext_versions(struct hb *h, const uint16_t *v, int n)
{
	int i;

	hb_u16(h, 0x2b);
	hb_u16(h, (unsigned int)(1 + 2 * n));
	hb_u8(h, (unsigned int)(2 * n));
	for (i = 0; i < n; i++)
		hb_u16(h, v[i]);
}

/*
 * Record header, handshake header and the fixed ClientHello fields up to
 * and including the extensions length. Returns the offsets to patch:
 * rec[0] record length, rec[1] handshake length, rec[2] extensions length.
 */
struct hb_marks {
	size_t rec, hs, ext;
};

static inline struct hb_marks hb_begin(struct hb *h)
{
	struct hb_marks m;
	int i;

	h->n = 0;
	hb_u8(h, 22);
	hb_u16(h, 0x0301);
	m.rec = h->n;
	hb_u16(h, 0);
	hb_u8(h, 1);			/* client_hello */
	m.hs = h->n;
	hb_u24(h, 0);
	hb_u16(h, 0x0303);
	for (i = 0; i < 32; i++)
		hb_u8(h, i);		/* random */
	hb_u8(h, 32);			/* legacy_session_id */
	for (i = 0; i < 32; i++)
		hb_u8(h, 0xa0 + i);
	hb_u16(h, 4);			/* cipher_suites */
	hb_u16(h, 0x1301);
	hb_u16(h, 0xc02f);
	hb_u8(h, 1);			/* compression_methods */
	hb_u8(h, 0);
	m.ext = h->n;
	hb_u16(h, 0);
	return m;
}

static inline void hb_end(struct hb *h, struct hb_marks m)
{
	hb_patch(h, m.ext, 2);
	hb_patch(h, m.hs, 3);
	hb_patch(h, m.rec, 2);
}

/* A complete, valid hello for @name with ALPN and TLS 1.3. */
static inline void hb_simple(struct hb *h, const char *name)
{
	static const uint16_t v[] = { 0x0a0a, 0x0304, 0x0303 };
	struct hb_marks m = hb_begin(h);

	hb_ext(h, 0x0a0a, "", 0);		/* GREASE, empty */
	hb_ext_sni(h, name);
	hb_ext(h, 0x0017, "", 0);		/* extended_master_secret */
	hb_ext_alpn(h, "h2,http/1.1");
	hb_ext_versions(h, v, 3);
	hb_end(h, m);
}

/* A valid TLS 1.3 hello for @name, @pad bytes of padding (RFC 7685)
 * longer: hellos of a given size. */
static inline void hb_padded(struct hb *h, const char *name, size_t pad)
{
	static const uint16_t v[] = { 0x0304, 0x0303 };
	static uint8_t zeros[HB_MAX];
	struct hb_marks m = hb_begin(h);

	hb_ext_sni(h, name);
	hb_ext_versions(h, v, 2);
	hb_ext(h, 21, zeros, pad);
	hb_end(h, m);
}

/*
 * Re-frame the single-record hello in @in (the first @len bytes) into
 * records whose payloads have the sizes in @sizes (the last one takes the
 * rest). Returns the new length in @out, or 0 when @in is not one record.
 */
static inline size_t hb_split(const uint8_t *in, size_t len,
			      const size_t *sizes, int nsizes, uint8_t *out)
{
	size_t body, off = 5, o = 0;
	int i;

	if (len < 5 || in[0] != 22)
		return 0;
	body = (size_t)in[3] << 8 | in[4];
	if (5 + body > len)
		return 0;
	for (i = 0; off < 5 + body; i++) {
		size_t n = i < nsizes ? sizes[i] : 5 + body - off;

		if (!n || n > 5 + body - off)
			n = 5 + body - off;
		out[o++] = 22;
		out[o++] = in[1];
		out[o++] = in[2];
		out[o++] = (uint8_t)(n >> 8);
		out[o++] = (uint8_t)n;
		memcpy(out + o, in + off, n);
		o += n;
		off += n;
	}
	memcpy(out + o, in + off, len - off);	/* bytes after the record */
	return o + len - off;
}

#endif /* SNILB_TEST_HELLO_BUILDER_H */

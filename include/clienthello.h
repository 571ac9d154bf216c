/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * TLS ClientHello parser shared by the BPF data plane, the userspace tools,
 * the unit tests and the fuzzer. One source, compiled three ways.
 *
 * Input: the bytes a client sent from the first byte of the TCP stream, as
 * one contiguous buffer (the data plane reassembles segments). Output: need
 * more bytes, found (SNI + facts about the hello), or rejected with a reason.
 *
 * The hello may span several TLS records (RFC 8446 5.1). A first pass walks
 * the record headers and builds a small table mapping the handshake
 * message's logical offsets to buffer offsets; the body is parsed only once
 * every byte of the hello is present, so "need more" is decided by the
 * record layer alone and a prefix of a valid hello can never be rejected.
 *
 * Every loop is bounded. In BPF the loops whose bound is large run under
 * bpf_loop() (kernel >= 5.17), so the verifier checks each body once;
 * everywhere else CH_LOOP is a plain for loop with the same semantics.
 * Buffer reads are masked with CH_BUF_MASK so the verifier can prove them in
 * bounds; the logic keeps every read below the caller's length.
 */
#ifndef SNILB_CLIENTHELLO_H
#define SNILB_CLIENTHELLO_H

#include <linux/types.h>

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

#define CH_BUF_SIZE		16384	/* largest hello buffered; power of 2 */
#define CH_BUF_MASK		(CH_BUF_SIZE - 1)
#define CH_CAP_DEFAULT		16384
#define CH_CAP_MIN		512
#define CH_MAX_RECORDS		32	/* TLS records one hello may span */
#define CH_MAX_EXTENSIONS	256	/* extensions walked per hello */
#define CH_MAX_NAME_ENTRIES	16	/* server_name list entries walked */
#define CH_SNI_MAX		253	/* DNS name without trailing dot */
#define CH_LABEL_MAX		63
#define CH_ALPN_MAX		64	/* wire bytes of the ALPN list kept */
#define CH_RECORD_MAX		16384	/* TLSPlaintext.length limit, 2^14 */
/* version(2) random(32) sid_len(1) cs_len(2) suite(2) cm_len(1) method(1) */
#define CH_BODY_MIN		41

enum ch_status {
	CH_FOUND = 0,
	CH_NEED_MORE = 1,
	CH_REJECTED = 2,
};

/*
 * Why a hello is refused: CH_R_<ID>, and the name counters, metrics and
 * `snilb sni` give it (docs/clienthello.md; `snilb sni` writes '-' for
 * '_'). One table, so a reason cannot lose its name.
 */
#define CH_REASONS(X)							\
	X(NONE, "none")							\
	X(NOT_HANDSHAKE, "not_handshake") /* a record of the hello is	\
					 * not type 22 */		\
	X(SSLV2, "sslv2")		/* SSLv2-compatible CLIENT-HELLO */ \
	X(BAD_VERSION, "bad_version")	/* record version not 3.0 .. 3.4 */ \
	X(NOT_CLIENT_HELLO, "not_client_hello") /* first handshake	\
					 * message is not type 1 */	\
	X(BAD_LENGTH, "bad_length")	/* a length field disagrees with \
					 * its container */		\
	X(MALFORMED, "malformed")	/* empty record, duplicate	\
					 * server_name */		\
	X(NO_SNI, "no_sni")		/* no server_name extension or	\
					 * no host_name */		\
	X(BAD_SNI, "bad_sni")		/* host_name is not a valid DNS	\
					 * host name */			\
	X(TOO_LARGE, "too_large")	/* hello longer than the	\
					 * configured cap */		\
	X(TOO_COMPLEX, "too_complex")	/* more records/extensions than	\
					 * walked */

enum ch_reason {
#define CH_R_ENUM(id, name) CH_R_##id,
	CH_REASONS(CH_R_ENUM)
#undef CH_R_ENUM
	CH_R_MAX,
};

struct ch_result {
	__u8 status;		/* enum ch_status */
	__u8 reason;		/* enum ch_reason when CH_REJECTED */
	__u8 tls13;		/* supported_versions offers 0x0304 */
	__u8 ech;		/* encrypted_client_hello (0xfe0d) present */
	__u8 sni_len;
	__u8 alpn_len;		/* bytes used in alpn[] */
	__u8 alpn_cut;		/* the ALPN list was longer than alpn[] */
	__u8 records;		/* TLS records the hello spans */
	__u32 hello_len;	/* stream bytes up to the end of the hello */
	__u32 need;		/* CH_NEED_MORE: total bytes needed, at least */
	char sni[256];		/* lower case, NUL terminated */
	__u8 alpn[CH_ALPN_MAX];	/* ALPN protocol_name_list as on the wire */
};

/* Parser state; lives on the caller's stack (bpf_loop needs that). */
struct ch_parser {
	const __u8 *buf;
	struct ch_result *res;
	__u32 len;		/* bytes present in buf */
	__u32 cap;		/* largest hello accepted */
	/* record walk */
	__u32 wpos;		/* buffer offset of the next record header */
	__u32 covered;		/* handshake bytes in the records walked */
	__u32 hs_end;		/* logical end of the hello, 0 until known */
	__u32 nrec;
	__u8 hdr[4];		/* handshake header, gathered across records */
	__u32 hdr_got;
	__u32 done;
	/* body cursor: lpos is a logical offset in the handshake message */
	__u32 lpos;
	__u32 bpos;
	__u32 rec;
	__u32 end;		/* end of the structure being walked */
	__u32 seek_to;
	/* host name check */
	__u32 label_start;	/* index of the current label's first char */
	__u32 label_digits;
	__u32 prev;
	__u8 reason;
	__u8 seen_sni;
	__u16 rec_b[CH_MAX_RECORDS];	/* buffer offset of record payload */
	__u16 rec_l[CH_MAX_RECORDS];	/* logical offset of record payload */
};

#if defined(__bpf__)
#define CH_LOOP(n, cb, ctx) bpf_loop((n), (cb), (ctx), 0)
/*
 * Kernels before 6.7 verify a bpf_loop callback once, with the state of
 * the first iteration, and then hard-wire every branch that pass never
 * took. A field carried from one iteration to the next that starts as a
 * constant (a flag at 0, a position at 20) would have the branches for
 * its later values removed: the program would run, and answer wrongly.
 * Loads of a writable global are unknown to the verifier, so starting
 * such fields at CH_OPAQUE(v) makes it check every branch. The variable
 * is zero and nothing writes it.
 */
volatile __u32 ch_opaque_zero;
#define CH_OPAQUE(v) ((v) + ch_opaque_zero)
#else
#define CH_OPAQUE(v) (v)
static inline long ch_loop(__u32 n, long (*cb)(__u32, void *), void *ctx)
{
	__u32 i;

	for (i = 0; i < n; i++)
		if (cb(i, ctx))
			return i + 1;
	return n;
}
#define CH_LOOP(n, cb, ctx) ch_loop((n), (cb), (ctx))
#endif

#define CH_REC_MASK (CH_MAX_RECORDS - 1)

/*
 * Positions carried from one loop iteration to the next are stored masked.
 * Every position the parser stores is below 2 * CH_BUF_SIZE, so the masks
 * change no value; they give the verifier the same range at the start of
 * each bpf_loop iteration, which lets it prove the loop in two passes
 * instead of walking every iteration (kernels >= 6.7 verify callbacks as
 * called an unknown number of times).
 */
#define CH_POS_MASK	(2 * CH_BUF_SIZE - 1)
#define CH_WIDE_MASK	(4 * CH_BUF_SIZE - 1)

static __always_inline __u32 ch_byte(const struct ch_parser *p, __u32 off)
{
	return p->buf[off & CH_BUF_MASK];
}

static __always_inline void ch_fail(struct ch_parser *p, __u8 reason)
{
	if (!p->reason)
		p->reason = reason;
}

/* Find the record holding logical offset seek_to; scans from the first
 * record so the verifier sees p->rec come from the loop index, not from a
 * chain of increments it would have to follow one constant at a time. */
static long ch_seek_cb(__u32 i, void *ctx)
{
	struct ch_parser *p = ctx;
	__u32 next = i + 1;

	if (next < p->nrec && p->seek_to >= p->rec_l[next & CH_REC_MASK])
		return 0;
	p->rec = i;
	return 1;
}

/* Move the body cursor to logical offset @l. */
static __always_inline void ch_seek(struct ch_parser *p, __u32 l)
{
	if (p->nrec > 1) {
		p->seek_to = l;
		CH_LOOP(CH_MAX_RECORDS, ch_seek_cb, p);
	}
	p->rec &= CH_REC_MASK;
	p->lpos = l & CH_POS_MASK;
	p->bpos = (p->rec_b[p->rec] + (l - p->rec_l[p->rec])) & CH_POS_MASK;
}

/* Read one byte of the handshake message; the caller checked the bound. */
static __always_inline __u32 ch_u8(struct ch_parser *p)
{
	__u32 next = p->rec + 1;
	__u32 v;

	if (next < p->nrec && p->lpos >= p->rec_l[next & CH_REC_MASK]) {
		p->rec = next & CH_REC_MASK;
		p->bpos = p->rec_b[p->rec];
	}
	v = ch_byte(p, p->bpos);
	p->lpos = (p->lpos + 1) & CH_POS_MASK;
	p->bpos = (p->bpos + 1) & CH_POS_MASK;
	return v;
}

static __always_inline __u32 ch_u16(struct ch_parser *p)
{
	__u32 hi = ch_u8(p);

	return hi << 8 | ch_u8(p);
}

/* --- record layer ------------------------------------------------------ */

static __always_inline void ch_need(struct ch_parser *p, __u32 need)
{
	p->res->status = CH_NEED_MORE;
	p->res->need = need;
	p->done = 1;
}

/* Take the handshake header bytes that record @payload (covering logical
 * [covered, covered + rlen)) holds; reject early on a wrong type or size. */
static __always_inline int ch_take_hdr(struct ch_parser *p, __u32 payload,
				       __u32 rlen)
{
	__u32 k;

	for (k = 0; k < 4; k++) {
		__u32 l = p->hdr_got;
		__u32 off;

		if (l >= 4 || l >= p->covered + rlen)
			break;
		off = payload + (l - p->covered);
		if (off >= p->len) {
			ch_need(p, off + 1);
			return -1;
		}
		p->hdr[l & 3] = ch_byte(p, off);
		p->hdr_got = l + 1;
		if (l == 0 && p->hdr[0] != 1) {
			ch_fail(p, CH_R_NOT_CLIENT_HELLO);
			return -1;
		}
	}
	if (p->hdr_got == 4 && !p->hs_end) {
		__u32 body = (__u32)p->hdr[1] << 16 | (__u32)p->hdr[2] << 8 |
			     p->hdr[3];

		if (body > CH_BUF_SIZE || 9 + body > p->cap) {
			ch_fail(p, CH_R_TOO_LARGE);
			return -1;
		}
		if (body < CH_BODY_MIN) {
			ch_fail(p, CH_R_BAD_LENGTH);
			return -1;
		}
		p->hs_end = 4 + body;
	}
	return 0;
}

static long ch_record_cb(__u32 i, void *ctx)
{
	struct ch_parser *p = ctx;
	__u32 pos = p->wpos;
	__u32 rlen, payload, left;

	if (pos + 5 > p->len) {
		left = p->hs_end > p->covered ? p->hs_end - p->covered : 1;
		ch_need(p, pos + 5 + left);
		return 1;
	}
	if (ch_byte(p, pos) != 22) {
		ch_fail(p, CH_R_NOT_HANDSHAKE);
		return 1;
	}
	if (ch_byte(p, pos + 1) != 3 || ch_byte(p, pos + 2) > 4) {
		ch_fail(p, CH_R_BAD_VERSION);
		return 1;
	}
	rlen = ch_byte(p, pos + 3) << 8 | ch_byte(p, pos + 4);
	if (!rlen) {
		ch_fail(p, CH_R_MALFORMED);	/* RFC 8446 5.1 forbids it */
		return 1;
	}
	if (rlen > CH_RECORD_MAX) {
		ch_fail(p, CH_R_BAD_LENGTH);
		return 1;
	}
	payload = pos + 5;
	p->rec_b[i & CH_REC_MASK] = payload;
	p->rec_l[i & CH_REC_MASK] = p->covered;
	p->nrec = i + 1;
	if (ch_take_hdr(p, payload, rlen))
		return 1;
	p->covered = (p->covered + rlen) & CH_WIDE_MASK;
	p->wpos = (payload + rlen) & CH_WIDE_MASK;
	if (!p->hs_end || p->covered < p->hs_end)
		return 0;
	/* The hello ends inside this record. */
	p->res->hello_len = p->wpos - (p->covered - p->hs_end);
	p->res->records = i + 1;
	if (p->res->hello_len > p->cap)
		ch_fail(p, CH_R_TOO_LARGE);
	else if (p->res->hello_len > p->len)
		ch_need(p, p->res->hello_len);
	p->done = 1;
	return 1;
}

/* First bytes: tell TLS from SSLv2 and from anything else, early. */
static __always_inline int ch_check_start(struct ch_parser *p)
{
	__u32 b0;

	if (!p->len) {
		ch_need(p, 5);
		return -1;
	}
	b0 = ch_byte(p, 0);
	if (b0 & 0x80) {
		/* SSLv2 two-byte header, then msg type 1 (CLIENT-HELLO). */
		if (p->len < 3) {
			ch_need(p, 3);
			return -1;
		}
		ch_fail(p, ch_byte(p, 2) == 1 ? CH_R_SSLV2 :
			CH_R_NOT_HANDSHAKE);
		return -1;
	}
	if (b0 != 22) {
		ch_fail(p, CH_R_NOT_HANDSHAKE);
		return -1;
	}
	if ((p->len >= 2 && ch_byte(p, 1) != 3) ||
	    (p->len >= 3 && ch_byte(p, 2) > 4)) {
		ch_fail(p, CH_R_BAD_VERSION);
		return -1;
	}
	return 0;
}

/* --- host name --------------------------------------------------------- */

/*
 * Host names follow the Gateway API Hostname rules, which are RFC 1123
 * labels in lower case: [a-z0-9] with inner '-', labels 1..63, at most
 * 253 characters. A trailing dot is rejected (RFC 6066 3: "without a
 * trailing dot"), so is a last label of digits only: that is an IPv4
 * literal (RFC 6066 forbids literals) and never a route's hostname.
 */
static long ch_name_cb(__u32 i, void *ctx)
{
	struct ch_parser *p = ctx;
	__u32 c = ch_u8(p);

	if (c >= 'A' && c <= 'Z')
		c += 'a' - 'A';
	p->res->sni[i & 255] = c;
	if (c == '.') {
		if (i == p->label_start || p->prev == '-')
			goto bad;
		p->label_start = i + 1;
		p->label_digits = 1;
	} else if (c == '-') {
		if (i == p->label_start)
			goto bad;
		p->label_digits = 0;
	} else if (c >= 'a' && c <= 'z') {
		p->label_digits = 0;
	} else if (c < '0' || c > '9') {
		goto bad;
	}
	if (i + 1 - p->label_start > CH_LABEL_MAX)
		goto bad;
	p->prev = c;
	return 0;
bad:
	ch_fail(p, CH_R_BAD_SNI);
	return 1;
}

static __always_inline void ch_host_name(struct ch_parser *p, __u32 nlen)
{
	if (!nlen || nlen > CH_SNI_MAX) {
		ch_fail(p, CH_R_BAD_SNI);
		return;
	}
	p->label_start = CH_OPAQUE(0);
	p->label_digits = CH_OPAQUE(1);
	p->prev = CH_OPAQUE('.');
	CH_LOOP(nlen, ch_name_cb, p);
	if (p->reason)
		return;
	if (p->prev == '.' || p->prev == '-' || p->label_digits) {
		ch_fail(p, CH_R_BAD_SNI);
		return;
	}
	p->res->sni[nlen & 255] = 0;
	p->res->sni_len = nlen;
}

static long ch_name_entry_cb(__u32 i, void *ctx)
{
	struct ch_parser *p = ctx;
	__u32 type, nlen;

	(void)i;
	if (p->lpos >= p->end) {
		p->end = 0;			/* list walked */
		return 1;
	}
	if (p->lpos + 3 > p->end) {
		ch_fail(p, CH_R_BAD_LENGTH);
		return 1;
	}
	type = ch_u8(p);
	nlen = ch_u16(p);
	if (p->lpos + nlen > p->end) {
		ch_fail(p, CH_R_BAD_LENGTH);
		return 1;
	}
	if (type == 0) {
		ch_host_name(p, nlen);
		p->end = 0;
		return 1;
	}
	ch_seek(p, p->lpos + nlen);
	return 0;
}

/* server_name (RFC 6066 3): the first host_name entry is the SNI. */
static __always_inline void ch_server_name(struct ch_parser *p, __u32 elen)
{
	__u32 list;

	if (p->seen_sni) {
		ch_fail(p, CH_R_MALFORMED);	/* RFC 8446 4.2: no duplicates */
		return;
	}
	p->seen_sni = 1;
	if (elen < 2) {
		ch_fail(p, CH_R_BAD_LENGTH);
		return;
	}
	list = ch_u16(p);
	if (!list || list + 2 != elen) {
		ch_fail(p, CH_R_BAD_LENGTH);
		return;
	}
	p->end = p->lpos + list;
	CH_LOOP(CH_MAX_NAME_ENTRIES, ch_name_entry_cb, p);
	if (!p->reason && p->end)
		ch_fail(p, CH_R_TOO_COMPLEX);
}

/* --- ALPN, supported_versions ------------------------------------------ */

static long ch_alpn_cb(__u32 i, void *ctx)
{
	struct ch_parser *p = ctx;

	p->res->alpn[i & (CH_ALPN_MAX - 1)] = ch_u8(p);
	return 0;
}

/* ALPN does not route, so it is reported as sent, not validated. */
static __always_inline void ch_alpn(struct ch_parser *p, __u32 elen)
{
	__u32 list, n;

	if (elen < 2) {
		ch_fail(p, CH_R_BAD_LENGTH);
		return;
	}
	list = ch_u16(p);
	if (list + 2 != elen) {
		ch_fail(p, CH_R_BAD_LENGTH);
		return;
	}
	n = list < CH_ALPN_MAX ? list : CH_ALPN_MAX;
	CH_LOOP(n, ch_alpn_cb, p);
	p->res->alpn_len = n;
	p->res->alpn_cut = list > CH_ALPN_MAX;
}

static long ch_version_cb(__u32 i, void *ctx)
{
	struct ch_parser *p = ctx;

	(void)i;
	if (ch_u16(p) == 0x0304) {
		p->res->tls13 = 1;
		return 1;
	}
	return 0;
}

static __always_inline void ch_versions(struct ch_parser *p, __u32 elen)
{
	__u32 n;

	if (elen < 1) {
		ch_fail(p, CH_R_BAD_LENGTH);
		return;
	}
	n = ch_u8(p);
	if (n + 1 != elen || (n & 1)) {
		ch_fail(p, CH_R_BAD_LENGTH);
		return;
	}
	CH_LOOP(n / 2, ch_version_cb, p);
}

/* --- extensions -------------------------------------------------------- */

#define CH_EXT_SERVER_NAME	0x0000
#define CH_EXT_ALPN		0x0010
#define CH_EXT_VERSIONS		0x002b
#define CH_EXT_ECH		0xfe0d

static long ch_ext_cb(__u32 i, void *ctx)
{
	struct ch_parser *p = ctx;
	__u32 type, elen, start;

	(void)i;
	if (p->lpos >= p->hs_end)
		return 1;
	if (p->lpos + 4 > p->hs_end) {
		ch_fail(p, CH_R_BAD_LENGTH);
		return 1;
	}
	type = ch_u16(p);
	elen = ch_u16(p);
	start = p->lpos;
	if (start + elen > p->hs_end) {
		ch_fail(p, CH_R_BAD_LENGTH);
		return 1;
	}
	if (type == CH_EXT_SERVER_NAME)
		ch_server_name(p, elen);
	else if (type == CH_EXT_ALPN)
		ch_alpn(p, elen);
	else if (type == CH_EXT_VERSIONS)
		ch_versions(p, elen);
	else if (type == CH_EXT_ECH)
		p->res->ech = 1;
	if (p->reason)
		return 1;
	ch_seek(p, start + elen);
	return 0;
}

/* Skip a vector whose length is @lbytes wide; its length must be in
 * [@min, @max] and a multiple of @unit (1 or 2). */
static __always_inline int ch_skip_vec(struct ch_parser *p, __u32 lbytes,
				       __u32 min, __u32 max, __u32 unit)
{
	__u32 n;

	if (p->lpos + lbytes > p->hs_end)
		goto bad;
	n = lbytes == 1 ? ch_u8(p) : ch_u16(p);
	if (n < min || n > max || (n & (unit - 1)) ||
	    p->lpos + n > p->hs_end)
		goto bad;
	ch_seek(p, p->lpos + n);
	return 0;
bad:
	ch_fail(p, CH_R_BAD_LENGTH);
	return -1;
}

static __always_inline void ch_body(struct ch_parser *p)
{
	__u32 ext_len;

	p->rec = 0;
	ch_seek(p, 4 + 2 + 32);			/* legacy_version, random */
	if (ch_skip_vec(p, 1, 0, 32, 1) ||	/* legacy_session_id */
	    ch_skip_vec(p, 2, 2, 65534, 2) ||	/* cipher_suites */
	    ch_skip_vec(p, 1, 1, 255, 1))	/* compression_methods */
		return;
	if (p->lpos == p->hs_end) {
		ch_fail(p, CH_R_NO_SNI);	/* TLS <= 1.2 without extensions */
		return;
	}
	if (p->lpos + 2 > p->hs_end) {
		ch_fail(p, CH_R_BAD_LENGTH);
		return;
	}
	ext_len = ch_u16(p);
	if (p->lpos + ext_len != p->hs_end) {
		ch_fail(p, CH_R_BAD_LENGTH);
		return;
	}
	CH_LOOP(CH_MAX_EXTENSIONS, ch_ext_cb, p);
	if (p->reason)
		return;
	if (p->lpos < p->hs_end)
		ch_fail(p, CH_R_TOO_COMPLEX);
	else if (!p->res->sni_len)
		ch_fail(p, CH_R_NO_SNI);
}

/*
 * Parse the @len bytes at @buf (@len <= CH_BUF_SIZE; the caller zeroes
 * @res). @cap is the largest hello accepted, clamped to CH_BUF_SIZE.
 * Returns enum ch_status, also stored in res->status.
 */
static __always_inline int ch_parse(struct ch_parser *p, const __u8 *buf,
				    __u32 len, __u32 cap,
				    struct ch_result *res)
{
	__builtin_memset(p, 0, sizeof(*p));
	p->buf = buf;
	p->res = res;
	p->len = len < CH_BUF_SIZE ? len : CH_BUF_SIZE;
	p->cap = cap && cap < CH_BUF_SIZE ? cap : CH_BUF_SIZE;
	/* Everything a loop carries from one iteration to the next. */
	p->wpos = CH_OPAQUE(0);
	p->covered = CH_OPAQUE(0);
	p->hs_end = CH_OPAQUE(0);
	p->nrec = CH_OPAQUE(0);
	p->hdr_got = CH_OPAQUE(0);
	p->done = CH_OPAQUE(0);
	p->rec = CH_OPAQUE(0);
	p->seen_sni = CH_OPAQUE(0);
	res->status = CH_FOUND;
	if (ch_check_start(p))
		goto out;
	CH_LOOP(CH_MAX_RECORDS, ch_record_cb, p);
	if (p->reason || res->status == CH_NEED_MORE)
		goto out;
	if (!p->done) {
		ch_fail(p, CH_R_TOO_COMPLEX);	/* hello spans too many records */
		goto out;
	}
	ch_body(p);
out:
	if (p->reason) {
		res->status = CH_REJECTED;
		res->reason = p->reason;
		res->need = 0;
	}
	if (res->status != CH_FOUND) {
		res->sni_len = 0;
		res->sni[0] = 0;
	}
	return res->status;
}

#endif /* SNILB_CLIENTHELLO_H */

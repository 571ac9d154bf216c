// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The userspace build of the shared parser, and the two ways `snilb sni`
 * prints a result. Only this file compiles include/clienthello.h for
 * userspace, so every tool answers with the same code.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "hello.h"

int hello_parse(const void *buf, size_t len, unsigned int cap,
		struct ch_result *res)
{
	struct ch_parser p;

	memset(res, 0, sizeof(*res));
	if (len > CH_BUF_SIZE)
		len = CH_BUF_SIZE;
	return ch_parse(&p, buf, (__u32)len, cap, res);
}

/* `snilb sni` has always written the reasons with '-' ("no-sni"): the
 * names of CH_REASONS, '_' turned into '-' once. */
#define REASON(id, name) name,
static const char *const reason_names[CH_R_MAX] = { CH_REASONS(REASON) };
static char dashed[CH_R_MAX][24];
static pthread_once_t dashed_once = PTHREAD_ONCE_INIT;

static void dash_names(void)
{
	unsigned int r;
	char *c;

	for (r = 0; r < CH_R_MAX; r++) {
		snprintf(dashed[r], sizeof(dashed[r]), "%s", reason_names[r]);
		for (c = dashed[r]; (c = strchr(c, '_')); c++)
			*c = '-';
	}
}

const char *hello_reason_name(unsigned int reason)
{
	if (reason >= CH_R_MAX)
		return "unknown";
	pthread_once(&dashed_once, dash_names);
	return dashed[reason];
}

const char *hello_status_name(unsigned int status)
{
	switch (status) {
	case CH_FOUND:
		return "found";
	case CH_NEED_MORE:
		return "incomplete";
	case CH_REJECTED:
		return "rejected";
	}
	return "unknown";
}

bool hello_alpn_each(const struct ch_result *r,
		     void (*fn)(const unsigned char *p, size_t n, void *arg),
		     void *arg)
{
	size_t off = 0;

	while (off < r->alpn_len) {
		size_t n = r->alpn[off];

		if (!n || off + 1 + n > r->alpn_len)
			return false;
		fn(&r->alpn[off + 1], n, arg);
		off += 1 + n;
	}
	return !r->alpn_cut;
}

/*
 * Protocol names are opaque bytes: anything outside printable ASCII, and
 * the separators ',' and '\\', is written as \xHH so a line stays a line
 * and JSON stays valid UTF-8. @dst holds at least 4 * n + 1 bytes.
 */
static void alpn_escape(const unsigned char *p, size_t n, char *dst)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] > ' ' && p[i] < 0x7f && p[i] != ',' && p[i] != '\\')
			*dst++ = (char)p[i];
		else
			dst += sprintf(dst, "\\x%02x", p[i]);
	}
	*dst = 0;
}

static void alpn_text(const unsigned char *p, size_t n, void *arg)
{
	char name[CH_ALPN_MAX * 4 + 1];

	alpn_escape(p, n, name);
	fprintf(arg, "%s,", name);
}

void hello_print_text(FILE *out, const char *name, const struct ch_result *r)
{
	char alpn[CH_ALPN_MAX * 4 + 8] = "";
	FILE *mem;
	bool whole;
	size_t n;

	if (r->status == CH_NEED_MORE) {
		fprintf(out, "%s: incomplete need=%u\n", name, r->need);
		return;
	}
	if (r->status != CH_FOUND) {
		fprintf(out, "%s: rejected reason=%s\n", name,
			hello_reason_name(r->reason));
		return;
	}
	mem = fmemopen(alpn, sizeof(alpn), "w");
	whole = mem ? hello_alpn_each(r, alpn_text, mem) : true;
	if (mem)
		fclose(mem);
	n = strlen(alpn);
	if (n && alpn[n - 1] == ',')
		alpn[n - 1] = 0;
	fprintf(out, "%s: sni=%s alpn=%s%s tls13=%s ech=%s records=%u bytes=%u\n",
		name, r->sni, alpn, whole ? "" : "...",
		r->tls13 ? "yes" : "no", r->ech ? "yes" : "no",
		r->records, r->hello_len);
}

static void alpn_json(const unsigned char *p, size_t n, void *arg)
{
	char name[CH_ALPN_MAX * 4 + 1];

	alpn_escape(p, n, name);
	json_array_append_new(arg, json_string(name));
}

int hello_print_json(FILE *out, const char *name, const struct ch_result *r)
{
	json_t *o = json_object();
	json_t *alpn;
	int err = 0;

	if (!o)
		return -1;
	json_object_set_new(o, "file", json_string(name));
	json_object_set_new(o, "status",
			    json_string(hello_status_name(r->status)));
	if (r->status == CH_NEED_MORE) {
		json_object_set_new(o, "need", json_integer(r->need));
	} else if (r->status != CH_FOUND) {
		json_object_set_new(o, "reason",
				    json_string(hello_reason_name(r->reason)));
	} else {
		alpn = json_array();
		json_object_set_new(o, "sni", json_string(r->sni));
		json_object_set_new(o, "alpn_truncated",
				    json_boolean(!hello_alpn_each(r, alpn_json,
								  alpn)));
		json_object_set_new(o, "alpn", alpn);
		json_object_set_new(o, "tls13", json_boolean(r->tls13));
		json_object_set_new(o, "ech", json_boolean(r->ech));
		json_object_set_new(o, "records", json_integer(r->records));
		json_object_set_new(o, "bytes", json_integer(r->hello_len));
	}
	if (json_dumpf(o, out, JSON_COMPACT | JSON_PRESERVE_ORDER |
			       JSON_ENSURE_ASCII) < 0)
		err = -1;
	fputc('\n', out);
	json_decref(o);
	return err;
}

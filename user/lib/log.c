// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "log.h"

static enum log_format format;

void log_set_format(enum log_format f)
{
	format = f;
}

/* logfmt quotes a value that holds a space, a quote, '=' or nothing. */
static void logfmt_value(FILE *out, const char *v)
{
	if (*v && !strpbrk(v, " \"=\t\n\\")) {
		fputs(v, out);
		return;
	}
	fputc('"', out);
	for (; *v; v++) {
		if (*v == '"' || *v == '\\')
			fputc('\\', out);
		if (*v == '\n')
			fputs("\\n", out);
		else
			fputc(*v, out);
	}
	fputc('"', out);
}

static void now_text(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

static void log_json(const char *ts, const char *level, const char *msg,
		     va_list ap)
{
	json_t *o = json_pack("{s:s,s:s,s:s}", "ts", ts, "level", level,
			      "msg", msg);
	const char *k, *v;
	char *line;

	while (o && (k = va_arg(ap, const char *))) {
		v = va_arg(ap, const char *);
		json_object_set_new(o, k, json_string(v ? v : ""));
	}
	line = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	if (line)
		fprintf(stderr, "%s\n", line);
	free(line);
	json_decref(o);
}

void log_event(const char *level, const char *msg, ...)
{
	const char *k, *v;
	char ts[40];
	va_list ap;

	now_text(ts, sizeof(ts));
	va_start(ap, msg);
	if (format == LOG_JSON) {
		log_json(ts, level, msg, ap);
		va_end(ap);
		return;
	}
	flockfile(stderr);
	fprintf(stderr, "ts=%s level=%s msg=", ts, level);
	logfmt_value(stderr, msg);
	while ((k = va_arg(ap, const char *))) {
		v = va_arg(ap, const char *);
		fprintf(stderr, " %s=", k);
		logfmt_value(stderr, v ? v : "");
	}
	fputc('\n', stderr);
	funlockfile(stderr);
	va_end(ap);
}

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* `snilb sni FILE...`: what SNI would the data plane route these bytes by? */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "defaults.h"
#include "hello.h"
#include "inspect.h"
#include "kparse.h"

static const char sni_about[] =
"Usage: snilb sni [-o text|json] [--cap BYTES] [--kernel] FILE...\n"
"\n"
"Parse the bytes a TLS client sends first (from the first byte of the TCP\n"
"stream, as captured on the wire) and print the SNI snilb would route by.\n"
"FILE '-' reads standard input. One line per input:\n"
"\n"
"  FILE: sni=NAME alpn=P1,P2 tls13=yes|no ech=yes|no records=N bytes=N\n"
"  FILE: rejected reason=REASON     the data plane answers with a TCP RST\n"
"  FILE: incomplete need=N          the hello needs at least N bytes in all\n"
"\n"
"REASON is one of: not-handshake sslv2 bad-version not-client-hello\n"
"bad-length malformed no-sni bad-sni too-large too-complex\n"
"(docs/clienthello.md explains each).\n"
"\n"
"Options:\n";

static const char sni_footer[] =
"\n"
"Exit status: 0 every input gave an SNI, 1 some did not, 2 usage or I/O\n"
"error. With -o json, an error is {\"error\": \"...\"} on standard output.\n"
"\n"
"Example:\n"
"  snilb sni -o json hello.bin\n";

enum { O_CAP = OPT_LONG, O_KERNEL };

static const struct opt sni_opts[] = {
	{ "output", 'o', "FORMAT",
	  "text (default) or json: one JSON object per line" },
	{ "cap", O_CAP, "BYTES",
	  "largest hello accepted, " SNILB_STR(CH_CAP_MIN) ".."
	  SNILB_STR(CH_BUF_SIZE) " (default " SNILB_STR(CH_CAP_DEFAULT) ")" },
	{ "kernel", O_KERNEL, NULL,
	  "run the parser in the kernel (BPF_PROG_TEST_RUN) instead of "
	  "userspace; needs root or CAP_BPF" },
	{ "help", 'h', NULL, "show this help" },
	{ 0 },
};

static const struct opt *const sni_tabs[] = { sni_opts, NULL };

struct sni_args {
	bool json;
	bool kernel;
	unsigned int cap;
};

#define sni_err(o, ...)	cli_error((o)->json, "snilb sni", __VA_ARGS__)

/* Read at most one buffer's worth: the parser never looks further. */
static int read_input(const char *path, unsigned char *buf, size_t *len)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	size_t n;
	int err;

	if (!f)
		return -errno;
	n = fread(buf, 1, CH_BUF_SIZE, f);
	err = ferror(f) ? -EIO : 0;
	if (f != stdin)
		fclose(f);
	*len = n;
	return err;
}

static int parse_cap(const char *s, unsigned int *cap)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || end == s || v < CH_CAP_MIN || v > CH_BUF_SIZE)
		return -1;
	*cap = (unsigned int)v;
	return 0;
}

/* 0, -1 after an error (said), 1 after --help. */
static int parse_opts(int argc, char **argv, struct sni_args *o)
{
	struct opts p;
	char *arg;
	int c;

	opts_init(&p, sni_tabs);
	while ((c = opts_next(&p, argc, argv, &arg)) != -1) {
		switch (c) {
		case 'o':
			if (strcmp(arg, "json") && strcmp(arg, "text")) {
				sni_err(o, "--output: '%s' is not text or "
					"json", arg);
				return -1;
			}
			o->json = !strcmp(arg, "json");
			break;
		case O_CAP:
			if (parse_cap(arg, &o->cap)) {
				sni_err(o, "--cap: '%s' is not a number of "
					"bytes in %u..%u", arg, CH_CAP_MIN,
					CH_BUF_SIZE);
				return -1;
			}
			break;
		case O_KERNEL:
			o->kernel = true;
			break;
		case 'h':
			fputs(sni_about, stdout);
			opts_help(stdout, sni_tabs);
			fputs(sni_footer, stdout);
			return 1;
		default:
			sni_err(o, "%s", p.err);
			return -1;
		}
	}
	if (optind >= argc) {
		sni_err(o, "no FILE given ('-' reads standard input)");
		return -1;
	}
	return 0;
}

static int parse_one(const struct sni_args *o, struct kparse *k,
		     const unsigned char *buf, size_t len, struct ch_result *r,
		     const char *path)
{
	int err;

	if (!k) {
		hello_parse(buf, len, o->cap, r);
		return 0;
	}
	err = kparse_run(k, buf, len, o->cap, 1, r, NULL);
	if (err)
		sni_err(o, "%s: in-kernel parse failed: %s", path,
			strerror(-err));
	return err;
}

/* One input: its line, or its error. EXIT_USAGE, EXIT_NOMATCH or 0. */
static int sni_one(const struct sni_args *o, struct kparse *k,
		   unsigned char *buf, const char *path)
{
	struct ch_result r;
	size_t len = 0;
	int e = read_input(path, buf, &len);

	if (e) {
		sni_err(o, "%s: %s", path, strerror(-e));
		return EXIT_USAGE;
	}
	if (parse_one(o, k, buf, len, &r, path))
		return EXIT_USAGE;
	if (o->json)
		hello_print_json(stdout, path, &r);
	else
		hello_print_text(stdout, path, &r);
	return r.status == CH_FOUND ? 0 : EXIT_NOMATCH;
}

int do_sni(int argc, char **argv)
{
	struct sni_args o = {
		.cap = CH_CAP_DEFAULT,
		.json = cli_json_wanted(argc, argv),
	};
	unsigned char *buf;
	struct kparse *k = NULL;
	int status = 0, rc;
	char err[256];

	rc = parse_opts(argc, argv, &o);
	if (rc) {
		if (rc < 0 && !o.json)
			fprintf(stderr, "Try 'snilb sni --help'.\n");
		return rc < 0 ? EXIT_USAGE : 0;
	}
	buf = malloc(CH_BUF_SIZE);
	if (!buf || (o.kernel && !(k = kparse_open(err, sizeof(err))))) {
		sni_err(&o, "%s", buf ? err : "out of memory");
		free(buf);
		return EXIT_USAGE;
	}
	for (int i = optind; i < argc; i++) {
		rc = sni_one(&o, k, buf, argv[i]);
		/* a usage or I/O error outranks a rejected hello */
		if (rc > status)
			status = rc;
	}
	kparse_close(k);
	free(buf);
	if (fflush(stdout)) {
		fprintf(stderr, "snilb sni: standard output: %s\n",
			strerror(errno));
		return EXIT_USAGE;
	}
	return status;
}

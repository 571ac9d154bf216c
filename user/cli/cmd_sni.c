// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* `snilb sni FILE...`: what SNI would the data plane route these bytes by? */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "hello.h"
#include "kparse.h"

static const char sni_usage[] =
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
"Options:\n"
"  -o, --output FORMAT  text (default) or json: one JSON object per line\n"
"      --cap BYTES      largest hello accepted, %u..%u (default %u)\n"
"      --kernel         run the parser in the kernel (BPF_PROG_TEST_RUN)\n"
"                       instead of userspace; needs root or CAP_BPF\n"
"  -h, --help           show this help\n"
"\n"
"Exit status: 0 every input gave an SNI, 1 some did not, 2 usage or I/O\n"
"error.\n"
"\n"
"Example:\n"
"  snilb sni -o json hello.bin\n";

struct sni_opts {
	int json;
	int kernel;
	unsigned int cap;
};

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

static int parse_opts(int argc, char **argv, struct sni_opts *o)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "cap", required_argument, NULL, 'c' },
		{ "kernel", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			if (strcmp(optarg, "json") && strcmp(optarg, "text")) {
				fprintf(stderr, "snilb sni: --output: '%s' is "
					"not text or json\n", optarg);
				return -1;
			}
			o->json = !strcmp(optarg, "json");
			break;
		case 'c':
			if (parse_cap(optarg, &o->cap)) {
				fprintf(stderr, "snilb sni: --cap: '%s' is not "
					"a number of bytes in %u..%u\n", optarg,
					CH_CAP_MIN, CH_BUF_SIZE);
				return -1;
			}
			break;
		case 'k':
			o->kernel = 1;
			break;
		case 'h':
			printf(sni_usage, CH_CAP_MIN, CH_BUF_SIZE,
			       CH_CAP_DEFAULT);
			exit(0);
		default:
			return -1;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "snilb sni: no FILE given ('-' reads standard "
			"input)\n");
		return -1;
	}
	return 0;
}

static int parse_one(const struct sni_opts *o, struct kparse *k,
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
		fprintf(stderr, "snilb sni: %s: in-kernel parse failed: %s\n",
			path, strerror(-err));
	return err;
}

int cmd_sni(int argc, char **argv)
{
	struct sni_opts o = { .cap = CH_CAP_DEFAULT };
	unsigned char *buf = malloc(CH_BUF_SIZE);
	struct kparse *k = NULL;
	int status = 0;
	char err[256];

	if (!buf) {
		fprintf(stderr, "snilb sni: out of memory\n");
		return EXIT_USAGE;
	}
	if (parse_opts(argc, argv, &o)) {
		fprintf(stderr, "Try 'snilb sni --help'.\n");
		free(buf);
		return EXIT_USAGE;
	}
	if (o.kernel && !(k = kparse_open(err, sizeof(err)))) {
		fprintf(stderr, "snilb sni: %s\n", err);
		free(buf);
		return EXIT_USAGE;
	}
	for (int i = optind; i < argc; i++) {
		const char *path = argv[i];
		struct ch_result r;
		size_t len = 0;
		int e = read_input(path, buf, &len);

		if (e) {
			fprintf(stderr, "snilb sni: %s: %s\n", path,
				strerror(-e));
			status = EXIT_USAGE;
			continue;
		}
		if (parse_one(&o, k, buf, len, &r, path)) {
			status = EXIT_USAGE;
			continue;
		}
		if (o.json)
			hello_print_json(stdout, path, &r);
		else
			hello_print_text(stdout, path, &r);
		if (r.status != CH_FOUND && !status)
			status = EXIT_NOMATCH;
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

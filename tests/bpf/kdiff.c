// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Differential test: the parser compiled for BPF, loaded through the
 * verifier and run in the kernel with BPF_PROG_TEST_RUN, must return
 * exactly (byte for byte) the ch_result the userspace build returns, on
 * every input: real hellos, fuzzer output and seeded mutations of both.
 *
 * Usage: kdiff [--mutations N] [--seed S] [--bench] DIR...
 * --bench instead reports the mean cost per hello of both builds on the
 * files in DIR (userspace: clock_gettime over a loop; kernel: test_run's
 * own duration over `repeat` runs).
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hello.h"
#include "kparse.h"
#include "../lib/hello_builder.h"

struct input {
	char *name;
	size_t len;
	uint8_t *b;
};

static struct input *inputs;
static size_t ninputs, cap_inputs;

static void add_input(const char *name, const uint8_t *b, size_t len)
{
	struct input *in;

	if (ninputs == cap_inputs) {
		cap_inputs = cap_inputs ? 2 * cap_inputs : 256;
		inputs = realloc(inputs, cap_inputs * sizeof(*inputs));
		if (!inputs)
			abort();
	}
	in = &inputs[ninputs++];
	in->name = strdup(name);
	in->len = len > CH_BUF_SIZE ? CH_BUF_SIZE : len;
	in->b = malloc(in->len + 1);
	if (!in->name || !in->b)
		abort();
	memcpy(in->b, b, in->len);
}

static void load_dir(const char *d)
{
	static uint8_t buf[CH_BUF_SIZE];
	DIR *dir = opendir(d);
	struct dirent *e;

	if (!dir) {
		printf("note: %s: %s, skipped\n", d, strerror(errno));
		return;
	}
	while ((e = readdir(dir))) {
		char path[8192];
		size_t n;
		FILE *f;

		if (e->d_name[0] == '.' || !strcmp(e->d_name, "expect.tsv"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", d, e->d_name);
		f = fopen(path, "rb");
		if (!f)
			continue;
		n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		add_input(path, buf, n);
	}
	closedir(dir);
}

/* xorshift64*: reproducible from --seed on every machine. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}

static size_t rnd_below(size_t n)
{
	return n ? rnd() % n : 0;
}

/* One random edit of @b (length *n, capacity HB_MAX). */
static void mutate_once(uint8_t *b, size_t *n)
{
	static uint8_t tmp[HB_MAX];
	size_t at = rnd_below(*n), sizes[40];
	int i, k;

	switch (rnd_below(8)) {
	case 0:		/* flip bits */
		if (*n)
			b[at] ^= (uint8_t)(1u << rnd_below(8));
		break;
	case 1:		/* interesting byte */
		if (*n)
			b[at] = (uint8_t[]){ 0, 1, 0x7f, 0x80, 0xff, '.', '-',
					     'A' }[rnd_below(8)];
		break;
	case 2:		/* truncate */
		*n = rnd_below(*n + 1);
		break;
	case 3:		/* nudge a length field of the headers */
		at = (size_t[]){ 3, 4, 6, 7, 8 }[rnd_below(5)];
		if (at < *n)
			b[at] += rnd_below(2) ? 1 : 0xff;
		break;
	case 4:		/* re-frame into random records */
		/* Now and then more records than the parser walks. */
		k = 1 + (int)rnd_below(rnd_below(8) ? 6 : 40);
		for (i = 0; i < k; i++)
			sizes[i] = 1 + rnd_below(k > 6 ? 8 : 300);
		at = hb_split(b, *n, sizes, k, tmp);
		if (at && at <= HB_MAX) {
			memcpy(b, tmp, at);
			*n = at;
		}
		break;
	case 5:		/* delete a byte */
		if (*n) {
			memmove(b + at, b + at + 1, *n - at - 1);
			(*n)--;
		}
		break;
	case 6:		/* insert a byte */
		if (*n < HB_MAX - 1) {
			memmove(b + at + 1, b + at, *n - at);
			b[at] = (uint8_t)rnd();
			(*n)++;
		}
		break;
	default:	/* upper-case a stretch (names are case-folded) */
		for (i = 0; i < 16 && at + i < *n; i++)
			if (b[at + i] >= 'a' && b[at + i] <= 'z')
				b[at + i] -= 32;
		break;
	}
}

/* Names that exercise every branch of the host name check. */
static void add_names(void)
{
	static const char *const names[] = {
		"a", "a.b", "a-b.c", "a-.b", "-a.b", "a.-b", "a.b-", "a..b",
		".a", "a.", "a.1", "1.a", "1.2.3.4", "a.123b", "A.B.C",
		"xn--caf-dma.example", "under_score.x", "sp ace.x", "*.a.b",
		"a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.b",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.b",
		"0-0.0-0a", "a--b.c", "z", "9a.9z",
	};
	struct hb h;
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		hb_simple(&h, names[i]);
		add_input(names[i], h.b, h.n);
	}
}

static void add_mutations(size_t count, size_t nbase)
{
	static uint8_t b[HB_MAX];
	struct hb h;
	size_t i, n;
	char name[64];

	for (i = 0; i < count; i++) {
		if (nbase && rnd_below(4)) {
			const struct input *src = &inputs[rnd_below(nbase)];

			memcpy(b, src->b, src->len);
			n = src->len;
		} else {
			hb_simple(&h, rnd_below(2) ? "Gen.Example.COM" :
				  "x.example");
			memcpy(b, h.b, h.n);
			n = h.n;
		}
		for (int k = 1 + (int)rnd_below(4); k > 0; k--)
			mutate_once(b, &n);
		snprintf(name, sizeof(name), "mutation#%zu", i);
		add_input(name, b, n);
	}
}

static int differ(const struct input *in, const struct ch_result *u,
		  const struct ch_result *k)
{
	if (!memcmp(u, k, sizeof(*u)))
		return 0;
	printf("MISMATCH %s (%zu bytes): user %s/%s sni=%s need=%u len=%u, "
	       "kernel %s/%s sni=%s need=%u len=%u\n", in->name, in->len,
	       hello_status_name(u->status), hello_reason_name(u->reason),
	       u->sni, u->need, u->hello_len, hello_status_name(k->status),
	       hello_reason_name(k->reason), k->sni, k->need, k->hello_len);
	return 1;
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int bench(struct kparse *k)
{
	const unsigned int reps = 2000;
	double user_sum = 0, kern_sum = 0;
	size_t i, n = 0;

	printf("%-60s %6s %9s %9s\n", "hello", "bytes", "user_ns", "kern_ns");
	for (i = 0; i < ninputs; i++) {
		struct ch_result r;
		unsigned int kns;
		double t0, u;

		t0 = now_ns();
		for (unsigned int j = 0; j < reps; j++)
			hello_parse(inputs[i].b, inputs[i].len, 0, &r);
		u = (now_ns() - t0) / reps;
		if (r.status != CH_FOUND)
			continue;
		if (kparse_run(k, inputs[i].b, inputs[i].len, 0, reps, &r,
			       &kns))
			return 1;
		printf("%-60.60s %6u %9.0f %9u\n", inputs[i].name, r.hello_len,
		       u, kns);
		user_sum += u;
		kern_sum += kns;
		n++;
	}
	if (n)
		printf("mean over %zu hellos that route: userspace %.0f ns, "
		       "kernel %.0f ns per hello\n", n, user_sum / n,
		       kern_sum / n);
	return 0;
}

int main(int argc, char **argv)
{
	size_t mutations = 0, i, nbase, failed = 0, seen[CH_R_MAX + 2] = { 0 };
	struct kparse *k;
	int do_bench = 0, c;
	char err[512];

	while ((c = getopt(argc, argv, "m:s:b")) != -1) {
		if (c == 'm')
			mutations = strtoul(optarg, NULL, 10);
		else if (c == 's')
			rng_state = strtoull(optarg, NULL, 0) | 1;
		else if (c == 'b')
			do_bench = 1;
		else
			return 2;
	}
	if (geteuid() != 0) {
		printf("kdiff: skipped: loading BPF needs root\n");
		printf("0 passed, 0 failed, 1 skipped\n");
		return 0;
	}
	k = kparse_open(err, sizeof(err));
	if (!k) {
		printf("kdiff: %s\n0 passed, 1 failed\n", err);
		return 1;
	}
	for (i = optind; i < (size_t)argc; i++)
		load_dir(argv[i]);
	if (do_bench) {
		c = bench(k);
		kparse_close(k);
		return c;
	}
	nbase = ninputs;
	add_names();
	add_mutations(mutations, nbase);
	for (i = 0; i < ninputs; i++) {
		struct ch_result u, kr;
		int e;

		hello_parse(inputs[i].b, inputs[i].len, CH_CAP_DEFAULT, &u);
		e = kparse_run(k, inputs[i].b, inputs[i].len, CH_CAP_DEFAULT,
			       1, &kr, NULL);
		if (e) {
			printf("FAIL %s: test_run: %s\n", inputs[i].name,
			       strerror(-e));
			failed++;
			continue;
		}
		failed += differ(&inputs[i], &u, &kr);
		seen[u.status == CH_REJECTED ? u.reason + 2 :
		     u.status == CH_NEED_MORE]++;
	}
	kparse_close(k);
	printf("kdiff: %zu files, %zu mutations compared; outcomes: found %zu, "
	       "incomplete %zu", nbase, ninputs - nbase, seen[0], seen[1]);
	for (i = 1; i < CH_R_MAX; i++)
		printf(", %s %zu", hello_reason_name(i), seen[i + 2]);
	printf("\n");
	printf("%zu passed, %zu failed\n", ninputs - failed, failed);
	return failed ? 1 : 0;
}

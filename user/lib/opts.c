// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <stdbool.h>
#include <string.h>

#include "opts.h"

#define HELP_WIDTH	79	/* the last column help text may use */
#define HELP_COL_MAX	28	/* text starts here at the latest */

void opts_init(struct opts *o, const struct opt *const *tabs)
{
	size_t n = 0, s = 0;
	const struct opt *e;

	memset(o, 0, sizeof(*o));
	o->so[s++] = ':';	/* a missing argument returns ':' */
	for (; *tabs; tabs++)
		for (e = *tabs; e->name && n < OPTS_MAX; e++, n++) {
			o->lo[n] = (struct option){
				.name = e->name,
				.has_arg = e->arg ? required_argument :
						    no_argument,
				.val = e->key,
			};
			if (e->key >= OPT_LONG)
				continue;
			o->so[s++] = (char)e->key;
			if (e->arg)
				o->so[s++] = ':';
		}
	/* 0, not 1: glibc then forgets a previous parse entirely. */
	optind = 0;
	opterr = 0;
}

static const struct option *find_key(const struct opts *o, int key)
{
	const struct option *lo;

	for (lo = o->lo; lo->name; lo++)
		if (lo->val == key)
			return lo;
	return NULL;
}

/* What getopt_long() refused, in o->err. */
static void explain(struct opts *o, int c, char **argv)
{
	const char *word = optind > 0 ? argv[optind - 1] : "";
	bool is_long = !strncmp(word, "--", 2);
	const struct option *lo = optopt ? find_key(o, optopt) : NULL;

	if (c == ':') {
		snprintf(o->err, sizeof(o->err), "%s needs an argument",
			 word);
	} else if (lo && is_long) {	/* --flag=value */
		snprintf(o->err, sizeof(o->err), "--%s takes no argument",
			 lo->name);
	} else if (optopt && optopt < OPT_LONG) {
		snprintf(o->err, sizeof(o->err), "unknown option -%c",
			 optopt);
	} else {
		snprintf(o->err, sizeof(o->err), "unknown option %.*s",
			 (int)strcspn(word, "="), word);
	}
}

int opts_next(struct opts *o, int argc, char **argv, char **arg)
{
	int c = getopt_long(argc, argv, o->so, o->lo, NULL);

	*arg = optarg;
	if (c == '?' || c == ':') {
		explain(o, c, argv);
		return '?';
	}
	return c;
}

/* The length of the word at @s. */
static size_t word_len(const char *s)
{
	return strcspn(s, " \n");
}

void opts_print_item(FILE *f, const char *left, int col, const char *text)
{
	int at = fprintf(f, "%s", left);
	bool first = true;

	if (at > col - 2) {
		fputc('\n', f);
		at = 0;
	}
	while (*text) {
		size_t n = word_len(text);

		if (first || at + 1 + (int)n > HELP_WIDTH) {
			if (!first) {
				fputc('\n', f);
				at = 0;
			}
			fprintf(f, "%*s", col - at, "");
			at = col;
		} else {
			fputc(' ', f);
			at++;
		}
		first = false;
		at += fprintf(f, "%.*s", (int)n, text);
		text += n;
		if (*text == '\n')
			at = HELP_WIDTH;	/* the next word: a new line */
		text += strspn(text, " \n");
	}
	fputc('\n', f);
}

static bool any_short(const struct opt *const *tabs)
{
	const struct opt *e;

	for (; *tabs; tabs++)
		for (e = *tabs; e->name; e++)
			if (e->key < OPT_LONG)
				return true;
	return false;
}

static int opt_left(char *buf, size_t n, const struct opt *e, bool shorts)
{
	char letter[8] = "";

	if (e->key < OPT_LONG)
		snprintf(letter, sizeof(letter), "-%c, ", e->key);
	return snprintf(buf, n, "  %*s--%s%s%s", shorts ? 4 : 0, letter,
			e->name, e->arg ? " " : "", e->arg ? e->arg : "");
}

void opts_help(FILE *f, const struct opt *const *tabs)
{
	bool shorts = any_short(tabs);
	const struct opt *const *t;
	const struct opt *e;
	char left[128];
	int col = 0;

	for (t = tabs; *t; t++)
		for (e = *t; e->name; e++) {
			int w = opt_left(left, sizeof(left), e, shorts) + 2;

			if (w <= HELP_COL_MAX && w > col)
				col = w;
		}
	for (t = tabs; *t; t++)
		for (e = *t; e->name; e++) {
			opt_left(left, sizeof(left), e, shorts);
			opts_print_item(f, left, col, e->help);
		}
}

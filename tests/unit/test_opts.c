// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * user/lib/opts.c: one option table gives getopt_long() its arrays and
 * --help its text; what it refuses is said as the option itself.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "opts.h"

enum { O_LIMIT = OPT_LONG, O_FORCE };

static const struct opt own[] = {
	{ "limit", O_LIMIT, "N", "show at most N" },
	{ "force", O_FORCE, NULL, "even if" },
	{ 0 },
};

static const struct opt common[] = {
	{ "output", 'o', "FMT", "text or json" },
	{ "help", 'h', NULL, "this help" },
	{ 0 },
};

static const struct opt *const tabs[] = { own, common, NULL };

/* Parse @args (a NULL-terminated list after the command) to the end or
 * the first error; the keys seen, as a string of letters. */
static int parse(struct opts *o, char **args, char *seen, char **last)
{
	char *argv[16] = { "cmd" }, *arg;
	int argc = 1, c;

	while (args[argc - 1])
		argv[argc] = args[argc - 1], argc++;
	opts_init(o, tabs);
	*seen = 0;
	while ((c = opts_next(o, argc, argv, &arg)) != -1) {
		if (c == '?')
			return '?';
		strcat(seen, c == O_LIMIT ? "l" : c == O_FORCE ? "f" :
			     c == 'o' ? "o" : "h");
		*last = arg;
	}
	return optind < argc ? optind : 0;
}

static void test_parse(void **state)
{
	struct opts o;
	char seen[16], *last = NULL;

	(void)state;
	assert_int_equal(parse(&o, (char *[]){ "--limit", "5", "-o", "json",
					       "--force", NULL }, seen, &last),
			 0);
	assert_string_equal(seen, "lof");
	assert_int_equal(parse(&o, (char *[]){ "-ojson", NULL }, seen, &last),
			 0);
	assert_string_equal(last, "json");
	/* operands move behind the options (GNU permutation) */
	assert_int_equal(parse(&o, (char *[]){ "file", "--lim=3", NULL },
			       seen, &last), 2);
	assert_string_equal(last, "3");
}

static void test_errors(void **state)
{
	struct opts o;
	char seen[16], *last;

	(void)state;
	assert_int_equal(parse(&o, (char *[]){ "--foo", NULL }, seen, &last),
			 '?');
	assert_string_equal(o.err, "unknown option --foo");
	assert_int_equal(parse(&o, (char *[]){ "--foo=1", NULL }, seen,
			       &last), '?');
	assert_string_equal(o.err, "unknown option --foo");
	assert_int_equal(parse(&o, (char *[]){ "-x", NULL }, seen, &last),
			 '?');
	assert_string_equal(o.err, "unknown option -x");
	assert_int_equal(parse(&o, (char *[]){ "--limit", NULL }, seen,
			       &last), '?');
	assert_string_equal(o.err, "--limit needs an argument");
	assert_int_equal(parse(&o, (char *[]){ "-o", NULL }, seen, &last),
			 '?');
	assert_string_equal(o.err, "-o needs an argument");
	assert_int_equal(parse(&o, (char *[]){ "--force=yes", NULL }, seen,
			       &last), '?');
	assert_string_equal(o.err, "--force takes no argument");
}

static void test_help(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	opts_help(f, tabs);
	opts_print_item(f, "  --a-very-long-option-name ARG", 20,
			"goes below; the words wrap at the eightieth column, "
			"never further, however long the help text runs on");
	opts_print_item(f, "  x", 6, "one\ntwo");
	fclose(f);
	assert_string_equal(buf,
		"      --limit N     show at most N\n"
		"      --force       even if\n"
		"  -o, --output FMT  text or json\n"
		"  -h, --help        this help\n"
		"  --a-very-long-option-name ARG\n"
		"                    goes below; the words wrap at the "
		"eightieth column, never\n"
		"                    further, however long the help text "
		"runs on\n"
		"  x   one\n"
		"      two\n");
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_help),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

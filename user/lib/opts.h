/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Command-line options from one table per command: the table gives each
 * option's names, argument and help, and both the getopt_long() arrays
 * and the --help text are made from it, so the two cannot disagree.
 * Errors (an unknown option, a missing argument) are returned as text,
 * so the caller says them in its own way (stderr, or JSON on stdout).
 */
#ifndef SNILB_USER_OPTS_H
#define SNILB_USER_OPTS_H

#include <getopt.h>
#include <stddef.h>
#include <stdio.h>

/* Exit statuses shared by every command of the snilb binary. */
#define EXIT_NOMATCH	1	/* ran fine, but not every input was good */
#define EXIT_USAGE	2	/* bad arguments or an I/O error */

/* Keys of long-only options start here (a key below it is a letter). */
#define OPT_LONG	256

struct opt {
	const char *name;	/* long name, without "--" */
	int key;		/* a letter: -KEY too; >= OPT_LONG: long only */
	const char *arg;	/* its argument's name in the help; NULL: none */
	const char *help;	/* wrapped to the terminal's 80 columns; '\n'
				 * breaks a line where it must */
};

#define OPTS_MAX	40

struct opts {
	struct option lo[OPTS_MAX + 1];
	char so[3 * OPTS_MAX + 2];
	char err[256];		/* what opts_next() found wrong */
};

/*
 * Ready @o for one parse of the options in the tables of @tabs (a NULL
 * terminated list; each table ends with { 0 }).
 * Restarts getopt: argv[0] is the command, options start at argv[1].
 */
void opts_init(struct opts *o, const struct opt *const *tabs);

/*
 * The key of the next option, its argument in *@arg; -1 after the last
 * option (optind: the first operand); '?' for an unknown option or a
 * missing argument, o->err saying which ("unknown option --foo").
 */
int opts_next(struct opts *o, int argc, char **argv, char **arg);

/* The options of @tabs, one per entry, help aligned and wrapped. */
void opts_help(FILE *f, const struct opt *const *tabs);

/*
 * "  LEFT    text..." with the text from column @col, wrapped to 80
 * columns; LEFT longer than @col - 2 puts the text on the next line.
 */
void opts_print_item(FILE *f, const char *left, int col, const char *text);

#endif /* SNILB_USER_OPTS_H */

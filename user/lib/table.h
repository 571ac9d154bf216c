/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Aligned text tables, as the CLI prints them: columns two blanks apart,
 * each as wide as its widest cell, no trailing blanks.
 */
#ifndef SNILB_USER_TABLE_H
#define SNILB_USER_TABLE_H

#include <stddef.h>
#include <stdio.h>

#define TABLE_MAX_COLS	12

struct table {
	size_t ncols, nrows, cap;
	const char *hdr[TABLE_MAX_COLS];
	char **cells;		/* nrows * ncols, owned */
};

/* @hdr: @ncols column names, kept (not copied). */
void table_init(struct table *t, size_t ncols, const char *const *hdr);
/* Append a row of ncols cells (NULL prints as empty); 0 or -ENOMEM. */
int table_row(struct table *t, const char *const *cells);
/* The header line, then the rows. */
void table_print(FILE *out, const struct table *t);
/* The rows alone (key/value lines under an empty header). */
void table_print_rows(FILE *out, const struct table *t);
void table_free(struct table *t);

#endif /* SNILB_USER_TABLE_H */

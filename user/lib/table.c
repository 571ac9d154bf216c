// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"

void table_init(struct table *t, size_t ncols, const char *const *hdr)
{
	size_t i;

	memset(t, 0, sizeof(*t));
	t->ncols = ncols < TABLE_MAX_COLS ? ncols : TABLE_MAX_COLS;
	for (i = 0; i < t->ncols; i++)
		t->hdr[i] = hdr[i];
}

int table_row(struct table *t, const char *const *cells)
{
	size_t i, base;

	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		char **c = realloc(t->cells, cap * t->ncols * sizeof(*c));

		if (!c)
			return -ENOMEM;
		t->cells = c;
		t->cap = cap;
	}
	base = t->nrows * t->ncols;
	for (i = 0; i < t->ncols; i++) {
		t->cells[base + i] = strdup(cells[i] ? cells[i] : "");
		if (!t->cells[base + i]) {
			while (i--)
				free(t->cells[base + i]);
			return -ENOMEM;
		}
	}
	t->nrows++;
	return 0;
}

static void table_widths(const struct table *t, size_t *w)
{
	size_t r, c;

	for (c = 0; c < t->ncols; c++)
		w[c] = strlen(t->hdr[c]);
	for (r = 0; r < t->nrows; r++)
		for (c = 0; c < t->ncols; c++) {
			size_t n = strlen(t->cells[r * t->ncols + c]);

			if (n > w[c])
				w[c] = n;
		}
}

static void table_line(FILE *out, const struct table *t, const size_t *w,
		       const char *const *cells)
{
	size_t c, last = t->ncols;

	/* No padding after the last non-empty cell: no trailing blanks. */
	while (last > 0 && !cells[last - 1][0])
		last--;
	for (c = 0; c < last; c++) {
		if (c + 1 == last)
			fprintf(out, "%s\n", cells[c]);
		else
			fprintf(out, "%-*s  ", (int)w[c], cells[c]);
	}
	if (!last)
		fputc('\n', out);
}

void table_print_rows(FILE *out, const struct table *t)
{
	size_t w[TABLE_MAX_COLS], r;

	table_widths(t, w);
	for (r = 0; r < t->nrows; r++)
		table_line(out, t, w,
			   (const char *const *)&t->cells[r * t->ncols]);
}

void table_print(FILE *out, const struct table *t)
{
	size_t w[TABLE_MAX_COLS];

	table_widths(t, w);
	table_line(out, t, w, t->hdr);
	table_print_rows(out, t);
}

void table_free(struct table *t)
{
	size_t i;

	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}

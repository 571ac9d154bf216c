// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The manifest directory and each file's last good objects. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "manifest.h"
#include "manifests.h"

static int wanted_name(const char *n)
{
	size_t len = strlen(n);

	if (n[0] == '.' || !len || n[len - 1] == '~')
		return 0;	/* hidden, editor swap and backup files */
	return (len > 5 && !strcmp(n + len - 5, ".yaml")) ||
	       (len > 4 && !strcmp(n + len - 4, ".yml")) ||
	       (len > 5 && !strcmp(n + len - 5, ".json"));
}

static struct mf_file *find_file(struct mf_dir *d, const char *path)
{
	size_t i;

	for (i = 0; i < d->nfiles; i++)
		if (!strcmp(d->files[i].path, path))
			return &d->files[i];
	return NULL;
}

static int unchanged(const struct mf_file *f, const struct stat *st)
{
	return f->dev == st->st_dev && f->ino == st->st_ino &&
	       f->size == st->st_size &&
	       f->mtime.tv_sec == st->st_mtim.tv_sec &&
	       f->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

/*
 * Decode the file again. A YAML error keeps the old objects (with the new
 * diags); an invalid object keeps its old version.
 */
static void reload(struct mf_file *f)
{
	struct model nm = {};
	size_t i;

	if (manifest_decode_file(f->path, &nm) < 0) {
		struct m_diag *d = f->good.diags;
		size_t nd = f->good.ndiags;

		f->good.diags = nm.diags;
		f->good.ndiags = nm.ndiags;
		nm.diags = d;
		nm.ndiags = nd;
		model_free(&nm);
		return;
	}
	for (i = 0; i < nm.ndiags; i++) {
		const struct m_diag *d = &nm.diags[i];

		if (d->kind && d->name)
			model_move_object(&nm, &f->good, d->kind, d->ns,
					  d->name);
	}
	model_free(&f->good);
	f->good = nm;
}

static int scan_one(struct mf_dir *d, const char *name)
{
	char path[4096];
	struct mf_file *f, *nf;
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", d->dir, name);
	if (stat(path, &st) || !S_ISREG(st.st_mode))
		return 0;
	f = find_file(d, path);
	if (f) {
		f->seen = 1;
		if (unchanged(f, &st))
			return 0;
	} else {
		nf = realloc(d->files, (d->nfiles + 1) * sizeof(*nf));
		if (!nf)
			return -ENOMEM;
		d->files = nf;
		f = &d->files[d->nfiles++];
		memset(f, 0, sizeof(*f));
		f->path = strdup(path);
		f->seen = 1;
		if (!f->path) {
			d->nfiles--;
			return -ENOMEM;
		}
	}
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	f->size = st.st_size;
	f->mtime = st.st_mtim;
	reload(f);
	return 1;
}

static int by_path(const void *a, const void *b)
{
	return strcmp(((const struct mf_file *)a)->path,
		      ((const struct mf_file *)b)->path);
}

int mf_scan(struct mf_dir *d)
{
	DIR *dir = opendir(d->dir);
	struct dirent *de;
	size_t i = 0;
	int changed = 0, r;

	if (!dir)
		return -errno;
	for (i = 0; i < d->nfiles; i++)
		d->files[i].seen = 0;
	while ((de = readdir(dir))) {
		if (!wanted_name(de->d_name))
			continue;
		r = scan_one(d, de->d_name);
		if (r < 0) {
			closedir(dir);
			return r;
		}
		changed += r;
	}
	closedir(dir);
	i = 0;
	while (i < d->nfiles) {
		if (d->files[i].seen) {
			i++;
			continue;
		}
		free(d->files[i].path);
		model_free(&d->files[i].good);
		d->files[i] = d->files[--d->nfiles];
		changed++;
	}
	qsort(d->files, d->nfiles, sizeof(*d->files), by_path);
	return changed;
}

int mf_combine(const struct mf_dir *d, struct model *out)
{
	size_t i;
	int err;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < d->nfiles; i++) {
		err = model_concat_shallow(out, &d->files[i].good);
		if (err) {
			model_free_shallow(out);
			return err;
		}
	}
	return 0;
}

void mf_free(struct mf_dir *d)
{
	size_t i;

	for (i = 0; i < d->nfiles; i++) {
		free(d->files[i].path);
		model_free(&d->files[i].good);
	}
	free(d->files);
	d->files = NULL;
	d->nfiles = 0;
}

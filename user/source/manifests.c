// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The manifest directory and each file's last good objects. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "decode.h"
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

/* --- one definition per object ------------------------------------------ */

struct dup_ctx {
	const char *base;
	size_t size;		/* of one element */
};

static struct dup_ctx dup_ctx;	/* qsort has no context argument */

static const struct m_meta *meta_at(size_t i)
{
	/* Every object struct starts with its m_meta. */
	return (const struct m_meta *)(dup_ctx.base + i * dup_ctx.size);
}

static int by_identity(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	const struct m_meta *p = meta_at(x), *q = meta_at(y);
	int c = strcmp(p->ns ? p->ns : "", q->ns ? q->ns : "");

	if (!c)
		c = strcmp(p->name, q->name);
	return c ? c : (x > y) - (x < y);
}

/*
 * Keep the first definition of each object (files in name order), drop
 * the others from the combined view and say so: two versions of one
 * object would otherwise both take part (two routes of one name).
 */
static int dedup(void *arr, size_t *n, size_t size, const char *kind,
		 struct model *diags)
{
	size_t *idx = calloc(*n ? *n : 1, sizeof(*idx));
	uint8_t *drop = calloc(*n ? *n : 1, 1);
	size_t i, k = 0;
	char msg[600];

	if (!idx || !drop) {
		free(idx);
		free(drop);
		return -ENOMEM;
	}
	dup_ctx.base = arr;
	dup_ctx.size = size;
	for (i = 0; i < *n; i++)
		idx[i] = i;
	qsort(idx, *n, sizeof(*idx), by_identity);
	for (i = 1; i < *n; i++) {
		const struct m_meta *first = meta_at(idx[i - 1]);
		const struct m_meta *dup = meta_at(idx[i]);
		size_t j = i - 1;

		while (drop[idx[j]] && j)	/* the run's first one */
			first = meta_at(idx[--j]);
		if (strcmp(first->ns ? first->ns : "", dup->ns ? dup->ns : "") ||
		    strcmp(first->name, dup->name))
			continue;
		drop[idx[i]] = 1;
		snprintf(msg, sizeof(msg), "%s %s%s%s is also defined at %s:%d; "
			 "this definition is ignored", kind,
			 dup->ns ? dup->ns : "", dup->ns ? "/" : "", dup->name,
			 first->where.file, first->where.line);
		model_add_diag(diags, dup->where.file, dup->where.line, NULL,
			       msg, kind, dup->ns, dup->name);
	}
	for (i = 0; i < *n; i++)
		if (!drop[i])
			memmove((char *)arr + k++ * size, (char *)arr + i * size,
				size);
	*n = k;
	free(idx);
	free(drop);
	return 0;
}

#define DEDUP(m, arr, n, kind, diags)					\
	dedup((m)->arr, &(m)->n, sizeof(*(m)->arr), kind, diags)

static int dedup_all(struct model *m, struct model *diags)
{
	return DEDUP(m, namespaces, nnamespaces, "Namespace", diags) ||
	       DEDUP(m, classes, nclasses, "GatewayClass", diags) ||
	       DEDUP(m, gateways, ngateways, "Gateway", diags) ||
	       DEDUP(m, routes, nroutes, "TLSRoute", diags) ||
	       DEDUP(m, services, nservices, "Service", diags) ||
	       DEDUP(m, slices, nslices, "EndpointSlice", diags) ||
	       DEDUP(m, pods, npods, "Pod", diags) ||
	       DEDUP(m, grants, ngrants, "ReferenceGrant", diags) ? -ENOMEM : 0;
}

int mf_combine(struct mf_dir *d, struct model *out)
{
	size_t i;
	int err;

	memset(out, 0, sizeof(*out));
	model_free(&d->dups);
	for (i = 0; i < d->nfiles; i++) {
		err = model_concat_shallow(out, &d->files[i].good);
		if (err)
			goto fail;
	}
	err = dedup_all(out, &d->dups);
	if (!err)
		err = model_concat_shallow(out, &d->dups);
	if (!err)
		return 0;
fail:
	model_free_shallow(out);
	return err;
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
	model_free(&d->dups);
}

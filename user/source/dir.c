// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The manifest directory as a source (source.h): each file's last good
 * objects (dir.h), inotify on the directory, and a rescan every fifth
 * tick, as an event can be lost (directory replaced, queue overflow).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "decode.h"
#include "dir.h"
#include "log.h"
#include "source.h"

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

/* Was @st modified less than @settle_ns ago (by the wall clock, which
 * the file system's times follow)? */
static int unsettled(const struct stat *st, uint64_t settle_ns)
{
	struct timespec now;
	int64_t age;

	if (!settle_ns || clock_gettime(CLOCK_REALTIME, &now))
		return 0;
	age = (int64_t)(now.tv_sec - st->st_mtim.tv_sec) * 1000000000 +
	      (now.tv_nsec - st->st_mtim.tv_nsec);
	return age >= 0 && (uint64_t)age < settle_ns;
}

static int scan_one(struct mf_dir *d, const char *name, uint64_t settle_ns)
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
		if (unchanged(f, &st) || unsettled(&st, settle_ns))
			return 0;
	} else if (unsettled(&st, settle_ns)) {
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

int mf_scan(struct mf_dir *d, uint64_t settle_ns)
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
		r = scan_one(d, de->d_name, settle_ns);
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

/* --- one definition per object ---------------------------------------- */

/* The objects of one kind's array, to sort them by identity. */
struct dup_ctx {
	const char *base;
	size_t size;		/* of one element */
};

static const struct m_meta *meta_at(const struct dup_ctx *c, size_t i)
{
	/* Every object struct starts with its m_meta. */
	return (const struct m_meta *)(c->base + i * c->size);
}

static int same_object(const struct m_meta *p, const struct m_meta *q)
{
	return !strcmp(p->ns ? p->ns : "", q->ns ? q->ns : "") &&
	       !strcmp(p->name, q->name);
}

static int by_identity(const void *a, const void *b, void *ctx)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	const struct m_meta *p = meta_at(ctx, x), *q = meta_at(ctx, y);
	int c = strcmp(p->ns ? p->ns : "", q->ns ? q->ns : "");

	if (!c)
		c = strcmp(p->name, q->name);
	return c ? c : (x > y) - (x < y);
}

static void dup_diag(const struct m_kind *k, const struct m_meta *first,
		     const struct m_meta *dup, struct model *diags)
{
	char msg[600];

	snprintf(msg, sizeof(msg), "%s %s%s%s is also defined at %s:%d; "
		 "this definition is ignored", k->name, dup->ns ? dup->ns : "",
		 dup->ns ? "/" : "", dup->name, first->where.file,
		 first->where.line);
	model_add_diag(diags, dup->where.file, dup->where.line, NULL, msg,
		       k->name, dup->ns, dup->name);
}

/*
 * Keep the first definition of each object of kind @k (files in name
 * order), drop the others from @m and say so in @diags: two versions of
 * one object would otherwise both take part (two routes of one name).
 */
static int dedup(struct model *m, const struct m_kind *k, struct model *diags)
{
	size_t *n, i, j, kept = 0;
	struct dup_ctx c = { .base = model_array(m, k, &n), .size = k->size };
	size_t *idx = calloc(*n ? *n : 1, sizeof(*idx));
	uint8_t *drop = calloc(*n ? *n : 1, 1);

	if (!idx || !drop) {
		free(idx);
		free(drop);
		return -ENOMEM;
	}
	for (i = 0; i < *n; i++)
		idx[i] = i;
	qsort_r(idx, *n, sizeof(*idx), by_identity, &c);
	for (i = 1; i < *n; i++) {
		for (j = i - 1; drop[idx[j]] && j; j--)
			;	/* the run's first one */
		if (!same_object(meta_at(&c, idx[j]), meta_at(&c, idx[i])))
			continue;
		drop[idx[i]] = 1;
		dup_diag(k, meta_at(&c, idx[j]), meta_at(&c, idx[i]), diags);
	}
	for (i = 0; i < *n; i++)
		if (!drop[i])
			memmove((char *)c.base + kept++ * c.size,
				c.base + i * c.size, c.size);
	*n = kept;
	free(idx);
	free(drop);
	return 0;
}

int mf_combine(struct mf_dir *d, struct model *out)
{
	struct model all = { 0 }, dups = { 0 };
	const struct model *parts[] = { &all, &dups };
	size_t i;
	int err = 0;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < d->nfiles && !err; i++)
		err = model_concat_shallow(&all, &d->files[i].good);
	for (i = 0; i < M_NKINDS && !err; i++)
		err = dedup(&all, &m_kinds[i], &dups);
	if (!err)
		err = model_copy(out, parts, 2);
	model_free_shallow(&all);
	model_free(&dups);
	if (err)
		model_free(out);
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
}

/* --- the source ------------------------------------------------------- */

struct dir_source {
	struct source s;
	struct mf_dir mf;
	int periodic;		/* the next scan is the tick's, not an event's */
	int wfd;		/* the watch the check made; -1: none */
};

/* inotify on the directory: an fd, or -errno (logged). */
static int dir_watch(struct dir_source *ds)
{
	int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK), err;

	if (fd >= 0 && inotify_add_watch(fd, ds->mf.dir, IN_CLOSE_WRITE |
					 IN_MOVED_TO | IN_MOVED_FROM |
					 IN_DELETE | IN_CREATE | IN_ATTRIB |
					 IN_DELETE_SELF | IN_MOVE_SELF) >= 0)
		return fd;
	err = -errno;
	log_event("error", "cannot watch the manifest directory", "dir",
		  ds->mf.dir, "error", strerror(-err), NULL);
	if (fd >= 0)
		close(fd);
	return err;
}

/* A directory we can list and watch. The watch made here is the one
 * started: an edit made while the agent loads is not missed. */
static int dir_check(struct source *s)
{
	struct dir_source *ds = (struct dir_source *)s;
	struct stat st;
	DIR *d = NULL;
	int err = 0;

	if (stat(ds->mf.dir, &st))
		err = -errno;
	else if (!S_ISDIR(st.st_mode))
		err = -ENOTDIR;
	else if (!(d = opendir(ds->mf.dir)))
		err = -errno;
	if (d)
		closedir(d);
	if (err) {
		log_event("error", "cannot read the manifest directory", "dir",
			  ds->mf.dir, "error", strerror(-err), "option",
			  "--manifests", NULL);
		return err;
	}
	if (ds->wfd < 0)
		ds->wfd = dir_watch(ds);
	return ds->wfd < 0 ? ds->wfd : 0;
}

static int dir_start(struct source *s)
{
	struct dir_source *ds = (struct dir_source *)s;

	if (ds->wfd < 0)
		ds->wfd = dir_watch(ds);
	if (ds->wfd < 0)
		return ds->wfd;
	s->fd = ds->wfd;
	ds->wfd = -1;
	return 0;
}

static int dir_next(struct source *s, int force, struct model *m)
{
	struct dir_source *ds = (struct dir_source *)s;
	int changed = mf_scan(&ds->mf, ds->periodic ? MF_SETTLE_NS : 0), err;

	ds->periodic = 0;

	if (changed < 0) {
		log_event("error", "cannot read the manifest directory", "dir",
			  ds->mf.dir, "error", strerror(-changed), "kept",
			  "the current tables", NULL);
		return changed;
	}
	if (!changed && !force)
		return 0;
	err = mf_combine(&ds->mf, m);
	if (err) {
		log_event("error", "cannot combine the manifests", "dir",
			  ds->mf.dir, "error", strerror(-err), "kept",
			  "the current tables", NULL);
		return err;
	}
	return 1;
}

static enum source_tick dir_tick(struct source *s, uint64_t n,
				 uint64_t now_ns)
{
	struct dir_source *ds = (struct dir_source *)s;

	(void)now_ns;
	ds->periodic = !(n % 5);
	return ds->periodic ? SOURCE_RESCAN : SOURCE_IDLE;
}

static void dir_free(struct source *s)
{
	struct dir_source *ds = (struct dir_source *)s;

	if (s->fd >= 0)
		close(s->fd);
	if (ds->wfd >= 0)
		close(ds->wfd);
	mf_free(&ds->mf);
	free(ds->mf.dir);
	free(ds);
}

static const struct source_ops dir_ops = {
	.check = dir_check,
	.start = dir_start,
	.next = dir_next,
	.tick = dir_tick,
	.free = dir_free,
};

struct source *source_dir(const char *dir)
{
	struct dir_source *ds = calloc(1, sizeof(*ds));

	if (!ds || !(ds->mf.dir = strdup(dir))) {
		free(ds);
		return NULL;
	}
	ds->s.ops = &dir_ops;
	ds->s.name = ds->mf.dir;
	ds->s.fd = -1;
	ds->wfd = -1;
	return &ds->s;
}

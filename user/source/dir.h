/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The manifest directory, file by file, with each file's last good
 * objects: a file that stops being valid YAML keeps its previous objects,
 * and an object whose new version is invalid keeps its previous version,
 * so one bad edit never empties or half-fills the tables. The agent reads
 * it as a source (source_dir(), source.h); these are its parts.
 */
#ifndef SNILB_USER_DIR_H
#define SNILB_USER_DIR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "model.h"

struct mf_file {
	char *path;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	struct model good;	/* objects in use, with the latest diags */
	int seen;		/* found by the current scan */
};

struct mf_dir {
	char *dir;
	struct mf_file *files;
	size_t nfiles;
};

/*
 * Rescan @d->dir (*.yaml, *.yml, *.json; no hidden or backup files; not
 * recursive, as `kubectl apply -f DIR`). Returns the number of files that
 * changed (added, edited or removed), or a negative errno when the
 * directory cannot be read (then nothing changes).
 *
 * @settle_ns: a changed file last modified less than this long ago is not
 * read yet (it stays changed for a later scan). The periodic rescan, which
 * no event asked for, may find a file in the middle of being written (a
 * shell's `>` truncates it first): read then, an empty file would replace
 * its objects' last good versions. A scan after inotify's close event
 * passes 0.
 */
int mf_scan(struct mf_dir *d, uint64_t settle_ns);

/* How long a periodic rescan leaves a freshly modified file alone. */
#define MF_SETTLE_NS	2000000000ull

/* Every file's objects and diags in one model (copies, @out's own:
 * model_free()), files in name order. An object defined twice (in two
 * files, or twice in one) keeps its first definition; each other one is
 * left out with a diag naming both places. 0 or -ENOMEM. */
int mf_combine(struct mf_dir *d, struct model *out);

void mf_free(struct mf_dir *d);

#endif /* SNILB_USER_DIR_H */

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The status file (status.h) written off the agent's loop: at 10,000
 * routes writing the document and freeing the previous one take a
 * second, which a change arriving meanwhile would wait for. A thread
 * writes the newest document (an older one not written yet is skipped)
 * and lets go of the ones it is handed. The documents are only read
 * once handed over (jansson's reference counts are atomic).
 */
#ifndef SNILB_USER_STATUSFILE_H
#define SNILB_USER_STATUSFILE_H

#include <jansson.h>

struct statusfile;

/* NULL (logged) when no thread can be made. @path must outlive it. */
struct statusfile *statusfile_start(const char *path);

/* Write @doc (a reference the writer now owns); @old (a reference, or
 * NULL) is let go of on the writer's thread. Never waits on the disk. */
void statusfile_put(struct statusfile *f, json_t *doc, json_t *old);

/* The last document written, then the thread joined. */
void statusfile_stop(struct statusfile *f);

#endif /* SNILB_USER_STATUSFILE_H */

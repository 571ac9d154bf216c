/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Status written back off the agent's loop: a thread of its own, with its
 * own connection, so that programming the kernel never waits for the API
 * server. The loop hands it each sync's result and goes on; the writer
 * keeps only the newest (a newer result replaces one not yet taken, and
 * interrupts a pass in progress before its next request), so an object's
 * status is written once with what is true now, not once per sync that
 * touched it. What it last wrote (or found in place) is remembered per
 * object: an object whose status would not change costs no request. A
 * pass with failures is tried again after a back-off (1 s doubling to
 * 30 s) or at the next result. It writes only while told that this
 * agent leads (kwriter_lead()).
 */
#ifndef SNILB_USER_KWRITER_H
#define SNILB_USER_KWRITER_H

#include "gwapi.h"
#include "kube.h"
#include "model.h"

struct kwriter;

/* NULL (logged) when out of memory or no thread can be made. The
 * strings must outlive the writer. */
struct kwriter *kwriter_start(struct kube *k, const char *controller);

/* The newest result: @m and @out are the writer's now (moved: the
 * caller's are left empty). Never waits on the network. */
void kwriter_submit(struct kwriter *w, struct model *m, struct gw_out *out);

/* Whether this agent leads (holds the Lease): when it does not, nothing
 * is written. @forget: what was written is forgotten, and every object
 * read again (a new leader; once a minute, for edits by others). */
void kwriter_lead(struct kwriter *w, int leads, int forget);

/* The request in flight aborted (within a second), the thread joined,
 * everything freed. */
void kwriter_stop(struct kwriter *w);

#endif /* SNILB_USER_KWRITER_H */

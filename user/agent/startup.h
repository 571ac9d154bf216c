/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The agent's start, in two halves. First everything that can stop it is
 * checked while nothing is changed yet: the source's input (the manifest
 * directory, the API credentials), the status file, the pin path, the
 * SNAT ports, the metrics address (bound). Then each change to the node
 * is noted as it is made (the reserved ports, the bpffs mount and the pin
 * directories, the pins, the settings written over adopted maps, the tc
 * attachments, the status file), so that a start that still fails puts
 * the node back as it found it: never removing what an earlier agent left
 * (its pins, its program), which it puts back instead.
 */
#ifndef SNILB_USER_STARTUP_H
#define SNILB_USER_STARTUP_H

#include <stdbool.h>
#include <stddef.h>

#include "dataplane.h"
#include "options.h"
#include "snatports.h"

struct source;

struct startup {
	const struct agent_opts *o;
	int metrics_fd;			/* bound by the check; -1 */
	bool prepared;			/* the node is being changed */
	struct snat_check snat;		/* the sysctl as found */
	bool mounted;			/* bpffs at /sys/fs/bpf by us */
	char made_dir[4096];		/* the first pin directory we made */
	struct dataplane *dp;		/* loaded: its new pins */
	bool cfg_saved;			/* adopted maps: their settings */
	struct snilb_config cfg;
	struct dp_tc_prev prev[AGENT_MAX_IFACES];
	size_t nprev;
	int xdp_prev[AGENT_MAX_IFACES];	/* our earlier XDP program there
					 * (an fd), or -1 */
	size_t nxdp;			/* interfaces whose XDP was set */
	char status_base[4096];		/* its deepest existing directory */
	bool status_kept;		/* the status file, as found: */
	bool status_was;		/* there, with this content */
	char *status;
	size_t status_len;
};

/* Everything that can stop the agent, each problem logged; changes
 * nothing but binding the metrics socket. 0: start. */
int startup_check(struct startup *su, const struct agent_opts *o,
		  struct source *src);
/* Keep the status file, reserve the SNAT ports, mount bpffs and make the
 * pin path: 0, or -errno (logged). */
int startup_prepare(struct startup *su);
/* @dp is loaded: note whose its pins are, and its settings when they are
 * an earlier agent's; then write ours. 0 or -errno (logged). */
int startup_configure(struct startup *su, struct dataplane *dp);
/* Attach to each --iface, noting what held the slot. */
int startup_attach(struct startup *su);
/* The start failed: put back what it changed (logged). */
void startup_undo(struct startup *su);
/* The start succeeded: forget how to undo it. */
void startup_done(struct startup *su);

#endif /* SNILB_USER_STARTUP_H */

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * --peers: the gateway nodes that share the VIPs (docs/multinode.md), read
 * from a file (again when it changes) or the command line, written to the
 * data plane as a node table with this generation and the one before.
 * --drain: this node leaving, its flows served until they end.
 */
#ifndef SNILB_USER_AGENT_PEERS_H
#define SNILB_USER_AGENT_PEERS_H

#include <stddef.h>
#include <stdint.h>

#include "dataplane.h"

struct model;

#define PEERS_PODS	"pods"		/* --peers pods */
#define PEERS_POD_LABEL	"app.kubernetes.io/name"
#define PEERS_POD_APP	"snilb"

struct peers;

/* @spec: --peers (NULL: a single node); NULL: out of memory. */
struct peers *peers_open(const char *spec, const char *node_name,
			 uint32_t drain_timeout_s);
void peers_free(struct peers *p);

/* Write the table if it changed (the file is read again when its mtime
 * or size moved; without --peers, an empty one once: a table an earlier
 * agent left is cleared): 1 when written, 0 unchanged, < 0 an error
 * (logged, the table in force kept). */
int peers_apply(struct peers *p, struct dataplane *dp);

/* --peers pods: the table from the DaemonSet's pods in @m (each sync);
 * as peers_apply(). Nothing for the other inputs. */
int peers_model(struct peers *p, struct dataplane *dp, const struct model *m);
/* The pods of @ns labelled app.kubernetes.io/name=snilb, ready or
 * terminating (draining), with an IPv4 address, as nodes, one per node
 * (draining only when all of its pods terminate): how many. */
size_t peers_of_pods(const struct model *m, const char *ns,
		     struct dp_node *out, size_t max);

/* SIGTERM with --drain: this node takes no new connection from now on
 * (in its own table; the others learn it from their input). 0: begun;
 * -1: it was already (a second SIGTERM stops at once). */
int peers_drain(struct peers *p, struct dataplane *dp);
/* Each tick while draining, with the flows left: 1 when they are all
 * gone or the deadline passed (logged): time to stop. */
int peers_drain_done(struct peers *p, uint32_t flows);

/* What /metrics and the status show. */
struct peers_info {
	uint32_t generation, prev_generation;
	size_t nodes;
	int member, draining;
	uint32_t drain_flows, drain_left;	/* at its start; now */
};
void peers_info(const struct peers *p, struct peers_info *out);

#endif /* SNILB_USER_AGENT_PEERS_H */

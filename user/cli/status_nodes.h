/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* snilb status: the node table (status_nodes.c). */
#ifndef SNILB_USER_CLI_STATUS_NODES_H
#define SNILB_USER_CLI_STATUS_NODES_H

#include <jansson.h>

struct inspect;

/* Print the node table (text mode) and set out["node_table"] (null when
 * there is none). */
void status_nodes(const struct inspect *c, json_t *out);

#endif /* SNILB_USER_CLI_STATUS_NODES_H */

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The commands of the snilb binary, one file each (main.c's commands[]
 * lists them). Each takes argv[0] as its own name and returns the exit
 * status (EXIT_NOMATCH, EXIT_USAGE: user/lib/opts.h).
 */
#ifndef SNILB_USER_CMD_H
#define SNILB_USER_CMD_H

#include "opts.h"

int do_sni(int argc, char **argv);	/* sni.c */
int do_status(int argc, char **argv);	/* status.c */
int do_routes(int argc, char **argv);	/* routes.c */
int do_backends(int argc, char **argv);	/* backends.c */
int do_flows(int argc, char **argv);	/* flows.c */
int do_stats(int argc, char **argv);	/* stats.c */
int do_detach(int argc, char **argv);	/* detach.c */
int do_top(int argc, char **argv);	/* top.c */

#endif /* SNILB_USER_CMD_H */

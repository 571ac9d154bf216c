/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Subcommands of the snilb binary. Each returns the process exit status. */
#ifndef SNILB_USER_CMD_H
#define SNILB_USER_CMD_H

/* Exit statuses shared by every subcommand. */
#define EXIT_NOMATCH	1	/* ran fine, but not every input was good */
#define EXIT_USAGE	2	/* bad arguments or an I/O error */

int cmd_sni(int argc, char **argv);
/* user/agent/agent.c: manifests -> maps, until stopped. */
int cmd_agent(int argc, char **argv);

/* user/cli/cmd_inspect.c: what the pinned data plane holds. */
/* status, routes, backends, flows, stats, detach: the exit status, or
 * -1 when @name is none of them. */
int cmd_inspect(const char *name, int argc, char **argv);

#endif /* SNILB_USER_CMD_H */

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* `snilb agent`: Gateway API objects -> the data plane, until stopped. */
#ifndef SNILB_USER_AGENT_H
#define SNILB_USER_AGENT_H

/* The command (argv[0]: "agent"): its exit status. */
int cmd_agent(int argc, char **argv);

#endif /* SNILB_USER_AGENT_H */

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Where the agent keeps what the CLI reads, and the agent's other
 * defaults an operator sees in --help: defined here once, used by both.
 */
#ifndef SNILB_USER_DEFAULTS_H
#define SNILB_USER_DEFAULTS_H

/* bpffs directory of the pinned maps and programs (--pin-path). */
#define SNILB_PIN_PATH		"/sys/fs/bpf/snilb"
/* The agent's status, for the CLI and operators (--status-file). */
#define SNILB_STATUS_FILE	"/run/snilb/status.json"
/* The Lease electing the agent that writes status to the API server. */
#define SNILB_LEASE_NAME	"snilb-status-writer"
#define SNILB_LEASE_NAMESPACE	"snilb-system"	/* out of a cluster */
/* The SNIs most rejected, as the agent's access log counts them, for
 * `snilb top`: the status file's name with this added. */
#define SNILB_REJECTS_SUFFIX	".rejects"
#define SNILB_REJECTS_TOP	20	/* SNIs kept and shown */
/* Quiet wanted after a change before the agent syncs (--debounce). */
#define SNILB_DEBOUNCE_MS	100
/* The metrics address in examples: no default, metrics are opt-in. */
#define SNILB_METRICS_EXAMPLE	"127.0.0.1:9090"

/* "1234" of a numeric macro, for help texts. */
#define SNILB_STR_(x)		#x
#define SNILB_STR(x)		SNILB_STR_(x)

#endif /* SNILB_USER_DEFAULTS_H */

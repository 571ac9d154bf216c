/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * `snilb agent`'s command line: its option table (which makes --help, see
 * user/lib/opts.h) and the options, checked and with their defaults.
 */
#ifndef SNILB_USER_AGENT_OPTIONS_H
#define SNILB_USER_AGENT_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "accesslog.h"
#include "dataplane.h"
#include "snilb_abi.h"

#define AGENT_MAX_IFACES	16

struct agent_opts {
	const char *manifests, *pin_path, *status_file, *metrics_listen;
	const char *controller;
	const char *kubeconfig, *node_name, *lease_ns, *lease_name;
	int in_cluster, no_status;
	char *ifnames[AGENT_MAX_IFACES];	/* into argv */
	size_t nifaces;
	struct snilb_config cfg;	/* what the data plane is given */
	uint32_t debounce_ms;
	uint32_t max_flows;
	int check;
	int snat4, snat6;		/* cfg.snat4, cfg.snat6 are set */
	struct alog_opts alog;		/* --access-log* */
	uint32_t alog_ring;		/* bytes; 0: SNILB_LOG_RING */
	const char *cookie_key;		/* --cookie-key FILE, or NULL */
	enum dp_xdp_mode xdp;		/* --xdp (default DP_XDP_OFF) */
	const char *peers;		/* --peers FILE or NAME=ADDR,... */
	int drain;			/* --drain: SIGTERM drains first */
	uint32_t drain_timeout_s;	/* ... at most this long */
};

/*
 * Fill @o from @argv (argv[0]: "agent"). 0: run; 1: --help was printed;
 * -1: an error, said on stderr with a pointer to --help.
 */
int agent_options(int argc, char **argv, struct agent_opts *o);

#endif /* SNILB_USER_AGENT_OPTIONS_H */

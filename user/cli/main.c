// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* snilb: one binary, one subcommand per job. */
#include <stdio.h>
#include <string.h>

#include "cmd.h"

#include "version.h"

static const char usage[] =
"Usage: snilb COMMAND [OPTIONS]\n"
"\n"
"snilb routes TLS connections by their SNI inside the Linux kernel: a BPF\n"
"program reads the ClientHello and splices the connection to a backend\n"
"(Gateway API TLSRoute passthrough, no proxy in the data path).\n"
"\n"
"Commands:\n"
"  agent          run the agent: Gateway API objects (manifests or the\n"
"                 Kubernetes API) -> the data plane\n"
"  sni FILE...    parse captured client bytes and print the SNI, ALPN and\n"
"                 TLS facts snilb routes by (or why it would reject them)\n"
"  status         the agent, attached interfaces, listeners, map fill\n"
"  routes         hostnames per listener: route, backends, conditions\n"
"  backends       backend sets: weights, Maglev slots, active flows\n"
"  flows          connections in the flow table\n"
"  stats          the data plane's counters\n"
"  detach         remove the program and its pinned maps\n"
"  version        print the version\n"
"\n"
"Run 'snilb COMMAND --help' for a command's options.\n";

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;
	int rc;

	if (!cmd) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") ||
	    !strcmp(cmd, "help")) {
		fputs(usage, stdout);
		return 0;
	}
	if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
		printf("snilb %s\n", SNILB_VERSION);
		return 0;
	}
	if (!strcmp(cmd, "agent"))
		return cmd_agent(argc - 1, argv + 1);
	if (!strcmp(cmd, "sni"))
		return cmd_sni(argc - 1, argv + 1);
	rc = cmd_inspect(cmd, argc - 1, argv + 1);
	if (rc >= 0)
		return rc;
	fprintf(stderr, "snilb: unknown command '%s'\n\n%s", cmd, usage);
	return EXIT_USAGE;
}

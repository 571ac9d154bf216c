// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* snilb: one binary, one command per job, chosen from commands[]. */
#include <stdio.h>
#include <string.h>

#include "agent.h"
#include "cmd.h"
#include "dl.h"
#include "inspect.h"
#include "opts.h"

#include "version.h"

struct cmd {
	const char *name;
	int (*func)(int argc, char **argv);
	const char *args;	/* after the name in the list; NULL: none */
	const char *help;	/* one line, wrapped */
};

static int do_help(int argc, char **argv);
static int do_version(int argc, char **argv);

static const struct cmd commands[] = {
	{ "agent", cmd_agent, NULL,
	  "run the agent: Gateway API objects (manifests or the Kubernetes "
	  "API) -> the data plane" },
	{ "sni", do_sni, "FILE...",
	  "parse captured client bytes and print the SNI, ALPN and TLS facts "
	  "snilb routes by (or why it would reject them)" },
	{ "status", do_status, NULL,
	  "the agent, attached interfaces, listeners, map fill" },
	{ "routes", do_routes, NULL,
	  "hostnames per listener: route, backends, conditions" },
	{ "backends", do_backends, NULL,
	  "backend sets: weights, Maglev slots, active flows" },
	{ "flows", do_flows, NULL, "connections in the flow table" },
	{ "top", do_top, NULL,
	  "live per route: connections/s, active, bytes/s, rejections by "
	  "reason, the SNIs most rejected" },
	{ "stats", do_stats, NULL, "the data plane's counters" },
	{ "detach", do_detach, NULL,
	  "remove the program and its pinned maps" },
	{ "help", do_help, NULL, "this list" },
	{ "version", do_version, "[--dlopen]",
	  "print the version (--dlopen: the libraries snilb loads only when "
	  "a feature needs them: libcurl for the Kubernetes API, "
	  "libmicrohttpd for --metrics-listen)" },
};

#define NCOMMANDS	(sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	char left[64];
	size_t i;

	fputs("Usage: snilb COMMAND [OPTIONS]\n"
	      "\n"
	      "snilb routes TLS connections by their SNI inside the Linux "
	      "kernel: a BPF\n"
	      "program reads the ClientHello and splices the connection to a "
	      "backend\n"
	      "(Gateway API TLSRoute passthrough, no proxy in the data path).\n"
	      "\n"
	      "Commands:\n", f);
	for (i = 0; i < NCOMMANDS; i++) {
		snprintf(left, sizeof(left), "  %s%s%s", commands[i].name,
			 commands[i].args ? " " : "",
			 commands[i].args ? commands[i].args : "");
		opts_print_item(f, left, 17, commands[i].help);
	}
	fputs("\nRun 'snilb COMMAND --help' for a command's options.\n", f);
}

static int do_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	usage(stdout);
	return 0;
}

/* "--dlopen": the libraries loaded only when a feature needs them
 * (user/lib/dl.h), one soname a line: what a package or an image must
 * hold beside what the binary links (scripts/mkdeb.sh, image-rootfs.sh). */
static int do_version(int argc, char **argv)
{
	size_t i;

	if (argc > 1 && !strcmp(argv[1], "--dlopen")) {
		for (i = 0; dl_libs[i]; i++)
			printf("%s\n", dl_libs[i]);
		return 0;
	}
	if (argc > 1) {
		fprintf(stderr, "snilb version: unknown argument '%s' "
			"(--dlopen: the libraries loaded when needed)\n",
			argv[1]);
		return EXIT_USAGE;
	}
	printf("snilb %s\n", SNILB_VERSION);
	return 0;
}

/* The command named @name; "--help" and "--version" as bpftool has them. */
static const struct cmd *cmd_select(const char *name)
{
	size_t i;

	if (!strcmp(name, "-h") || !strcmp(name, "--help"))
		name = "help";
	else if (!strcmp(name, "--version"))
		name = "version";
	for (i = 0; i < NCOMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	const struct cmd *cmd;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = cmd_select(argv[1]);
	if (cmd)
		return cmd->func(argc - 1, argv + 1);
	if (cli_json_wanted(argc - 1, argv + 1)) {
		cli_error(true, "snilb", "unknown command '%s'", argv[1]);
	} else {
		fprintf(stderr, "snilb: unknown command '%s'\n\n", argv[1]);
		usage(stderr);
	}
	return EXIT_USAGE;
}

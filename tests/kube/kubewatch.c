// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * kubewatch: the Kubernetes client (user/source/kube.h) on its own, for
 * tests. On every change it prints one line: synced, the object count per
 * kind, the TLSRoute version and the routes (ns/name, sorted), when that
 * line differs from the last.
 *
 *   kubewatch [-v] [-1] KUBECONFIG|-      (-: in-cluster)
 *   kubewatch -r METHOD PATH [BODY] KUBECONFIG|-
 *
 * -1: exit after the first line printed once synced. -r: one request
 * (kube_request), print the status and the body.
 */
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "kube.h"
#include "decode.h"

static volatile sig_atomic_t done;

static void on_signal(int sig)
{
	(void)sig;
	done = 1;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1e3 + (t.tv_nsec - t0->tv_nsec) / 1e6;
}

/* The line for the current state (malloc'd); the model's cost in *ms. */
static char *state_line(struct kube *k, double *ms, int *synced)
{
	struct timespec t0;
	struct model m;
	char *line = NULL, **names;
	size_t len = 0, i;
	FILE *f;
	const char *v;

	*synced = kube_synced(k);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (kube_model(k, &m))
		return strdup("kube_model failed");
	*ms = ms_since(&t0);
	v = kube_tlsroute_version(k);
	f = open_memstream(&line, &len);
	fprintf(f, "synced=%d namespaces=%zu classes=%zu gateways=%zu routes=%zu services=%zu slices=%zu pods=%zu grants=%zu diags=%zu tlsroute=%s",
		*synced, m.nnamespaces, m.nclasses, m.ngateways,
		m.nroutes, m.nservices, m.nslices, m.npods, m.ngrants,
		m.ndiags, v ? v : "none");
	names = calloc(m.nroutes + 1, sizeof(*names));
	for (i = 0; names && i < m.nroutes; i++)
		if (asprintf(&names[i], "%s/%s", m.routes[i].meta.ns,
			     m.routes[i].meta.name) < 0)
			names[i] = NULL;
	if (names)
		qsort(names, m.nroutes, sizeof(*names), cmp_str);
	fprintf(f, " route_names=");
	for (i = 0; names && i < m.nroutes; i++) {
		fprintf(f, "%s%s", i ? "," : "", names[i] ? names[i] : "?");
		free(names[i]);
	}
	free(names);
	for (i = 0; i < m.ndiags; i++)
		fprintf(f, "\n  diag %s %s: %s", m.diags[i].file,
			m.diags[i].field ? m.diags[i].field : "",
			m.diags[i].msg);
	fclose(f);
	model_free(&m);
	return line;
}

static int request(struct kube_config *cfg, char **argv)
{
	char err[512] = "", *resp = NULL;
	struct kube *k = kube_start(cfg, -1, err, sizeof(err));
	long code;

	if (!k) {
		fprintf(stderr, "kubewatch: %s\n", err);
		return 1;
	}
	code = kube_request(k, argv[0], argv[1], argv[2], &resp, err,
			    sizeof(err));
	printf("%ld %s\n", code, resp ? resp : err);
	free(resp);
	kube_stop(k);
	return code >= 200 && code < 300 ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct kube_config cfg = { 0 };
	char err[512], *last = NULL, *line;
	int fd, once = 0, req = 0, opt, synced = 0;
	struct kube *k;
	uint64_t n;
	double ms = 0;

	while ((opt = getopt(argc, argv, "v1r")) != -1) {
		if (opt == 'v')
			cfg.verbose = 1;
		else if (opt == '1')
			once = 1;
		else if (opt == 'r')
			req = 1;
		else
			return 2;
	}
	if (argc - optind != (req ? 4 : 1) && !(req && argc - optind == 3)) {
		fprintf(stderr, "usage: kubewatch [-v] [-1] KUBECONFIG|-\n"
			"       kubewatch -r METHOD PATH [BODY] KUBECONFIG|-\n");
		return 2;
	}
	if (strcmp(argv[argc - 1], "-"))
		cfg.kubeconfig = argv[argc - 1];
	if (req) {
		char *a[3] = { argv[optind], argv[optind + 1],
			       argc - optind == 4 ? argv[optind + 2] : NULL };

		return request(&cfg, a);
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	k = kube_start(&cfg, fd, err, sizeof(err));
	if (!k) {
		fprintf(stderr, "kubewatch: %s\n", err);
		return 1;
	}
	while (!done) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, 1000) <= 0)
			continue;
		/* Let a burst of events settle into one line. */
		usleep(20000);
		if (read(fd, &n, sizeof(n)) < 0)
			continue;
		line = state_line(k, &ms, &synced);
		if (!last || strcmp(line, last)) {
			printf("%s model_ms=%.2f\n", line, ms);
			fflush(stdout);
			free(last);
			last = line;
		} else {
			free(line);
		}
		if (once && synced)
			break;
	}
	free(last);
	kube_stop(k);
	return 0;
}

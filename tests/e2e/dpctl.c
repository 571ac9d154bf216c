// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Test harness for the end-to-end suite: loads the data plane with the
 * data-plane library (user/dataplane/), programs it from a small
 * line-based script and keeps it attached until SIGTERM/SIGINT: what the
 * agent does from Gateway API objects, without them. Script lines ('#'
 * starts a comment):
 *
 *   snat ADDR                      SNAT address (one per family)
 *   snat-ports LO HI               SNAT source ports (default
 *                                  SNILB_SNAT_PORT_LO..HI); dpctl does not
 *                                  reserve them as the agent does
 *   listener ID ADDR PORT
 *   backend ID ADDR PORT [proxy-v2]  proxy-v2: it gets a PROXY v2 header
 *   set ID BACKEND[:WEIGHT]...     Maglev table of backend ids
 *   route LISTENER HOSTNAME ROUTE_ID SET
 *   timeouts HELLO_MS IDLE_S       handshake and idle timeouts
 *   single_syn 0|1                 one SYN per backend, not two (the
 *                                  backend's RTT: docs/dataplane.md)
 *   mss MSS4 MSS6                  MSS offered to clients, told backends
 *   synstate RATE                  per-SYN states per s and CPU (0: none)
 *   access-log FILE                the data plane's access log on: one
 *                                  line per record to FILE (below)
 *   cookie-key FILE                the SYN cookie key (snilb agent
 *                                  --cookie-key: hex or raw, 32+ bytes);
 *                                  the current one becomes the previous
 *   attach IFNAME
 *   xdp IFNAME [auto|native]       the XDP program too (native: or fail;
 *                                  default auto); prints "xdp IFNAME
 *                                  native|off"
 *
 * An access log line: "TYPE END REASON SETUP_US HELLO_US CONNECT_US
 * REPLAY_US DURATION_US" (TYPE end or reject; a phase that did not happen
 * is -1): what the bench needs of the data plane's own timestamps, not the
 * agent's format (user/agent/accesslog.c).
 *
 * Once a second it runs the flow table's timeouts (user/dataplane/reaper.c)
 * and logs what they reaped.
 *
 * Usage: dpctl [--pin DIR] SCRIPT   (prints "ready" once attached; SIGUSR1
 * prints the global counters as "stat NAME VALUE" lines, so does exiting).
 * With --pin the state maps live under DIR on bpffs and the programs stay
 * attached when dpctl exits: a second dpctl adopts them, flows and all.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cookiekey.h"
#include "dataplane.h"
#include "reaper.h"
#include "maglev.h"
#include "pinned.h"

static volatile sig_atomic_t stop, dump;

static int ifaces[16], nifaces, xdps[16], nxdp;
static FILE *alog;
static uint32_t table[SNILB_MAGLEV_SIZE];

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		dump = 1;
	else
		stop = 1;
}

static int do_set(struct dataplane *dp, char *args)
{
	struct maglev_backend b[16];
	char names[16][16];
	char *tok, *save = NULL;
	uint32_t id;
	size_t n = 0;

	tok = strtok_r(args, " \t\n", &save);
	if (!tok)
		return -EINVAL;
	id = (uint32_t)strtoul(tok, NULL, 10);
	while ((tok = strtok_r(NULL, " \t\n", &save)) && n < 16) {
		char *w = strchr(tok, ':');

		b[n].id = (uint32_t)strtoul(tok, NULL, 10);
		b[n].weight = w ? (uint32_t)strtoul(w + 1, NULL, 10) : 1;
		snprintf(names[n], sizeof(names[n]), "backend-%u", b[n].id);
		b[n].name = names[n];
		n++;
	}
	if (!n || maglev_build(b, n, table, SNILB_MAGLEV_SIZE))
		return -EINVAL;
	return dp_set_install(dp, id, table, SNILB_MAGLEV_SIZE, (uint32_t)n);
}

/* µs from @a to @b, -1 when either did not happen. */
static long long us(uint64_t a, uint64_t b)
{
	return a && b >= a ? (long long)((b - a) / 1000) : -1;
}

static void on_record(const struct snilb_log_rec *r, void *arg)
{
	(void)arg;
	fprintf(alog, "%s %u %u %lld %lld %lld %lld %lld\n",
		r->end == SNILB_END_REJECT ? "reject" : "end", r->end,
		r->reason, us(r->created_ns, r->first_ns),
		us(r->created_ns, r->routed_ns), us(r->routed_ns, r->spliced_ns),
		us(r->spliced_ns, r->first_ns), us(r->created_ns, r->end_ns));
}

static int do_alog(struct dataplane *dp, struct snilb_config *cfg,
		   const char *path)
{
	int e;

	if (alog)
		return -EEXIST;
	alog = fopen(path, "w");
	if (!alog)
		return -errno;
	e = dp_log_open(dp, on_record, NULL);
	if (e)
		return e;
	cfg->access_log = 1;
	return dp_config_set(dp, cfg);
}

static int do_line(struct dataplane *dp, struct snilb_config *cfg, char *line)
{
	char a[128], b[128];
	unsigned int x, y, z;

	/* Before "snat": its "%s" would read "-ports". */
	if (sscanf(line, "snat-ports %u %u", &x, &y) == 2) {
		if (x < 1 || x > y || y > 65535)
			return -ERANGE;
		cfg->port_lo = (uint16_t)x;
		cfg->port_hi = (uint16_t)y;
		return dp_config_set(dp, cfg);
	}
	if (sscanf(line, "snat %127s", a) == 1) {
		if (inet_pton(AF_INET, a, &cfg->snat4) == 1 ||
		    inet_pton(AF_INET6, a, cfg->snat6) == 1)
			return dp_config_set(dp, cfg);
		return -EINVAL;
	}
	if (sscanf(line, "timeouts %u %u", &x, &y) == 2) {
		cfg->hello_timeout_ms = x;
		cfg->idle_timeout_s = y;
		return dp_config_set(dp, cfg);
	}
	if (sscanf(line, "mss %u %u", &x, &y) == 2) {
		cfg->mss4 = (uint16_t)x;
		cfg->mss6 = (uint16_t)y;
		return dp_config_set(dp, cfg);
	}
	if (sscanf(line, "synstate %u", &x) == 1) {
		cfg->syn_state_rate = x ? x : SNILB_SYN_STATE_OFF;
		return dp_config_set(dp, cfg);
	}
	if (sscanf(line, "single_syn %u", &x) == 1 && x <= 1) {
		cfg->single_syn = (uint8_t)x;
		return dp_config_set(dp, cfg);
	}
	if (sscanf(line, "listener %u %127s %u", &x, a, &y) == 3)
		return dp_listener_add(dp, a, (uint16_t)y, x);
	if (sscanf(line, "backend %u %127s %u %127s", &x, a, &y, b) == 4) {
		if (strcmp(b, "proxy-v2"))
			return -EINVAL;
		return dp_backend_set(dp, x, a, (uint16_t)y,
				      SNILB_BE_PROXY_V2);
	}
	if (sscanf(line, "backend %u %127s %u", &x, a, &y) == 3)
		return dp_backend_set(dp, x, a, (uint16_t)y, 0);
	if (!strncmp(line, "set ", 4))
		return do_set(dp, line + 4);
	if (sscanf(line, "route %u %127s %u %u", &x, a, &y, &z) == 4)
		return dp_route_add(dp, x, a, y, z);
	if (sscanf(line, "access-log %127s", a) == 1)
		return do_alog(dp, cfg, a);
	if (sscanf(line, "cookie-key %127s", b) == 1) {
		static uint8_t key[COOKIE_KEY_MAX];
		size_t len;

		if (cookie_key_read(b, key, &len, a, sizeof(a))) {
			fprintf(stderr, "%s\n", a);
			return -EINVAL;
		}
		return dp_cookie_key_set(dp, key, len) < 0 ? -EINVAL : 0;
	}
	if (sscanf(line, "xdp %127s %127s", b, a) >= 1) {
		enum dp_xdp_mode m = DP_XDP_AUTO;
		int ifindex = (int)if_nametoindex(b), e;
		bool native;

		if (!ifindex || nxdp == 16 ||
		    (sscanf(line, "xdp %*s %127s", a) == 1 &&
		     dp_xdp_mode_parse(a, &m)))
			return -EINVAL;
		e = dp_xdp_attach(dp, ifindex, m, &native);
		if (!e && native)
			xdps[nxdp++] = ifindex;
		printf("xdp %s %s\n", b, native ? "native" : "off");
		return e;
	}
	if (sscanf(line, "attach %127s", b) == 1) {
		int ifindex = (int)if_nametoindex(b);

		if (!ifindex || nifaces == 16)
			return -ENODEV;
		ifaces[nifaces++] = ifindex;
		return dp_attach(dp, ifindex);
	}
	return -EINVAL;
}

/* The fill of the tables and every counter, as "stat NAME VALUE". */
static void print_stats(const struct pinned *view)
{
	uint32_t flows = 0, hellos = 0, small = 0, rev = 0, max, i;

	pinned_map_fill(view, SNILB_MAP_FLOWS, &flows, &max);
	pinned_map_fill(view, SNILB_MAP_HELLOS, &hellos, &max);
	pinned_map_fill(view, SNILB_MAP_HELLOS_SMALL, &small, &max);
	hellos += small;	/* hello buffers held, both sizes */
	pinned_map_fill(view, SNILB_MAP_REV, &rev, &max);
	printf("stat flows %u\nstat hellos %u\nstat snat_ports %u\n", flows,
	       hellos, rev);
	for (i = 0; i < SNILB_ST_MAX; i++) {
		uint64_t v = 0;

		if (!pinned_stat(view, i, &v))
			printf("stat %s %llu\n", pinned_stat_name(i),
			       (unsigned long long)v);
	}
	fflush(stdout);
}

/* A second, reading the access log meanwhile (the ring must not fill). */
static void wait_second(struct dataplane *dp)
{
	struct pollfd p = { .events = POLLIN };
	struct timespec t0, t;
	int left = 1000;

	if (!alog) {
		sleep(1);
		return;
	}
	p.fd = dp_log_fd(dp);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!stop && left > 0 && poll(&p, 1, left) >= 0) {
		dp_log_read(dp);
		clock_gettime(CLOCK_MONOTONIC, &t);
		left = 1000 - (int)((t.tv_sec - t0.tv_sec) * 1000 +
				    (t.tv_nsec - t0.tv_nsec) / 1000000);
	}
	fflush(alog);
}

int main(int argc, char **argv)
{
	struct snilb_config cfg = {};
	struct dp_opts o = { 0 };
	struct dataplane *dp;
	struct pinned *view;
	char err[256], line[512];
	int lineno = 0, i;
	FILE *f;

	if (argc == 4 && !strcmp(argv[1], "--pin")) {
		o.pin_dir = argv[2];
		argv += 2;
		argc -= 2;
	}
	if (argc != 2 || !(f = fopen(argv[1], "r"))) {
		fprintf(stderr, "usage: dpctl [--pin DIR] SCRIPT\n");
		return 2;
	}
	/* The ring: one page unless the script turns the log on. */
	o.log_ring = DP_LOG_RING_OFF;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line + strspn(line, " \t"), "access-log", 10))
			o.log_ring = 0;
	rewind(f);
	dp = dp_open(&o, err, sizeof(err));
	view = dp ? pinned_of(dp, err, sizeof(err)) : NULL;
	if (!view) {
		fprintf(stderr, "dpctl: %s\n", err);
		dp_close(dp);
		return 1;
	}
	while (fgets(line, sizeof(line), f)) {
		int e;

		lineno++;
		line[strcspn(line, "#\n")] = 0;
		if (!line[strspn(line, " \t")])
			continue;
		e = do_line(dp, &cfg, line);
		if (e) {
			fprintf(stderr, "dpctl: %s:%d: %s: %s\n", argv[1],
				lineno, line, strerror(-e));
			pinned_close(view);
			dp_close(dp);
			return 1;
		}
	}
	fclose(f);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGUSR1, on_signal);
	printf("ready\n");
	fflush(stdout);
	while (!stop) {
		struct reap_result gr;
		struct timespec ts;

		wait_second(dp);	/* a signal cuts it short */
		if (dump) {
			dump = 0;
			print_stats(view);
		}
		clock_gettime(CLOCK_MONOTONIC, &ts);
		if (dp_reap(dp, (uint64_t)ts.tv_sec * 1000000000ull +
			  (uint64_t)ts.tv_nsec, &gr) == 0 &&
		    gr.hello_expired + gr.bind_expired + gr.idle_expired +
		    gr.closed) {
			printf("reaped hello=%u bind=%u idle=%u closed=%u "
			       "flows=%u\n",
			       gr.hello_expired, gr.bind_expired,
			       gr.idle_expired, gr.closed, gr.flows);
			fflush(stdout);
		}
	}
	print_stats(view);
	if (alog) {
		dp_log_read(dp);
		fclose(alog);
	}
	for (i = 0; i < nifaces && !o.pin_dir; i++)
		dp_detach(ifaces[i]);
	for (i = 0; i < nxdp && !o.pin_dir; i++)
		dp_xdp_detach(xdps[i]);
	pinned_close(view);
	dp_close(dp);
	return 0;
}

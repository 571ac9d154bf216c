// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* `snilb agent`'s options: one table gives getopt_long() and --help. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clienthello.h"
#include "defaults.h"
#include "gwapi.h"
#include "log.h"
#include "maglev.h"
#include "metrics.h"
#include "options.h"
#include "opts.h"
#include "snatports.h"
#include "snilb_abi.h"

static const char agent_about[] =
"Usage: snilb agent --manifests DIR --iface IF[,IF...] --snat ADDR [OPTIONS]\n"
"       snilb agent --kubeconfig PATH|--in-cluster --iface IF... --snat ADDR\n"
"\n"
"Load the data plane (or adopt the one pinned under --pin-path), attach it\n"
"to the interfaces and keep its maps equal to the Gateway API objects:\n"
"GatewayClass, Gateway, TLSRoute, Service, EndpointSlice, Pod,\n"
"ReferenceGrant and Namespace, read from\n"
"  - DIR: multi-document YAML files (*.yaml, *.yml, *.json; the directory\n"
"    only, not below it). Edits reach the kernel within a second. A bad\n"
"    file or object is reported (file, line, field) and the last good\n"
"    version of what it held stays in force; or\n"
"  - the Kubernetes API server (list+watch). One agent per cluster, elected\n"
"    with a Lease, writes the routes' and Gateways' status back.\n"
"\n"
"The agent runs in the foreground and logs one line per event. Stopping it\n"
"(even kill -9) leaves the data plane attached and routing; a new agent\n"
"adopts it without dropping a flow. 'snilb detach' removes it. A start\n"
"that fails (exit 1; 2: a bad command line) leaves the node as it was:\n"
"its input is checked before the kernel is changed, and a later failure\n"
"is undone, keeping what an earlier agent left.\n"
"\n"
"Options:\n";

static const char agent_example[] =
"\n"
"Example:\n"
"  snilb agent --manifests /etc/snilb --iface eth0 --snat 10.0.0.5 \\\n"
"      --metrics-listen " SNILB_METRICS_EXAMPLE "\n";

enum {
	O_PIN = OPT_LONG, O_STATUS, O_METRICS, O_CONTROLLER, O_LOGFMT,
	O_HELLO_TO, O_IDLE_TO, O_CAP, O_MAGLEV, O_DEBOUNCE, O_CHECK,
	O_KUBECONFIG, O_IN_CLUSTER, O_NODE, O_LEASE_NS, O_LEASE_NAME,
	O_NO_STATUS, O_MAX_FLOWS, O_SNAT_PORTS, O_SINGLE_SYN, O_MSS,
	O_SYN_STATE, O_ALOG, O_ALOG_FMT, O_ALOG_REJ, O_ALOG_SAMPLE,
	O_ALOG_RING, O_COOKIE_KEY, O_XDP, O_PEERS, O_DRAIN, O_DRAIN_TO,
	O_STEER,
};

static const struct opt agent_opts_tab[] = {
	{ "manifests", 'm', "DIR", "the manifest directory" },
	{ "kubeconfig", O_KUBECONFIG, "PATH",
	  "watch the API server of PATH's current context" },
	{ "in-cluster", O_IN_CLUSTER, NULL,
	  "watch the API server of the pod's cluster (service account token "
	  "and CA)" },
	{ "node-name", O_NODE, "NAME",
	  "this agent's identity in the Lease (default $NODE_NAME, else the "
	  "host name)" },
	{ "lease-namespace", O_LEASE_NS, "NS",
	  "where the status Lease lives (default the pod's namespace "
	  "in-cluster, else " SNILB_LEASE_NAMESPACE ")" },
	{ "lease-name", O_LEASE_NAME, "NAME",
	  "(default " SNILB_LEASE_NAME ")" },
	{ "no-status", O_NO_STATUS, NULL,
	  "never write status to the API server" },
	{ "iface", 'i', "IF[,IF...]",
	  "interfaces to attach to: where clients and backends are reached "
	  "(required)" },
	{ "snat", 's', "ADDR",
	  "the node's address towards the backends, one IPv4 and/or one IPv6 "
	  "(required: at least one; a backend's connections leave from the "
	  "one of its family, whatever the client's), which they can answer: "
	  "not unspecified, loopback, multicast, broadcast or IPv4-mapped" },
	{ "snat-ports", O_SNAT_PORTS, "LO-HI",
	  "source ports of the connections to the backends (default "
	  SNILB_STR(SNILB_SNAT_PORT_LO) "-" SNILB_STR(SNILB_SNAT_PORT_HI)
	  ", within 1024-65535): their number bounds the connections to one "
	  "backend address:port at once. The node's own connections must "
	  "never use them: at start the agent adds them to the sysctl "
	  "net.ipv4.ip_local_reserved_ports, and refuses a range that "
	  "overlaps the node's ephemeral ports (net.ipv4.ip_local_port_range) "
	  "unless the overlap is reserved already" },
	{ "pin-path", O_PIN, "PATH",
	  "bpffs directory for pinned maps and programs (default "
	  SNILB_PIN_PATH ")" },
	{ "status-file", O_STATUS, "PATH",
	  "where the status is written for the CLI (default "
	  SNILB_STATUS_FILE ")" },
	{ "metrics-listen", O_METRICS, "ADDR:PORT",
	  "serve Prometheus text at /metrics, and /healthz, /readyz (ready "
	  "once synced) (e.g. " SNILB_METRICS_EXAMPLE " or [::1]:9090)" },
	{ "controller-name", O_CONTROLLER, "NAME",
	  "GatewayClass controllerName to serve (default " GW_CONTROLLER ")" },
	{ "log-format", O_LOGFMT, "FMT", "logfmt (default) or json" },
	{ "hello-timeout", O_HELLO_TO, "MS",
	  "RST a client with no complete ClientHello after MS ms (default "
	  SNILB_STR(SNILB_DEFAULT_HELLO_TIMEOUT_MS) ")" },
	{ "idle-timeout", O_IDLE_TO, "S",
	  "RST an established flow idle for S s (default "
	  SNILB_STR(SNILB_DEFAULT_IDLE_TIMEOUT_S) ")" },
	{ "hello-cap", O_CAP, "BYTES",
	  "largest ClientHello (default " SNILB_STR(CH_CAP_DEFAULT) ")" },
	{ "single-syn", O_SINGLE_SYN, NULL,
	  "send each backend one SYN, not two: its TCP then takes the "
	  "microseconds to us for the RTT of the client's path, which BBR "
	  "sizes its window by for 10 s (docs/dataplane.md, \"The backend's "
	  "RTT\")" },
	{ "mss", O_MSS, "BYTES",
	  "the TCP MSS offered to IPv4 clients, and the most backends are "
	  "told they may send (IPv6: 20 less). Default: the smallest MTU of "
	  "the --iface interfaces less 40 (IPv6: less 60). Packets still too "
	  "big for a link get ICMP \"fragmentation needed\" from snilb" },
	{ "syn-state-rate", O_SYN_STATE, "N",
	  "SYNs without TCP timestamps, per second and CPU, whose window "
	  "scale and SACK are kept until their handshake completes; beyond "
	  "it (a SYN flood), SYN cookies alone, without them (default "
	  SNILB_STR(SNILB_SYN_STATE_RATE) "; 0: cookies alone always)" },
	{ "xdp", O_XDP, "MODE",
	  "SYNs to the listeners answered in XDP, before the kernel builds "
	  "an skb (docs/dataplane.md \"SYN floods in XDP\"): auto (on each "
	  "--iface whose driver runs XDP natively; TC alone elsewhere), "
	  "native (an interface without it is an error), off (the default: "
	  "a veth delivers what XDP sends back only to a peer that runs XDP "
	  "too). `snilb status` shows which" },
	{ "cookie-key", O_COOKIE_KEY, "FILE",
	  "the SYN cookie key: 32 bytes or more, hex or raw, the same on "
	  "every node behind one address (a Kubernetes Secret), so a node "
	  "takes the cookies of another. Read again on SIGHUP and when the "
	  "file changes: the new key makes cookies, the one it replaces still "
	  "checks them. Default: a random key of the node's own, made at the "
	  "first start and kept in the pinned maps" },
	{ "maglev-size", O_MAGLEV, "N",
	  "entries per Maglev table, a prime (default "
	  SNILB_STR(SNILB_MAGLEV_SIZE) ")" },
	{ "max-flows", O_MAX_FLOWS, "N",
	  "connections the flow table holds, set up or being set up (default "
	  SNILB_STR(SNILB_MAX_FLOWS) ", 1024 to 4194304; 544 bytes each, "
	  "allocated as they come, and 48 per connection it may hold, idle). "
	  "Pinned tables keep their size: another N needs them removed "
	  "(snilb detach; docs/agent.md)" },
	{ "access-log", O_ALOG, "FILE|-",
	  "write one record per connection ended and per rejection to FILE "
	  "(appended) or stdout: client, VIP, SNI, ALPN, TLS versions, "
	  "route, backend, bytes and packets each way, timings, how it "
	  "ended (docs/observability.md)" },
	{ "access-log-format", O_ALOG_FMT, "FMT",
	  "json (default: JSON lines) or logfmt" },
	{ "access-log-rejects", O_ALOG_REJ, "N",
	  "rejections logged per second and reason, the rest counted in a "
	  "\"suppressed\" line each second (default "
	  SNILB_STR(ALOG_REJECTS_PER_S) "; 0: all)" },
	{ "access-log-sample", O_ALOG_SAMPLE, "N",
	  "log 1 in N connections ended (default 1: all)" },
	{ "access-log-ring", O_ALOG_RING, "BYTES",
	  "the ring buffer the data plane writes records to, a power of 2 "
	  "from 16384 (default " SNILB_STR(SNILB_LOG_RING) " bytes, about "
	  "8,000 records); when the agent falls behind and it is full, "
	  "records are lost and counted (log_lost)" },
	{ "peers", O_PEERS, "FILE|NAME=ADDR,...|pods",
	  "the gateway nodes that share the VIPs behind ECMP, this one "
	  "(--node-name) among them: a packet of a connection another node "
	  "owns is sent to it (docs/multinode.md). FILE: a line \"NAME "
	  "ADDRESS [draining]\" per node, read again when it changes (the "
	  "same file on every node); ADDRESS: IPv4, the node's address "
	  "towards the others (on a segment they share, or routed: "
	  "--steer). pods: the DaemonSet's pods (app.kubernetes.io/name="
	  "snilb in $POD_NAMESPACE, else snilb-system) from the source, "
	  "named by their node, a terminating one draining" },
	{ "steer", O_STEER, "auto|l2|ipip",
	  "how a packet goes to the node that owns it (with --peers): l2, "
	  "to its MAC on the segment the nodes share; ipip, in an IPv4 "
	  "header from this node's address to the owner's (IPIP), through "
	  "routers too; auto (default): l2 where the owner is a neighbour, "
	  "ipip where the route to it has a gateway. IPv6 packets always go "
	  "in an IPv4 header (6in4). The MSS offered is 20 bytes lower "
	  "where a packet may go so (IPv6 always, IPv4 unless l2), so that "
	  "a full segment still fits the MTU" },
	{ "drain", O_DRAIN, NULL,
	  "on SIGTERM, take no new connection and serve the existing ones "
	  "until they end or --drain-timeout, then stop (with --peers: the "
	  "other nodes take the new ones; tell them too, \"draining\" in "
	  "FILE)" },
	{ "drain-timeout", O_DRAIN_TO, "S",
	  "the longest a drain lasts (default 300)" },
	{ "debounce", O_DEBOUNCE, "MS",
	  "wait for MS ms of quiet after a change before syncing (default "
	  SNILB_STR(SNILB_DEBOUNCE_MS) ", at most 500)" },
	{ "check", O_CHECK, NULL,
	  "decode and evaluate DIR, print the status and errors, change "
	  "nothing; exit 1 on error" },
	{ "help", 'h', NULL, "show this help" },
	{ 0 },
};

static const struct opt *const agent_tabs[] = { agent_opts_tab, NULL };

static int parse_uint(const char *opt, const char *s, unsigned long lo,
		      unsigned long hi, unsigned long *v)
{
	char *end;

	errno = 0;
	*v = strtoul(s, &end, 10);
	if (errno || *end || !*s || *v < lo || *v > hi) {
		fprintf(stderr, "snilb agent: %s %s: want a number in "
			"%lu..%lu\n", opt, s, lo, hi);
		return -1;
	}
	return 0;
}

/* Why backends could never answer @a (network order), or NULL. */
static const char *unusable4(uint32_t a)
{
	uint32_t h = ntohl(a);

	if (h >> 24 == 0)
		return "an address of 0.0.0.0/8 (this host, unspecified)";
	if (h >> 24 == 127)
		return "a loopback address";
	if (h >> 28 == 0xe)
		return "a multicast address";
	if (h == 0xffffffff)
		return "the broadcast address";
	return NULL;
}

static const char *unusable6(const struct in6_addr *a)
{
	if (IN6_IS_ADDR_UNSPECIFIED(a))
		return "the unspecified address";
	if (IN6_IS_ADDR_LOOPBACK(a))
		return "the loopback address";
	if (IN6_IS_ADDR_MULTICAST(a))
		return "a multicast address";
	if (IN6_IS_ADDR_V4MAPPED(a))
		return "an IPv4-mapped address (give the IPv4 address)";
	return NULL;
}

/* One IPv4 and one IPv6 address at most, each one the backends can
 * answer: their replies come back to it. */
static int add_snat(struct agent_opts *o, const char *a)
{
	struct in6_addr a6;
	uint32_t a4;
	const char *why;
	int v6 = 0, *have;

	if (inet_pton(AF_INET, a, &a4) == 1)
		why = unusable4(a4);
	else if (inet_pton(AF_INET6, a, &a6) == 1)
		why = unusable6(&a6), v6 = 1;
	else
		why = "not an IPv4 or IPv6 address";
	have = v6 ? &o->snat6 : &o->snat4;
	if (!why && *have)
		why = v6 ? "a second IPv6 address (one of each family)" :
			   "a second IPv4 address (one of each family)";
	if (why) {
		fprintf(stderr, "snilb agent: --snat %s: %s\n", a, why);
		return -1;
	}
	if (v6)
		memcpy(o->cfg.snat6, &a6, sizeof(a6));
	else
		memcpy(&o->cfg.snat4, &a4, sizeof(a4));
	*have = 1;
	return 0;
}

static int add_ifaces(struct agent_opts *o, char *list)
{
	char *tok, *save = NULL;
	size_t i;

	for (tok = strtok_r(list, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (o->nifaces == AGENT_MAX_IFACES) {
			fprintf(stderr, "snilb agent: at most %d interfaces\n",
				AGENT_MAX_IFACES);
			return -1;
		}
		if (!if_nametoindex(tok)) {
			fprintf(stderr, "snilb agent: --iface %s: no such "
				"interface in this network namespace\n", tok);
			return -1;
		}
		for (i = 0; i < o->nifaces; i++)
			if (!strcmp(o->ifnames[i], tok)) {
				fprintf(stderr, "snilb agent: --iface %s: "
					"given twice\n", tok);
				return -1;
			}
		o->ifnames[o->nifaces++] = tok;
	}
	return 0;
}

static int steer_parse(const char *arg, uint8_t *mode)
{
	if (!strcmp(arg, "auto"))
		*mode = SNILB_STEER_AUTO;
	else if (!strcmp(arg, "l2"))
		*mode = SNILB_STEER_L2;
	else if (!strcmp(arg, "ipip"))
		*mode = SNILB_STEER_IPIP;
	else
		return -1;
	return 0;
}

/*
 * The MSS from an MTU: IPv4 and TCP headers take 40 bytes, IPv6 and TCP
 * 60. Never below what the family guarantees (IPv6 links carry 1280).
 */
#define MSS_MIN		88		/* the kernel's TCP_MIN_MSS */
#define MSS_MAX		65495

static void set_mss(struct agent_opts *o, uint32_t mtu)
{
	uint32_t m4 = mtu - 40, m6 = mtu - 60;

	m4 = m4 < MSS_MIN ? MSS_MIN : m4 > MSS_MAX ? MSS_MAX : m4;
	m6 = m6 < 1220 ? 1220 : m6 > MSS_MAX ? MSS_MAX : m6;
	o->cfg.mss4 = (uint16_t)m4;
	o->cfg.mss6 = (uint16_t)m6;
}

static int iface_mtu(const char *name, uint32_t *mtu)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, SIOCGIFMTU, &ifr))
		err = -errno;
	else
		*mtu = (uint32_t)ifr.ifr_mtu;
	close(fd);
	return err;
}

/* No --mss: the smallest MTU of the interfaces, where packets leave. */
static int default_mss(struct agent_opts *o)
{
	uint32_t min = UINT32_MAX, mtu = 0;
	size_t i;
	int err;

	for (i = 0; i < o->nifaces; i++) {
		if ((err = iface_mtu(o->ifnames[i], &mtu))) {
			fprintf(stderr, "snilb agent: --iface %s: cannot read "
				"its MTU: %s\n", o->ifnames[i], strerror(-err));
			return -1;
		}
		if (mtu < min)
			min = mtu;
	}
	set_mss(o, min);
	return 0;
}

static int set_snat_ports(struct agent_opts *o, const char *arg)
{
	struct port_range r;
	char err[128];

	if (snat_ports_parse(arg, &r, err, sizeof(err))) {
		fprintf(stderr, "snilb agent: --snat-ports %s: %s\n", arg, err);
		return -1;
	}
	o->cfg.port_lo = r.lo;
	o->cfg.port_hi = r.hi;
	return 0;
}

static int set_metrics(struct agent_opts *o, const char *arg)
{
	struct sockaddr_storage ss;

	if (metrics_listen_parse(arg, &ss)) {
		fprintf(stderr, "snilb agent: --metrics-listen %s: want "
			"ADDR:PORT, [V6ADDR]:PORT or :PORT\n", arg);
		return -1;
	}
	o->metrics_listen = arg;
	return 0;
}

static int set_log_format(const char *arg)
{
	if (!strcmp(arg, "json"))
		log_set_format(LOG_JSON);
	else if (strcmp(arg, "logfmt")) {
		fprintf(stderr, "snilb agent: --log-format %s: want logfmt or "
			"json\n", arg);
		return -1;
	}
	return 0;
}

static int set_maglev_size(struct agent_opts *o, const char *arg)
{
	unsigned long v;

	if (parse_uint("--maglev-size", arg, 7, 1000003, &v))
		return -1;
	if (!maglev_is_prime((uint32_t)v)) {
		fprintf(stderr, "snilb agent: --maglev-size %lu: not a prime "
			"(try 16381, 65521 or 131071)\n", v);
		return -1;
	}
	o->cfg.maglev_size = (uint32_t)v;
	return 0;
}

/* The options that take a number; 1 if @key is none of them. */
static int parse_number(struct agent_opts *o, int key, const char *arg)
{
	unsigned long v;

	switch (key) {
	case O_HELLO_TO:
		if (parse_uint("--hello-timeout", arg, 100, 600000, &v))
			return -1;
		o->cfg.hello_timeout_ms = (uint32_t)v;
		return 0;
	case O_IDLE_TO:
		if (parse_uint("--idle-timeout", arg, 1, 7 * 86400, &v))
			return -1;
		o->cfg.idle_timeout_s = (uint32_t)v;
		return 0;
	case O_CAP:
		if (parse_uint("--hello-cap", arg, CH_CAP_MIN, CH_BUF_SIZE, &v))
			return -1;
		o->cfg.hello_cap = (uint32_t)v;
		return 0;
	case O_DEBOUNCE:
		if (parse_uint("--debounce", arg, 0, 500, &v))
			return -1;
		o->debounce_ms = (uint32_t)v;
		return 0;
	case O_MAX_FLOWS:
		if (parse_uint("--max-flows", arg, 1024, 4194304, &v))
			return -1;
		o->max_flows = (uint32_t)v;
		return 0;
	case O_MSS:
		if (parse_uint("--mss", arg, MSS_MIN, MSS_MAX, &v))
			return -1;
		set_mss(o, (uint32_t)v + 40);
		return 0;
	case O_XDP:
		if (dp_xdp_mode_parse(arg, &o->xdp)) {
			fprintf(stderr, "snilb agent: --xdp %s: auto, native "
				"or off (see --help)\n", arg);
			return -1;
		}
		return 0;
	case O_COOKIE_KEY:
		o->cookie_key = arg;
		return 0;
	case O_SYN_STATE:
		if (parse_uint("--syn-state-rate", arg, 0, 10000000, &v))
			return -1;
		o->cfg.syn_state_rate = v ? (uint32_t)v : SNILB_SYN_STATE_OFF;
		return 0;
	case O_ALOG_REJ:
		if (parse_uint("--access-log-rejects", arg, 0, 1000000, &v))
			return -1;
		o->alog.rejects_per_s = (uint32_t)v;
		return 0;
	case O_ALOG_RING:
		if (parse_uint("--access-log-ring", arg, 16384, 1u << 30, &v))
			return -1;
		if (v & (v - 1)) {
			fprintf(stderr, "snilb agent: --access-log-ring %s: "
				"want a power of 2\n", arg);
			return -1;
		}
		o->alog_ring = (uint32_t)v;
		return 0;
	case O_ALOG_SAMPLE:
		if (parse_uint("--access-log-sample", arg, 1, 1000000, &v))
			return -1;
		o->alog.sample = (uint32_t)v;
		return 0;
	}
	return 1;
}

static int set_alog_format(struct agent_opts *o, const char *arg)
{
	if (!strcmp(arg, "json") || !strcmp(arg, "logfmt")) {
		o->alog.logfmt = arg[0] == 'l';
		return 0;
	}
	fprintf(stderr, "snilb agent: --access-log-format %s: json or "
		"logfmt\n", arg);
	return -1;
}

static int parse_opt(struct agent_opts *o, int key, char *arg)
{
	switch (key) {
	case 'm': o->manifests = arg; return 0;
	case 'i': return add_ifaces(o, arg);
	case 's': return add_snat(o, arg);
	case O_SNAT_PORTS: return set_snat_ports(o, arg);
	case O_SINGLE_SYN: o->cfg.single_syn = 1; return 0;
	case O_PIN: o->pin_path = arg; return 0;
	case O_STATUS: o->status_file = arg; return 0;
	case O_METRICS: return set_metrics(o, arg);
	case O_CONTROLLER: o->controller = arg; return 0;
	case O_CHECK: o->check = 1; return 0;
	case O_KUBECONFIG: o->kubeconfig = arg; return 0;
	case O_IN_CLUSTER: o->in_cluster = 1; return 0;
	case O_NODE: o->node_name = arg; return 0;
	case O_LEASE_NS: o->lease_ns = arg; return 0;
	case O_LEASE_NAME: o->lease_name = arg; return 0;
	case O_NO_STATUS: o->no_status = 1; return 0;
	case O_LOGFMT: return set_log_format(arg);
	case O_MAGLEV: return set_maglev_size(o, arg);
	case O_ALOG:
		o->alog.path = arg;
		o->cfg.access_log = 1;
		return 0;
	case O_ALOG_FMT: return set_alog_format(o, arg);
	case O_PEERS: o->peers = arg; return 0;
	case O_STEER:
		if (steer_parse(arg, &o->cfg.steer)) {
			fprintf(stderr, "snilb agent: --steer %s: auto, l2 or "
				"ipip (see --help)\n", arg);
			return -1;
		}
		return 0;
	case O_DRAIN: o->drain = 1; return 0;
	case O_DRAIN_TO: {
		unsigned long v;

		if (parse_uint("--drain-timeout", arg, 1, 86400, &v))
			return -1;
		o->drain_timeout_s = (uint32_t)v;
		return 0;
	}
	}
	switch (parse_number(o, key, arg)) {
	case 0:
		return 0;
	case 1:
		fprintf(stderr, "snilb agent: option %d has no parser\n", key);
	}
	return -1;
}

/*
 * With --peers, a client's packet may reach its owner in an outer IPv4
 * header (IPv6 always, IPv4 unless --steer l2): the MSS offered leaves
 * room for it, so that the client's full segments fit once wrapped
 * (include/snilb_nodes.h). Never below the family's least.
 */
static void steer_mss(struct agent_opts *o)
{
	const uint16_t e = SNILB_STEER_ENCAP_LEN;

	if (!o->peers)
		return;
	if (o->cfg.steer != SNILB_STEER_L2 && o->cfg.mss4 >= MSS_MIN + e)
		o->cfg.mss4 -= e;
	if (o->cfg.mss6 >= 1220 + e)
		o->cfg.mss6 -= e;
}

/* What the options say together. */
static int check_opts(struct agent_opts *o)
{
	if (!!o->manifests + !!o->kubeconfig + o->in_cluster != 1) {
		fprintf(stderr, "snilb agent: one source: --manifests DIR, "
			"--kubeconfig PATH or --in-cluster\n");
		return -1;
	}
	if (o->check) {
		if (o->manifests)
			return 0;
		fprintf(stderr, "snilb agent: --check reads --manifests\n");
		return -1;
	}
	if (!o->nifaces || !(o->snat4 || o->snat6)) {
		fprintf(stderr, "snilb agent: --iface and --snat are "
			"required\n");
		return -1;
	}
	if (!o->cfg.mss4 && default_mss(o))
		return -1;
	steer_mss(o);
	return 0;
}

static void defaults(struct agent_opts *o)
{
	o->pin_path = SNILB_PIN_PATH;
	o->status_file = SNILB_STATUS_FILE;
	o->controller = GW_CONTROLLER;
	o->lease_name = SNILB_LEASE_NAME;
	o->debounce_ms = SNILB_DEBOUNCE_MS;
	o->cfg.maglev_size = SNILB_MAGLEV_SIZE;
	o->xdp = DP_XDP_OFF;
	o->cfg.port_lo = SNILB_SNAT_PORT_LO;
	o->cfg.port_hi = SNILB_SNAT_PORT_HI;
	o->alog.rejects_per_s = ALOG_REJECTS_PER_S;
	o->alog.sample = 1;
	o->drain_timeout_s = 300;
}

static int parse_args(int argc, char **argv, struct agent_opts *o)
{
	struct opts p;
	char *arg;
	int key;

	opts_init(&p, agent_tabs);
	while ((key = opts_next(&p, argc, argv, &arg)) != -1) {
		if (key == 'h') {
			fputs(agent_about, stdout);
			opts_help(stdout, agent_tabs);
			fputs(agent_example, stdout);
			return 1;
		}
		if (key == '?') {
			fprintf(stderr, "snilb agent: %s\n", p.err);
			return -1;
		}
		if (parse_opt(o, key, arg))
			return -1;
	}
	if (optind < argc) {
		fprintf(stderr, "snilb agent: unexpected argument '%s'\n",
			argv[optind]);
		return -1;
	}
	return check_opts(o);
}

int agent_options(int argc, char **argv, struct agent_opts *o)
{
	int rc;

	defaults(o);
	rc = parse_args(argc, argv, o);
	if (rc < 0)
		fputs("Run 'snilb agent --help' for the options.\n", stderr);
	return rc;
}

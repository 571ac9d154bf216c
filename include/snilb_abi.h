/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The data plane's map ABI: what the BPF program (bpf/snilb.bpf.c) and the
 * userspace library (user/dataplane/) both read and write. Addresses and
 * ports are in network byte order; everything else in host order.
 */
#ifndef SNILB_ABI_H
#define SNILB_ABI_H

#include <linux/types.h>

#include "clienthello.h"

#define SNILB_MAX_LISTENERS	1024
#define SNILB_MAX_ROUTES	16384	/* route_stats: 64 B each per CPU */
#define SNILB_MAX_FLOWS		131072	/* idle: 16 B each in flows, rev, conns */
#define SNILB_MAX_HELLOS	4096	/* handshakes buffering at once */
#define SNILB_MAX_BACKENDS	16384
/* The backend id of a Maglev slot whose connections are reset: a share
 * that belongs to an invalid backendRef (rejections respect weight). It is
 * the first id past the backends map, so the data plane's lookup of it
 * fails and the client gets an RST counted as no_backend, as for a set
 * with no backend. */
#define SNILB_BACKEND_RESET	SNILB_MAX_BACKENDS
#define SNILB_MAX_SETS		4096
#define SNILB_MAGLEV_SIZE	16381	/* default Maglev table size, prime */
#define SNILB_MAX_TRIES		3	/* backends tried per connection */
#define SNILB_SYN_BUCKETS	65536	/* syn_state: buckets at most, of */
#define SNILB_SYN_WAYS		4	/* ... entries each; the loader */
#define SNILB_SYN_BUCKETS_MIN	1024	/* sizes it to 2 s of the default */
#define SNILB_SYN_STATE_RATE	2048	/* states kept per s and CPU */
#define SNILB_SYN_STATE_OFF	0xffffffffu	/* none: cookies alone */

/*
 * SNAT source ports towards the backends, where the config leaves them 0
 * (snilb agent --snat-ports). Below Linux's ephemeral ports
 * (net.ipv4.ip_local_port_range, 32768-60999 by default; pods'
 * connections masqueraded to the node's address keep theirs, from the
 * same range) and Kubernetes' NodePorts (30000-32767), so the node's own
 * connections never take one; above the fixed ports services use most.
 * 20,000: connections to one backend address:port at once, per SNAT
 * address. The agent reserves them (net.ipv4.ip_local_reserved_ports).
 */
#define SNILB_SNAT_PORT_LO	10000
#define SNILB_SNAT_PORT_HI	29999

#define SNILB_AF_INET	4
#define SNILB_AF_INET6	6

/*
 * The maps, SNILB_MAP_<ID>, by the names bpf/maps.h and bpf/snilb.bpf.c
 * give them: the loader finds each in the skeleton by that name, so a
 * map renamed on one side only fails the build. pin: state that outlives
 * one load of the programs, pinned under the pin path, adopted by the
 * next loader and opened by pinned_open(); the tail-call table and the
 * per-CPU scratch belong to one load. fill: how full it is is worth
 * reporting (`snilb status`, /metrics, in this order).
 */
#define SNILB_MAPS(X)							\
	X(FLOWS, flows, 1, 1)						\
	X(HELLOS, hellos, 1, 1)						\
	X(REV, rev, 1, 1)						\
	X(ROUTES, routes, 1, 1)						\
	X(BACKENDS, backends, 1, 1)					\
	X(SETS, sets, 1, 1)						\
	X(HELLOS_SMALL, hellos_small, 1, 1)				\
	X(LISTENERS, listeners, 1, 0)					\
	X(LISTEN_PORT_BITS, listen_port_bits, 1, 0)			\
	X(VIPS, vips, 1, 0)						\
	X(VIP_BITS, vip_bits, 1, 0)					\
	X(CONFIG, config, 1, 0)						\
	X(STATS, stats, 1, 0)						\
	X(LISTENER_STATS, listener_stats, 1, 0)				\
	X(LISTENER_TIMEOUTS, listener_timeouts, 1, 0)			\
	X(ROUTE_STATS, route_stats, 1, 0)				\
	X(MAGLEV, maglev, 1, 0)						\
	X(SYN_STATE, syn_state, 1, 0)					\
	X(CONNS, conns, 1, 0)						\
	X(COOKIE_KEYS, cookie_keys, 1, 0)				\
	X(CLUSTER, cluster, 1, 0)					\
	X(NODES, nodes, 1, 0)						\
	X(NODE_RING, node_ring, 1, 0)					\
	X(LAYOUTS, layouts, 1, 0)					\
	X(ACCESS_LOG, access_log, 0, 0)					\
	X(PROGS, progs, 0, 0)						\
	X(SCRATCH, scratch, 0, 0)

enum snilb_map {
#define SNILB_MAP_ENUM(id, name, pin, fill) SNILB_MAP_##id,
	SNILB_MAPS(SNILB_MAP_ENUM)
#undef SNILB_MAP_ENUM
	SNILB_MAP_MAX,
};

/* layouts: a pinned map's name -> the hash of its key's and value's
 * layouts the loader that made or adopted it recorded
 * (user/dataplane/layout.c). No program reads it. */
struct snilb_layout_key {
	char name[16];		/* BPF_OBJ_NAME_LEN */
};
#define SNILB_MAX_LAYOUTS	64

/* listeners: {family, vip, port} -> listener. IPv4 uses addr[0]. */
struct snilb_listener_key {
	__u8 family;
	__u8 pad;
	__be16 port;
	__be32 addr[4];
};

struct snilb_listener {
	__u32 id;		/* index into per-listener counters */
	__u32 flags;
};

/*
 * vips: {family, address} -> how many listeners use that address. The
 * loader recounts it from `listeners` whenever one is added or removed
 * (user/dataplane/maps.c). A packet to a VIP that no listener takes is
 * answered or dropped by the data plane (bpf/vip.h), not passed to the
 * node, which does not own the address and would route it back out
 * (unless it does own it: then it is the node's).
 */
struct snilb_vip_key {
	__u8 family;
	__u8 pad[3];
	__be32 addr[4];
};

/*
 * vip_bits: bit h % 32 of word h / 32, h = snilb_vip_hash() of a VIP: the
 * prefilter that spares every other packet the `vips` hash lookup. The
 * same function on both sides: it folds the address words as they lie in
 * memory, so both must run on the same host (they do).
 */
#define SNILB_VIP_BITS	65536

static __always_inline __u32 snilb_vip_hash(__u8 family, const __be32 *a)
{
	__u32 x = a[0];

	if (family == SNILB_AF_INET6)
		x ^= a[1] ^ a[2] ^ a[3];
	return (x ^ (x >> 16)) & (SNILB_VIP_BITS - 1);
}

/*
 * routes: {listener, hash of a name} -> route. A wildcard route
 * "*.example.com" is stored under the hash of ".example.com"; the data
 * plane hashes a name once, right to left, which yields the hash of every
 * dot-suffix on the way (snilb_name_hash_*). The full name in the value is
 * compared before a route is used, so a hash collision can never send a
 * connection to another tenant's backends.
 */
struct snilb_route_key {
	__u32 listener;
	__u32 pad;
	__u64 hash;
};

struct snilb_route {
	__u32 id;		/* index into per-route counters */
	__u32 set;		/* backend set (flipped in one write) */
	__u32 name_len;
	__u32 pad;
	char name[256];		/* ".example.com" for a wildcard */
};

/* backends[id]: where a backend listens, and what it asks for. */
struct snilb_backend {
	__u8 family;
	__u8 pad;
	__be16 port;
	__u32 flags;		/* SNILB_BE_* */
	__be32 addr[4];
};

/* It reads a PROXY protocol v2 header before the client's bytes (its
 * Service asks for it: docs/agent.md; docs/dataplane.md "PROXY v2"). */
#define SNILB_BE_PROXY_V2	1u

/*
 * sets[id]: a backend set. Its Maglev table (backend ids) is the inner
 * array maglev[id], `size` entries long; a set with size 0 has no live
 * backend. The agent builds a new set in a free id and flips the route's
 * `set` to it in one write.
 */
struct snilb_set {
	__u32 size;
	__u32 nbackends;
	__u32 flags;		/* SNILB_SET_*, from its backends' */
	__u32 pad;
};

/* A backend of the set has SNILB_BE_PROXY_V2: a connection routed to it
 * has its PROXY header built, whichever backend it is bound to. */
#define SNILB_SET_PROXY_V2	1u

#include "snilb_stats.h"	/* the counters */

/*
 * Defaults of struct snilb_config's fields where zero means "default"
 * (the hello cap: CH_CAP_DEFAULT; Maglev: SNILB_MAGLEV_SIZE; SYN states:
 * SNILB_SYN_STATE_RATE), for the data plane, the reaper and --help.
 */
#define SNILB_DEFAULT_WINDOW	64240	/* our SYN-ACK's window, unscaled */
#define SNILB_DEFAULT_WSCALE	7	/* the window scale we advertise */
#define SNILB_DEFAULT_MSS4	1460	/* the MSS we advertise to clients */
#define SNILB_DEFAULT_MSS6	1440
#define SNILB_DEFAULT_HELLO_TIMEOUT_MS	10000	/* client silent after the
						 * handshake: RST */
#define SNILB_DEFAULT_IDLE_TIMEOUT_S	3600	/* spliced flow idle: freed */
#define SNILB_DEFAULT_BIND_TIMEOUT_MS	1000	/* backend SYN-ACK wait */
/*
 * A hello longer than this is acknowledged as it comes (all but its last
 * byte), so a client whose first flight cannot hold it sends the rest:
 * below the smallest initial window a TCP may use (RFC 3390: 4,380 bytes;
 * RFC 6928 IW10 is 14,600). snilb then owns those bytes: it sends them to
 * the backend again until the backend acknowledges them (bpf/owned.h).
 */
#define SNILB_HELLO_OWN_FROM	4096

/* config[0]: settings the agent writes; zero means the default. */
struct snilb_config {
	__u32 hello_cap;	/* largest hello, bytes (16 KiB) */
	__u32 hello_timeout_ms;	/* client silent after handshake (10 s) */
	__u32 idle_timeout_s;	/* established flow idle (3600 s) */
	__u32 syn_state_rate;	/* SYNs without timestamps per second and
				 * CPU given a per-SYN state
				 * (SNILB_SYN_STATE_RATE; _OFF: none) */
	__u8 wscale;		/* window scale we advertise (7) */
	__u8 single_syn;	/* 1: one SYN per backend, not two: its TCP
				 * takes its RTT from our handshake
				 * (docs/dataplane.md "The backend's RTT") */
	__u8 access_log;	/* 1: records to the access_log ring, a
				 * conns entry per routed flow (alog.h) */
	__u8 steer;		/* how a packet goes to its owner node:
				 * SNILB_STEER_* (snilb_nodes.h) */
	__u32 window;		/* window in our SYN-ACK, unscaled (64240) */
	__u16 mss4;		/* MSS we advertise to clients (1460) */
	__u16 mss6;		/* (1440) */
	__u32 bind_timeout_ms;	/* backend SYN-ACK wait (1000) */
	__u16 port_lo;		/* SNAT source ports, lo..hi */
	__u16 port_hi;
	__u32 maglev_size;	/* entries per Maglev table (16381) */
	__be32 snat4;		/* node address towards the backends */
	__be32 snat6[4];
};

/*
 * rev: backend-side tuple -> struct snilb_rev (below). Our SNAT address
 * is not in the key: the node has one of each family (config), and the
 * data plane looks a packet up only once it is addressed to it, or an
 * ICMP error quotes a packet from it (to_snat(), on_icmp()). 24 bytes,
 * not 40: with the value, a 192-byte kernel object, not 256.
 */
struct snilb_rev_key {
	__u8 family;
	__u8 pad;
	__be16 bport;		/* backend port */
	__be16 nport;		/* our SNAT port */
	__u16 pad2;
	__be32 baddr[4];
};

/* flows: client tuple -> state. */
struct snilb_flow_key {
	__u8 family;
	__u8 pad;
	__be16 cport;
	__be16 vport;
	__u16 pad2;
	__be32 caddr[4];
	__be32 vaddr[4];
};

/*
 * How far a spliced flow has closed (snilb_flow.closing). A flow is freed
 * a grace period after both FINs are acknowledged (the TIME-WAIT that
 * lets a lost last ACK be resent); one FIN, or an RST that was not
 * exact, shortens its idle timeout instead (user/dataplane/reaper.c).
 */
enum snilb_close {
	SNILB_CL_C_FIN = 1,	/* the client sent FIN */
	SNILB_CL_B_FIN = 2,	/* the backend sent FIN */
	SNILB_CL_C_ACKED = 4,	/* the backend acknowledged the client's */
	SNILB_CL_B_ACKED = 8,	/* the client acknowledged the backend's */
	SNILB_CL_RST_C = 16,	/* an in-window RST from the client passed,
				 * not exact: the backend's next packet
				 * (its challenge ACK) clears it */
	SNILB_CL_RST_B = 32,	/* ... from the backend; the client's next
				 * packet clears it */
	SNILB_CL_DONE = SNILB_CL_C_FIN | SNILB_CL_B_FIN | SNILB_CL_C_ACKED |
			SNILB_CL_B_ACKED,
};

enum snilb_flow_state {
	SNILB_FS_HELLO = 1,	/* handshake done, buffering the hello */
	SNILB_FS_ROUTED,	/* route found, SYN sent to a backend */
	SNILB_FS_SPLICED,
	SNILB_FS_CLOSING,
};

/*
 * rev: backend-side tuple -> the client's flow key and, once spliced, a
 * copy of what a backend -> client packet needs of the flow (made when
 * the backend's SYN-ACK splices it; none of it changes afterwards). Such
 * a packet then costs one hash lookup, not two; a FIN or RST still looks
 * the flow up (it changes the flow's state).
 */
struct snilb_rev {
	struct snilb_flow_key flow;
	__u32 spliced;		/* the copy below is valid */
	__u32 route;
	__u32 seq_off;		/* as in the flow */
	__u32 ts_off;
	__u32 ifindex;		/* client side path */
	__u8 cmac[6];
	__u8 lmac[6];
	__u8 bwscale;		/* backend's window scale (0xf: none) */
	__u8 cwscale;		/* client's (0xf: none) */
	__u8 watch;		/* a FIN or RST passed: backend -> client
				 * packets look the flow up too */
	__u8 owning;		/* hello bytes we acknowledged to the
				 * client wait for the backend's ACK */
	__u16 b_win;		/* the backend's last window field */
	__u16 cmtu;		/* MTU of the client side path (0: unknown) */
	__u32 b_ack;		/* ... and ACK: what it received of the
				 * client (the client's own numbers) */
	__u32 owned;		/* where they end (the client's numbers) */
	__u64 bytes_b2c;	/* payload forwarded to the client */
	__u64 pkts_b2c;		/* ... in packets */
	__u64 first_ns;		/* the backend's first payload byte */
};

_Static_assert(48 + sizeof(struct snilb_rev_key) + 8 +
	       sizeof(struct snilb_rev) <= 192,
	       "a rev entry is a 192-byte object (48 + key + value + 8)");

/*
 * syn_state[snilb_syn_hash() % SNILB_SYN_BUCKETS]: what SYNs without
 * timestamps offered, which their cookies have no room for (window scale,
 * SACK, the exact MSS), until their first ACK takes it. An array the
 * programs index without a helper call; in a bucket, a new entry takes an
 * empty slot or the oldest. An entry is one 64-bit word, written and read
 * whole (SNILB_SYN_* below): 0 is empty.
 */
struct snilb_syn_bucket {
	__u64 slot[SNILB_SYN_WAYS];
};

#define SNILB_SYN_MSS(e)	((__u16)(e))
#define SNILB_SYN_WSCALE(e)	((__u8)((e) >> 16) & 0xf)	/* 0xf: none */
#define SNILB_SYN_SACK(e)	((__u8)((e) >> 20) & 1)
#define SNILB_SYN_STAMP(e)	((__u32)((e) >> 21) & 0x7ff)	/* ~s */
#define SNILB_SYN_TAG(e)	((__u32)((e) >> 32))

/* The hash of a SYN: its tuple and the client's ISN. The bucket from its
 * low bits, the entry's tag from its high 32 (never 0). */
static __always_inline __u64 snilb_syn_hash(const struct snilb_flow_key *k,
					    __u32 isn)
{
	const __u32 *w = (const __u32 *)k;
	__u64 h = 0xcbf29ce484222325ull ^ isn;
	unsigned int i;

	for (i = 0; i < sizeof(*k) / 4; i++)
		h = (h ^ w[i]) * 0x100000001b3ull;
	h ^= h >> 33;			/* murmur3's finaliser: mix high */
	h *= 0xff51afd7ed558ccdull;	/* and low bits */
	h ^= h >> 33;
	return h | 1ull << 32;
}

/* snilb_flow.resyn: our second SYN to the backend (bpf/backend.h). */
#define SNILB_RESYN_NONE	0	/* one so far (--single-syn, or the
					 * path was not known yet) */
#define SNILB_RESYN_DONE	1	/* sent: the next SYN-ACK answers it */
#define SNILB_RESYN_EARLY	2	/* sent right behind the first: its
					 * SYN-ACK follows the first one's */

/* Client TCP options, as carried through the cookie's timestamp bits
 * (or the syn_state entry of a client without timestamps). */
struct snilb_topts {
	__u16 mss;
	__u8 wscale;		/* 0xf: none */
	__u8 sack;
	__u8 ts;		/* timestamps in use */
	__u8 pad[3];
};

/*
 * A flow's state. A spliced client -> backend packet (splice_c2b(), its
 * lookup, fwd.h's to_backend()) reads and writes only the first 96
 * bytes: the first 32 share a cache line with the key's end, which the
 * lookup compares anyway, the next 64 are one line (a flows entry is a
 * kmalloc object, 8 bytes of the allocator's list, 48 of the hash table's,
 * the 40-byte key, then this: the value starts 32 bytes before a line).
 * What a handshake, a close or the access log needs follows, to 160
 * bytes: a 256-byte kmalloc object with the key and the hash table's own
 * (what only a bind and a replay need is in the hello's entry, struct
 * snilb_bind; the access log's times in conns, struct snilb_conn).
 * Moving a field is a layout change: pinned flows are not adopted
 * (docs/agent.md, "Upgrading across a layout change").
 */
struct snilb_flow {
	/* the spliced path: the key's line */
	__u16 state;
	__u16 pp_len;		/* PROXY v2 header length the bound backend
				 * gets before the hello (0: none); its ISN
				 * is client_isn - pp_len */
	__u32 backend;		/* backend id */
	__u32 seq_off;		/* backend ISN - our ISN */
	__u32 ts_off;		/* backend TSval - ours */
	struct snilb_topts opts;
	__be16 nport;		/* our SNAT port */
	__u16 bmtu;		/* MTU of the path to the backend (0: unknown) */
	__u16 c_win;		/* the client's last window field (c_ack's) */
	__u8 bwscale;		/* backend's window scale (0xf: none) */
	__u8 resyn;		/* SNILB_RESYN_*: our second SYN to it */
	/* the spliced path: one line */
	__u64 closing;		/* SNILB_CL_* bits, set atomically (64-bit:
				 * what BPF's atomics take before -mcpu=v3) */
	__u64 seen_ns;
	__u64 path_ns;		/* next hops both ways last learned */
	__u64 bytes_c2b;
	__u64 pkts_c2b;		/* plain adds, as bytes_c2b: see alog.h */
	__u32 c_ack;		/* the client's last ACK (our numbers) */
	__u32 route;
	__u32 b_ifindex;	/* cached path to the backend */
	__u8 bmac[6];
	__u8 bsmac[6];
	/* the rest */
	__u64 created_ns;
	__u64 gen;		/* odd while a CPU binds or splices the flow
				 * (bpf/bind.h, flow_claim()) */
	__u32 client_isn;	/* client's ISN */
	__u32 our_isn;		/* the cookie */
	__u32 ts_recent;	/* last TSval from the client */
	__u32 our_tsval;	/* TSval of our SYN-ACK (client's clock base) */
	__u32 ifindex;		/* where the client's packets arrive */
	__u32 c_fin_seq;	/* the client's FIN, in its numbers */
	__u32 b_fin_seq;	/* the backend's FIN, in our numbers */
	__u16 listener;
	__u16 hello_len;	/* contiguous hello bytes buffered */
	__u16 h_acked;		/* hello bytes we acknowledged (bpf/owned.h) */
	__u8 cmac[6];		/* client side next hop, for replies */
	__u8 lmac[6];
	__u8 ooo;		/* hello bytes held past a gap */
	__u8 closer;		/* enum snilb_end of the first FIN */
};

_Static_assert(SNILB_MAX_LISTENERS <= 65536 && CH_BUF_SIZE < 65536,
	       "listener ids and hello lengths fit 16 bits");
_Static_assert(sizeof(struct snilb_flow) <= 160,
	       "a flows entry is a 256-byte object (48 + key + value + 8)");

/* Where the spliced path's fields end: see struct snilb_flow. */
#define SNILB_FLOW_HOT	96
_Static_assert(__builtin_offsetof(struct snilb_flow, created_ns) ==
	       SNILB_FLOW_HOT && __builtin_offsetof(struct snilb_flow,
						    closing) == 32,
	       "the spliced path's fields: the key's line, then one line");

#include "snilb_log.h"	/* the access log's records */
#include "snilb_cookie.h"	/* the SYN cookie's keys */
#include "snilb_nodes.h"	/* several gateway nodes */

/*
 * hellos: client tuple -> buffered bytes (released once spliced). Bytes
 * that came past a gap (a lost or reordered segment) are kept at their
 * offset and their ranges held, so the resent segment completes them.
 */
#define SNILB_HELLO_OOO	2	/* ranges held past a gap */

struct snilb_hello_range {
	__u32 start;		/* hello offsets; end 0: unused */
	__u32 end;
};

/*
 * The PROXY protocol v2 header (bpf/proxy.h): at most 16 bytes, 36 of
 * addresses, and TLVs: the connection id, the first ALPN protocol, the
 * SNI (3 + 16, 3 + 63, 3 + 253): 393. Kept in a buffer of 512 (what one
 * bpf_csum_diff() sums), zero past its end.
 */
#define SNILB_PP2_BUF		512
#define SNILB_PP2_ID_LEN	16	/* snilb_conn_id() in hex */

/*
 * What a flow needs from its hello's routing to its splice, and while the
 * backend has not acknowledged what snilb owns (bpf/owned.h): kept in the
 * hello's entry, which lives exactly that long, not in the flow.
 */
struct snilb_bind {
	__u64 bind_ns;		/* SYN sent to the current backend */
	__u64 rtx_ns;		/* the replay last sent again (owned.h) */
	__u32 set;		/* the route's backend set */
	__u32 tries;		/* backends tried */
	__u32 need;		/* parse again once this many bytes are there */
	__u32 rtx_ack;		/* the backend ACK we last sent again for */
	__u32 rtx_ecr;		/* the TSecr the replay carried */
	__u16 cwin;		/* client's last window field, in the hello */
	__u16 rtx_chunk;	/* payload per hello segment to the backend */
	__u8 tw_resets;		/* backend TIME-WAITs reset while binding */
	__u8 pad[7];
};

struct snilb_hello {
	__u32 len;		/* contiguous bytes from the first */
	__u32 pp_len;		/* bytes in pp[] (0: not built) */
	struct snilb_bind b;
	struct snilb_hello_range ooo[SNILB_HELLO_OOO];
	__u8 pp[SNILB_PP2_BUF];	/* the PROXY v2 header, if its route's set
				 * has a backend that asks for one */
	__u8 buf[CH_BUF_SIZE + 2048];	/* slack: copies are chunked */
};

/*
 * hellos_small: the first bytes of a hello that does not come whole in
 * its first segment, and that fits SNILB_HELLO_SMALL bytes (most do: a
 * hello with a post-quantum key share is about 1,800). Its entry is a 4
 * KiB kernel object; a `hellos` entry, 19 KB, takes 32 (the page
 * allocator's next power of 2). Once the parser would act on what is
 * held (the hello whole, or a verdict), or a segment reaches past
 * SNILB_HELLO_SMALL, the bytes move to `hellos` (bpf/hello_small.h),
 * where the parse and the replay read them. So a
 * client that sends a hello slowly, or stops half-way, holds 4 KiB, not
 * 32, and cannot take the `hellos` entries whole hellos need.
 */
#define SNILB_HELLO_SMALL	2944	/* bytes held */
#define SNILB_HELLO_SMALL_CHUNK	512	/* copied from a segment at once */

struct snilb_hello_small {
	__u32 len;		/* contiguous bytes from the first */
	__u32 need;		/* parse once this many bytes are there, as
				 * the parser last said (bpf/hello_small.h) */
	struct snilb_hello_range ooo[SNILB_HELLO_OOO];
	__u8 buf[SNILB_HELLO_SMALL + 2 * SNILB_HELLO_SMALL_CHUNK];
};

/* The hash table's own 48 bytes, the key, the allocator's 8: a 4 KiB
 * object. */
_Static_assert(48 + sizeof(struct snilb_flow_key) + 8 +
	       sizeof(struct snilb_hello_small) <= 4096,
	       "a hellos_small entry is a 4 KiB object");

/*
 * A connection's id: the PROXY header's PP2_TYPE_UNIQUE_ID (as 16 hex
 * digits, "%016llx"), `snilb flows -o json`'s "id", and the one the
 * access log prints (conn_id). A hash of the client's tuple, its ISN
 * and the flow's creation time (ns): no state more in the flow.
 */
static __always_inline __u64 snilb_conn_id(const struct snilb_flow_key *k,
					   __u32 client_isn, __u64 created_ns)
{
	__u64 h = snilb_syn_hash(k, client_isn) ^ created_ns;

	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;	/* murmur3's second constant */
	h ^= h >> 33;
	return h;
}

/* --- names ------------------------------------------------------------ */

#define SNILB_HASH_SEED 0xcbf29ce484222325ull	/* FNV-1a offset basis */
#define SNILB_HASH_PRIME 0x100000001b3ull

/* One step of the right-to-left FNV-1a hash of a name. */
static __always_inline __u64 snilb_hash_step(__u64 h, __u8 c)
{
	return (h ^ c) * SNILB_HASH_PRIME;
}

/* The route key hash of @len bytes of @name (userspace side). */
static inline __u64 snilb_name_hash(const char *name, __u32 len)
{
	__u64 h = SNILB_HASH_SEED;

	while (len--)
		h = snilb_hash_step(h, (__u8)name[len]);
	return h;
}

/*
 * A route's hostname is the Gateway API's: "foo.example.com",
 * "*.example.com" (every name below example.com) or "*" (every name). The
 * data plane meets every dot-suffix of a name as it hashes it, so a
 * wildcard is stored as its suffix: "*.example.com" as ".example.com",
 * "*" as "". The only encoding of the two; loader and readers use these.
 */
#define SNILB_HOST_MAX	(CH_SNI_MAX + 1)	/* "*" + a stored name */

/* The name @hostname is stored under, within it; NULL if it cannot be. */
static inline const char *snilb_route_name(const char *hostname)
{
	const char *name = hostname[0] == '*' ? hostname + 1 : hostname;
	__u32 len = 0;

	while (len <= CH_SNI_MAX && name[len])
		len++;
	if (len > CH_SNI_MAX)
		return (const char *)0;
	if (hostname[0] == '*' ? len && name[0] != '.' : !len)
		return (const char *)0;
	return name;
}

/* The routes key of @hostname on @listener; its stored name, or NULL. */
static inline const char *snilb_route_key_of(struct snilb_route_key *k,
					     __u32 listener,
					     const char *hostname)
{
	const char *name = snilb_route_name(hostname);
	__u32 len = 0;

	if (!name)
		return name;
	while (name[len])
		len++;
	k->listener = listener;
	k->pad = 0;
	k->hash = snilb_name_hash(name, len);
	return name;
}

/* The hostname of stored name @name (@len bytes, at most CH_SNI_MAX)
 * into @buf (SNILB_HOST_MAX + 1 bytes). */
static inline char *snilb_route_host(char *buf, const char *name, __u32 len)
{
	__u32 i, o = 0;

	if (!len || name[0] == '.')
		buf[o++] = '*';
	for (i = 0; i < len && i < CH_SNI_MAX; i++)
		buf[o++] = name[i];
	buf[o] = 0;
	return buf;
}

/* --- SNAT claims -------------------------------------------------------- */

/* Has @cfg an SNAT address for @family? */
static __always_inline int snilb_snat_set(const struct snilb_config *cfg,
					  __u8 family)
{
	if (family == SNILB_AF_INET)
		return cfg->snat4 != 0;
	return (cfg->snat6[0] | cfg->snat6[1] | cfg->snat6[2] |
		cfg->snat6[3]) != 0;
}

/*
 * The rev key of a flow bound to backend @be through our SNAT port
 * @nport: what the data plane claims and frees, and the loader and the CLI
 * find again. -1 when @cfg has no SNAT address of @be's family.
 */
static __always_inline int snilb_rev_key_of(struct snilb_rev_key *rk,
					    const struct snilb_backend *be,
					    const struct snilb_config *cfg,
					    __be16 nport)
{
	__builtin_memset(rk, 0, sizeof(*rk));
	rk->family = be->family;
	rk->bport = be->port;
	rk->nport = nport;
	__builtin_memcpy(rk->baddr, be->addr, 16);
	return snilb_snat_set(cfg, be->family) ? 0 : -1;
}

#endif /* SNILB_ABI_H */

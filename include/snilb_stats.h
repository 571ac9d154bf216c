/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The counters' ABI, shared by the data plane (bpf/stats.h) and whatever
 * reads them (user/dataplane/pinned.c, the agent's metrics, the CLI): why
 * a connection was reset, the global counters, and the ones per listener
 * and per route. Included by snilb_abi.h.
 */
#ifndef SNILB_STATS_H
#define SNILB_STATS_H

/*
 * Why a connection was answered with an RST, past the parser's reasons
 * (CH_REASONS): SNILB_REJ_<ID> and the name of its counter. One counter
 * each.
 */
#define SNILB_REJECTS(X)						\
	X(NO_ROUTE, "no_route")		/* valid name, no route for it */ \
	X(NO_BACKEND, "no_backend")					\
	X(TIMEOUT, "timeout")		/* no complete hello, or no	\
					 * backend answer, in time	\
					 * (counted by the agent's	\
					 * reaper) */			\
	X(TABLE_FULL, "table_full")	/* flow or hello table full */	\
	X(BAD_COOKIE, "bad_cookie")

enum snilb_reject {
	SNILB_REJ_PARSE = 0,	/* + enum ch_reason: the hello was refused */
	SNILB_REJ_PARSE_LAST = CH_R_MAX - 1,
#define SNILB_REJ_ENUM(id, name) SNILB_REJ_##id,
	SNILB_REJECTS(SNILB_REJ_ENUM)
#undef SNILB_REJ_ENUM
	SNILB_REJ_MAX,
};

/*
 * Global counters, SNILB_ST_<ID>: their index into the per-CPU `stats`
 * array, and the name the CLI, the metrics ("snilb_<name>_total") and
 * the tests know them by. The rejections follow, one per enum
 * snilb_reject, named "reject_" + the reason's name.
 */
#define SNILB_STATS(X)							\
	X(PASS, "pass")			/* packets not ours, passed on */ \
	X(SYN, "syn")			/* SYNs answered with a cookie */ \
	X(COOKIE_OK, "cookie_ok")					\
	X(COOKIE_BAD, "cookie_bad")					\
	X(FLOW_NEW, "flow_new")						\
	X(HELLO_SEG, "hello_seg")	/* hello segments buffered */	\
	X(HELLO_DUP, "hello_dup")	/* retransmitted bytes ignored */ \
	X(HELLO_GAP, "hello_gap")	/* segment past a gap not held:	\
					 * too far, or no range left;	\
					 * dropped */			\
	X(ROUTED, "routed")		/* hellos that matched a route */ \
	X(RST_SENT, "rst_sent")						\
	X(BAD_TCP, "bad_tcp")		/* malformed TCP to a listener */ \
	X(BIND, "bind")			/* SYNs sent to a backend */	\
	X(BIND_RETRY, "bind_retry")	/* ... to a further backend */	\
	X(SPLICED, "spliced")		/* backend answered, hello	\
					 * replayed */			\
	X(FWD_C2B, "fwd_c2b")		/* spliced packets client ->	\
					 * backend */			\
	X(FWD_B2C, "fwd_b2c")						\
	X(FWD_FAIL, "fwd_fail")		/* no route/neighbour to	\
					 * forward */			\
	X(SNAT_FULL, "snat_full")	/* no free SNAT port */		\
	X(TW_RESET, "tw_reset")		/* backend TIME-WAIT on our port \
					 * reset */			\
	X(ICMP_FWD, "icmp_fwd")		/* ICMP errors about spliced	\
					 * flows, passed on to the	\
					 * client */			\
	X(RST_IGNORED, "rst_ignored")	/* RSTs out of window: dropped */ \
	X(CHALLENGE_ACK, "challenge_ack") /* RFC 5961 challenge ACKs	\
					 * sent */			\
	X(HELLO_OOO, "hello_ooo")	/* hello segments held past a	\
					 * gap */			\
	X(BAD_CSUM, "bad_csum")		/* hello segments with a bad TCP \
					 * checksum nothing had checked	\
					 */				\
	/* Packets to a VIP that no listener takes (bpf/vip.h): */	\
	X(VIP_ECHO, "vip_echo")		/* echo requests answered */	\
	X(VIP_UNREACH, "vip_unreach")	/* UDP: port unreachable sent */ \
	X(VIP_LIMITED, "vip_limited")	/* ... not sent: over the rate */ \
	X(VIP_RST, "vip_rst")		/* TCP to a port with no	\
					 * listener */			\
	X(VIP_FRAG, "vip_frag")		/* fragments, IPv4 options, IPv6 \
					 * extension headers: dropped */ \
	X(VIP_DROP, "vip_drop")		/* anything else: dropped */	\
	X(RESYN, "resyn")		/* second SYNs sent to a backend \
					 * (right behind the first, or	\
					 * on its first SYN-ACK): no RTT \
					 * sample from our handshake	\
					 * (bpf/backend.h) */		\
	X(SYN_STATE, "syn_state")	/* SYNs without timestamps given \
					 * a per-SYN state (wscale,	\
					 * SACK) */			\
	X(SYN_COOKIE_ONLY, "syn_cookie_only") /* ... answered by a	\
					 * cookie alone: over this	\
					 * CPU's budget (a flood) */	\
	X(TOO_BIG, "too_big")		/* oversize packets answered	\
					 * with ICMP "fragmentation	\
					 * needed" */			\
	X(ICMP_BACK, "icmp_back")	/* ICMP errors from the client's \
					 * side passed on to the	\
					 * backend */			\
	X(HELLO_ACK, "hello_ack")	/* ACKs of hello bytes (a hello	\
					 * too large for a client's	\
					 * first flight: bpf/hello.h,	\
					 * hello_ack()) */		\
	X(HELLO_RTX, "hello_rtx")	/* acknowledged hello bytes sent \
					 * to the backend again		\
					 * (bpf/owned.h) */		\
	X(LOG_SENT, "log_sent")		/* access log records written	\
					 * to the ring (bpf/alog.h) */	\
	X(LOG_LOST, "log_lost")		/* ... not: the ring was full */ \
	X(X_MTU, "x_mtu")		/* "too big" about a packet	\
					 * NAT46/64 translated (nat46.h) */	\
	X(SYN_XDP, "syn_xdp")		/* SYNs answered by the XDP	\
					 * program (counted in syn too:	\
					 * bpf/xdp.h) */	\
	X(STEER_OUT, "steer_out")	/* packets sent to their owner	\
					 * node (docs/multinode.md) */	\
	X(STEER_IN, "steer_in")		/* ... received from a peer */	\
	X(STEER_SECOND, "steer_second")	/* ... sent to the previous	\
					 * generation's owner */	\
	X(STEER_ORPHAN, "steer_orphan")	/* no flow, no cookie, no owner	\
					 * left to ask */		\
	X(STEER_ENCAP, "steer_encap")	/* ... sent to it in an IPv4	\
					 * header (IPIP, 6in4) */	\
	X(STEER_DECAP, "steer_decap")	/* ... received so from a peer,	\
					 * its outer header stripped */	\
	X(STEER_TOO_BIG, "steer_too_big")	/* not sent: over the	\
					 * way's MTU once encapsulated */ \
	X(HELLO_SMALL, "hello_small")	/* hellos begun in a small	\
					 * buffer (bpf/hello_small.h) */ \
	X(HELLO_MOVED, "hello_moved")	/* ... moved to a large one,	\
					 * whole or too long */

enum snilb_stat {
#define SNILB_ST_ENUM(id, name) SNILB_ST_##id,
	SNILB_STATS(SNILB_ST_ENUM)
#undef SNILB_ST_ENUM
	SNILB_ST_REJECT_BASE,		/* + enum snilb_reject */
	SNILB_ST_MAX = SNILB_ST_REJECT_BASE + SNILB_REJ_MAX,
};

/* listener_stats[listener id], per CPU. */
struct snilb_listener_stats {
	__u64 accepted;			/* handshakes completed (cookie ok) */
	__u64 rejected[SNILB_REJ_MAX];	/* RSTs, by reason */
};

/* route_stats[route id], per CPU. "c2b": client to backend. */
struct snilb_route_stats {
	__u64 routed;		/* hellos that matched this route */
	__u64 spliced;		/* ... and reached a backend */
	__u64 no_backend;	/* ... and found none: RST */
	__u64 retries;		/* SYNs sent to a further backend */
	__u64 pkts_c2b;
	__u64 pkts_b2c;
	__u64 bytes_c2b;	/* TCP payload */
	__u64 bytes_b2c;
};

#endif /* SNILB_STATS_H */

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The access log's ABI, shared by the data plane (bpf/alog.h) and the
 * agent (user/dataplane/alog.c, user/agent/accesslog.c): how a connection
 * ended and the record the ring carries. Included by snilb_abi.h.
 */
#ifndef SNILB_LOG_H
#define SNILB_LOG_H

/*
 * The access log (bpf/alog.h, docs/observability.md): one record per
 * connection when it ends, and one per rejection, to the ring buffer
 * `access_log` (written by the data plane, or by the reaper for the ends
 * it acts on). How it ended: SNILB_END_<ID>, and its name in the log.
 */
#define SNILB_ENDS(X)							\
	X(NONE, "none")							\
	X(FIN_CLIENT, "fin_client")	/* both FINs, the client's first */ \
	X(FIN_BACKEND, "fin_backend")					\
	X(RST_CLIENT, "rst_client")					\
	X(RST_BACKEND, "rst_backend")					\
	X(IDLE, "idle")			/* idle timeout (reaper) */	\
	X(HALF_CLOSED, "half_closed")	/* one FIN, then quiet (reaper) */ \
	X(HELLO_TIMEOUT, "hello_timeout") /* no complete hello in time */ \
	X(CONNECT_TIMEOUT, "connect_timeout") /* no backend answered */ \
	X(REJECT, "reject")		/* an RST for a reason (reason) */

enum snilb_end {
#define SNILB_END_ENUM(id, name) SNILB_END_##id,
	SNILB_ENDS(SNILB_END_ENUM)
#undef SNILB_END_ENUM
	SNILB_END_MAX,
};

#define SNILB_LOG_RING		4194304	/* bytes of the ring (4 MiB) */
#define SNILB_LOG_NO_REASON	0xff		/* snilb_log_rec.reason */

/* conns: client tuple -> what the log prints of a routed flow: the
 * hello's parse (struct ch_result: SNI, ALPN, TLS 1.3) and its setup's
 * times and tries, from its routing to the flow's end; only with
 * snilb_config.access_log. */
struct snilb_conn {
	struct ch_result res;
	__u64 routed_ns;
	__u64 bind_ns;		/* SYN sent to the last backend tried */
	__u64 spliced_ns;	/* its SYN-ACK */
	__u32 tries;		/* backends tried */
	__u16 tls_version;	/* the hello's legacy_version */
	__u16 pad;
};

struct snilb_log_rec {
	__u8 end;		/* enum snilb_end */
	__u8 reason;		/* enum snilb_reject, or SNILB_LOG_NO_REASON */
	__u8 family;
	__u8 state;		/* enum snilb_flow_state at the end; 0 none */
	__u8 tls13;		/* the hello offered TLS 1.3 */
	__u8 sni_len;
	__u8 alpn_len;
	__u8 bfamily;		/* the backend's; 0 none */
	__u16 tls_version;	/* the hello's legacy_version; 0 none */
	__be16 cport;
	__be16 vport;
	__be16 nport;		/* SNAT port */
	__be16 bport;
	__u16 pad;
	__u32 listener;
	__u32 route;		/* 0 when not routed */
	__u32 backend;
	__u32 tries;
	__u32 hello_len;
	__be32 caddr[4];
	__be32 vaddr[4];
	__be32 baddr[4];
	__u64 conn_id;		/* snilb_conn_id(); 0 when there was no flow */
	/* CLOCK_MONOTONIC, ns; 0 when it did not happen */
	__u64 end_ns;
	__u64 created_ns;	/* the handshake's last ACK */
	__u64 routed_ns;
	__u64 bind_ns;		/* SYN to the last backend tried */
	__u64 spliced_ns;
	__u64 first_ns;		/* the backend's first payload byte */
	__u64 bytes_c2b;	/* TCP payload, the hello included */
	__u64 bytes_b2c;
	__u64 pkts_c2b;
	__u64 pkts_b2c;
	char sni[256];
	__u8 alpn[CH_ALPN_MAX];	/* the list as on the wire */
};

#endif /* SNILB_LOG_H */

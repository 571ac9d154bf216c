/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The data plane from userspace: load the BPF programs (loader.c), attach
 * them to interfaces (tc.c), and write listeners, routes and settings into
 * their maps (maps.c). The only code that knows the maps' layouts, with
 * pinned.c (reading them) and reaper.c (the timeouts). Every function
 * returns 0 or a negative errno and, on error, leaves the maps as they
 * were.
 */
#ifndef SNILB_USER_DATAPLANE_H
#define SNILB_USER_DATAPLANE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snilb_abi.h"

struct dataplane;

/* What dp_open() can choose; NULL or zero fields take the defaults. */
struct dp_opts {
	/*
	 * Pin the state maps (flows, routes, backends, counters, ...:
	 * SNILB_MAPS) under this directory on bpffs: maps already pinned
	 * there are adopted, so a restarted or upgraded loader keeps every
	 * flow, and attaching replaces the running program in place.
	 * NULL: no pins (tests).
	 */
	const char *pin_dir;
	uint32_t max_flows;	/* flows (and rev) entries at most, each
				 * allocated as a connection comes;
				 * 0: SNILB_MAX_FLOWS */
	bool prealloc_flows;	/* flows and rev allocated whole at the
				 * load, as they were: what
				 * tests/bench/dp_mem.c compares */
	uint32_t log_ring;	/* bytes of the access log's ring, a power
				 * of 2 of pages; 0: SNILB_LOG_RING;
				 * DP_LOG_RING_OFF: one page, for a load
				 * that never turns the access log on */
};

#define DP_LOG_RING_OFF	1u

/* Load (verify) the programs; @err gets a message on failure. */
struct dataplane *dp_open(const struct dp_opts *o, char *err, size_t errlen);
void dp_close(struct dataplane *dp);

/* Our slot on clsact ingress, and the programs' names in it. */
#define DP_TC_HANDLE	1
#define DP_TC_PRIORITY	1
#define DP_PROG_PREFIX	"snilb_ingress"

/* Attach to clsact ingress of @ifindex (creating the qdisc if needed). */
int dp_attach(struct dataplane *dp, int ifindex);
/* Remove whatever holds our slot on @ifindex (see dp_tc_query()). */
int dp_detach(int ifindex);

/*
 * An attach that can be taken back, for a start that may still fail:
 * what held our slot before (a program of an earlier load, held open),
 * and whether the qdisc was made for it.
 */
struct dp_tc_prev {
	int ifindex;
	int prog_fd;		/* the program that was there; -1: none */
	bool made_qdisc;	/* clsact created by this attach */
	bool attached;
	int err;		/* the attach's */
};

/* dp_attach(), noting in @prev what it replaces (dp_attach_keep() or
 * dp_attach_undo() it even when it fails: the qdisc may be new). */
int dp_attach_saving(struct dataplane *dp, int ifindex,
		     struct dp_tc_prev *prev);
/* Put back what @prev held: the earlier program, or nothing (and no
 * qdisc, when it was made for this attach). 0 or -errno (kept then). */
int dp_attach_undo(struct dp_tc_prev *prev);
/* The attach stays: let go of what it replaced. */
void dp_attach_keep(struct dp_tc_prev *prev);

struct dp_tc_state {
	uint32_t prog_id;
	char name[16];		/* "" when it could not be read */
	bool ours;		/* named DP_PROG_PREFIX..., or unreadable */
};

/* What holds our slot on @ifindex: 0, or -ENOENT when nothing does. */
int dp_tc_query(int ifindex, struct dp_tc_state *st);

/*
 * The XDP program (bpf/xdp.h: SYNs answered before an skb is built) on
 * the interfaces clients come in on, in the driver's mode (xdp.c). AUTO:
 * native where the driver has it, else none (the TC program answers);
 * NATIVE: native or an error; OFF: ours removed. Another program in the
 * XDP slot is left alone (AUTO: none of ours; NATIVE: -EBUSY).
 */
enum dp_xdp_mode { DP_XDP_AUTO = 0, DP_XDP_NATIVE, DP_XDP_OFF };
#define DP_XDP_PROG	"snilb_xdp"

const char *dp_xdp_mode_name(enum dp_xdp_mode m);
int dp_xdp_mode_parse(const char *s, enum dp_xdp_mode *m);
/* *@native: our program is attached natively now. */
int dp_xdp_attach(struct dataplane *dp, int ifindex, enum dp_xdp_mode mode,
		  bool *native);
/* Remove our program from @ifindex (another's stays); 0 if none. */
int dp_xdp_detach(int ifindex);

struct dp_xdp_state {
	uint32_t prog_id;
	char name[16];
	bool native;		/* driver mode (else generic or offloaded) */
	bool ours;		/* named DP_XDP_PROG, or unreadable */
};

/* For a start that may fail: our program in @ifindex's XDP slot, held
 * (an fd), or -1; dp_xdp_restore() puts it back (and closes it), or, for
 * -1, removes ours. */
int dp_xdp_saved(int ifindex);
int dp_xdp_restore(int ifindex, int saved);

/* What holds @ifindex's XDP slot: 0, or -ENOENT when nothing does. */
int dp_xdp_query(int ifindex, struct dp_xdp_state *st);
int dp_xdp_prog_fd(struct dataplane *dp);

/* @addr: "198.18.0.1" or "2001:db8::1". */
int dp_listener_add(struct dataplane *dp, const char *addr, uint16_t port,
		    uint32_t id);
/*
 * @hostname: "foo.example.com", "*.example.com" or "*" (every name; tried
 * last), lower case as the Gateway API writes it. Fails with -EEXIST when
 * another name has the same hash on this listener (the data plane could
 * not tell them apart).
 */
int dp_route_add(struct dataplane *dp, uint32_t listener,
		 const char *hostname, uint32_t route_id, uint32_t set);
/* -ENOENT if @hostname has no route there (another name with its hash
 * is left alone). */
int dp_route_del(struct dataplane *dp, uint32_t listener,
		 const char *hostname);
int dp_config_set(struct dataplane *dp, const struct snilb_config *cfg);
int dp_config_get(struct dataplane *dp, struct snilb_config *cfg);

/* backends[@id] = @addr:@port, asking for @flags (SNILB_BE_*). Never
 * rewrite a backend a set uses: dp_set_install() reads its flags. */
int dp_backend_set(struct dataplane *dp, uint32_t id, const char *addr,
		   uint16_t port, uint32_t flags);
/*
 * Install backend set @set: its Maglev @table (@size backend ids, built
 * with maglev_build()) in a new inner map, then its size, and its flags
 * from its backends' (SNILB_SET_PROXY_V2); @size 0: a set
 * with no live backend (its routes get an RST). Build a new set
 * in a free id and switch routes to it; never rewrite a set in use.
 */
int dp_set_install(struct dataplane *dp, uint32_t set, const uint32_t *table,
		   uint32_t size, uint32_t nbackends);

/* A gateway node of the table (docs/multinode.md). */
struct dp_node {
	char name[SNILB_NODE_NAME];
	char addr[48];		/* IPv4, towards its peers */
	int draining;		/* serves its flows, takes no new one */
};

/* The node table: this generation's nodes, the previous one's (none:
 * @nprev 0), and this node's name (not among them: it owns nothing). */
struct dp_nodes {
	const struct dp_node *cur, *prev;
	size_t ncur, nprev;
	const char *self;
	int adopt;		/* no @prev: the pinned table is the previous
				 * one (an agent that starts) */
};

/*
 * Write the node table, the ring of owners and where this node stands
 * (cluster). The same @t on every node gives the same maps: the nodes are
 * sorted by name here. -EINVAL: a bad address (said in @err). With
 * @t->adopt and no previous table, the pinned table becomes the previous
 * generation (the same table: its previous one stays).
 */
int dp_nodes_set(struct dataplane *dp, const struct dp_nodes *t, char *err,
		 size_t errlen);
int dp_nodes_get(struct dataplane *dp, struct snilb_cluster *cl);

/* Remove listener @addr:@port (its routes stay, unreachable). */
int dp_listener_del(struct dataplane *dp, const char *addr, uint16_t port);
/* Let the port prefilter pass (@on 0) or look at (@on 1) TCP port @port. */
int dp_port_set(struct dataplane *dp, uint16_t port, int on);
/* 1 if the prefilter looks at TCP port @port, 0 if not, -errno. */
int dp_port_get(struct dataplane *dp, uint16_t port);
int dp_backend_del(struct dataplane *dp, uint32_t id);
int dp_set_del(struct dataplane *dp, uint32_t set);

/*
 * What the maps hold, read back for an agent that adopts them (a new
 * array in *@out, free() it; *@n entries). Addresses as text, ports in
 * host order.
 */
#define DP_ADDR_MAX	46	/* INET6_ADDRSTRLEN */

struct dp_listener {
	uint8_t family;		/* SNILB_AF_INET, SNILB_AF_INET6 */
	char addr[DP_ADDR_MAX];
	uint16_t port;
	uint32_t id;
};

struct dp_route {
	uint32_t listener, id, set;
	char hostname[SNILB_HOST_MAX + 1];	/* as dp_route_add() had it */
};

struct dp_backend {
	uint32_t id;
	char addr[DP_ADDR_MAX];
	uint16_t port;
	uint32_t flags;		/* SNILB_BE_* */
};

int dp_listeners(struct dataplane *dp, struct dp_listener **out, size_t *n);
int dp_routes(struct dataplane *dp, struct dp_route **out, size_t *n);
/* The backends in use (non-zero entries). */
int dp_backends(struct dataplane *dp, struct dp_backend **out, size_t *n);
/* The route for @hostname on @listener; -ENOENT if none. */
int dp_route_get(struct dataplane *dp, uint32_t listener,
		 const char *hostname, struct dp_route *r);
/* Set @set's Maglev table size; 0: empty, or unused. */
int dp_set_size(struct dataplane *dp, uint32_t set, uint32_t *size);
/* Mark @sets[id] and @backends[id] (SNILB_MAX_SETS, SNILB_MAX_BACKENDS
 * entries) for every flow bound to a backend. */
int dp_flows_bound(struct dataplane *dp, uint8_t *sets, uint8_t *backends);

/*
 * Pin the program and its tail-call table under @pin_dir, replacing the
 * pins of an older load. Call it once the program is attached: a tail-call
 * table is emptied by the kernel when no process or pin holds it, so
 * without the pin the data plane would stop routing new connections when
 * the agent exits (established flows do not use it).
 */
int dp_pin_progs(struct dataplane *dp, const char *pin_dir);

/* Whether dp_open() found the state maps pinned (an earlier load's) and
 * took them over. */
bool dp_adopted(struct dataplane *dp);
/*
 * Unlink the map pins dp_open() made, not the ones it found, and put the
 * program pins back as dp_pin_progs() found them: for a start that fails,
 * so that the node keeps no half-started data plane and an earlier
 * agent's pins stay. 0 or the first -errno.
 */
int dp_unpin_new(struct dataplane *dp);

/*
 * SNAT claims (flows bound to a backend) whose port is outside @lo..@hi:
 * flows of an earlier range, whose backend packets the program no longer
 * takes once the range changes.
 */
int dp_snat_outside(struct dataplane *dp, uint16_t lo, uint16_t hi,
		    uint32_t *n);

/*
 * The access log (alog.c, bpf/alog.h): the data plane's records, and the
 * reaper's (dp_reap()), handed to @fn(@rec, @arg) as they are read. Set
 * snilb_config.access_log too, or the data plane writes none. Poll
 * dp_log_fd() for input, then dp_log_read(): the records there (or
 * -errno). dp_close() closes it.
 */
typedef void (*dp_log_fn)(const struct snilb_log_rec *rec, void *arg);
int dp_log_open(struct dataplane *dp, dp_log_fn fn, void *arg);
int dp_log_fd(struct dataplane *dp);
int dp_log_read(struct dataplane *dp);
void dp_log_close(struct dataplane *dp);
/* Records the data plane could not write: the ring was full. */
int dp_log_lost(struct dataplane *dp, uint64_t *lost);

/*
 * The SYN cookie's key (cookie.c, bpf/cookie.h): @len (DP_COOKIE_KEY_MIN
 * or more) bytes, folded into SipHash's 128 bits, become the current key,
 * and the current one the previous (cookies made with either are taken).
 * 1: rotated; 0: it is the current key already; -errno (-EINVAL: too
 * short). Nodes that share a key take each other's cookies.
 */
#define DP_COOKIE_KEY_MIN	32
int dp_cookie_key_set(struct dataplane *dp, const uint8_t *key, size_t len);
/* A random key, as dp_cookie_key_set(); with @only_if_none, only when
 * there is no current key (0 then): dp_open() does that, so a fresh load
 * has a key of its own and an adopting one keeps the pinned keys. */
int dp_cookie_key_random(struct dataplane *dp, bool only_if_none);
/* Whether there are a current and a previous key. */
int dp_cookie_key_state(struct dataplane *dp, bool *current, bool *previous);

/* The ingress program, and its name: snilb_ingress, or snilb_ingress_h
 * where the kernel cannot let it read the skb (see loader.c). */
int dp_prog_fd(struct dataplane *dp);
/* The program pinned under the pin path when dp_open() ran, held until
 * dp_pin_progs() (-1: none, or past that): an earlier agent's. */
int dp_prog_pinned_fd(struct dataplane *dp);
const char *dp_prog_name(struct dataplane *dp);
/* Map @m, for tests (and pinned_of()); reads and writes go through the
 * functions above. */
int dp_map_fd(struct dataplane *dp, enum snilb_map m);

#endif /* SNILB_USER_DATAPLANE_H */

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Read-only access to the data plane's maps as the agent pinned them on
 * bpffs (see dp_open()): no program is loaded, nothing is written.
 * The inspection commands and the metrics endpoint read through this, so
 * they work beside a running agent, and after it exited.
 */
#ifndef SNILB_USER_PINNED_H
#define SNILB_USER_PINNED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snilb_abi.h"

struct pinned;
struct dataplane;

/*
 * Open every map pinned under @pin_path. Fails (NULL, message in @err)
 * when bpffs is not mounted there, nothing is pinned there, or a map is
 * missing; maps the agent may not have yet are tolerated one by one
 * (pinned_map_fd() then returns -ENOENT).
 */
struct pinned *pinned_open(const char *pin_path, char *err, size_t errlen);
/* The same view of the maps of a data plane loaded here (tests, dpctl);
 * it holds its own descriptors, @dp may close first. */
struct pinned *pinned_of(struct dataplane *dp, char *err, size_t errlen);
void pinned_close(struct pinned *p);

/* The file descriptor of map @m, or -ENOENT (not pinned). */
int pinned_map_fd(const struct pinned *p, enum snilb_map m);

/* Counters summed over every CPU; 0 or a negative errno. */
int pinned_stat(const struct pinned *p, uint32_t idx, uint64_t *val);
int pinned_route_stats(const struct pinned *p, uint32_t route,
		       struct snilb_route_stats *st);
int pinned_listener_stats(const struct pinned *p, uint32_t listener,
			  struct snilb_listener_stats *st);

/*
 * Walk a hash map's entries. The data plane adds and deletes flows while
 * we walk: an entry may be seen twice or missed, and the walk is bounded
 * by the map's capacity so it always ends.
 */
struct pinned_iter {
	int fd;
	uint32_t seen, max, key_size;
	bool started;
	unsigned char key[64];
};

int pinned_map_iter(const struct pinned *p, enum snilb_map m,
		    struct pinned_iter *it);
/* 1: @key and @val filled; 0: the end; < 0: errno. */
int pinned_iter_next(struct pinned_iter *it, void *key, void *val);

/* Flows, one by one (the iterator over `flows`). */
static inline int pinned_flows_init(const struct pinned *p,
				    struct pinned_iter *it)
{
	return pinned_map_iter(p, SNILB_MAP_FLOWS, it);
}

static inline int pinned_flows_next(struct pinned_iter *it,
				    struct snilb_flow_key *k,
				    struct snilb_flow *f)
{
	return pinned_iter_next(it, k, f);
}

/*
 * How full map @m is: live entries (hash maps: keys; the backends
 * and sets arrays: slots in use) and its capacity.
 */
int pinned_map_fill(const struct pinned *p, enum snilb_map m,
		    uint32_t *entries, uint32_t *max);
/* The same by name. */
int pinned_fill(const struct pinned *p, const char *name, uint32_t *entries,
		uint32_t *max);

/* The maps whose fill is worth reporting (SNILB_MAPS), NULL-terminated. */
extern const char *const pinned_fill_maps[];

/*
 * Count the Maglev slots of set @set per backend id: @slots[id] += n for
 * each id < @nslots. *@size gets the table's length. -ENOENT: no table.
 */
int pinned_maglev_slots(const struct pinned *p, uint32_t set,
			uint32_t *slots, uint32_t nslots, uint32_t *size);

/* The node table (docs/multinode.md), as the agent last wrote it: where
 * this node stands, each node of this generation and of the previous
 * one (sorted by name), and the node_ring slots each owns in both. */
struct pinned_node {
	char name[SNILB_NODE_NAME];
	char addr[48];		/* as text */
	__be32 addr_be;
	uint8_t flags;		/* SNILB_NODE_* */
	uint32_t slots, prev_slots;	/* of node_ring, now and before */
};

struct pinned_nodes {
	struct snilb_cluster cl;	/* generation 0: no table */
	struct pinned_node node[SNILB_MAX_NODES];
	size_t n;
	uint32_t ring;		/* SNILB_NODE_RING */
	uint32_t unowned, prev_unowned;	/* slots no node owns */
};

/* 0, or -ENOENT (no such maps: an agent before the node table), -errno. */
int pinned_nodes_read(const struct pinned *p, struct pinned_nodes *out);

/* Listener id -> its key, from the listeners map; -ENOENT if none. */
int pinned_listener_key(const struct pinned *p, uint32_t id,
			struct snilb_listener_key *k);

/*
 * Counter names: "syn", "cookie_ok", ..., "reject_no_sni", ...
 * (SNILB_STATS, then "reject_" and each reject reason); reject reasons
 * "no_sni", ..., "no_route", ... (CH_REASONS, SNILB_REJECTS). Both
 * return NULL past the end.
 */
const char *pinned_stat_name(uint32_t idx);
const char *pinned_reject_name(uint32_t reason);

/* "198.18.0.1:443", "[2001:db8::1]:443" (@port in network order). */
char *pinned_fmt_addr(char *buf, size_t n, unsigned int family,
		      const __be32 *addr, __be16 port);
/* "850ms", "12s", "3m04s", "2h05m", "3d04h". */
char *pinned_fmt_age(char *buf, size_t n, uint64_t ns);

/*
 * Typed reads for the inspection commands, so that they name no map.
 * Routes come with their name terminated.
 */
int pinned_routes_init(const struct pinned *p, struct pinned_iter *it);
int pinned_routes_next(struct pinned_iter *it, struct snilb_route_key *k,
		       struct snilb_route *r);
int pinned_listeners_init(const struct pinned *p, struct pinned_iter *it);
int pinned_listeners_next(struct pinned_iter *it,
			  struct snilb_listener_key *k,
			  struct snilb_listener *l);
/* All SNILB_MAX_BACKENDS backends, all SNILB_MAX_SETS sets, the config. */
int pinned_backends_read(const struct pinned *p, struct snilb_backend *be);
int pinned_sets_read(const struct pinned *p, struct snilb_set *sets);
int pinned_config_read(const struct pinned *p, struct snilb_config *cfg);
/* The reverse entry at @k: 0, -ENOENT or -errno. */
int pinned_rev_lookup(const struct pinned *p, const struct snilb_rev_key *k,
		      struct snilb_rev *v);

/*
 * The key of @hostname on @listener in the routes map, and the name the
 * data plane stores with it (returned: "*.example.com" is kept as
 * ".example.com", the catch-all "*" as ""). pinned_route_host() turns a
 * stored name back into the hostname.
 */
const char *pinned_route_key(uint32_t listener, const char *hostname,
			     struct snilb_route_key *k);
char *pinned_route_host(const char *stored, char *buf, size_t n);

/*
 * What holds @ifname's clsact ingress at snilb's handle and priority, in
 * words in @state ("attached (prog id 12)", "NOT ATTACHED", "another
 * program (x, id 3)", ...); true when it is snilb's program. *@prog_id:
 * the program there, 0 if none.
 */
bool pinned_tc_query(const char *ifname, char *state, size_t n,
		     uint32_t *prog_id);
/* Remove whatever program is at snilb's handle on @ifname's ingress. */
int pinned_tc_detach(const char *ifname);
/* The XDP slot of @ifname, as a phrase in @state: true when our program
 * runs there natively (SYNs answered in XDP). */
bool pinned_xdp_query(const char *ifname, char *state, size_t n);

#endif /* SNILB_USER_PINNED_H */

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "dp_int.h"
#include "reaper.h"

static uint32_t sum16(uint32_t s, const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)b[i] << 8 | b[i + 1];
	if (n & 1)
		s += (uint32_t)b[n - 1] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* RST|ACK from the VIP to the client, out of the interface its packets
 * arrive on, to the MAC they come from: the data plane's own path. */
static int send_rst(int fd, const struct snilb_flow_key *k,
		    const struct snilb_flow *f)
{
	uint8_t pkt[14 + 40 + 20] = { 0 }, *ip = pkt + 14, *th;
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	size_t iplen = k->family == SNILB_AF_INET ? 20 : 40;
	uint32_t s = 0, seq = htonl(f->our_isn + 1);
	uint32_t ack = htonl(f->client_isn + 1 + f->hello_len);

	memcpy(pkt, f->cmac, 6);
	memcpy(pkt + 6, f->lmac, 6);
	th = ip + iplen;
	if (k->family == SNILB_AF_INET) {
		pkt[12] = 0x08;
		ip[0] = 0x45;
		ip[3] = 40;
		ip[6] = 0x40;
		ip[8] = 64;
		ip[9] = IPPROTO_TCP;
		memcpy(ip + 12, k->vaddr, 4);
		memcpy(ip + 16, k->caddr, 4);
		*(uint16_t *)(ip + 10) = htons(fold(sum16(0, ip, 20)));
		s = sum16(0, ip + 12, 8);
	} else {
		pkt[12] = 0x86;
		pkt[13] = 0xdd;
		ip[0] = 0x60;
		ip[5] = 20;
		ip[6] = IPPROTO_TCP;
		ip[7] = 64;
		memcpy(ip + 8, k->vaddr, 16);
		memcpy(ip + 24, k->caddr, 16);
		s = sum16(0, ip + 8, 32);
	}
	memcpy(th, &k->vport, 2);
	memcpy(th + 2, &k->cport, 2);
	memcpy(th + 4, &seq, 4);
	memcpy(th + 8, &ack, 4);
	th[12] = 5 << 4;
	th[13] = 0x14;				/* RST|ACK */
	s += IPPROTO_TCP + 20;
	*(uint16_t *)(th + 16) = htons(fold(sum16(s, th, 20)));
	sll.sll_ifindex = (int)f->ifindex;
	sll.sll_halen = 6;
	memcpy(sll.sll_addr, f->cmac, 6);
	if (sendto(fd, pkt, 14 + iplen + 20, 0, (struct sockaddr *)&sll,
		   sizeof(sll)) < 0)
		return -errno;
	return 0;
}

/* The SNAT port a flow holds, released with it. */
static void release_snat(struct dataplane *dp, const struct snilb_config *cfg,
			 const struct snilb_flow *f)
{
	struct snilb_backend be;
	struct snilb_rev_key rk;

	if (!f->nport || bpf_map_lookup_elem(dp_map_fd(dp, SNILB_MAP_BACKENDS),
					     &f->backend, &be) ||
	    snilb_rev_key_of(&rk, &be, cfg, f->nport))
		return;
	bpf_map_delete_elem(dp_map_fd(dp, SNILB_MAP_REV), &rk);
}

enum verdict { KEEP, EXPIRE_RST, EXPIRE_QUIET };

/* How a flow the reaper frees ended (enum snilb_end). */
static uint8_t end_of(const struct snilb_flow *f, enum verdict v)
{
	if (v == EXPIRE_RST)
		return f->state == SNILB_FS_HELLO ? SNILB_END_HELLO_TIMEOUT :
						    SNILB_END_CONNECT_TIMEOUT;
	if ((f->closing & SNILB_CL_DONE) == SNILB_CL_DONE)
		return f->closer ? f->closer : SNILB_END_FIN_CLIENT;
	if (f->closing & SNILB_CL_RST_C)
		return SNILB_END_RST_CLIENT;
	if (f->closing & SNILB_CL_RST_B)
		return SNILB_END_RST_BACKEND;
	if (f->closing & (SNILB_CL_C_FIN | SNILB_CL_B_FIN))
		return SNILB_END_HALF_CLOSED;
	return SNILB_END_IDLE;
}

/* The backend side of the record: address, and its counters. */
static void log_backend(struct dataplane *dp, const struct snilb_config *cfg,
			const struct snilb_flow *f, struct snilb_log_rec *e)
{
	struct snilb_backend be;
	struct snilb_rev_key rk;
	struct snilb_rev r;

	if (!f->nport || map_get(dp, SNILB_MAP_BACKENDS, &f->backend, &be))
		return;
	e->bfamily = be.family;
	e->bport = be.port;
	memcpy(e->baddr, be.addr, 16);
	if (snilb_rev_key_of(&rk, &be, cfg, f->nport) ||
	    map_get(dp, SNILB_MAP_REV, &rk, &r))
		return;
	e->bytes_b2c = r.bytes_b2c;
	e->pkts_b2c = r.pkts_b2c;
	e->first_ns = r.first_ns;
}

/* The access log's record of a flow the reaper frees, as the data plane
 * makes its own (bpf/alog.h); its conns entry goes. */
static void log_end(struct dataplane *dp, const struct snilb_config *cfg,
		    const struct snilb_flow_key *k, const struct snilb_flow *f,
		    enum verdict v, uint64_t now)
{
	struct snilb_log_rec e = { 0 };
	struct snilb_conn info;

	if (!cfg->access_log)
		return;
	e.end = end_of(f, v);
	e.reason = v == EXPIRE_RST ? SNILB_REJ_TIMEOUT : SNILB_LOG_NO_REASON;
	e.family = k->family;
	e.state = (uint8_t)f->state;
	e.cport = k->cport;
	e.vport = k->vport;
	e.nport = f->nport;
	e.listener = f->listener;
	e.route = f->route;
	e.backend = f->backend;
	e.hello_len = f->hello_len;
	memcpy(e.caddr, k->caddr, 16);
	memcpy(e.vaddr, k->vaddr, 16);
	e.conn_id = snilb_conn_id(k, f->client_isn, f->created_ns);
	/* Closed: it ended with its last packet, not when it was freed. */
	e.end_ns = v == EXPIRE_QUIET && f->closing ? f->seen_ns : now;
	e.created_ns = f->created_ns;
	e.bytes_c2b = f->bytes_c2b + f->hello_len;
	e.pkts_c2b = f->pkts_c2b;
	log_backend(dp, cfg, f, &e);
	/* A routed flow's hello and setup (bpf/alog.h, struct snilb_conn);
	 * an entry an earlier flow of this tuple left is not this one's. */
	if (f->state >= SNILB_FS_ROUTED &&
	    !map_get(dp, SNILB_MAP_CONNS, k, &info)) {
		e.tls_version = info.tls_version;
		e.tries = info.tries;
		e.routed_ns = info.routed_ns;
		e.bind_ns = info.bind_ns;
		e.spliced_ns = info.spliced_ns;
		e.tls13 = info.res.tls13;
		e.sni_len = info.res.sni_len;
		e.alpn_len = info.res.alpn_len;
		memcpy(e.sni, info.res.sni, sizeof(e.sni));
		memcpy(e.alpn, info.res.alpn, sizeof(e.alpn));
	}
	bpf_map_delete_elem(dp_map_fd(dp, SNILB_MAP_CONNS), k);
	dp_log_emit(dp, &e);
}

/*
 * Has a spliced flow ended (bpf/close.h)? Both FINs acknowledged and a
 * grace period gone (its TIME-WAIT); an RST that was not exact and no
 * answer since; or one FIN and quiet for long (a peer that vanished
 * half-way through closing, as conntrack's FIN_WAIT).
 */
static int closed(const struct snilb_flow *f, uint64_t quiet)
{
	if ((f->closing & SNILB_CL_DONE) == SNILB_CL_DONE)
		return quiet > REAP_CLOSE_GRACE_MS * 1000000ull;
	if (f->closing & (SNILB_CL_RST_C | SNILB_CL_RST_B))
		return quiet > REAP_RST_GRACE_MS * 1000000ull;
	if (f->closing & (SNILB_CL_C_FIN | SNILB_CL_B_FIN))
		return quiet > REAP_FIN_TIMEOUT_S * 1000000000ull;
	return 0;
}

/* How long a routed flow may wait for a try at a backend (below). */
static uint64_t bind_limit_ns(const struct snilb_config *cfg)
{
	uint64_t hello = (cfg->hello_timeout_ms ? cfg->hello_timeout_ms :
			  SNILB_DEFAULT_HELLO_TIMEOUT_MS) * 1000000ull;
	uint64_t bind = (cfg->bind_timeout_ms ? cfg->bind_timeout_ms :
			 SNILB_DEFAULT_BIND_TIMEOUT_MS) * 1000000ull;

	return hello > 8 * bind ? hello : 8 * bind;
}

/* When a routed flow's SYN went to its current backend: in its hello's
 * entry (struct snilb_bind), which it has until it is spliced. 0 for any
 * other flow, or a routed one without it (then its bind has timed out).
 * A lookup copies the whole entry (19 KB), so it is made only for a flow
 * older than bind_limit_ns(): a younger one was bound since it was made,
 * and its creation time judges it as well. */
static uint64_t bind_time(struct dataplane *dp, const struct snilb_flow_key *k,
			  const struct snilb_flow *f,
			  const struct snilb_config *cfg, uint64_t now)
{
	static struct snilb_hello hb;

	if (f->state != SNILB_FS_ROUTED)
		return 0;
	if (now <= f->created_ns || now - f->created_ns <= bind_limit_ns(cfg))
		return f->created_ns;
	if (bpf_map_lookup_elem(dp_map_fd(dp, SNILB_MAP_HELLOS), k, &hb))
		return 0;
	return hb.b.bind_ns;
}

/* @bind_ns: bind_time()'s. */
static enum verdict judge(const struct snilb_flow *f, uint64_t bind_ns,
			  const struct snilb_config *cfg, uint64_t now,
			  struct reap_result *res)
{
	uint64_t hello = (cfg->hello_timeout_ms ? cfg->hello_timeout_ms :
			  SNILB_DEFAULT_HELLO_TIMEOUT_MS) * 1000000ull;
	uint64_t idle = (cfg->idle_timeout_s ? cfg->idle_timeout_s :
			 SNILB_DEFAULT_IDLE_TIMEOUT_S) * 1000000000ull;
	uint64_t seen = f->seen_ns > f->created_ns ? f->seen_ns : f->created_ns;
	uint64_t quiet = now > seen ? now - seen : 0;
	/* @now was read before the walk: a flow created during it is
	 * younger than that, not 2^64 ns old. */
	uint64_t age = now > f->created_ns ? now - f->created_ns : 0;

	if (f->state == SNILB_FS_HELLO && age > hello) {
		res->hello_expired++;
		return EXPIRE_RST;
	}
	/* Binding: a silent backend is left behind when the client resends
	 * its hello (the data plane retries then); give up only when no try
	 * was made for a while. The client's resends back off (RTO 1 s:
	 * 1, 3, 7 s), so allow 8 bind timeouts for one to come after the
	 * first timeout. */
	if (f->state == SNILB_FS_ROUTED && now > bind_ns &&
	    now - bind_ns > bind_limit_ns(cfg)) {
		res->bind_expired++;
		return EXPIRE_RST;
	}
	if (f->state == SNILB_FS_SPLICED && closed(f, quiet)) {
		res->closed++;
		return EXPIRE_QUIET;
	}
	/* No RST for an idle flow: we do not track what the client has
	 * received. Its next packet, flow gone, fails the cookie check and
	 * gets an RST with the right sequence number; the backend's reaches
	 * the node's stack, which resets it. */
	if (f->state == SNILB_FS_SPLICED && quiet > idle) {
		res->idle_expired++;
		return EXPIRE_QUIET;
	}
	return KEEP;
}

/*
 * Add @n to global counter @idx, on CPU 0's copy. A read-modify-write of
 * every CPU's copy: only for counters no program writes (an increment a
 * program made in between would be lost).
 */
static int stat_add(struct dataplane *dp, uint32_t idx, uint64_t n)
{
	int ncpus = libbpf_num_possible_cpus(), err = 0;
	int fd = dp_map_fd(dp, SNILB_MAP_STATS);
	uint64_t *v;

	if (ncpus <= 0)
		return ncpus ? ncpus : -EINVAL;
	v = calloc((size_t)ncpus, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &idx, v) ||
	    (v[0] += n, bpf_map_update_elem(fd, &idx, v, BPF_ANY)))
		err = -errno;
	free(v);
	return err;
}

/* The loader is listener_timeouts' only writer (see bpf/maps.h). */
static int listener_timeouts_add(struct dataplane *dp, uint32_t listener,
				 uint64_t n)
{
	int fd = dp_map_fd(dp, SNILB_MAP_LISTENER_TIMEOUTS);
	uint64_t v = 0;

	if (bpf_map_lookup_elem(fd, &listener, &v))
		return -errno;
	v += n;
	if (bpf_map_update_elem(fd, &listener, &v, BPF_ANY))
		return -errno;
	return 0;
}

/*
 * The RSTs sent here are rejections by timeout: counters only userspace
 * writes (the data plane cannot see time pass), the global one in
 * `stats`, the per-listener ones in listener_timeouts (bpf/maps.h).
 */
static void count_timeouts(struct dataplane *dp, const uint32_t *listener_of,
			   const enum verdict *why, size_t n)
{
	uint32_t *per = NULL, total = 0, l;
	size_t i;

	for (i = 0; i < n; i++)
		total += why[i] == EXPIRE_RST;
	if (!total)
		return;
	stat_add(dp, SNILB_ST_REJECT_BASE + SNILB_REJ_TIMEOUT, total);
	per = calloc(SNILB_MAX_LISTENERS, sizeof(*per));
	if (!per)
		return;
	for (i = 0; i < n; i++)
		if (why[i] == EXPIRE_RST && listener_of[i] < SNILB_MAX_LISTENERS)
			per[listener_of[i]]++;
	for (l = 0; l < SNILB_MAX_LISTENERS; l++)
		if (per[l])
			listener_timeouts_add(dp, l, per[l]);
	free(per);
}

/*
 * Act on a flow the walk nominated, as it is now: the walk judged a copy,
 * and the data plane may have moved the flow on since (a hello that
 * completed, a flow that spoke again). Returns the verdict acted on.
 */
static enum verdict expire(struct dataplane *dp, int fd,
			   const struct snilb_config *cfg,
			   const struct snilb_flow_key *k, uint64_t now,
			   struct reap_result *res, int *err)
{
	struct snilb_flow f;
	enum verdict v;
	int e;

	if (bpf_map_lookup_elem(dp_map_fd(dp, SNILB_MAP_FLOWS), k, &f))
		return KEEP;
	v = judge(&f, bind_time(dp, k, &f, cfg, now), cfg, now, res);
	if (v == KEEP) {
		res->flows++;
		return KEEP;
	}
	if (v == EXPIRE_RST && (e = send_rst(fd, k, &f)))
		*err = e;
	log_end(dp, cfg, k, &f, v, now);
	release_snat(dp, cfg, &f);
	bpf_map_delete_elem(dp_map_fd(dp, SNILB_MAP_HELLOS), k);
	bpf_map_delete_elem(dp_map_fd(dp, SNILB_MAP_HELLOS_SMALL), k);
	bpf_map_delete_elem(dp_map_fd(dp, SNILB_MAP_FLOWS), k);
	return v;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* What the walk of the flows saw: a hash of each one's key, sorted. */
struct seen {
	uint64_t *h;
	size_t n, cap;
};

static int seen_add(struct seen *s, const struct snilb_flow_key *k)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 1024;
		uint64_t *h = realloc(s->h, cap * sizeof(*h));

		if (!h)
			return -ENOMEM;
		s->h = h;
		s->cap = cap;
	}
	s->h[s->n++] = snilb_syn_hash(k, 0);
	return 0;
}

/* Entries of rev or conns whose flow is gone, nominated. */
struct sweep {
	int flows;
	bool is_rev;
	size_t ks;
	const struct seen *seen;
	unsigned char *dead;
	size_t n, cap;
};

static void sweep_one(void *arg, const void *key, const void *val)
{
	struct sweep *w = arg;
	const struct snilb_flow_key *fk = w->is_rev ?
		&((const struct snilb_rev *)val)->flow : key;
	uint64_t h = snilb_syn_hash(fk, 0);
	struct snilb_flow f;

	/* Its flow was there at the walk (a hash's collision keeps an
	 * orphan one pass more), or is now: made since. */
	if (bsearch(&h, w->seen->h, w->seen->n, sizeof(h), cmp_u64) ||
	    !bpf_map_lookup_elem(w->flows, fk, &f))
		return;
	if (w->n == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 16;
		unsigned char *d = realloc(w->dead, cap * w->ks);

		if (!d)
			return;		/* the next pass has it */
		w->dead = d;
		w->cap = cap;
	}
	memcpy(w->dead + w->n++ * w->ks, key, w->ks);
}

/* Delete what sweep_one() nominated in @m; how many. */
static uint32_t sweep_delete(struct dataplane *dp, enum snilb_map m,
			     struct sweep *w)
{
	size_t i;

	for (i = 0; i < w->n; i++)
		bpf_map_delete_elem(dp_map_fd(dp, m), w->dead + i * w->ks);
	free(w->dead);
	return (uint32_t)w->n;
}

/* The rev entries whose flow is gone (their values name it). */
static uint32_t sweep_rev(struct dataplane *dp, const struct seen *seen)
{
	struct sweep w = { .flows = dp_map_fd(dp, SNILB_MAP_FLOWS),
			   .is_rev = true, .seen = seen,
			   .ks = sizeof(struct snilb_rev_key) };

	dp_walk(dp_map_fd(dp, SNILB_MAP_REV), w.ks, sizeof(struct snilb_rev),
		sweep_one, &w);
	return sweep_delete(dp, SNILB_MAP_REV, &w);
}

/* The entries of @m, keyed by their flow's key (conns, hellos,
 * hellos_small), whose flow is gone: their keys alone are read (a hellos
 * value is 19 KB). */
static void sweep_keyed(struct dataplane *dp, enum snilb_map m,
			const struct seen *seen)
{
	struct sweep w = { .flows = dp_map_fd(dp, SNILB_MAP_FLOWS),
			   .seen = seen, .ks = sizeof(struct snilb_flow_key) };
	struct snilb_flow_key k, next;
	int fd = dp_map_fd(dp, m);
	void *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		sweep_one(&w, &k, NULL);
	}
	sweep_delete(dp, m, &w);
}

/*
 * Orphans, swept each pass:
 * - a SNAT claim (rev) whose flow is gone: the reaper and the data plane
 *   race (a flow judged from a copy may have claimed a new port since).
 *   The data plane claims a port only for a flow that exists, and frees
 *   the claim before the flow, so an orphan here is never one being made;
 * - a conns entry whose flow is gone (its end not logged: the log turned
 *   off meanwhile, or the flow freed by another hand). The data plane
 *   writes one only for a flow that exists, likewise;
 * - a hellos or hellos_small entry whose flow is gone: the data plane
 *   frees them with their flow, or moves one to the other; this is the
 *   net under both.
 */
static void sweep_flow_keyed(struct dataplane *dp, const struct seen *seen)
{
	sweep_keyed(dp, SNILB_MAP_CONNS, seen);
	sweep_keyed(dp, SNILB_MAP_HELLOS, seen);
	sweep_keyed(dp, SNILB_MAP_HELLOS_SMALL, seen);
}

/* Room for @n nominees; 0, or -ENOMEM with what was there kept. */
static int grow(struct snilb_flow_key **dead, uint32_t **lis, size_t *cap)
{
	size_t n = *cap ? 2 * *cap : 64;
	struct snilb_flow_key *d = realloc(*dead, n * sizeof(**dead));
	uint32_t *l;

	if (!d)
		return -ENOMEM;
	*dead = d;
	l = realloc(*lis, n * sizeof(**lis));
	if (!l)
		return -ENOMEM;
	*lis = l;
	*cap = n;
	return 0;
}

int dp_reap(struct dataplane *dp, uint64_t now_ns, struct reap_result *res)
{
	return dp_reap_hooked(dp, now_ns, res, NULL, NULL);
}

/* The walk's state: the flows nominated, and every flow seen. */
struct nominate {
	struct dataplane *dp;
	const struct snilb_config *cfg;
	uint64_t now;
	struct reap_result *res, nominated;
	struct snilb_flow_key *dead;
	uint32_t *lis;
	size_t ndead, cap;
	struct seen seen;
	int err;
};

static void nominate_one(void *arg, const void *key, const void *val)
{
	struct nominate *w = arg;
	const struct snilb_flow *f = val;

	if (w->err || (w->err = seen_add(&w->seen, key)))
		return;
	if (judge(f, bind_time(w->dp, key, f, w->cfg, w->now), w->cfg,
		  w->now, &w->nominated) == KEEP) {
		w->res->flows++;
		return;
	}
	if (w->ndead == w->cap && (w->err = grow(&w->dead, &w->lis, &w->cap)))
		return;
	w->dead[w->ndead] = *(const struct snilb_flow_key *)key;
	w->lis[w->ndead++] = f->listener;
}

int dp_reap_hooked(struct dataplane *dp, uint64_t now_ns,
		   struct reap_result *res, void (*walked)(void *), void *arg)
{
	int flows = dp_map_fd(dp, SNILB_MAP_FLOWS);
	struct snilb_config cfg = { 0 };
	struct nominate w = { .dp = dp, .cfg = &cfg, .now = now_ns,
			      .res = res };
	enum verdict *why = NULL;
	uint32_t zero = 0;
	size_t i;
	int fd, e;

	memset(res, 0, sizeof(*res));
	bpf_map_lookup_elem(dp_map_fd(dp, SNILB_MAP_CONFIG), &zero, &cfg);
	fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0)
		return -errno;
	/* Nominate first, act after. The counts are expire()'s, on the
	 * flows as they are. */
	e = dp_walk(flows, sizeof(struct snilb_flow_key),
		    sizeof(struct snilb_flow), nominate_one, &w);
	if (!w.err)
		w.err = e;
	if (walked)
		walked(arg);
	why = w.ndead ? calloc(w.ndead, sizeof(*why)) : NULL;
	for (i = 0; i < w.ndead && why; i++)
		why[i] = expire(dp, fd, &cfg, &w.dead[i], now_ns, res, &w.err);
	if (why)
		count_timeouts(dp, w.lis, why, w.ndead);
	if (!e) {	/* a walk cut short saw too few to judge orphans */
		qsort(w.seen.h, w.seen.n, sizeof(*w.seen.h), cmp_u64);
		res->orphans = sweep_rev(dp, &w.seen);
		sweep_flow_keyed(dp, &w.seen);
	}
	free(w.seen.h);
	free(w.dead);
	free(why);
	free(w.lis);
	close(fd);
	return w.err;
}

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The packet tests' harness: see harness.h. */
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/pkt_cls.h>
#include <sys/socket.h>

#include "maglev.h"
#include "harness.h"
#include "pinned.h"

struct dataplane *dp;
static struct pinned *view;	/* the counters, read as the CLI does */
uint8_t out[PKT_MAX];
size_t outlen;
uint32_t harness_log_ring;
struct tview rv;		/* the program's answer, parsed */
struct tview cv;		/* the last clone it sent out, parsed */
static int cap_fd = -1;		/* what reaches dummy1 (in-netns.sh) */
static uint8_t cap_buf[PKT_MAX];

/* Linux's SYN options: MSS 1460, SACK-permitted, TS, NOP, WS 7. */
const uint8_t linux_syn_opts[20] = {
	2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0x03, 0xe8, 0, 0, 0, 0, 1, 3, 3, 7,
};

/* Packets the program sends itself (bpf_clone_redirect) leave by dummy0
 * for real: they are read where they arrive, on its peer. */
static void cap_open(void)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
		.sll_ifindex = (int)if_nametoindex("dummy1"),
	};

	if (!sll.sll_ifindex)
		return;
	cap_fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
			htons(ETH_P_ALL));
	if (cap_fd >= 0 && bind(cap_fd, (struct sockaddr *)&sll, sizeof(sll))) {
		close(cap_fd);
		cap_fd = -1;
	}
}

static void cap_drain(void)
{
	while (cap_fd >= 0 && recv(cap_fd, cap_buf, sizeof(cap_buf), 0) > 0)
		;
}

int clone_next(void)
{
	struct pollfd pf = { .fd = cap_fd, .events = POLLIN };
	struct sockaddr_ll from;
	socklen_t fl;
	ssize_t n;

	while (cap_fd >= 0 && poll(&pf, 1, 5000) > 0) {
		fl = sizeof(from);
		n = recvfrom(cap_fd, cap_buf, sizeof(cap_buf), 0,
			     (struct sockaddr *)&from, &fl);
		if (n < 14 + 40 || from.sll_pkttype == PACKET_OUTGOING)
			continue;	/* dummy1's own: neighbour discovery */
		if ((cap_buf[12] == 0x08 && cap_buf[14 + 9] == 6) ||
		    (cap_buf[12] == 0x86 && cap_buf[14 + 6] == 6))
			return tview_parse(cap_buf, (size_t)n, &cv);
	}
	return -1;
}

int run(const struct tpkt *t)
{
	static uint8_t in[PKT_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, o);
	int err;

	cap_drain();		/* clones of earlier runs */
	o.data_in = in;
	o.data_size_in = (__u32)tpkt_build(t, in);
	o.data_out = out;
	o.data_size_out = sizeof(out);
	err = bpf_prog_test_run_opts(dp_prog_fd(dp), &o);
	assert_int_equal(err, 0);
	outlen = o.data_size_out;
	if (o.retval == TC_ACT_REDIRECT) {
		assert_int_equal(tview_parse(out, outlen, &rv), 0);
		assert_true(rv.ip_csum_ok);
		assert_true(rv.tcp_csum_ok);
	}
	return (int)o.retval;
}

uint64_t counter(uint32_t idx)
{
	uint64_t v = 0;

	assert_int_equal(pinned_stat(view, idx, &v), 0);
	return v;
}

struct snilb_route_stats rstat(uint32_t route)
{
	struct snilb_route_stats st;

	assert_int_equal(pinned_route_stats(view, route, &st), 0);
	return st;
}

struct snilb_listener_stats lstat(uint32_t listener)
{
	struct snilb_listener_stats st;

	assert_int_equal(pinned_listener_stats(view, listener, &st), 0);
	return st;
}

struct tpkt seg(const struct conn *c, uint8_t flags, uint32_t off,
		const uint8_t *payload, size_t plen)
{
	static uint8_t ts[12];
	struct tpkt t = {
		.v6 = c->v6, .src = c->cli, .dst = c->vip,
		.sport = c->port, .dport = 443,
		.seq = c->isn + 1 + off, .ack = c->cookie + 1,
		.flags = flags, .window = 502,
		.payload = payload, .plen = plen,
	};

	if (!c->no_ts) {
		memcpy(ts, "\x01\x01\x08\x0a\0\0\x03\xe9", 8);
		ts[8] = (uint8_t)(c->tsval >> 24);
		ts[9] = (uint8_t)(c->tsval >> 16);
		ts[10] = (uint8_t)(c->tsval >> 8);
		ts[11] = (uint8_t)c->tsval;
		t.opts = ts;
		t.optlen = 12;
	}
	return t;
}

/* SYN -> SYN-ACK; fills the cookie and our timestamp. */
void handshake(struct conn *c)
{
	static const uint8_t mss_only[4] = { 2, 4, 0x05, 0xb4 };
	struct tpkt syn = {
		.v6 = c->v6, .src = c->cli, .dst = c->vip,
		.sport = c->port, .dport = 443, .seq = c->isn,
		.flags = 0x02, .window = 64240,
		.opts = c->no_ts ? mss_only : linux_syn_opts,
		.optlen = c->no_ts ? 4 : 20,
	};
	const uint8_t *ts;

	assert_int_equal(run(&syn), TC_ACT_REDIRECT);
	assert_string_equal(rv.src, c->vip);
	assert_string_equal(rv.dst, c->cli);
	assert_int_equal(rv.sport, 443);
	assert_int_equal(rv.dport, c->port);
	assert_int_equal(rv.flags, 0x12);
	assert_int_equal(rv.ack, c->isn + 1);
	assert_true(rv.window > 0);
	assert_memory_equal(rv.dmac, "\x02\0\0\0\0\x02", 6);
	c->cookie = rv.seq;
	ts = tview_opt(&rv, 8);
	c->tsval = ts ? be32(ts + 2) : 0;
}

void flow_key_of(const struct conn *c, struct snilb_flow_key *k)
{
	memset(k, 0, sizeof(*k));
	k->family = c->v6 ? 6 : 4;
	k->cport = htons(c->port);
	k->vport = htons(443);
	inet_pton(c->v6 ? AF_INET6 : AF_INET, c->cli, k->caddr);
	inet_pton(c->v6 ? AF_INET6 : AF_INET, c->vip, k->vaddr);
}

struct snilb_flow *flow_get(const struct conn *c)
{
	static struct snilb_flow f;
	struct snilb_flow_key k;

	flow_key_of(c, &k);
	if (bpf_map_lookup_elem(dp_map_fd(dp, SNILB_MAP_FLOWS), &k, &f))
		return NULL;
	return &f;
}

/* Whether hellos_small (@small) or hellos holds @c's hello. */
int hello_held(const struct conn *c, int small)
{
	static struct snilb_hello hb;
	struct snilb_flow_key k;

	flow_key_of(c, &k);
	return !bpf_map_lookup_elem(dp_map_fd(dp, small ?
					      SNILB_MAP_HELLOS_SMALL :
					      SNILB_MAP_HELLOS), &k, &hb);
}

/* @c's hellos entry (its bind state: struct snilb_bind), a copy; NULL:
 * none. */
struct snilb_hello *hello_get(const struct conn *c)
{
	static struct snilb_hello hb;
	struct snilb_flow_key k;

	flow_key_of(c, &k);
	if (bpf_map_lookup_elem(dp_map_fd(dp, SNILB_MAP_HELLOS), &k, &hb))
		return NULL;
	return &hb;
}

void hello_put(const struct conn *c, const struct snilb_hello *hb)
{
	struct snilb_flow_key k;

	flow_key_of(c, &k);
	assert_int_equal(bpf_map_update_elem(dp_map_fd(dp, SNILB_MAP_HELLOS),
					     &k, hb, BPF_EXIST), 0);
}

void flow_put(const struct conn *c, const struct snilb_flow *f)
{
	struct snilb_flow_key k;

	flow_key_of(c, &k);
	assert_int_equal(bpf_map_update_elem(dp_map_fd(dp, SNILB_MAP_FLOWS), &k, f,
					     BPF_EXIST), 0);
}

/* Handshake, then the first ACK: the flow exists, in HELLO. */
void connect_to(struct conn *c)
{
	struct tpkt ack;

	handshake(c);
	ack = seg(c, 0x10, 0, NULL, 0);
	assert_int_equal(run(&ack), TC_ACT_SHOT);	/* consumed */
	assert_non_null(flow_get(c));
	assert_int_equal(flow_get(c)->state, SNILB_FS_HELLO);
}

void send_hello(struct conn *c, const char *name, int expect)
{
	struct hb h;
	struct tpkt t;

	hb_simple(&h, name);
	t = seg(c, 0x18, 0, h.b, h.n);
	assert_int_equal(run(&t), expect);
}

struct tpkt from_backend(const struct conn *c, const struct bside *b,
			 uint8_t flags, uint32_t seq, uint32_t ack,
			 const uint8_t *opts, size_t optlen,
			 const uint8_t *payload, size_t plen)
{
	struct tpkt t = {
		.v6 = c->v6, .src = b->addr, .dst = b->snat,
		.sport = 8443, .dport = b->nport, .seq = seq, .ack = ack,
		.flags = flags, .window = 100, .opts = opts, .optlen = optlen,
		.payload = payload, .plen = plen,
	};

	return t;
}

void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* @v: a SYN to the backend with the client's ISN and options, with its
 * timestamps when @ts. */
static void check_syn(const struct tview *v, const struct conn *c,
		      const struct bside *b, int ts)
{
	const uint8_t *o;

	assert_int_equal(v->flags, 0x02);
	assert_string_equal(v->src, b->snat);
	assert_string_equal(v->dst, b->addr);
	assert_int_equal(v->dport, 8443);
	assert_int_equal(v->seq, c->isn);
	assert_int_equal(v->plen, 0);
	assert_true(v->ip_csum_ok);
	assert_true(v->tcp_csum_ok);
	o = tview_opt(v, 2);
	assert_non_null(o);
	/* The client's MSS, as the cookie carries it (IPv6: 1440). */
	assert_int_equal(o[2] << 8 | o[3], c->v6 ? 1440 : 1460);
	if (c->no_ts) {		/* reduced options: none to pass on */
		assert_null(tview_opt(v, 8));
		assert_null(tview_opt(v, 3));
		assert_null(tview_opt(v, 4));
		return;
	}
	o = tview_opt(v, 8);
	if (ts) {
		assert_non_null(o);
		assert_int_equal(be32(o + 2), 1001);	/* the client's TSval */
	} else {
		assert_null(o);
	}
	o = tview_opt(v, 3);
	assert_non_null(o);
	assert_int_equal(o[2], 7);			/* the client's wscale */
	assert_non_null(tview_opt(v, 4));
}

/* Routed hello -> SYN to the backend with the client's ISN and options,
 * and our second SYN right behind it, without timestamps (bpf/bind.h
 * syn_twice()): the first sent as a clone, the packet itself the second.
 * Without a second (--single-syn, a path not known yet), the one. */
void expect_syn_to(const struct conn *c, struct bside *b)
{
	if (flow_get(c)->resyn != SNILB_RESYN_EARLY) {
		check_syn(&rv, c, b, 1);
		b->nport = rv.sport;
		return;
	}
	assert_int_equal(clone_next(), 0);
	check_syn(&cv, c, b, 1);
	check_syn(&rv, c, b, 0);
	assert_int_equal(cv.sport, rv.sport);
	b->nport = rv.sport;
}

/* The client reset (RST|ACK) after @plen bytes of hello, its flow gone. */
void expect_reset(const struct conn *c, size_t plen)
{
	assert_int_equal(rv.flags, 0x14);
	assert_int_equal(rv.seq, c->cookie + 1);
	assert_int_equal(rv.ack, c->isn + 1 + (uint32_t)plen);
	assert_string_equal(rv.dst, c->cli);
	assert_null(flow_get(c));
}

/* The backend's first SYN-ACK answered: our SYN again, without
 * timestamps (bpf/backend.h resyn()). */
void expect_resyn(const struct conn *c, const struct bside *b)
{
	assert_int_equal(rv.flags, 0x02);
	assert_string_equal(rv.src, b->snat);
	assert_string_equal(rv.dst, b->addr);
	assert_int_equal(rv.sport, b->nport);
	assert_int_equal(rv.dport, 8443);
	assert_int_equal(rv.seq, c->isn);
	assert_int_equal(rv.plen, 0);
	assert_null(tview_opt(&rv, 8));
	assert_int_equal(flow_get(c)->state, SNILB_FS_ROUTED);
}

/* The backend's first SYN-ACK, @t: held when our second SYN went right
 * behind the first (bind.h syn_twice()): its own SYN-ACK comes next;
 * else answered with our SYN again (backend.h resyn()). */
void first_synack(const struct conn *c, const struct bside *b,
		  const struct tpkt *t)
{
	if (flow_get(c)->resyn == SNILB_RESYN_EARLY) {
		assert_int_equal(run(t), TC_ACT_SHOT);
		assert_int_equal(flow_get(c)->resyn, SNILB_RESYN_DONE);
		assert_int_equal(flow_get(c)->state, SNILB_FS_ROUTED);
		return;
	}
	assert_int_equal(run(t), TC_ACT_REDIRECT);
	expect_resyn(c, b);
}

/* Connect, route to www (backend 1), and complete the backend's side:
 * its SYN-ACK, its SYN-ACK again (our second SYN's), the hello. */
void splice_up_to(struct conn *c, struct bside *b, struct hb *h,
		  const char *name)
{
	struct tpkt t;

	connect_to(c);
	hb_simple(h, name);
	send_hello(c, name, TC_ACT_REDIRECT);
	expect_syn_to(c, b);
	t = from_backend(c, b, 0x12, b->isn, c->isn + 1, NULL, 0, NULL, 0);
	first_synack(c, b, &t);
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_int_equal(flow_get(c)->state, SNILB_FS_SPLICED);
}

void splice_up(struct conn *c, struct bside *b, struct hb *h)
{
	splice_up_to(c, b, h, "www.example.com");
}


int install_set(uint32_t set, const uint32_t *ids, size_t n)
{
	static uint32_t table[SNILB_MAGLEV_SIZE];
	struct maglev_backend b[4];
	char names[4][32];
	size_t i;

	for (i = 0; i < n; i++) {
		snprintf(names[i], sizeof(names[i]), "backend-%u", ids[i]);
		b[i] = (struct maglev_backend){ names[i], ids[i], 1 };
	}
	if (maglev_build(b, n, table, SNILB_MAGLEV_SIZE))
		return -EINVAL;
	return dp_set_install(dp, set, table, SNILB_MAGLEV_SIZE,
			      (uint32_t)n);
}

int harness_setup(void **state)
{
	char err[256];

	(void)state;
	if (geteuid() != 0) {
		print_message("skipped: loading BPF needs root\n");
		return -1;
	}
	cap_open();
	dp = dp_open(&(struct dp_opts){ .log_ring = harness_log_ring }, err,
		     sizeof(err));
	view = dp ? pinned_of(dp, err, sizeof(err)) : NULL;
	if (!view) {
		print_message("%s\n", err);
		return -1;
	}
	if (dp_listener_add(dp, VIP4, 443, 1) ||
	    dp_listener_add(dp, VIP6, 443, 2) ||
	    dp_route_add(dp, 1, "www.example.com", 10, 1) ||
	    dp_route_add(dp, 1, "*.example.com", 11, 2) ||
	    dp_route_add(dp, 1, "*.b.example.com", 12, 3) ||
	    dp_route_add(dp, 2, "v6.example.com", 20, 4) ||
	    dp_route_add(dp, 1, "retry.example.com", 13, 5) ||
	    dp_route_add(dp, 1, "empty.example.com", 14, 6))
		return -1;
	{
		static const uint32_t one[] = { 1 }, two[] = { 2 };
		static const uint32_t both[] = { 1, 2 }, six[] = { 3 };
		struct snilb_config cfg = { .snat4 = htonl(0xc6120201) };

		inet_pton(AF_INET6, SNAT6, cfg.snat6);
		int err = dp_backend_set(dp, 1, BE1, 8443, 0);

		if (!err)
			err = dp_backend_set(dp, 2, BE2, 8443, 0);
		if (!err)
			err = dp_backend_set(dp, 3, BE6, 8443, 0);
		if (!err)
			err = install_set(1, one, 1);
		if (!err)
			err = install_set(2, two, 1);
		if (!err)
			err = install_set(3, two, 1);
		if (!err)
			err = install_set(4, six, 1);
		if (!err)
			err = install_set(5, both, 2);
		if (!err)
			err = dp_config_set(dp, &cfg);
		if (err) {
			print_message("setup: %s\n", strerror(-err));
			return -1;
		}
	}
	return 0;
}

int harness_teardown(void **state)
{
	(void)state;
	pinned_close(view);
	dp_close(dp);
	if (cap_fd >= 0)
		close(cap_fd);
	return 0;
}

uint16_t icmp_sum(const uint8_t *ip, int v6, const uint8_t *icmp, size_t len)
{
	uint8_t tail[4] = { 0, 0, 0, 58 };
	uint32_t sum = 0;

	if (v6) {
		sum = csum_add(sum, ip + 8, 32);
		sum += (uint32_t)len;
		sum = csum_add(sum, tail, 4);
	}
	return csum_fin(csum_add(sum, icmp, len));
}

size_t icmp_error(uint8_t *buf, int v6, const char *router, const char *to,
		  uint8_t type, uint8_t code, uint32_t mtu,
		  const uint8_t *quote, size_t qlen)
{
	uint8_t *ip = buf + 14, *icmp = ip + (v6 ? 40 : 20);
	size_t len = 8 + qlen;
	uint16_t cs;

	memset(buf, 0, 14 + 40 + len);
	memcpy(buf, TEST_HOST_MAC "\x02\0\0\0\0\x09", 12);
	buf[12] = v6 ? 0x86 : 0x08;
	buf[13] = v6 ? 0xdd : 0x00;
	if (v6) {
		ip[0] = 0x60;
		ip[4] = (uint8_t)(len >> 8);
		ip[5] = (uint8_t)len;
		ip[6] = 58;
		ip[7] = 64;
		inet_pton(AF_INET6, router, ip + 8);
		inet_pton(AF_INET6, to, ip + 24);
	} else {
		ip[0] = 0x45;
		ip[2] = (uint8_t)((20 + len) >> 8);
		ip[3] = (uint8_t)(20 + len);
		ip[8] = 64;
		ip[9] = 1;
		inet_pton(AF_INET, router, ip + 12);
		inet_pton(AF_INET, to, ip + 16);
		cs = csum_fin(csum_add(0, ip, 20));
		ip[10] = (uint8_t)(cs >> 8);
		ip[11] = (uint8_t)cs;
	}
	icmp[0] = type;
	icmp[1] = code;
	put32(icmp + 4, mtu);
	memcpy(icmp + 8, quote, qlen);
	cs = icmp_sum(ip, v6, icmp, len);
	icmp[2] = (uint8_t)(cs >> 8);
	icmp[3] = (uint8_t)cs;
	return 14 + (v6 ? 40 : 20) + len;
}

void assert_ip_addrs(const uint8_t *ip, int v6, const char *src,
		     const char *dst)
{
	uint8_t a[16];

	inet_pton(v6 ? AF_INET6 : AF_INET, src, a);
	assert_memory_equal(ip + (v6 ? 8 : 12), a, v6 ? 16 : 4);
	inet_pton(v6 ? AF_INET6 : AF_INET, dst, a);
	assert_memory_equal(ip + (v6 ? 24 : 16), a, v6 ? 16 : 4);
	if (!v6)
		assert_int_equal(csum_fin(csum_add(0, ip, 20)), 0);
}

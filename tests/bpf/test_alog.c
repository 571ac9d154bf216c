// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The access log's records (bpf/alog.h, user/dataplane/alog.c and
 * reaper.c), with BPF_PROG_TEST_RUN (tests/bpf/harness.c): a spliced
 * connection reset by its client, a hello refused for its name, a
 * handshake the reaper times out, and a full ring: records lost are
 * counted, none is waited for.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <bpf/bpf.h>
#include <linux/pkt_cls.h>

#include "reaper.h"
#include "harness.h"

#define MAX_RECS 16
static struct snilb_log_rec recs[MAX_RECS];
static size_t nrecs, seen;

static void on_rec(const struct snilb_log_rec *rec, void *arg)
{
	(void)arg;
	if (nrecs < MAX_RECS)
		recs[nrecs++] = *rec;
	seen++;
}

static void log_on(int on, int hello_ms)
{
	struct snilb_config cfg;

	assert_int_equal(dp_config_get(dp, &cfg), 0);
	cfg.access_log = (uint8_t)on;
	cfg.hello_timeout_ms = (uint32_t)hello_ms;
	assert_int_equal(dp_config_set(dp, &cfg), 0);
}

/* The records the ring holds now, into recs[]. */
static size_t take(void)
{
	nrecs = seen = 0;
	assert_true(dp_log_read(dp) >= 0);
	return nrecs;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void assert_client(const struct snilb_log_rec *e, const struct conn *c)
{
	char a[INET6_ADDRSTRLEN];

	assert_int_equal(e->family, SNILB_AF_INET);
	assert_string_equal(inet_ntop(AF_INET, e->caddr, a, sizeof(a)), c->cli);
	assert_int_equal(ntohs(e->cport), c->port);
	assert_string_equal(inet_ntop(AF_INET, e->vaddr, a, sizeof(a)), c->vip);
	assert_int_equal(ntohs(e->vport), 443);
}

/* Spliced, 10 bytes up and 20 down, reset by the client: one record with
 * the name, the backend, the counts both ways and the setup's stamps. */
static void test_rst_client(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 41000,
			  .isn = 0x10000000 };
	struct bside b = { .addr = BE1, .snat = SNAT4, .isn = 0x20000000 };
	uint8_t up[10], down[20];
	const struct snilb_log_rec *e = recs;
	char a[INET6_ADDRSTRLEN];
	uint64_t conn_id;
	struct tpkt t;
	struct hb h;

	(void)state;
	memset(up, 'u', sizeof(up));
	memset(down, 'd', sizeof(down));
	log_on(1, 0);
	splice_up(&c, &b, &h);
	{
		struct snilb_flow_key k;
		struct snilb_flow *f = flow_get(&c);

		flow_key_of(&c, &k);
		conn_id = snilb_conn_id(&k, f->client_isn, f->created_ns);
	}
	t = from_backend(&c, &b, 0x18, b.isn + 1, c.isn + 1 + (uint32_t)h.n,
			 NULL, 0, down, sizeof(down));
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	t = seg(&c, 0x18, (uint32_t)h.n, up, sizeof(up));
	t.ack = c.cookie + 1 + sizeof(down);
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	t = from_backend(&c, &b, 0x10, b.isn + 1 + sizeof(down),
			 c.isn + 1 + (uint32_t)h.n + sizeof(up), NULL, 0,
			 NULL, 0);
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_int_equal(take(), 0);	/* nothing until it ends */
	t = seg(&c, 0x04, (uint32_t)h.n + sizeof(up), NULL, 0);
	t.optlen = 0;
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_null(flow_get(&c));

	assert_int_equal(take(), 1);
	assert_int_equal(e->end, SNILB_END_RST_CLIENT);
	assert_int_equal(e->reason, SNILB_LOG_NO_REASON);
	assert_client(e, &c);
	assert_int_equal(e->conn_id, conn_id);
	assert_string_equal(e->sni, "www.example.com");
	assert_int_equal(e->sni_len, strlen("www.example.com"));
	assert_int_equal(e->route, 10);
	assert_int_equal(e->backend, 1);
	assert_string_equal(inet_ntop(AF_INET, e->baddr, a, sizeof(a)), BE1);
	assert_int_equal(ntohs(e->bport), 8443);
	assert_int_equal(e->nport, htons(b.nport));
	assert_int_equal(e->tls_version, 0x0303);
	assert_int_equal(e->bytes_c2b, h.n + sizeof(up));
	assert_int_equal(e->pkts_c2b, 2);	/* the data and the RST */
	assert_int_equal(e->bytes_b2c, sizeof(down));
	assert_int_equal(e->pkts_b2c, 2);
	assert_true(e->created_ns && e->created_ns <= e->routed_ns);
	assert_true(e->routed_ns <= e->bind_ns);
	assert_true(e->bind_ns <= e->spliced_ns);
	assert_true(e->spliced_ns <= e->first_ns);
	assert_true(e->first_ns <= e->end_ns);
	/* Its conns entry went with it. */
	{
		struct snilb_flow_key k;
		struct snilb_conn res;

		flow_key_of(&c, &k);
		assert_int_not_equal(bpf_map_lookup_elem(
			dp_map_fd(dp, SNILB_MAP_CONNS), &k, &res), 0);
	}
}

/* A name no route has: a rejection record with the name and reason. */
static void test_reject_no_route(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 41001,
			  .isn = 0x30000000 };
	const struct snilb_log_rec *e = recs;
	struct hb h;

	(void)state;
	log_on(1, 0);
	take();
	connect_to(&c);
	hb_simple(&h, "www.example.org");
	send_hello(&c, "www.example.org", TC_ACT_REDIRECT);
	expect_reset(&c, h.n);
	assert_int_equal(take(), 1);
	assert_int_equal(e->end, SNILB_END_REJECT);
	assert_int_equal(e->reason, SNILB_REJ_NO_ROUTE);
	assert_client(e, &c);
	assert_string_equal(e->sni, "www.example.org");
	assert_int_equal(e->route, 0);
	assert_int_equal(e->routed_ns, 0);
	assert_int_equal(e->bfamily, 0);
	assert_true(e->conn_id != 0);
}

/* A handshake with no hello, timed out by the reaper: its record is the
 * reaper's, through the same reader. */
static void test_hello_timeout(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 41002,
			  .isn = 0x40000000 };
	const struct snilb_log_rec *e = recs;
	struct reap_result res;

	(void)state;
	log_on(1, 1);
	connect_to(&c);
	nrecs = seen = 0;
	assert_int_equal(dp_reap(dp, mono_ns() + 10000000, &res), 0);
	assert_int_equal(res.hello_expired, 1);
	assert_int_equal(nrecs, 1);
	assert_int_equal(e->end, SNILB_END_HELLO_TIMEOUT);
	assert_int_equal(e->reason, SNILB_REJ_TIMEOUT);
	assert_client(e, &c);
	assert_int_equal(e->sni_len, 0);
	log_on(1, 0);
}

/*
 * A conns entry an earlier flow of this tuple left (its end not logged)
 * is not a later one's: that one's end before routing, by the reaper or
 * by the data plane, is logged without the old name, times or tries, and
 * the entry goes.
 */
static void test_stale_conns(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 41005,
			  .isn = 0x50000000 };
	const struct snilb_log_rec *e = recs;
	int fd = dp_map_fd(dp, SNILB_MAP_CONNS);
	static struct snilb_conn old;
	struct snilb_flow_key k;
	struct reap_result res;
	struct hb h;
	int i;

	(void)state;
	for (i = 0; i < 2; i++) {
		log_on(1, i ? 0 : 1);
		take();
		c.port++;
		flow_key_of(&c, &k);
		memset(&old, 0, sizeof(old));
		strcpy(old.res.sni, "old.example.com");
		old.res.sni_len = 15;
		old.routed_ns = old.bind_ns = old.spliced_ns = 1;
		old.tries = 1;
		assert_int_equal(bpf_map_update_elem(fd, &k, &old, BPF_ANY), 0);
		connect_to(&c);
		nrecs = seen = 0;
		if (!i) {		/* the reaper's hello timeout */
			assert_int_equal(dp_reap(dp, mono_ns() + 10000000,
						 &res), 0);
			assert_int_equal(nrecs, 1);
			assert_int_equal(e->sni_len, 0);
		} else {		/* the data plane's: no route */
			hb_simple(&h, "www.example.org");
			send_hello(&c, "www.example.org", TC_ACT_REDIRECT);
			assert_int_equal(take(), 1);
			assert_string_equal(e->sni, "www.example.org");
		}
		assert_int_equal(e->routed_ns, 0);
		assert_int_equal(e->tries, 0);
		assert_int_not_equal(bpf_map_lookup_elem(fd, &k, &old), 0);
	}
	log_on(1, 0);
}

/* No records when the log is off. */
static void test_off(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 41003,
			  .isn = 0x50000000 };

	(void)state;
	log_on(0, 0);
	take();
	connect_to(&c);
	send_hello(&c, "www.example.org", TC_ACT_REDIRECT);
	assert_int_equal(take(), 0);
	log_on(1, 0);
}

/* The log turned off while a flow lives: its end writes nothing, and
 * the reaper sweeps the conns entry it leaves. */
static void test_conns_swept(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 41004,
			  .isn = 0x60000000 };
	struct bside b = { .addr = BE1, .snat = SNAT4, .isn = 0x70000000 };
	int fd = dp_map_fd(dp, SNILB_MAP_CONNS);
	struct snilb_flow_key k;
	struct reap_result res;
	struct snilb_conn info;
	struct tpkt t;
	struct hb h;

	(void)state;
	log_on(1, 0);
	take();
	splice_up(&c, &b, &h);
	flow_key_of(&c, &k);
	assert_int_equal(bpf_map_lookup_elem(fd, &k, &info), 0);
	assert_string_equal(info.res.sni, "www.example.com");
	log_on(0, 0);
	t = from_backend(&c, &b, 0x10, b.isn + 1, c.isn + 1 + (uint32_t)h.n,
			 NULL, 0, NULL, 0);	/* the hello acknowledged */
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	t = seg(&c, 0x04, (uint32_t)h.n, NULL, 0);
	t.optlen = 0;
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_null(flow_get(&c));
	assert_int_equal(take(), 0);
	assert_int_equal(bpf_map_lookup_elem(fd, &k, &info), 0);
	assert_int_equal(dp_reap(dp, mono_ns(), &res), 0);
	assert_int_not_equal(bpf_map_lookup_elem(fd, &k, &info), 0);
	log_on(1, 0);
}

/* The ring full (nobody reads it): records are lost, counted, and the
 * rejections still answered; read, it takes records again. */
static void test_ring_full(void **state)
{
	uint64_t sent0 = counter(SNILB_ST_LOG_SENT);
	uint64_t lost0 = counter(SNILB_ST_LOG_LOST);
	struct tpkt t = { .src = CLI4, .dst = VIP4, .dport = 443,
			  .seq = 1, .ack = 12345, .flags = 0x10,
			  .window = 100 };
	size_t fit = 4096 * 4 / (sizeof(struct snilb_log_rec) + 8), i, n;

	(void)state;
	log_on(1, 0);
	take();
	n = fit + 10;
	for (i = 0; i < n; i++) {		/* bad cookies: RSTs */
		t.sport = (uint16_t)(20000 + i);
		assert_int_equal(run(&t), TC_ACT_REDIRECT);
		assert_int_equal(rv.flags & 0x04, 0x04);
	}
	assert_int_equal(counter(SNILB_ST_LOG_SENT) - sent0 +
			 counter(SNILB_ST_LOG_LOST) - lost0, n);
	assert_true(counter(SNILB_ST_LOG_LOST) - lost0 >= 10);
	take();
	assert_int_equal(seen, counter(SNILB_ST_LOG_SENT) - sent0);
	assert_int_equal(recs[0].reason, SNILB_REJ_BAD_COOKIE);
	t.sport = 19999;
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_int_equal(take(), 1);
}

static int setup(void **state)
{
	harness_log_ring = 4096 * 4;
	if (harness_setup(state))
		return -1;
	return dp_log_open(dp, on_rec, NULL) ? -1 : 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rst_client),
		cmocka_unit_test(test_reject_no_route),
		cmocka_unit_test(test_hello_timeout),
		cmocka_unit_test(test_stale_conns),
		cmocka_unit_test(test_off),
		cmocka_unit_test(test_conns_swept),
		cmocka_unit_test(test_ring_full),
	};

	return cmocka_run_group_tests(tests, setup, harness_teardown);
}

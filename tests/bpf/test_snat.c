// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * SNAT source ports, packet in -> packet out with BPF_PROG_TEST_RUN
 * (tests/bpf/harness.c): the SYN to a backend leaves from a port of the
 * configured range (by default SNILB_SNAT_PORT_LO..HI, clear of Linux's
 * ephemeral ports), and a backend's packet is taken for a flow only when
 * its port is in that range (issue 13 item 7, docs/dataplane.md "TCP
 * correctness").
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <cmocka.h>
#include <bpf/bpf.h>
#include <linux/pkt_cls.h>

#include "harness.h"

static struct snilb_config config_get(void)
{
	struct snilb_config cfg;
	uint32_t zero = 0;

	assert_int_equal(bpf_map_lookup_elem(dp_map_fd(dp, SNILB_MAP_CONFIG),
					     &zero, &cfg), 0);
	return cfg;
}

static void ports_set(uint16_t lo, uint16_t hi)
{
	struct snilb_config cfg = config_get();

	cfg.port_lo = lo;
	cfg.port_hi = hi;
	assert_int_equal(dp_config_set(dp, &cfg), 0);
}

/* Routed to backend 1: the SYN to it, from our SNAT address; its port. */
static uint16_t bind_one(struct conn *c)
{
	struct bside b = { .addr = BE1, .snat = SNAT4 };

	connect_to(c);
	send_hello(c, "www.example.com", TC_ACT_REDIRECT);
	expect_syn_to(c, &b);
	assert_int_equal(ntohs(flow_get(c)->nport), b.nport);
	return b.nport;
}

/*
 * The config leaves the ports 0: the default range. It was 20000-59999,
 * which holds most of Linux's ephemeral ports (32768-60999): a node's own
 * connection to a backend could hold the port a client's flow took.
 * Sixteen flows, all in the default range (by chance under the old one:
 * 1 in 4^16).
 */
static void test_default_range(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .isn = 1000 };
	int i;

	(void)state;
	assert_int_equal(config_get().port_lo, 0);
	for (i = 0; i < 16; i++) {
		uint16_t port;

		c.port = (uint16_t)(42000 + i);
		port = bind_one(&c);
		if (port < SNILB_SNAT_PORT_LO || port > SNILB_SNAT_PORT_HI)
			fail_msg("SNAT port %u outside %u-%u", port,
				 SNILB_SNAT_PORT_LO, SNILB_SNAT_PORT_HI);
	}
}

/* A range of four: four flows take its four ports, the fifth finds none
 * (SNAT full: the client is reset). */
static void test_configured_range(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .isn = 2000 };
	uint64_t full = counter(SNILB_ST_SNAT_FULL);
	unsigned int seen = 0;
	int i;

	(void)state;
	ports_set(40000, 40003);
	for (i = 0; i < 4; i++) {
		uint16_t port;

		c.port = (uint16_t)(43000 + i);
		port = bind_one(&c);
		assert_in_range(port, 40000, 40003);
		assert_false(seen & (1u << (port - 40000)));
		seen |= 1u << (port - 40000);
	}
	c.port = 43004;
	connect_to(&c);
	send_hello(&c, "www.example.com", TC_ACT_REDIRECT);
	assert_int_equal(rv.flags & 0x04, 0x04);	/* RST */
	assert_string_equal(rv.dst, CLI4);
	assert_int_equal(counter(SNILB_ST_SNAT_FULL), full + 1);
	ports_set(0, 0);
}

/*
 * A backend's packet to the SNAT address is looked at only when its port
 * is in the configured range: a port outside it belongs to the node,
 * even where the rev map still names a flow on it (one bound before the
 * range changed).
 */
static void test_claims_only_range(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 44000,
			  .isn = 3000 };
	struct bside b = { .addr = BE1, .snat = SNAT4, .isn = 9000 };
	struct tpkt t;
	struct hb h;

	(void)state;
	ports_set(41000, 41000);
	splice_up(&c, &b, &h);
	assert_int_equal(b.nport, 41000);
	t = from_backend(&c, &b, 0x10, b.isn + 1, c.isn + 1 + h.n, NULL, 0,
			 NULL, 0);
	assert_int_equal(run(&t), TC_ACT_REDIRECT);	/* to the client */
	assert_string_equal(rv.dst, CLI4);
	ports_set(41001, 41100);
	assert_int_equal(run(&t), TC_ACT_OK);		/* the node's */
	ports_set(0, 0);
	/* The default range does not hold 41000 either. */
	assert_int_equal(run(&t), TC_ACT_OK);
}

/*
 * The rev key holds no SNAT address (the node has one per family): a
 * backend's packet to another of the node's addresses, on a port a flow
 * holds, is the node's, in either family.
 */
static void snat_only(int v6, uint16_t port)
{
	struct conn c = { .v6 = v6, .cli = v6 ? CLI6 : CLI4,
			  .vip = v6 ? VIP6 : VIP4, .port = port, .isn = 3100 };
	struct bside b = { .addr = v6 ? BE6 : BE1, .snat = v6 ? SNAT6 : SNAT4,
			   .isn = 9100 };
	struct tpkt t;
	struct hb h;

	splice_up_to(&c, &b, &h, v6 ? "v6.example.com" : "www.example.com");
	t = from_backend(&c, &b, 0x10, b.isn + 1, c.isn + 1 + h.n, NULL, 0,
			 NULL, 0);
	assert_int_equal(run(&t), TC_ACT_REDIRECT);	/* to the client */
	b.snat = v6 ? "2001:db8:1::77" : "198.18.1.77";
	t = from_backend(&c, &b, 0x10, b.isn + 1, c.isn + 1 + h.n, NULL, 0,
			 NULL, 0);
	assert_int_equal(run(&t), TC_ACT_OK);		/* the node's */
}

static void test_snat_address_only(void **state)
{
	(void)state;
	snat_only(0, 44100);
	snat_only(1, 44101);
}

/* bpf/bind.h's flow_hash() (Maglev's index), in userspace. */
static uint32_t flow_hash_of(const char *cli, uint16_t port)
{
	struct snilb_flow_key k = { .family = SNILB_AF_INET,
				    .cport = htons(port), .vport = htons(443) };
	const uint32_t *w = (const uint32_t *)&k;
	uint32_t h = 2166136261u;
	size_t i;

	inet_pton(AF_INET, cli, k.caddr);
	inet_pton(AF_INET, VIP4, k.vaddr);
	for (i = 0; i < sizeof(k) / 4; i++)
		h = (h ^ w[i]) * 16777619u;
	return h ^ (h >> 16);
}

/*
 * Twenty clients whose tuples share one flow_hash() (it is weak: a port
 * only reaches the high half of its word), to one backend: each gets a
 * port. SNAT claims used to probe from that hash: all twenty tried the
 * same 16 ports, and the 17th was reset (snat_full) with 19,984 free.
 */
static void test_claims_spread(void **state)
{
	static char addrs[254][16];
	struct conn c = { .vip = VIP4, .isn = 4000 };
	uint64_t full = counter(SNILB_ST_SNAT_FULL);
	uint32_t want = flow_hash_of("198.18.1.1", 45000);
	unsigned int a, n = 0;
	uint16_t p;

	(void)state;
	for (a = 1; a < 255 && n < 20; a++) {
		snprintf(addrs[a - 1], sizeof(addrs[0]), "198.18.1.%u", a);
		for (p = 45000; p < 46000 && n < 20; p++) {
			if (flow_hash_of(addrs[a - 1], p) != want)
				continue;
			c.cli = addrs[a - 1];
			c.port = p;
			bind_one(&c);
			n++;
		}
	}
	assert_int_equal(n, 20);
	assert_int_equal(counter(SNILB_ST_SNAT_FULL), full);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_range),
		cmocka_unit_test(test_configured_range),
		cmocka_unit_test(test_claims_only_range),
		cmocka_unit_test(test_snat_address_only),
		cmocka_unit_test(test_claims_spread),
	};

	return cmocka_run_group_tests_name("snat", tests, harness_setup,
					   harness_teardown);
}

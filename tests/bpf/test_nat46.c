// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * NAT46/64, packet in -> packet out with BPF_PROG_TEST_RUN
 * (tests/bpf/harness.c): an IPv6 client routed to an IPv4 backend, and an
 * IPv4 client to an IPv6 one (issue 16 item 3, docs/dataplane.md
 * "NAT46/64"). The SYN to the backend, its handshake, the replayed hello
 * and spliced packets both ways leave in the other family, from the SNAT
 * address of the backend's family, with the numbers translated as for a
 * same-family flow and every IP and TCP checksum right (run() checks
 * them); the MSS leaves room for the larger header; a refused backend's
 * RST reaches the client in its own family; packets too big once
 * translated, and "too big" errors about translated packets.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <bpf/bpf.h>
#include <linux/pkt_cls.h>

#include "harness.h"

#define R_V4BE	40	/* on the IPv6 listener, to set 1 (BE1, IPv4) */
#define R_V6BE	41	/* on the IPv4 listener, to set 4 (BE6, IPv6) */

static uint8_t data[2048];

/* A backend's packet in its own family (from_backend() takes the
 * client's). */
static struct tpkt bpkt(const struct bside *b, int v6, uint8_t flags,
			uint32_t seq, uint32_t ack, const uint8_t *payload,
			size_t plen)
{
	struct tpkt t = {
		.v6 = v6, .src = b->addr, .dst = b->snat,
		.sport = 8443, .dport = b->nport, .seq = seq, .ack = ack,
		.flags = flags, .window = 100,
		.payload = payload, .plen = plen,
	};
	return t;
}

static uint16_t syn_mss(void)
{
	const uint8_t *o = tview_opt(&rv, 2);

	assert_non_null(o);
	return (uint16_t)(o[2] << 8 | o[3]);
}

/* The TCP payload of the redirected packet. */
static const uint8_t *payload_of(void)
{
	return out + outlen - rv.plen;
}

/*
 * Client of one family, backend of the other: the SYN, the backend's
 * handshake, the replay, then data both ways. @v6: the client's family.
 */
static void cross(int v6, uint16_t port, uint16_t mss)
{
	struct conn c = { .v6 = v6, .cli = v6 ? CLI6 : CLI4,
			  .vip = v6 ? VIP6 : VIP4, .port = port,
			  .isn = 70000 };
	struct bside b = { .addr = v6 ? BE1 : BE6, .snat = v6 ? SNAT4 : SNAT6,
			   .isn = 900000 };
	const char *name = v6 ? "v4be.example.com" : "v6be.example.com";
	uint32_t seq_off, k;
	struct tpkt t;
	struct hb h;

	connect_to(&c);
	hb_simple(&h, name);
	send_hello(&c, name, TC_ACT_REDIRECT);
	/* The SYN, in the backend's family, from its SNAT address. */
	assert_int_equal(rv.v6, !v6);
	assert_int_equal(rv.flags, 0x02);
	assert_string_equal(rv.src, b.snat);
	assert_string_equal(rv.dst, b.addr);
	assert_int_equal(rv.dport, 8443);
	assert_int_equal(rv.seq, c.isn);
	assert_int_equal(syn_mss(), mss);
	b.nport = rv.sport;
	/* Our first SYN went ahead of it, the same in the backend's family
	 * (bind.h syn_twice()). */
	assert_int_equal(clone_next(), 0);
	assert_int_equal(cv.v6, !v6);
	assert_int_equal(cv.flags, 0x02);
	assert_true(cv.ip_csum_ok);
	assert_true(cv.tcp_csum_ok);
	assert_string_equal(cv.dst, b.addr);
	assert_int_equal(cv.seq, c.isn);
	assert_int_equal(tview_opt(&cv, 2)[2] << 8 | tview_opt(&cv, 2)[3], mss);
	/* Its SYN-ACK: held, our second SYN's is next. */
	t = bpkt(&b, !v6, 0x12, b.isn, c.isn + 1, NULL, 0);
	assert_int_equal(run(&t), TC_ACT_SHOT);
	/* That one: the hello, to the backend, in its family. */
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_int_equal(rv.v6, !v6);
	assert_string_equal(rv.dst, b.addr);
	assert_int_equal(rv.seq, c.isn + 1);
	assert_int_equal(rv.plen, h.n);
	assert_memory_equal(payload_of(), h.b, h.n);
	assert_int_equal(flow_get(&c)->state, SNILB_FS_SPLICED);
	seq_off = b.isn - c.cookie;
	/* Client -> backend: translated, acks in the backend's numbers. */
	for (k = 0; k < sizeof(data); k++)
		data[k] = (uint8_t)(k * 7 + port);
	t = seg(&c, 0x18, (uint32_t)h.n, data, 1000);
	t.ack = c.cookie + 1 + 10;
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_int_equal(rv.v6, !v6);
	assert_string_equal(rv.src, b.snat);
	assert_string_equal(rv.dst, b.addr);
	assert_int_equal(rv.sport, b.nport);
	assert_int_equal(rv.dport, 8443);
	assert_int_equal(rv.seq, c.isn + 1 + h.n);
	assert_int_equal(rv.ack, b.isn + 1 + 10);
	assert_int_equal(rv.plen, 1000);
	assert_memory_equal(payload_of(), data, 1000);
	assert_memory_equal(out, "\x02\0\0\0\x0b", 5);	/* the backend's MAC */
	/* Backend -> client: translated back, seq in our numbers. */
	t = bpkt(&b, !v6, 0x18, b.isn + 1 + 10, c.isn + 1 + h.n + 1000,
		 data + 3, 1200);
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_int_equal(rv.v6, v6);
	assert_string_equal(rv.src, c.vip);
	assert_string_equal(rv.dst, c.cli);
	assert_int_equal(rv.sport, 443);
	assert_int_equal(rv.dport, port);
	assert_int_equal(rv.seq, b.isn + 1 + 10 - seq_off);
	assert_int_equal(rv.seq, c.cookie + 1 + 10);
	assert_int_equal(rv.ack, c.isn + 1 + h.n + 1000);
	assert_int_equal(rv.plen, 1200);
	assert_memory_equal(payload_of(), data + 3, 1200);
	assert_memory_equal(out, "\x02\0\0\0\0\x02", 6);	/* the client's */
	/* A FIN each way and their ACKs: forwarded, the flow done. */
	t = seg(&c, 0x11, (uint32_t)h.n + 1000, NULL, 0);
	t.ack = c.cookie + 1 + 10 + 1200;
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_int_equal(rv.v6, !v6);
	assert_int_equal(rv.flags, 0x11);
	t = bpkt(&b, !v6, 0x11, b.isn + 1 + 10 + 1200,
		 c.isn + 1 + h.n + 1000 + 1, NULL, 0);
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_int_equal(rv.v6, v6);
	assert_int_equal(rv.flags, 0x11);
	assert_int_equal(rv.ack, c.isn + 1 + h.n + 1000 + 1);
}

/* An IPv6 client, an IPv4 backend: the client's MSS (1440) as is, its
 * IPv4 segments the smaller. */
static void test_v6_client_v4_backend(void **state)
{
	(void)state;
	cross(1, 45000, 1440);
}

/* An IPv4 client, an IPv6 backend: the client's MSS 1460 less 20, so
 * the backend's IPv6 segments fit the MTU the client's was made for. */
static void test_v4_client_v6_backend(void **state)
{
	(void)state;
	cross(0, 45001, 1440);
}

/* The backend refuses (RST) every try: the client's RST comes in its
 * own family, from the VIP. */
static void test_refused(void **state)
{
	struct conn c = { .v6 = 1, .cli = CLI6, .vip = VIP6, .port = 45002,
			  .isn = 123 };
	struct bside b = { .addr = BE1, .snat = SNAT4 };
	struct tpkt t;
	int i;

	(void)state;
	connect_to(&c);
	send_hello(&c, "v4be.example.com", TC_ACT_REDIRECT);
	for (i = 0; i < SNILB_MAX_TRIES; i++) {
		assert_int_equal(rv.v6, 0);
		assert_int_equal(rv.flags, 0x02);
		b.nport = rv.sport;
		t = bpkt(&b, 0, 0x14, 0, c.isn + 1, NULL, 0);
		assert_int_equal(run(&t), TC_ACT_REDIRECT);
	}
	assert_int_equal(rv.v6, 1);
	assert_string_equal(rv.src, VIP6);
	expect_reset(&c, 0);
}

/* No SNAT address of the backend's family: the client is reset as for
 * no backend, not counted as SNAT ports exhausted. */
static void test_no_snat_of_family(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 45004,
			  .isn = 321 };
	uint64_t full = counter(SNILB_ST_SNAT_FULL);
	struct snilb_config cfg, keep;
	uint32_t zero = 0;
	struct hb h;

	(void)state;
	hb_simple(&h, "v6be.example.com");
	assert_int_equal(bpf_map_lookup_elem(dp_map_fd(dp, SNILB_MAP_CONFIG),
					     &zero, &keep), 0);
	cfg = keep;
	memset(cfg.snat6, 0, sizeof(cfg.snat6));
	assert_int_equal(dp_config_set(dp, &cfg), 0);
	connect_to(&c);
	send_hello(&c, "v6be.example.com", TC_ACT_REDIRECT);
	assert_int_equal(rv.v6, 0);
	expect_reset(&c, h.n);
	assert_int_equal(counter(SNILB_ST_SNAT_FULL), full);
	assert_int_equal(dp_config_set(dp, &keep), 0);
}

/* Up to spliced, for the MTU tests; the backend's side in @b. */
static void splice_cross(struct conn *c, struct bside *b, struct hb *h)
{
	const char *name = c->v6 ? "v4be.example.com" : "v6be.example.com";
	struct tpkt t;

	connect_to(c);
	hb_simple(h, name);
	send_hello(c, name, TC_ACT_REDIRECT);
	b->nport = rv.sport;
	t = bpkt(b, !c->v6, 0x12, b->isn, c->isn + 1, NULL, 0);
	assert_int_equal(run(&t), TC_ACT_SHOT);	/* held: the next is ours */
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_int_equal(flow_get(c)->state, SNILB_FS_SPLICED);
}

static int run_frame(const uint8_t *in, size_t len)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in,
		    .data_size_in = (__u32)len, .data_out = out,
		    .data_size_out = sizeof(out));

	assert_int_equal(bpf_prog_test_run_opts(dp_prog_fd(dp), &o), 0);
	outlen = o.data_size_out;
	return (int)o.retval;
}

/* The answer's quote is a TCP packet from @src:@sport to @dst:@dport with
 * sequence number @seq. */
static void expect_quote(int v6, const char *src, const char *dst,
			 uint16_t sport, uint16_t dport, uint32_t seq)
{
	size_t iph = v6 ? 40 : 20;
	uint8_t *q = out + 14 + iph + 8, *qt = q + iph;
	char a[64];

	assert_int_equal(outlen, 14 + iph + 8 + iph + 20);
	assert_int_equal(q[0] >> 4, v6 ? 6 : 4);
	assert_int_equal(q[v6 ? 6 : 9], 6);
	inet_ntop(v6 ? AF_INET6 : AF_INET, q + (v6 ? 8 : 12), a, sizeof(a));
	assert_string_equal(a, src);
	inet_ntop(v6 ? AF_INET6 : AF_INET, q + (v6 ? 24 : 16), a, sizeof(a));
	assert_string_equal(a, dst);
	if (!v6)
		assert_int_equal(csum_fin(csum_add(0, q, 20)), 0);
	assert_int_equal(qt[0] << 8 | qt[1], sport);
	assert_int_equal(qt[2] << 8 | qt[3], dport);
	assert_int_equal(be32(qt + 4), seq);
}

/* The answer is "too big" to @to in its family, with MTU @mtu. */
static void expect_too_big(int v6, const char *to, uint32_t mtu)
{
	uint8_t *ip = out + 14, *icmp = ip + (v6 ? 40 : 20);
	char dst[64];

	assert_int_equal(out[12] << 8 | out[13], v6 ? 0x86dd : 0x0800);
	inet_ntop(v6 ? AF_INET6 : AF_INET, v6 ? ip + 24 : ip + 16, dst,
		  sizeof(dst));
	assert_string_equal(dst, to);
	if (v6) {
		assert_int_equal(icmp[0], 2);
		assert_int_equal(be32(icmp + 4), mtu);
	} else {
		assert_int_equal(icmp[0], 3);
		assert_int_equal(icmp[1], 4);
		assert_int_equal(icmp[6] << 8 | icmp[7], mtu);
	}
	assert_int_equal(icmp_sum(ip, v6, icmp, outlen - 14 - (v6 ? 40 : 20)),
			 0);
}

/*
 * An IPv4 client's packet that fits the IPv6 backend path's MTU as IPv4
 * but not once 20 bytes longer: "fragmentation needed" to the client
 * with that MTU less 20. A router's "packet too big" about a translated
 * packet lowers the flow's MTU: the next one too big for it gets ours.
 */
static void test_too_big(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 45003,
			  .isn = 5000 };
	struct bside b = { .addr = BE6, .snat = SNAT6, .isn = 7000 };
	uint8_t in[PKT_MAX], quote[60];
	uint64_t n = counter(SNILB_ST_X_MTU);
	struct snilb_flow f;
	struct tpkt t;
	struct hb h;
	size_t len;

	(void)state;
	splice_cross(&c, &b, &h);
	f = *flow_get(&c);
	f.bmtu = 1300;
	flow_put(&c, &f);
	/* 20 + 32 + 1248 = 1300 as IPv4, 1320 as IPv6. */
	t = seg(&c, 0x18, (uint32_t)h.n, data, 1248);
	assert_int_equal(run_frame(in, tpkt_build(&t, in)), TC_ACT_REDIRECT);
	expect_too_big(0, CLI4, 1280);
	t.plen = 1228;			/* fits */
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_int_equal(rv.v6, 1);
	/* A router on the IPv6 path: MTU 1290 for our SNAT address. */
	memset(quote, 0, sizeof(quote));
	inet_pton(AF_INET6, SNAT6, quote + 8);
	inet_pton(AF_INET6, BE6, quote + 24);
	quote[0] = 0x60;
	quote[6] = 6;
	quote[40] = (uint8_t)(b.nport >> 8);
	quote[41] = (uint8_t)b.nport;
	quote[42] = 8443 >> 8;
	quote[43] = 8443 & 0xff;
	put32(quote + 44, c.isn + 1 + (uint32_t)h.n);
	len = icmp_error(in, 1, "2001:db8:2::99", SNAT6, 2, 0, 1290, quote,
			 sizeof(quote));
	/* The client hears it at once, in IPv4, about its own packet. */
	assert_int_equal(run_frame(in, len), TC_ACT_REDIRECT);
	expect_too_big(0, CLI4, 1270);
	expect_quote(0, CLI4, VIP4, c.port, 443, c.isn + 1 + (uint32_t)h.n);
	assert_memory_equal(out, "\x02\0\0\0\0\x02", 6);
	assert_int_equal(flow_get(&c)->bmtu, 1290);
	assert_int_equal(counter(SNILB_ST_X_MTU), n + 1);
	/* The next packet over it: ours. */
	assert_int_equal(run_frame(in, tpkt_build(&t, in)), TC_ACT_REDIRECT);
	expect_too_big(0, CLI4, 1270);
}

/*
 * A router on an IPv6 client's path: "packet too big" about our packet
 * to the client reaches the IPv4 backend as "fragmentation needed" from
 * the SNAT address, with the MTU less 20, quoting the backend's own
 * packet (its sequence number); the flow's client MTU is lowered.
 */
static void test_too_big_client_side(void **state)
{
	struct conn c = { .v6 = 1, .cli = CLI6, .vip = VIP6, .port = 45005,
			  .isn = 6000 };
	struct bside b = { .addr = BE1, .snat = SNAT4, .isn = 8000 };
	uint8_t in[PKT_MAX], quote[60];
	uint64_t n = counter(SNILB_ST_X_MTU);
	struct hb h;
	size_t len;

	(void)state;
	splice_cross(&c, &b, &h);
	/* Our packet to the client: from the VIP, sequence number ours. */
	memset(quote, 0, sizeof(quote));
	quote[0] = 0x60;
	quote[6] = 6;
	inet_pton(AF_INET6, VIP6, quote + 8);
	inet_pton(AF_INET6, CLI6, quote + 24);
	quote[40] = 443 >> 8;
	quote[41] = 443 & 0xff;
	quote[42] = (uint8_t)(c.port >> 8);
	quote[43] = (uint8_t)c.port;
	put32(quote + 44, c.cookie + 1 + 100);
	len = icmp_error(in, 1, "2001:db8:1::99", VIP6, 2, 0, 1300, quote,
			 sizeof(quote));
	assert_int_equal(run_frame(in, len), TC_ACT_REDIRECT);
	expect_too_big(0, BE1, 1280);
	expect_quote(0, BE1, SNAT4, 8443, b.nport, b.isn + 1 + 100);
	assert_int_equal(counter(SNILB_ST_X_MTU), n + 1);
}

static int setup(void **state)
{
	if (harness_setup(state))
		return -1;
	if (dp_route_add(dp, 2, "v4be.example.com", R_V4BE, 1) ||
	    dp_route_add(dp, 1, "v6be.example.com", R_V6BE, 4))
		return -1;
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v6_client_v4_backend),
		cmocka_unit_test(test_v4_client_v6_backend),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_no_snat_of_family),
		cmocka_unit_test(test_too_big),
		cmocka_unit_test(test_too_big_client_side),
	};

	return cmocka_run_group_tests_name("nat46", tests, setup,
					   harness_teardown);
}

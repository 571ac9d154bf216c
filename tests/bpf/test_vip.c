// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Packets to a VIP that no listener takes (bpf/vip.h), packet in -> packet
 * out with BPF_PROG_TEST_RUN: echo requests answered from the VIP, TCP to
 * a port with no listener reset, UDP answered with port unreachable (and
 * rate limited), fragments, options, extension headers and other
 * protocols dropped and counted; a packet to any other address passes
 * untouched. Passed to the node, each of these would loop between the node
 * and its router (the VIP is routed to the node, never assigned).
 */
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
#include <bpf/libbpf.h>
#include <linux/pkt_cls.h>

#include "harness.h"

#define IPPROTO_FRAG6	44

static uint8_t pin[PKT_MAX], pout[PKT_MAX];
static size_t pinlen, poutlen;

/* An IP packet around the L4 bytes @l4. */
struct ipkt {
	int v6;
	const char *src, *dst;
	uint8_t proto;
	const uint8_t *l4;
	size_t l4len;
	uint16_t frag;		/* IPv4 frag_off, host order */
	int opts;		/* IPv4: 4 bytes of options (NOPs) */
	int ext;		/* IPv6: a fragment header first */
};

static uint32_t pseudo_sum(int v6, const char *src, const char *dst,
			   uint8_t proto, size_t len)
{
	uint8_t a[32], tail[4] = { 0, 0, 0, proto };
	uint32_t sum;

	if (v6) {
		inet_pton(AF_INET6, src, a);
		inet_pton(AF_INET6, dst, a + 16);
		sum = csum_add(0, a, 32);
	} else {
		inet_pton(AF_INET, src, a);
		inet_pton(AF_INET, dst, a + 4);
		sum = csum_add(0, a, 8);
	}
	return csum_add(sum + (uint32_t)len, tail, 4);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static size_t ipkt_build(const struct ipkt *t, uint8_t *buf)
{
	uint8_t *ip = buf + 14;
	size_t hl = t->v6 ? 40 + (t->ext ? 8 : 0) : 20 + (t->opts ? 4 : 0);

	memset(buf, 0, 14 + hl);
	memcpy(buf, TEST_MACS, 12);
	buf[12] = t->v6 ? 0x86 : 0x08;
	buf[13] = t->v6 ? 0xdd : 0x00;
	if (t->v6) {
		ip[0] = 0x60;
		put16(ip + 4, (uint16_t)(hl - 40 + t->l4len));
		ip[6] = t->ext ? IPPROTO_FRAG6 : t->proto;
		ip[7] = 9;
		inet_pton(AF_INET6, t->src, ip + 8);
		inet_pton(AF_INET6, t->dst, ip + 24);
		if (t->ext) {
			ip[40] = t->proto;	/* offset 0, more fragments */
			ip[43] = 1;
			ip[47] = 7;
		}
	} else {
		ip[0] = (uint8_t)(0x40 | hl / 4);
		put16(ip + 2, (uint16_t)(hl + t->l4len));
		put16(ip + 6, t->frag);
		ip[8] = 9;
		ip[9] = t->proto;
		inet_pton(AF_INET, t->src, ip + 12);
		inet_pton(AF_INET, t->dst, ip + 16);
		if (t->opts)
			memset(ip + 20, 1, 4);
		put16(ip + 10, csum_fin(csum_add(0, ip, hl)));
	}
	memcpy(ip + hl, t->l4, t->l4len);
	return 14 + hl + t->l4len;
}

static int run_ipkt(const struct ipkt *t)
{
	LIBBPF_OPTS(bpf_test_run_opts, o);

	pinlen = ipkt_build(t, pin);
	o.data_in = pin;
	o.data_size_in = (__u32)pinlen;
	o.data_out = pout;
	o.data_size_out = sizeof(pout);
	assert_int_equal(bpf_prog_test_run_opts(dp_prog_fd(dp), &o), 0);
	poutlen = o.data_size_out;
	return (int)o.retval;
}

/* An echo request (ICMP or ICMPv6) with @n bytes of data. */
static size_t echo_msg(uint8_t *m, int v6, const char *src, const char *dst,
		       size_t n)
{
	uint32_t sum = v6 ? pseudo_sum(1, src, dst, 58, 8 + n) : 0;
	size_t i;

	memset(m, 0, 8);
	m[0] = v6 ? 128 : 8;
	put16(m + 4, 0x1234);
	put16(m + 6, 7);
	for (i = 0; i < n; i++)
		m[8 + i] = (uint8_t)(i * 7);
	put16(m + 2, csum_fin(csum_add(sum, m, 8 + n)));
	return 8 + n;
}

static size_t udp_msg(uint8_t *m, int v6, const char *src, const char *dst,
		      uint16_t dport, size_t n)
{
	size_t i;

	memset(m, 0, 8);
	put16(m, 51000);
	put16(m + 2, dport);
	put16(m + 4, (uint16_t)(8 + n));
	m[8] = 0xc3;		/* a QUIC long header, Initial */
	for (i = 1; i < n; i++)
		m[8 + i] = (uint8_t)i;
	put16(m + 6, csum_fin(csum_add(pseudo_sum(v6, src, dst, 17, 8 + n),
				       m, 8 + n)));
	return 8 + n;
}

/* The answer's IP header is from @src to @dst, valid, and carries @proto;
 * returns its length. */
static size_t assert_ip(const uint8_t *f, int v6, const char *src,
			const char *dst, uint8_t proto)
{
	const uint8_t *ip = f + 14;
	char s[64], d[64];

	/* Back out of the interface it came in, to the sender's MAC. */
	assert_memory_equal(f, "\x02\0\0\0\0\x02" TEST_HOST_MAC, 12);
	inet_ntop(v6 ? AF_INET6 : AF_INET, ip + (v6 ? 8 : 12), s, sizeof(s));
	inet_ntop(v6 ? AF_INET6 : AF_INET, ip + (v6 ? 24 : 16), d, sizeof(d));
	assert_string_equal(s, src);
	assert_string_equal(d, dst);
	if (v6) {
		assert_int_equal(ip[6], proto);
		assert_int_equal(ip[7], 64);
		assert_int_equal(40 + (ip[4] << 8 | ip[5]), poutlen - 14);
		return 40;
	}
	assert_int_equal(ip[0], 0x45);
	assert_int_equal(ip[8], 64);
	assert_int_equal(ip[9], proto);
	assert_int_equal(ip[2] << 8 | ip[3], poutlen - 14);
	assert_int_equal(csum_fin(csum_add(0, ip, 20)), 0);
	return 20;
}

/* The ICMP(v6) message after the IP header at @hl has a valid checksum. */
static void assert_icmp_csum(int v6, const char *src, const char *dst,
			     size_t hl)
{
	const uint8_t *m = pout + 14 + hl;
	size_t n = poutlen - 14 - hl;
	uint32_t sum = v6 ? pseudo_sum(1, src, dst, 58, n) : 0;

	assert_int_equal(csum_fin(csum_add(sum, m, n)), 0);
}

static void echo(int v6, const char *vip)
{
	const char *cli = v6 ? CLI6 : CLI4;
	uint8_t m[64];
	struct ipkt t = { .v6 = v6, .src = cli, .dst = vip,
			  .proto = v6 ? 58 : 1, .l4 = m };
	uint64_t n = counter(SNILB_ST_VIP_ECHO);
	size_t hl;

	t.l4len = echo_msg(m, v6, cli, vip, 40);
	assert_int_equal(run_ipkt(&t), TC_ACT_REDIRECT);
	assert_int_equal(poutlen, pinlen);
	hl = assert_ip(pout, v6, vip, cli, t.proto);
	assert_int_equal(pout[14 + hl], v6 ? 129 : 0);
	assert_int_equal(pout[14 + hl + 1], 0);
	/* Identifier, sequence number and data as they came. */
	assert_memory_equal(pout + 14 + hl + 4, m + 4, t.l4len - 4);
	assert_icmp_csum(v6, vip, cli, hl);
	assert_int_equal(counter(SNILB_ST_VIP_ECHO), n + 1);
}

static void test_echo(void **state)
{
	(void)state;
	echo(0, VIP4);
	echo(1, VIP6);
}

/*
 * UDP, as a QUIC client's Initial to 443 is: ICMP(v6) port unreachable
 * from the VIP, quoting the datagram's IP header and 8 bytes, so the
 * client's stack finds its socket and an HTTP/3 client falls back to TCP.
 */
static void unreach(int v6, const char *vip, uint16_t port)
{
	const char *cli = v6 ? CLI6 : CLI4;
	static uint8_t m[1300];
	struct ipkt t = { .v6 = v6, .src = cli, .dst = vip, .proto = 17,
			  .l4 = m };
	uint64_t n = counter(SNILB_ST_VIP_UNREACH);
	size_t hl, q = v6 ? 48 : 28;

	t.l4len = udp_msg(m, v6, cli, vip, port, 1200);
	assert_int_equal(run_ipkt(&t), TC_ACT_REDIRECT);
	assert_int_equal(poutlen, 14 + (v6 ? 48 : 28) + q);
	hl = assert_ip(pout, v6, vip, cli, v6 ? 58 : 1);
	assert_int_equal(pout[14 + hl], v6 ? 1 : 3);
	assert_int_equal(pout[14 + hl + 1], v6 ? 4 : 3);
	assert_memory_equal(pout + 14 + hl + 4, "\0\0\0\0", 4);
	assert_memory_equal(pout + 14 + hl + 8, pin + 14, q);
	assert_icmp_csum(v6, vip, cli, hl);
	assert_int_equal(counter(SNILB_ST_VIP_UNREACH), n + 1);
}

static void test_udp_unreachable(void **state)
{
	(void)state;
	unreach(0, VIP4, 443);
	unreach(1, VIP6, 443);
	unreach(0, VIP4, 53);
}

/* TCP to a port of the VIP no listener has: RST, as a closed port. */
static void test_tcp_closed_port(void **state)
{
	struct tpkt t = { .src = CLI4, .dst = VIP4, .sport = 40000,
			  .dport = 80, .seq = 5000, .flags = 0x02,
			  .window = 64240 };
	uint64_t n = counter(SNILB_ST_VIP_RST);

	(void)state;
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_string_equal(rv.src, VIP4);
	assert_string_equal(rv.dst, CLI4);
	assert_int_equal(rv.sport, 80);
	assert_int_equal(rv.dport, 40000);
	assert_int_equal(rv.flags, 0x14);		/* RST ACK */
	assert_int_equal(rv.seq, 0);
	assert_int_equal(rv.ack, 5001);
	/* A segment with an ACK: RST at its ack number, no ACK. */
	t.v6 = 1;
	t.src = CLI6;
	t.dst = VIP6;
	t.flags = 0x10;
	t.ack = 777;
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	assert_string_equal(rv.src, VIP6);
	assert_int_equal(rv.flags, 0x04);
	assert_int_equal(rv.seq, 777);
	assert_int_equal(counter(SNILB_ST_VIP_RST), n + 2);
	/* An RST is never answered. */
	t.flags = 0x04;
	assert_int_equal(run(&t), TC_ACT_SHOT);
	assert_int_equal(counter(SNILB_ST_VIP_RST), n + 2);
}

/* Fragments, IPv4 options, IPv6 extension headers: dropped, counted. */
static void test_fragments(void **state)
{
	uint8_t m[64];
	struct ipkt t = { .src = CLI4, .dst = VIP4, .proto = 17, .l4 = m,
			  .frag = 0x2000 };
	uint64_t n = counter(SNILB_ST_VIP_FRAG);
	struct tpkt seg = { .src = CLI4, .dst = VIP4, .sport = 40001,
			    .dport = 443, .seq = 1, .flags = 0x02 };

	(void)state;
	t.l4len = udp_msg(m, 0, CLI4, VIP4, 443, 40);
	assert_int_equal(run_ipkt(&t), TC_ACT_SHOT);	/* first fragment */
	t.frag = 0x0010;				/* the last one */
	assert_int_equal(run_ipkt(&t), TC_ACT_SHOT);
	t.frag = 0;
	t.opts = 1;
	t.proto = 1;
	t.l4len = echo_msg(m, 0, CLI4, VIP4, 40);
	assert_int_equal(run_ipkt(&t), TC_ACT_SHOT);	/* options */
	t = (struct ipkt){ .v6 = 1, .src = CLI6, .dst = VIP6, .proto = 17,
			   .l4 = m, .ext = 1 };
	t.l4len = udp_msg(m, 1, CLI6, VIP6, 443, 40);
	assert_int_equal(run_ipkt(&t), TC_ACT_SHOT);	/* fragment hdr */
	assert_int_equal(counter(SNILB_ST_VIP_FRAG), n + 4);
	/* A TCP fragment, even to a listener's port. */
	pinlen = tpkt_build(&seg, pin);
	pin[14 + 6] = 0x20;			/* MF */
	put16(pin + 14 + 10, 0);
	put16(pin + 14 + 10, csum_fin(csum_add(0, pin + 14, 20)));
	{
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pin,
			    .data_size_in = (__u32)pinlen, .data_out = pout,
			    .data_size_out = sizeof(pout));

		assert_int_equal(bpf_prog_test_run_opts(dp_prog_fd(dp), &o),
				 0);
		assert_int_equal(o.retval, TC_ACT_SHOT);
	}
	assert_int_equal(counter(SNILB_ST_VIP_FRAG), n + 5);
}

/* Other protocols, other ICMP types, sources no answer may go to. */
static void test_other(void **state)
{
	uint8_t m[64] = { 0 };
	struct ipkt t = { .src = CLI4, .dst = VIP4, .proto = 47, .l4 = m,
			  .l4len = 40 };
	uint64_t n = counter(SNILB_ST_VIP_DROP);

	(void)state;
	assert_int_equal(run_ipkt(&t), TC_ACT_SHOT);	/* GRE */
	t.proto = 1;
	t.l4len = echo_msg(m, 0, CLI4, VIP4, 40);
	m[0] = 0;					/* an echo reply */
	assert_int_equal(run_ipkt(&t), TC_ACT_SHOT);
	t.l4len = echo_msg(m, 0, "0.0.0.0", VIP4, 40);
	t.src = "0.0.0.0";
	assert_int_equal(run_ipkt(&t), TC_ACT_SHOT);
	t = (struct ipkt){ .v6 = 1, .src = "ff02::1", .dst = VIP6,
			   .proto = 17, .l4 = m };
	t.l4len = udp_msg(m, 1, "ff02::1", VIP6, 443, 20);
	assert_int_equal(run_ipkt(&t), TC_ACT_SHOT);
	assert_int_equal(counter(SNILB_ST_VIP_DROP), n + 4);
}

/* The packet passed, and as it came. */
static void assert_untouched(const struct ipkt *t)
{
	assert_int_equal(run_ipkt(t), TC_ACT_OK);
	assert_int_equal(poutlen, pinlen);
	assert_memory_equal(pout, pin, pinlen);
}

/* An IPv4 address that is no VIP but has VIP4's bit in vip_bits. */
static const char *collides_with_vip4(char *buf)
{
	uint32_t a, b, i;

	inet_pton(AF_INET, VIP4, &a);
	for (i = 1; i < 65536; i++) {
		b = htonl(0xc6130000 | i);		/* 198.19.x.y */
		if (snilb_vip_hash(4, &b) == snilb_vip_hash(4, &a))
			return inet_ntop(AF_INET, &b, buf, 16);
	}
	return NULL;
}

/* Traffic to any other address is not ours: untouched, as before. */
static void test_not_a_vip(void **state)
{
	uint8_t m[1300];
	char other[16];
	struct ipkt t = { .src = CLI4, .dst = "198.18.0.99", .proto = 1,
			  .l4 = m };
	uint64_t pass = counter(SNILB_ST_PASS);
	struct tpkt syn = { .src = CLI4, .dst = "198.18.1.1", .sport = 40002,
			    .dport = 22, .seq = 1, .flags = 0x02 };

	(void)state;
	t.l4len = echo_msg(m, 0, CLI4, t.dst, 40);
	assert_untouched(&t);
	t = (struct ipkt){ .v6 = 1, .src = CLI6, .dst = "2001:db8::99",
			   .proto = 17, .l4 = m };
	t.l4len = udp_msg(m, 1, CLI6, t.dst, 443, 1200);
	assert_untouched(&t);
	t.ext = 1;
	assert_untouched(&t);
	/* Neighbour discovery, even to a VIP: the link's business. */
	t = (struct ipkt){ .v6 = 1, .src = CLI6, .dst = VIP6, .proto = 58,
			   .l4 = m, .l4len = 32 };
	memset(m, 0, 32);
	m[0] = 135;				/* neighbour solicitation */
	assert_untouched(&t);
	/* Same bit as a VIP, not a VIP: the hash lookup tells. */
	assert_non_null(collides_with_vip4(other));
	t = (struct ipkt){ .src = CLI4, .dst = other, .proto = 17, .l4 = m };
	t.l4len = udp_msg(m, 0, CLI4, other, 443, 100);
	assert_untouched(&t);
	assert_int_equal(run(&syn), TC_ACT_OK);		/* the node's */
	assert_int_equal(counter(SNILB_ST_PASS), pass + 1);
}

/* Port unreachables are rate limited per CPU; echo replies are not. */
static void test_rate_limit(void **state)
{
	uint8_t m[64];
	struct ipkt t = { .src = CLI4, .dst = VIP4, .proto = 17, .l4 = m };
	uint64_t lim = counter(SNILB_ST_VIP_LIMITED);
	int ncpus = libbpf_num_possible_cpus(), i, sent = 0;
	struct timespec t0, t1;
	long ms;

	(void)state;
	t.l4len = udp_msg(m, 0, CLI4, VIP4, 443, 20);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < 400; i++) {
		int rc = run_ipkt(&t);

		assert_true(rc == TC_ACT_REDIRECT || rc == TC_ACT_SHOT);
		sent += rc == TC_ACT_REDIRECT;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 +
	     (t1.tv_nsec - t0.tv_nsec) / 1000000;
	/* A burst per CPU the test ran on, and 1 a ms (plus a tick) since. */
	assert_true(sent >= 1);
	assert_true(sent <= ncpus * (50 + ms + 10));
	assert_int_equal(counter(SNILB_ST_VIP_LIMITED) - lim,
			 (uint64_t)(400 - sent));
	echo(0, VIP4);
}

/*
 * Only what the node would forward loops: a VIP that is one of the node's
 * own addresses (198.18.3.1, tests/lib/in-netns.sh) is the node's to answer on
 * every other port, and one it has no route to is the node's to drop.
 */
static void test_vip_the_node_owns(void **state)
{
	static const char *const vips[] = { "198.18.3.1", "198.18.9.1" };
	uint8_t m[64];
	struct ipkt t = { .src = CLI4, .proto = 1, .l4 = m };
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		assert_int_equal(dp_listener_add(dp, vips[i], 443, 4), 0);
		t.dst = vips[i];
		t.l4len = echo_msg(m, 0, CLI4, t.dst, 40);
		assert_untouched(&t);
		t.proto = 17;
		t.l4len = udp_msg(m, 0, CLI4, t.dst, 443, 40);
		assert_untouched(&t);
		t.proto = 1;
		assert_int_equal(dp_listener_del(dp, vips[i], 443), 0);
	}
}

static uint32_t vip_count(const char *addr)
{
	struct snilb_vip_key k = { .family = strchr(addr, ':') ? 6 : 4 };
	uint32_t n = 0;

	inet_pton(k.family == 6 ? AF_INET6 : AF_INET, addr, k.addr);
	if (bpf_map_lookup_elem(dp_map_fd(dp, SNILB_MAP_VIPS), &k, &n))
		return 0;
	return n;
}

/* The loader keeps vips in step with the listeners. */
static void test_vips_follow_listeners(void **state)
{
	struct tpkt syn = { .src = CLI4, .dst = VIP4, .sport = 40003,
			    .dport = 80, .seq = 1, .flags = 0x02,
			    .window = 64240 };
	uint8_t m[64];
	struct ipkt t = { .src = CLI4, .dst = VIP4, .proto = 1, .l4 = m };

	(void)state;
	t.l4len = echo_msg(m, 0, CLI4, VIP4, 40);
	assert_int_equal(vip_count(VIP4), 1);
	assert_int_equal(dp_listener_add(dp, VIP4, 80, 3), 0);
	assert_int_equal(dp_listener_add(dp, VIP4, 80, 3), 0); /* again */
	assert_int_equal(vip_count(VIP4), 2);
	assert_int_equal(run(&syn), TC_ACT_REDIRECT);
	assert_int_equal(rv.flags, 0x12);			/* SYN-ACK */
	assert_int_equal(dp_listener_del(dp, VIP4, 80), 0);
	assert_int_equal(vip_count(VIP4), 1);
	assert_int_equal(run(&syn), TC_ACT_REDIRECT);
	assert_int_equal(rv.flags, 0x14);			/* RST */
	/* The VIP's last listener gone: not a VIP of ours any more. */
	assert_int_equal(dp_listener_del(dp, VIP4, 443), 0);
	assert_int_equal(vip_count(VIP4), 0);
	assert_untouched(&t);
	assert_int_equal(dp_listener_add(dp, VIP4, 443, 1), 0);
	assert_int_equal(run_ipkt(&t), TC_ACT_REDIRECT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_echo),
		cmocka_unit_test(test_udp_unreachable),
		cmocka_unit_test(test_tcp_closed_port),
		cmocka_unit_test(test_fragments),
		cmocka_unit_test(test_other),
		cmocka_unit_test(test_not_a_vip),
		cmocka_unit_test(test_rate_limit),
		cmocka_unit_test(test_vip_the_node_owns),
		cmocka_unit_test(test_vips_follow_listeners),
	};

	return cmocka_run_group_tests_name("vip", tests, harness_setup,
					   harness_teardown);
}

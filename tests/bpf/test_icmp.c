// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * ICMP errors about the data plane's flows, with BPF_PROG_TEST_RUN
 * (tests/bpf/harness.c): one about a SYN we sent a backend moves the flow
 * to the next backend; one about a spliced packet reaches the client in
 * its own terms.
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

/* ICMP host unreachable quoting our SYN: the next backend is tried. */
static void test_icmp_unreachable(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 40700, .isn = 5 };
	struct bside b1 = { .snat = SNAT4 }, b2 = { .snat = SNAT4 };
	uint64_t retries = counter(SNILB_ST_BIND_RETRY);
	static uint8_t in[256];
	uint8_t *ip = in + 14, *icmp = ip + 20, *q = icmp + 8;
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_out = out,
		    .data_size_out = sizeof(out));
	uint16_t cs;

	(void)state;
	connect_to(&c);
	send_hello(&c, "retry.example.com", TC_ACT_REDIRECT);
	b1.addr = strcmp(rv.dst, BE1) ? BE2 : BE1;
	b2.addr = strcmp(b1.addr, BE1) ? BE1 : BE2;
	expect_syn_to(&c, &b1);
	memset(in, 0, sizeof(in));
	memcpy(in, TEST_HOST_MAC "\x02\0\0\0\0\x09\x08\x00", 14);
	ip[0] = 0x45;
	ip[3] = 20 + 8 + 28;
	ip[8] = 64;
	ip[9] = 1;				/* ICMP */
	inet_pton(AF_INET, "198.18.2.254", ip + 12);	/* a router */
	inet_pton(AF_INET, SNAT4, ip + 16);
	cs = csum_fin(csum_add(0, ip, 20));
	ip[10] = (uint8_t)(cs >> 8);
	ip[11] = (uint8_t)cs;
	icmp[0] = 3;				/* destination unreachable */
	icmp[1] = 1;				/* host */
	q[0] = 0x45;				/* our SYN, quoted */
	q[3] = 60;
	q[8] = 63;
	q[9] = 6;
	inet_pton(AF_INET, SNAT4, q + 12);
	inet_pton(AF_INET, b1.addr, q + 16);
	q[20] = (uint8_t)(b1.nport >> 8);
	q[21] = (uint8_t)b1.nport;
	q[22] = 8443 >> 8;
	q[23] = 8443 & 0xff;
	cs = csum_fin(csum_add(0, icmp, 8 + 28));
	icmp[2] = (uint8_t)(cs >> 8);
	icmp[3] = (uint8_t)cs;
	o.data_size_in = 14 + 20 + 8 + 28;
	assert_int_equal(bpf_prog_test_run_opts(dp_prog_fd(dp), &o), 0);
	assert_int_equal(o.retval, TC_ACT_REDIRECT);
	assert_int_equal(tview_parse(out, o.data_size_out, &rv), 0);
	assert_true(rv.tcp_csum_ok && rv.ip_csum_ok);
	expect_syn_to(&c, &b2);
	assert_int_equal(counter(SNILB_ST_BIND_RETRY), retries + 1);
	/* An unreachable about something that is not ours passes. */
	q[21] ^= 0xff;
	assert_int_equal(bpf_prog_test_run_opts(dp_prog_fd(dp), &o), 0);
	assert_int_equal(o.retval, TC_ACT_OK);
}

/*
 * A router on the backend side answers a spliced packet with "fragmentation
 * needed" (IPv6: "packet too big"): the client gets it in its own terms --
 * from the VIP, quoting its own packet, every checksum right, the MTU kept.
 * @short_quote: only the first 8 bytes of TCP quoted (RFC 792's minimum).
 */
static void icmp_spliced(int v6, int short_quote, uint16_t port)
{
	struct conn c = { .v6 = v6, .cli = v6 ? CLI6 : CLI4,
			  .vip = v6 ? VIP6 : VIP4, .port = port, .isn = 77 };
	struct bside b = { .addr = v6 ? BE6 : BE1, .snat = v6 ? SNAT6 : SNAT4,
			   .isn = 900 };
	uint64_t fwd = counter(SNILB_ST_ICMP_FWD);
	static uint8_t in[PKT_MAX], quote[PKT_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_out = out,
		    .data_size_out = sizeof(out));
	size_t iplen = v6 ? 40 : 20, qlen, tcplen;
	uint8_t *ip = out + 14, *icmp = ip + iplen, *q = icmp + 8;
	struct tpkt t;
	struct hb h;

	splice_up_to(&c, &b, &h, v6 ? "v6.example.com" : "www.example.com");
	t = seg(&c, 0x10, (uint32_t)h.n, NULL, 0);	/* as forwarded */
	assert_int_equal(run(&t), TC_ACT_REDIRECT);
	qlen = short_quote ? iplen + 8 : outlen - 14;
	memcpy(quote, out + 14, qlen);
	tcplen = qlen - iplen;
	o.data_size_in = (__u32)icmp_error(in, v6,
					   v6 ? "2001:db8:2::fe" : "198.18.2.254",
					   b.snat, v6 ? 2 : 3, v6 ? 0 : 4,
					   1280, quote, qlen);
	assert_int_equal(bpf_prog_test_run_opts(dp_prog_fd(dp), &o), 0);
	assert_int_equal(o.retval, TC_ACT_REDIRECT);
	assert_int_equal(o.data_size_out, o.data_size_in);
	assert_int_equal(counter(SNILB_ST_ICMP_FWD), fwd + 1);
	/* From the VIP to the client; the error itself unchanged. */
	assert_ip_addrs(ip, v6, c.vip, c.cli);
	assert_int_equal(icmp[0], v6 ? 2 : 3);
	assert_int_equal(be32(icmp + 4), 1280);
	assert_int_equal(icmp_sum(ip, v6, icmp, 8 + qlen), 0);
	/* Quoting the client's packet: its addresses, ports, sequence. */
	assert_ip_addrs(q, v6, c.cli, c.vip);
	assert_int_equal(q[iplen] << 8 | q[iplen + 1], c.port);
	assert_int_equal(q[iplen + 2] << 8 | q[iplen + 3], 443);
	assert_int_equal(be32(q + iplen + 4), c.isn + 1 + h.n);
	if (!short_quote)
		assert_int_equal(tcp_csum(q, v6, q + iplen, tcplen), 0);
	/* An error about a flow we do not have passes. */
	o.data_size_in = (__u32)icmp_error(in, v6,
					   v6 ? "2001:db8:2::fe" : "198.18.2.254",
					   b.snat, v6 ? 2 : 3, v6 ? 0 : 4,
					   1280, quote, qlen);
	in[14 + iplen + 8 + iplen + 1] ^= 0xff;	/* another SNAT port */
	assert_int_equal(bpf_prog_test_run_opts(dp_prog_fd(dp), &o), 0);
	assert_int_equal(o.retval, TC_ACT_OK);
	/* ... or one quoting a packet from another of the node's addresses
	 * (the rev key holds no SNAT address). */
	in[14 + iplen + 8 + iplen + 1] ^= 0xff;
	in[14 + iplen + 8 + (v6 ? 8 + 15 : 12 + 3)] ^= 0x01;
	assert_int_equal(bpf_prog_test_run_opts(dp_prog_fd(dp), &o), 0);
	assert_int_equal(o.retval, TC_ACT_OK);
	assert_int_equal(counter(SNILB_ST_ICMP_FWD), fwd + 1);
}

static void test_icmp_spliced(void **state)
{
	(void)state;
	icmp_spliced(0, 0, 40900);
	icmp_spliced(1, 0, 40901);
	icmp_spliced(0, 1, 40902);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_icmp_unreachable),
		cmocka_unit_test(test_icmp_spliced),
	};

	return cmocka_run_group_tests_name("icmp", tests, harness_setup,
					   harness_teardown);
}

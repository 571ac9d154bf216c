// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The XDP program (bpf/xdp.h), with BPF_PROG_TEST_RUN on XDP: a SYN to a
 * listener answered with XDP_TX, byte for byte the SYN-ACK the TC program
 * sends (IPv4, IPv6, with and without timestamps, Windows' options with
 * their per-SYN state, no options at all, a short frame padded to 60);
 * its cookie taken by the TC program's first-ACK check; every other
 * packet passed to TC (XDP_PASS): ACKs, SYN-ACKs, SYNs with RST or FIN,
 * SYNs to ports or addresses no listener has, SYNs on a tuple with a
 * flow, malformed ones, IPv4 options, UDP. Counters: syn and syn_xdp.
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
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include "harness.h"

static uint8_t xout[PKT_MAX];
static size_t xoutlen;

/* @t (@pad: zero bytes after it, as a NIC pads a short frame) through
 * the XDP program; its verdict. */
static int xrun_pad(const struct tpkt *t, size_t pad)
{
	static uint8_t in[PKT_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, o);
	size_t n = tpkt_build(t, in);

	memset(in + n, 0, pad);
	o.data_in = in;
	o.data_size_in = (__u32)(n + pad);
	o.data_out = xout;
	o.data_size_out = sizeof(xout);
	assert_int_equal(bpf_prog_test_run_opts(dp_xdp_prog_fd(dp), &o), 0);
	xoutlen = o.data_size_out;
	return (int)o.retval;
}

static int xrun(const struct tpkt *t)
{
	return xrun_pad(t, 0);
}

static const uint8_t mss_only[4] = { 2, 4, 0x05, 0xb4 };
/* Windows: MSS 1460, NOP, WS 8, NOP, NOP, SACK-permitted. */
static const uint8_t windows[12] = { 2, 4, 0x05, 0xb4, 1, 3, 3, 8, 1, 1, 4, 2 };

/* The SYN @t through TC and through XDP: the same bytes out (retried
 * when a millisecond tick falls between the two, which moves TSval). */
static void same_as_tc(const struct tpkt *t, size_t pad)
{
	struct tview v;
	int i;

	for (i = 0; i < 20; i++) {
		assert_int_equal(run(t), TC_ACT_REDIRECT);
		assert_int_equal(xrun_pad(t, pad), XDP_TX);
		assert_int_equal(tview_parse(xout, xoutlen, &v), 0);
		assert_true(v.ip_csum_ok);
		assert_true(v.tcp_csum_ok);
		assert_int_equal(v.flags, 0x12);
		if (xoutlen == outlen && !memcmp(xout, out, outlen))
			return;
		/* Only a tick between may make them differ. */
		assert_int_equal(xoutlen, outlen);
		assert_int_equal(v.seq, rv.seq);
	}
	fail_msg("XDP's SYN-ACK differs from TC's");
}

static void test_xdp_synack_as_tc(void **state)
{
	struct tpkt t = { .src = CLI4, .dst = VIP4, .sport = 42001,
			  .dport = 443, .seq = 1000, .flags = 0x02,
			  .window = 64240, .opts = linux_syn_opts,
			  .optlen = 20 };
	uint64_t syn = counter(SNILB_ST_SYN), sx = counter(SNILB_ST_SYN_XDP);

	(void)state;
	same_as_tc(&t, 0);			/* Linux, IPv4 */
	t.opts = mss_only;
	t.optlen = 4;
	same_as_tc(&t, 0);			/* no timestamps */
	t.opts = windows;
	t.optlen = sizeof(windows);
	t.sport++;
	same_as_tc(&t, 0);			/* its per-SYN state */
	t.opts = NULL;
	t.optlen = 0;
	same_as_tc(&t, 6);			/* 54 bytes, padded to 60 */
	t = (struct tpkt){ .v6 = 1, .src = CLI6, .dst = VIP6, .sport = 42002,
			   .dport = 443, .seq = 7, .flags = 0x02,
			   .window = 64240, .opts = linux_syn_opts,
			   .optlen = 20 };
	same_as_tc(&t, 0);			/* Linux, IPv6 */
	t.opts = windows;
	t.optlen = sizeof(windows);
	same_as_tc(&t, 0);
	assert_true(counter(SNILB_ST_SYN_XDP) >= sx + 6);
	assert_true(counter(SNILB_ST_SYN) >= syn + 12);
}

/* The XDP SYN-ACK's cookie completes the handshake in TC. */
static void test_xdp_cookie_taken(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 42101,
			  .isn = 31337 };
	struct tpkt syn = { .src = c.cli, .dst = c.vip, .sport = c.port,
			    .dport = 443, .seq = c.isn, .flags = 0x02,
			    .window = 64240, .opts = linux_syn_opts,
			    .optlen = 20 };
	struct tview v;
	struct tpkt ack;
	const uint8_t *o;

	(void)state;
	assert_int_equal(xrun(&syn), XDP_TX);
	assert_int_equal(tview_parse(xout, xoutlen, &v), 0);
	assert_string_equal(v.src, c.vip);
	assert_string_equal(v.dst, c.cli);
	assert_int_equal(v.ack, c.isn + 1);
	assert_memory_equal(v.dmac, "\x02\0\0\0\0\x02", 6);
	c.cookie = v.seq;
	o = tview_opt(&v, 8);
	assert_non_null(o);
	c.tsval = be32(o + 2);
	ack = seg(&c, 0x10, 0, NULL, 0);
	assert_int_equal(xrun(&ack), XDP_PASS);
	assert_int_equal(run(&ack), TC_ACT_SHOT);	/* consumed: a flow */
	assert_non_null(flow_get(&c));
	assert_int_equal(flow_get(&c)->opts.wscale, 7);
	send_hello(&c, "www.example.com", TC_ACT_REDIRECT);
	assert_int_equal(rv.flags, 0x02);		/* SYN to a backend */
}

/* What the XDP program leaves to TC. */
static void test_xdp_passes(void **state)
{
	struct conn c = { .cli = CLI4, .vip = VIP4, .port = 42201, .isn = 5 };
	struct tpkt t = { .src = CLI4, .dst = VIP4, .sport = 42202,
			  .dport = 443, .seq = 1, .flags = 0x02,
			  .window = 1000 };
	uint64_t sx = counter(SNILB_ST_SYN_XDP);
	static uint8_t in[PKT_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, o);
	size_t n;

	(void)state;
	t.flags = 0x12;
	assert_int_equal(xrun(&t), XDP_PASS);		/* SYN-ACK */
	t.flags = 0x10;
	assert_int_equal(xrun(&t), XDP_PASS);		/* ACK */
	t.flags = 0x06;
	assert_int_equal(xrun(&t), XDP_PASS);		/* SYN+RST */
	t.flags = 0x03;
	assert_int_equal(xrun(&t), XDP_PASS);		/* SYN+FIN */
	t.flags = 0x02;
	t.dport = 8443;
	assert_int_equal(xrun(&t), XDP_PASS);		/* no listener */
	t.dport = 443;
	t.dst = "198.18.0.11";
	assert_int_equal(xrun(&t), XDP_PASS);		/* another address */
	connect_to(&c);					/* a flow: */
	t = seg(&c, 0x02, 0, NULL, 0);
	t.seq = 99;
	assert_int_equal(xrun(&t), XDP_PASS);		/* syn_on_flow() */
	t = (struct tpkt){ .src = CLI4, .dst = VIP4, .sport = 42203,
			   .dport = 443, .seq = 1, .flags = 0x02,
			   .window = 1000 };
	o.data_in = in;
	o.data_out = xout;
	o.data_size_out = sizeof(xout);
	n = tpkt_build(&t, in);
	o.data_size_in = (__u32)n;
	in[14 + 20 + 12] = 15 << 4;			/* doff past the end */
	assert_int_equal(bpf_prog_test_run_opts(dp_xdp_prog_fd(dp), &o), 0);
	assert_int_equal(o.retval, XDP_PASS);
	n = tpkt_build(&t, in);
	in[14] = 0x46;					/* IPv4 options */
	assert_int_equal(bpf_prog_test_run_opts(dp_xdp_prog_fd(dp), &o), 0);
	assert_int_equal(o.retval, XDP_PASS);
	n = tpkt_build(&t, in);
	in[14 + 9] = 17;				/* UDP */
	assert_int_equal(bpf_prog_test_run_opts(dp_xdp_prog_fd(dp), &o), 0);
	assert_int_equal(o.retval, XDP_PASS);
	assert_int_equal(counter(SNILB_ST_SYN_XDP), sx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xdp_synack_as_tc),
		cmocka_unit_test(test_xdp_cookie_taken),
		cmocka_unit_test(test_xdp_passes),
	};

	return cmocka_run_group_tests_name("xdp", tests, harness_setup,
					   harness_teardown);
}

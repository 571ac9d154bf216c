/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The BPF_PROG_TEST_RUN harness the data plane's packet tests share: the
 * real programs loaded (user/dataplane/) with two listeners, routes and
 * backends; a client connection driven packet by packet, and the
 * backend's side of it. Every redirected answer is parsed into rv with
 * its checksums checked.
 */
#ifndef SNILB_TEST_HARNESS_H
#define SNILB_TEST_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "dataplane.h"
#include "../lib/packets.h"
#include "../lib/hello_builder.h"

#define VIP4 "198.18.0.10"
#define VIP6 "2001:db8::10"
#define CLI4 "198.18.1.2"
#define CLI6 "2001:db8:1::2"
#define SNAT4 "198.18.2.1"
#define SNAT6 "2001:db8:2::1"
#define BE1 "198.18.2.11"
#define BE2 "198.18.2.12"
#define BE6 "2001:db8:2::11"

extern struct dataplane *dp;
extern uint8_t out[PKT_MAX];
extern size_t outlen;
extern struct tview rv;		/* the program's answer, parsed */
extern struct tview cv;		/* the last clone it sent, parsed */
extern const uint8_t linux_syn_opts[20];
extern uint32_t harness_log_ring;	/* set before setup; 0: default */

/* A client connection under test. */
struct conn {
	int v6;
	const char *cli, *vip;
	uint16_t port;
	uint32_t isn;		/* client's */
	uint32_t cookie;	/* ours */
	uint32_t tsval;		/* ours, from the SYN-ACK */
	int no_ts;
};

/* The backend's side of a flow: its address and the SNAT port we used. */
struct bside {
	const char *addr, *snat;
	uint16_t nport;
	uint32_t isn;
	uint32_t tsval;
};

/* Run @t through the ingress program; returns its verdict. */
int run(const struct tpkt *t);
uint64_t counter(uint32_t idx);
struct snilb_route_stats rstat(uint32_t route);
struct snilb_listener_stats lstat(uint32_t listener);

/* A segment from the client at hello offset @off. */
struct tpkt seg(const struct conn *c, uint8_t flags, uint32_t off,
		const uint8_t *payload, size_t plen);
void handshake(struct conn *c);
void flow_key_of(const struct conn *c, struct snilb_flow_key *k);
struct snilb_flow *flow_get(const struct conn *c);
int hello_held(const struct conn *c, int small);
struct snilb_hello *hello_get(const struct conn *c);
void hello_put(const struct conn *c, const struct snilb_hello *hb);
/* Write the flow back, as another CPU would have changed it. */
void flow_put(const struct conn *c, const struct snilb_flow *f);
void connect_to(struct conn *c);
void send_hello(struct conn *c, const char *name, int expect);
struct tpkt from_backend(const struct conn *c, const struct bside *b,
			 uint8_t flags, uint32_t seq, uint32_t ack,
			 const uint8_t *opts, size_t optlen,
			 const uint8_t *payload, size_t plen);
void put32(uint8_t *p, uint32_t v);
void expect_syn_to(const struct conn *c, struct bside *b);
void expect_reset(const struct conn *c, size_t plen);
void expect_resyn(const struct conn *c, const struct bside *b);
void first_synack(const struct conn *c, const struct bside *b,
		  const struct tpkt *t);
/* The next TCP packet the program sent as a clone (bpf_clone_redirect()),
 * into cv: 0, or -1 when none came within 5 s. */
int clone_next(void);
void splice_up_to(struct conn *c, struct bside *b, struct hb *h,
		  const char *name);
void splice_up(struct conn *c, struct bside *b, struct hb *h);
int install_set(uint32_t set, const uint32_t *ids, size_t n);

/* The ICMP(v6) sum of @len bytes at @icmp (IPv6: with its pseudo-header
 * from the IP header at @ip); 0 when the sum in it is right. */
uint16_t icmp_sum(const uint8_t *ip, int v6, const uint8_t *icmp, size_t len);
/* A router's ICMP(v6) error from @router to @to, quoting @qlen bytes. */
size_t icmp_error(uint8_t *buf, int v6, const char *router, const char *to,
		  uint8_t type, uint8_t code, uint32_t mtu,
		  const uint8_t *quote, size_t qlen);

/* The IP header at @ip is from @src to @dst (IPv4: checksum right). */
void assert_ip_addrs(const uint8_t *ip, int v6, const char *src,
		     const char *dst);

/* cmocka group setup/teardown: open the data plane and configure it. */
int harness_setup(void **state);
int harness_teardown(void **state);

#endif /* SNILB_TEST_HARNESS_H */

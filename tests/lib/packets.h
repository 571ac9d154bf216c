/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Crafting and reading Ethernet/IPv4/IPv6/TCP packets for the data plane's
 * BPF_PROG_TEST_RUN tests, with real checksums both ways.
 */
#ifndef SNILB_TEST_PACKETS_H
#define SNILB_TEST_PACKETS_H

#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

#define PKT_MAX 20000

/*
 * A test frame's MACs: to the test run's device, the namespace's loopback,
 * whose address is all zeros (BPF_PROG_TEST_RUN runs eth_type_trans() on
 * it: a frame to any other unicast MAC is PACKET_OTHERHOST, which the data
 * plane leaves alone), from the client's router 02:00:00:00:00:02.
 */
#define TEST_HOST_MAC "\0\0\0\0\0\0"
#define TEST_OTHER_MAC "\x02\0\0\0\0\x01"	/* a neighbour's */
#define TEST_MACS TEST_HOST_MAC "\x02\0\0\0\0\x02"

struct tpkt {
	int v6;
	const char *src, *dst;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t window;
	const uint8_t *opts;
	size_t optlen;
	const uint8_t *payload;
	size_t plen;
};

static inline uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static inline uint16_t csum_fin(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* TCP checksum over the pseudo header of the IP header at @ip. */
static inline uint16_t tcp_csum(const uint8_t *ip, int v6, const uint8_t *tcp,
				size_t len)
{
	uint32_t sum = 0;
	uint8_t tail[4] = { 0, 0, 0, 6 };

	if (v6)
		sum = csum_add(sum, ip + 8, 32);
	else
		sum = csum_add(sum, ip + 12, 8);
	sum += (uint32_t)len;
	sum = csum_add(sum, tail, 4);
	return csum_fin(csum_add(sum, tcp, len));
}

/* Build @t into @buf; returns the frame length. */
static inline size_t tpkt_build(const struct tpkt *t, uint8_t *buf)
{
	size_t l3 = 14, iplen = t->v6 ? 40 : 20;
	size_t tcplen = 20 + t->optlen + t->plen;
	uint8_t *ip = buf + l3, *th = ip + iplen;
	uint16_t c;

	memset(buf, 0, l3 + iplen + 20);
	memcpy(buf, TEST_MACS, 12);
	buf[12] = t->v6 ? 0x86 : 0x08;
	buf[13] = t->v6 ? 0xdd : 0x00;
	if (t->v6) {
		ip[0] = 0x60;
		ip[4] = (uint8_t)(tcplen >> 8);
		ip[5] = (uint8_t)tcplen;
		ip[6] = 6;
		ip[7] = 64;
		inet_pton(AF_INET6, t->src, ip + 8);
		inet_pton(AF_INET6, t->dst, ip + 24);
	} else {
		ip[0] = 0x45;
		ip[2] = (uint8_t)((20 + tcplen) >> 8);
		ip[3] = (uint8_t)(20 + tcplen);
		ip[6] = 0x40;
		ip[8] = 64;
		ip[9] = 6;
		inet_pton(AF_INET, t->src, ip + 12);
		inet_pton(AF_INET, t->dst, ip + 16);
		c = csum_fin(csum_add(0, ip, 20));
		ip[10] = (uint8_t)(c >> 8);
		ip[11] = (uint8_t)c;
	}
	th[0] = (uint8_t)(t->sport >> 8);
	th[1] = (uint8_t)t->sport;
	th[2] = (uint8_t)(t->dport >> 8);
	th[3] = (uint8_t)t->dport;
	for (int i = 0; i < 4; i++) {
		th[4 + i] = (uint8_t)(t->seq >> (24 - 8 * i));
		th[8 + i] = (uint8_t)(t->ack >> (24 - 8 * i));
	}
	th[12] = (uint8_t)(((20 + t->optlen) / 4) << 4);
	th[13] = t->flags;
	th[14] = (uint8_t)(t->window >> 8);
	th[15] = (uint8_t)t->window;
	if (t->optlen)
		memcpy(th + 20, t->opts, t->optlen);
	if (t->plen)
		memcpy(th + 20 + t->optlen, t->payload, t->plen);
	c = tcp_csum(ip, t->v6, th, tcplen);
	th[16] = (uint8_t)(c >> 8);
	th[17] = (uint8_t)c;
	return l3 + iplen + tcplen;
}

/* What a test reads back out of a frame. */
struct tview {
	int v6;
	char src[64], dst[64];
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t window;
	const uint8_t *opts;
	size_t optlen;
	size_t plen;
	int ip_csum_ok, tcp_csum_ok;
	uint8_t smac[6], dmac[6];
};

static inline uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline int tview_parse(const uint8_t *buf, size_t len,
			      struct tview *v)
{
	const uint8_t *ip = buf + 14, *th;
	size_t iplen, tcplen;

	memset(v, 0, sizeof(*v));
	if (len < 14 + 40)
		return -1;
	memcpy(v->dmac, buf, 6);
	memcpy(v->smac, buf + 6, 6);
	v->v6 = buf[12] == 0x86;
	if (v->v6) {
		iplen = 40;
		tcplen = (size_t)ip[4] << 8 | ip[5];
		inet_ntop(AF_INET6, ip + 8, v->src, sizeof(v->src));
		inet_ntop(AF_INET6, ip + 24, v->dst, sizeof(v->dst));
		v->ip_csum_ok = 1;
	} else {
		iplen = 20;
		tcplen = ((size_t)ip[2] << 8 | ip[3]) - 20;
		inet_ntop(AF_INET, ip + 12, v->src, sizeof(v->src));
		inet_ntop(AF_INET, ip + 16, v->dst, sizeof(v->dst));
		v->ip_csum_ok = csum_fin(csum_add(0, ip, 20)) == 0;
	}
	if (14 + iplen + tcplen != len)
		return -1;
	th = ip + iplen;
	v->sport = (uint16_t)(th[0] << 8 | th[1]);
	v->dport = (uint16_t)(th[2] << 8 | th[3]);
	v->seq = be32(th + 4);
	v->ack = be32(th + 8);
	v->flags = th[13];
	v->window = (uint16_t)(th[14] << 8 | th[15]);
	v->optlen = (size_t)(th[12] >> 4) * 4 - 20;
	v->opts = th + 20;
	v->plen = tcplen - 20 - v->optlen;
	v->tcp_csum_ok = tcp_csum(ip, v->v6, th, tcplen) == 0;
	return 0;
}

/* Find TCP option @kind in @v; returns a pointer to it or NULL. */
static inline const uint8_t *tview_opt(const struct tview *v, uint8_t kind)
{
	size_t i = 0;

	while (i < v->optlen) {
		if (v->opts[i] == 0)
			break;
		if (v->opts[i] == 1) {
			i++;
			continue;
		}
		if (i + 1 >= v->optlen || v->opts[i + 1] < 2)
			break;
		if (v->opts[i] == kind)
			return v->opts + i;
		i += v->opts[i + 1];
	}
	return NULL;
}

#endif /* SNILB_TEST_PACKETS_H */

// SPDX-License-Identifier: GPL-2.0-only
/*
 * A bounded SYN flood for tests/chaos/traffic.sh: spoofed-source IPv4 SYNs
 * (random address in SRC/PREFIX, random port) to DST:PORT from a raw
 * socket, at most RATE per second, stopping after COUNT SYNs or SECONDS,
 * whichever comes first. Prints "sent N in S s: R/s".
 *
 * Usage: synflood -d DST -p PORT -s SRC/PREFIX [-r RATE] [-n COUNT]
 *                 [-t SECONDS] [-S SEED] [-i IFNAME -m DSTMAC]
 * -i: frames straight to IFNAME's driver (AF_PACKET, the qdisc bypassed),
 * to DSTMAC, not through the IP stack, from a pool of POOL SYNs built
 * once (tuples repeat every POOL): a generator that keeps up with the
 * XDP program (tests/bench/synrate.sh).
 * Only for addresses of the test's own namespaces (198.18.0.0/15).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define POOL 8192	/* -i: SYNs built once, sent in turn */

struct synpkt {
	struct ether_header eth;	/* -i only */
	struct iphdr ip;
	struct tcphdr tcp;
	uint8_t opts[20];	/* MSS, SACK-permitted, timestamps, NOP, wscale */
} __attribute__((packed));

static uint64_t rng;
static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

static uint16_t csum_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static uint32_t csum_add(uint32_t s, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (n & 1)
		s += (uint32_t)(b[n - 1] << 8);
	return s;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void build(struct synpkt *p, uint32_t dst, uint16_t dport,
		  uint32_t net, uint32_t mask)
{
	uint32_t src = htonl((ntohl(net) & mask) | (rnd() & ~mask)), s;
	uint16_t tl = sizeof(struct tcphdr) + sizeof(p->opts);
	uint32_t tsval = rnd();

	memset(p, 0, sizeof(*p));
	p->eth.ether_type = htons(ETHERTYPE_IP);
	p->ip.version = 4;
	p->ip.ihl = 5;
	p->ip.ttl = 64;
	p->ip.protocol = IPPROTO_TCP;
	p->ip.tot_len = htons(sizeof(*p) - sizeof(p->eth));
	p->ip.id = (uint16_t)rnd();
	p->ip.saddr = src;
	p->ip.daddr = dst;
	p->ip.check = htons(csum_fold(csum_add(0, &p->ip, sizeof(p->ip))));
	p->tcp.source = htons((uint16_t)(1024 + rnd() % 64000));
	p->tcp.dest = dport;
	p->tcp.seq = rnd();
	p->tcp.doff = (uint16_t)(tl / 4);
	p->tcp.syn = 1;
	p->tcp.window = htons(64240);
	/* MSS 1460, SACK-permitted, TS, NOP, wscale 7 */
	uint8_t o[20] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10 };
	memcpy(o + 8, &tsval, 4);
	o[16] = 1;
	o[17] = 3;
	o[18] = 3;
	o[19] = 7;
	memcpy(p->opts, o, sizeof(o));
	s = csum_add(0, &p->ip.saddr, 8);
	s += IPPROTO_TCP + tl;
	s = csum_add(s, &p->tcp, tl);
	p->tcp.check = htons(csum_fold(s));
}

int main(int argc, char **argv)
{
	const char *dst_s = NULL, *src_s = NULL, *ifname = NULL;
	unsigned int mac[6] = { 0 };
	struct sockaddr_ll ll = { .sll_family = AF_PACKET };
	size_t skip = sizeof(struct ether_header);
	long rate = 20000, count = 200000;
	double secs = 10;
	uint64_t seed = 1;
	int port = 443, c, fd, prefix;
	struct in_addr dst, net;
	char *slash;

	while ((c = getopt(argc, argv, "d:p:s:r:n:t:S:i:m:")) != -1) {
		switch (c) {
		case 'd': dst_s = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 's': src_s = optarg; break;
		case 'r': rate = atol(optarg); break;
		case 'n': count = atol(optarg); break;
		case 't': secs = atof(optarg); break;
		case 'S': seed = strtoull(optarg, NULL, 0); break;
		case 'i': ifname = optarg; break;
		case 'm':
			if (sscanf(optarg, "%x:%x:%x:%x:%x:%x", &mac[0],
				   &mac[1], &mac[2], &mac[3], &mac[4],
				   &mac[5]) != 6)
				goto usage;
			break;
		default: goto usage;
		}
	}
	if (!dst_s || !src_s || !(slash = strchr(src_s, '/')) || rate <= 0 ||
	    count <= 0 || secs <= 0 || secs > 600)
		goto usage;
	*slash = 0;
	prefix = atoi(slash + 1);
	if (inet_pton(AF_INET, dst_s, &dst) != 1 ||
	    inet_pton(AF_INET, src_s, &net) != 1 || prefix < 8 || prefix > 32)
		goto usage;
	/* Our own test ranges only. */
	if ((ntohl(dst.s_addr) & 0xfffe0000) != 0xc6120000 ||
	    (ntohl(net.s_addr) & 0xfffe0000) != 0xc6120000) {
		fprintf(stderr, "synflood: only 198.18.0.0/15 addresses\n");
		return 2;
	}
	rng = seed * 0x9e3779b97f4a7c15ULL | 1;
	if (ifname) {
		int one = 1;

		ll.sll_ifindex = (int)if_nametoindex(ifname);
		ll.sll_protocol = htons(ETH_P_IP);
		fd = socket(AF_PACKET, SOCK_RAW, 0);
		if (fd < 0 || !ll.sll_ifindex) {
			perror(ifname);
			return 1;
		}
		setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one,
			   sizeof(one));
		skip = 0;
	} else {
		fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
	}
	if (fd < 0) {
		perror("socket");
		return 1;
	}
	{
		int sz = 4 << 20;
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	}

	uint32_t mask = prefix == 32 ? ~0u : ~(~0u >> prefix);
	static struct synpkt pk[POOL];
	long next = 0;
	struct iovec iov[BATCH];
	struct mmsghdr mm[BATCH];
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr = dst };
	long sent = 0, errs = 0;
	double t0 = now(), t;

	for (;;) {
		t = now() - t0;
		if (sent >= count || t >= secs)
			break;
		long allowed = (long)(t * rate) + BATCH - sent;
		if (allowed <= 0) {
			usleep(500);
			continue;
		}
		int n = allowed < BATCH ? (int)allowed : BATCH;
		if (n > count - sent)
			n = (int)(count - sent);
		for (int i = 0; i < n; i++) {
			struct synpkt *q = &pk[(next + i) % POOL];

			if (!ifname || next + i < POOL)
				build(q, dst.s_addr, htons((uint16_t)port),
				      net.s_addr, mask);
			for (int j = 0; j < 6; j++)
				q->eth.ether_dhost[j] = (uint8_t)mac[j];
			iov[i].iov_base = (uint8_t *)q + skip;
			iov[i].iov_len = sizeof(*q) - skip;
			memset(&mm[i], 0, sizeof(mm[i]));
			mm[i].msg_hdr.msg_name = ifname ? (void *)&ll :
						 (void *)&sa;
			mm[i].msg_hdr.msg_namelen = ifname ? sizeof(ll) :
						    sizeof(sa);
			mm[i].msg_hdr.msg_iov = &iov[i];
			mm[i].msg_hdr.msg_iovlen = 1;
		}
		int r = sendmmsg(fd, mm, (unsigned)n, 0);
		if (r < 0) {
			if (errno != ENOBUFS && errno != EAGAIN) {
				perror("sendmmsg");
				return 1;
			}
			errs++;
			usleep(200);
			continue;
		}
		sent += r;
		next = ifname ? next + r : 0;
	}
	t = now() - t0;
	printf("sent %ld in %.2f s: %.0f/s (%ld send errors)\n", sent, t,
	       sent / t, errs);
	return 0;
usage:
	fprintf(stderr, "usage: synflood -d DST -p PORT -s SRC/PREFIX [-r RATE]"
		" [-n COUNT] [-t SECONDS] [-S SEED] [-i IFNAME -m DSTMAC]\n");
	return 2;
}

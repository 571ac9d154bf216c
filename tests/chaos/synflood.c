// SPDX-License-Identifier: GPL-2.0-only
/*
 * A bounded SYN flood for tests/chaos/traffic.sh: spoofed-source IPv4 SYNs
 * (random address in SRC/PREFIX, random port) to DST:PORT from a raw
 * socket, at most RATE per second, stopping after COUNT SYNs or SECONDS,
 * whichever comes first. Prints "sent N in S s: R/s".
 *
 * Usage: synflood -d DST -p PORT -s SRC/PREFIX [-r RATE] [-n COUNT]
 *                 [-t SECONDS] [-S SEED]
 * Only for addresses of the test's own namespaces (198.18.0.0/15).
 */
#include <arpa/inet.h>
#include <errno.h>
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

struct synpkt {
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
	p->ip.version = 4;
	p->ip.ihl = 5;
	p->ip.ttl = 64;
	p->ip.protocol = IPPROTO_TCP;
	p->ip.tot_len = htons(sizeof(*p));
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
	const char *dst_s = NULL, *src_s = NULL;
	long rate = 20000, count = 200000;
	double secs = 10;
	uint64_t seed = 1;
	int port = 443, c, fd, prefix;
	struct in_addr dst, net;
	char *slash;

	while ((c = getopt(argc, argv, "d:p:s:r:n:t:S:")) != -1) {
		switch (c) {
		case 'd': dst_s = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 's': src_s = optarg; break;
		case 'r': rate = atol(optarg); break;
		case 'n': count = atol(optarg); break;
		case 't': secs = atof(optarg); break;
		case 'S': seed = strtoull(optarg, NULL, 0); break;
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
	fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
	if (fd < 0) {
		perror("socket");
		return 1;
	}
	{
		int sz = 4 << 20;
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	}

	uint32_t mask = prefix == 32 ? ~0u : ~(~0u >> prefix);
	struct synpkt pk[BATCH];
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
			build(&pk[i], dst.s_addr, htons((uint16_t)port),
			      net.s_addr, mask);
			iov[i].iov_base = &pk[i];
			iov[i].iov_len = sizeof(pk[i]);
			memset(&mm[i], 0, sizeof(mm[i]));
			mm[i].msg_hdr.msg_name = &sa;
			mm[i].msg_hdr.msg_namelen = sizeof(sa);
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
	}
	t = now() - t0;
	printf("sent %ld in %.2f s: %.0f/s (%ld send errors)\n", sent, t,
	       sent / t, errs);
	return 0;
usage:
	fprintf(stderr, "usage: synflood -d DST -p PORT -s SRC/PREFIX [-r RATE]"
		" [-n COUNT] [-t SECONDS] [-S SEED]\n");
	return 2;
}

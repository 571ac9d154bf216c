// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * A bulk download for the delayed-path benchmark: the backend sends, as a
 * web server does, with its own congestion control (what the benchmark
 * compares).
 *
 *   fetch serve PORT BYTES CC
 *                            accepts (IPv4 and IPv6) with congestion
 *                            control CC (TCP_CONGESTION on the listener,
 *                            which its connections inherit: a namespace
 *                            may make only the allowed ones its default);
 *                            per connection reads the client's first
 *                            bytes (its ClientHello), sends BYTES and
 *                            closes. Prints a line per connection: the
 *                            RTT its TCP took from the handshake, and at
 *                            the end its min RTT (and BBR's), its cwnd,
 *                            its retransmissions and the client's window
 *                            scale as it uses it
 *   fetch get NAME ADDR PORT BYTES TIMEOUT_S
 *                            connects, sends a real ClientHello for NAME,
 *                            reads to EOF; prints "mbs=R ttfb_ms=T": MB/s
 *                            from the first byte to the last, and the time
 *                            from connect() to the first byte. Exits 1
 *                            unless BYTES came.
 */
#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <netdb.h>
#include <netinet/in.h>
#include <linux/tcp.h>	/* struct tcp_info with tcpi_min_rtt */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "../lib/hello_builder.h"

static unsigned long long size;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void tcp_info_of(int fd, struct tcp_info *ti)
{
	socklen_t n = sizeof(*ti);

	memset(ti, 0, sizeof(*ti));
	getsockopt(fd, IPPROTO_TCP, TCP_INFO, ti, &n);
}

/* BBR's own min RTT (us), or 0 for another congestion control. */
static unsigned int bbr_min_rtt(int fd, const char *name)
{
	union tcp_cc_info cc;
	socklen_t n;

	if (strcmp(name, "bbr"))
		return 0;
	n = sizeof(cc);
	memset(&cc, 0, sizeof(cc));
	if (getsockopt(fd, IPPROTO_TCP, TCP_CC_INFO, &cc, &n))
		return 0;
	return cc.bbr.bbr_min_rtt;
}

static void *serve_one(void *arg)
{
	static char buf[1 << 16];
	int fd = (int)(long)arg;
	unsigned long long left = size;
	struct tcp_info ti;
	unsigned int hs_rtt;
	char in[4096], cc[16] = "";
	socklen_t n = sizeof(cc) - 1;

	getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, cc, &n);
	tcp_info_of(fd, &ti);
	hs_rtt = ti.tcpi_rtt;		/* the handshake's sample alone */
	if (read(fd, in, sizeof(in)) <= 0)
		goto out;
	while (left) {
		ssize_t n = write(fd, buf, left < sizeof(buf) ? left : sizeof(buf));

		if (n <= 0)
			break;
		left -= (unsigned long long)n;
	}
	tcp_info_of(fd, &ti);
	printf("cc=%s hs_rtt_us=%u min_rtt_us=%u bbr_min_rtt_us=%u cwnd=%u "
	       "retrans=%u wscale=%u sent=%llu\n", cc, hs_rtt, ti.tcpi_min_rtt,
	       bbr_min_rtt(fd, cc), ti.tcpi_snd_cwnd, ti.tcpi_total_retrans,
	       ti.tcpi_snd_wscale, size - left);
	fflush(stdout);
	shutdown(fd, SHUT_WR);
	while (read(fd, in, sizeof(in)) > 0)
		;
out:
	close(fd);
	return NULL;
}

static int serve(int port, const char *cc)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6,
				   .sin6_port = htons((unsigned short)port) };
	int one = 1, fd = socket(AF_INET6, SOCK_STREAM, 0);

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, cc, strlen(cc))) {
		perror("fetch serve: TCP_CONGESTION");
		return 1;
	}
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(fd, 64)) {
		perror("fetch serve");
		return 1;
	}
	printf("listening\n");
	fflush(stdout);
	for (;;) {
		pthread_t t;
		int c = accept(fd, NULL, NULL);

		if (c < 0)
			continue;
		pthread_create(&t, NULL, serve_one, (void *)(long)c);
		pthread_detach(t);
	}
}

static int get(const char *name, const char *addr, const char *port,
	       int timeout)
{
	static char buf[1 << 16];
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
	struct timeval tv = { .tv_sec = timeout };
	unsigned long long got = 0;
	double t0, first = 0, last = 0;
	struct hb h;
	int fd;

	if (getaddrinfo(addr, port, &hints, &ai))
		return 2;
	fd = socket(ai->ai_family, SOCK_STREAM, 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	t0 = now();
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen)) {
		perror("fetch get: connect");
		return 1;
	}
	freeaddrinfo(ai);
	hb_simple(&h, name);
	if (write(fd, h.b, h.n) != (ssize_t)h.n)
		return 1;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n <= 0)
			break;
		last = now();
		if (!got)
			first = last;
		got += (unsigned long long)n;
	}
	close(fd);
	printf("mbs=%.1f ttfb_ms=%.1f bytes=%llu\n",
	       got && last > first ? got / (last - first) / 1e6 : 0,
	       got ? (first - t0) * 1e3 : 0, got);
	return got == size ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "serve")) {
		size = strtoull(argv[3], NULL, 10);
		return serve(atoi(argv[2]), argv[4]);
	}
	if (argc == 7 && !strcmp(argv[1], "get")) {
		size = strtoull(argv[5], NULL, 10);
		return get(argv[2], argv[3], argv[4], atoi(argv[6]));
	}
	fprintf(stderr, "usage: fetch serve PORT BYTES CC\n"
		"       fetch get NAME ADDR PORT BYTES TIMEOUT_S\n");
	return 2;
}

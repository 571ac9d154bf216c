// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Bulk load for the benchmarks: N connections, each sending a real
 * ClientHello for NAME and then streaming bytes for S seconds, so the
 * load balancer's cost per byte is measured, not TLS's. Prints the total
 * rate in MB/s. Usage: stream NAME ADDR PORT SECONDS FLOWS
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../lib/hello_builder.h"

static const char *name, *addr, *port;
static double secs;
static unsigned long long total;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *flow(void *arg)
{
	static char buf[1 << 16];
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
	unsigned long long sent = 0;
	struct hb h;
	double end;
	int fd;

	(void)arg;
	if (getaddrinfo(addr, port, &hints, &ai))
		return NULL;
	fd = socket(ai->ai_family, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen)) {
		perror("stream: connect");
		freeaddrinfo(ai);
		return NULL;
	}
	freeaddrinfo(ai);
	hb_simple(&h, name);
	if (write(fd, h.b, h.n) != (ssize_t)h.n)
		goto out;
	end = now() + secs;
	while (now() < end) {
		ssize_t n = write(fd, buf, sizeof(buf));

		if (n <= 0)
			break;
		sent += (unsigned long long)n;
	}
out:
	close(fd);
	pthread_mutex_lock(&lock);
	total += sent;
	pthread_mutex_unlock(&lock);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t[64];
	int n, i;

	if (argc != 6) {
		fprintf(stderr, "usage: stream NAME ADDR PORT SECONDS FLOWS\n");
		return 2;
	}
	name = argv[1];
	addr = argv[2];
	port = argv[3];
	secs = atof(argv[4]);
	n = atoi(argv[5]);
	if (n < 1 || n > 64)
		return 2;
	for (i = 0; i < n; i++)
		pthread_create(&t[i], NULL, flow, NULL);
	for (i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	printf("%.0f\n", total / secs / 1e6);
	return total ? 0 : 1;
}

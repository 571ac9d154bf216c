// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The benchmarks' bulk backend: accepts TCP on each port given (IPv4 and
 * IPv6) and reads and discards everything, a thread per connection.
 * Usage: sink PORT...
 */
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void *drain(void *arg)
{
	static __thread char buf[1 << 16];
	int fd = (int)(long)arg;

	while (read(fd, buf, sizeof(buf)) > 0)
		;
	close(fd);
	return NULL;
}

static void *listener(void *arg)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6 };
	int one = 1, fd = socket(AF_INET6, SOCK_STREAM, 0);

	sa.sin6_port = htons((unsigned short)(long)arg);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 128)) {
		perror("sink");
		exit(1);
	}
	for (;;) {
		pthread_t t;
		int c = accept(fd, NULL, NULL);

		if (c < 0)
			continue;
		pthread_create(&t, NULL, drain, (void *)(long)c);
		pthread_detach(t);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t;
	int i;

	for (i = 1; i < argc; i++)
		pthread_create(&t, NULL, listener, (void *)(long)atoi(argv[i]));
	printf("listening\n");
	fflush(stdout);
	pause();
	return 0;
}

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * A wire with a delay, for the delayed-path benchmark (this kernel has no
 * sch_netem): frames read from one interface are written to the other
 * ONE_WAY_MS later, both ways, through a bottleneck of RATE Mbit/s with a
 * drop-tail queue of QUEUE frames (a real path's narrowest link). Frames
 * must be as long as the MTU at most: turn TSO/GSO and TX checksum offload
 * off on the peers of both interfaces (the relay copies bytes; it cannot
 * finish a checksum or cut a GSO packet).
 *
 * Usage: delay IF_A IF_B ONE_WAY_MS RATE_MBIT QUEUE
 * Prints "relaying" once both sockets are bound; on SIGTERM the frames
 * relayed and dropped each way.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SLOTS	8192		/* frames in flight, each way */
#define FRAME	2048

struct frame {
	uint64_t due;		/* ns: leaves the far end of the wire */
	uint32_t len;
	uint8_t data[FRAME];
};

struct way {
	int in, out;		/* sockets: read from, write to */
	struct frame *q;
	uint32_t head, tail;	/* ring of SLOTS */
	uint64_t link_free;	/* ns: the bottleneck finishes sending */
	uint64_t relayed, dropped, truncated;
};

static volatile sig_atomic_t stop;
static uint64_t delay_ns, ns_per_byte_x1k, queue_ns;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int open_if(const char *name)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_protocol = htons(ETH_P_ALL) };
	int one = 1, big = 8 << 20;
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK, htons(ETH_P_ALL));

	sll.sll_ifindex = (int)if_nametoindex(name);
	if (fd < 0 || !sll.sll_ifindex) {
		fprintf(stderr, "delay: %s: %s\n", name, strerror(errno));
		return -1;
	}
	/* Not our own writes back. */
	setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big));
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		fprintf(stderr, "delay: bind %s: %s\n", name, strerror(errno));
		return -1;
	}
	return fd;
}

/* Read every frame waiting; each joins the bottleneck's queue, or is
 * dropped when the queue is full. */
static void take(struct way *w, uint64_t now)
{
	for (;;) {
		struct frame *f = &w->q[w->tail % SLOTS];
		uint64_t start;
		ssize_t n = recv(w->in, f->data, FRAME, MSG_TRUNC);

		if (n < 0)
			return;
		if (n > FRAME) {
			w->truncated++;
			continue;
		}
		start = w->link_free > now ? w->link_free : now;
		if (start - now > queue_ns || w->tail - w->head >= SLOTS) {
			w->dropped++;
			continue;
		}
		w->link_free = start + (uint64_t)n * ns_per_byte_x1k / 1000;
		f->len = (uint32_t)n;
		f->due = w->link_free + delay_ns;
		w->tail++;
	}
}

/* Write the frames whose time has come; the next one's due time. */
static uint64_t give(struct way *w, uint64_t now)
{
	while (w->head != w->tail) {
		struct frame *f = &w->q[w->head % SLOTS];

		if (f->due > now)
			return f->due;
		if (send(w->out, f->data, f->len, 0) == (ssize_t)f->len)
			w->relayed++;
		else
			w->dropped++;
		w->head++;
	}
	return UINT64_MAX;
}

static void run(struct way *ab, struct way *ba)
{
	struct pollfd pfd[2] = { { .fd = ab->in, .events = POLLIN },
				 { .fd = ba->in, .events = POLLIN } };

	while (!stop) {
		uint64_t now = now_ns(), next, n2;
		struct timespec ts, *tp = NULL;

		take(ab, now);
		take(ba, now);
		next = give(ab, now);
		n2 = give(ba, now);
		if (n2 < next)
			next = n2;
		if (next != UINT64_MAX) {
			uint64_t d = next > now ? next - now : 0;

			ts.tv_sec = (time_t)(d / 1000000000ull);
			ts.tv_nsec = (long)(d % 1000000000ull);
			tp = &ts;
		}
		ppoll(pfd, 2, tp, NULL);
	}
}

int main(int argc, char **argv)
{
	struct way ab = { 0 }, ba = { 0 };
	double rate;

	if (argc != 6) {
		fprintf(stderr, "usage: delay IF_A IF_B ONE_WAY_MS RATE_MBIT QUEUE\n");
		return 2;
	}
	delay_ns = (uint64_t)(atof(argv[3]) * 1e6);
	rate = atof(argv[4]);
	if (rate <= 0)
		return 2;
	ns_per_byte_x1k = (uint64_t)(8e6 / rate);	/* 8 bits / rate, x1000 */
	queue_ns = (uint64_t)atoi(argv[5]) * 1514 * ns_per_byte_x1k / 1000;
	ab.in = ba.out = open_if(argv[1]);
	ab.out = ba.in = open_if(argv[2]);
	ab.q = calloc(SLOTS, sizeof(struct frame));
	ba.q = calloc(SLOTS, sizeof(struct frame));
	if (ab.in < 0 || ab.out < 0 || !ab.q || !ba.q)
		return 1;
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	printf("relaying\n");
	fflush(stdout);
	run(&ab, &ba);
	printf("%s->%s relayed %llu dropped %llu truncated %llu\n", argv[1],
	       argv[2], (unsigned long long)ab.relayed,
	       (unsigned long long)ab.dropped,
	       (unsigned long long)ab.truncated);
	printf("%s->%s relayed %llu dropped %llu truncated %llu\n", argv[2],
	       argv[1], (unsigned long long)ba.relayed,
	       (unsigned long long)ba.dropped,
	       (unsigned long long)ba.truncated);
	return 0;
}

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The metrics' HTTP server: /metrics (metrics.c renders it), /healthz and
 * /readyz, on libmicrohttpd's own thread. libmicrohttpd (and the GnuTLS
 * it links) is loaded by the first metrics_serve() (user/lib/dl.h): an
 * agent without --metrics-listen never maps it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "dl.h"
#include "metrics.h"

/* The functions of libmicrohttpd this file calls, once loaded. */
static struct {
	struct MHD_Daemon *(*start_daemon)(unsigned int, uint16_t,
					   MHD_AcceptPolicyCallback, void *,
					   MHD_AccessHandlerCallback, void *,
					   ...);
	void (*stop_daemon)(struct MHD_Daemon *);
	struct MHD_Response *(*create_response_from_buffer)(
		size_t, void *, enum MHD_ResponseMemoryMode);
	enum MHD_Result (*add_response_header)(struct MHD_Response *,
					       const char *, const char *);
	enum MHD_Result (*queue_response)(struct MHD_Connection *,
					  unsigned int, struct MHD_Response *);
	void (*destroy_response)(struct MHD_Response *);
} mhd;

static pthread_once_t mhd_once = PTHREAD_ONCE_INIT;
static int mhd_loaded;
static char mhd_why[256];

static void mhd_load(void)
{
	const struct dl_sym syms[] = {
		{ "MHD_start_daemon", (void **)&mhd.start_daemon },
		{ "MHD_stop_daemon", (void **)&mhd.stop_daemon },
		{ "MHD_create_response_from_buffer",
		  (void **)&mhd.create_response_from_buffer },
		{ "MHD_add_response_header",
		  (void **)&mhd.add_response_header },
		{ "MHD_queue_response", (void **)&mhd.queue_response },
		{ "MHD_destroy_response", (void **)&mhd.destroy_response },
	};

	mhd_loaded = !dl_bind(DL_MHD, syms, sizeof(syms) / sizeof(syms[0]),
			      mhd_why, sizeof(mhd_why));
}

/* --- the HTTP server -------------------------------------------------- */

struct metrics_server {
	struct MHD_Daemon *mhd;
	const struct metrics_source *src;
};

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned int code,
			     char *body, size_t len, enum MHD_ResponseMemoryMode
			     mode, const char *type)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = mhd.create_response_from_buffer(len, body, mode);
	if (!r)
		return MHD_NO;
	mhd.add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = mhd.queue_response(conn, code, r);
	mhd.destroy_response(r);
	return ret;
}

static enum MHD_Result scrape(struct MHD_Connection *conn,
			      const struct metrics_source *src)
{
	struct metrics_snapshot snap = { 0 };
	bool have = src->snapshot && !src->snapshot(src->ctx, &snap);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int e;

	if (!f) {
		metrics_snapshot_free(&snap);
		return MHD_NO;
	}
	e = metrics_render(f, src->pinned, have ? &snap : NULL);
	if (!e && src->extra)
		e = src->extra(src->ctx, f);
	fclose(f);
	metrics_snapshot_free(&snap);
	if (e) {
		free(buf);
		return reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
			     "cannot render the metrics\n", 26,
			     MHD_RESPMEM_PERSISTENT, "text/plain");
	}
	return reply(conn, MHD_HTTP_OK, buf, len, MHD_RESPMEM_MUST_FREE,
		     "text/plain; version=0.0.4; charset=utf-8");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_size, void **state)
{
	struct metrics_server *s = cls;

	(void)version;
	(void)upload;
	(void)upload_size;
	(void)state;
	if (strcmp(method, MHD_HTTP_METHOD_GET) &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
			     "GET /metrics\n", 13, MHD_RESPMEM_PERSISTENT,
			     "text/plain");
	/* Probes for a kubelet: alive while the server answers; ready once
	 * the agent programmed the data plane from a complete input. */
	if (!strcmp(url, "/healthz"))
		return reply(conn, MHD_HTTP_OK, "ok\n", 3,
			     MHD_RESPMEM_PERSISTENT, "text/plain");
	if (!strcmp(url, "/readyz")) {
		if (s->src->ready && !s->src->ready(s->src->ctx))
			return reply(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
				     "not synced yet\n", 15,
				     MHD_RESPMEM_PERSISTENT, "text/plain");
		return reply(conn, MHD_HTTP_OK, "ok\n", 3,
			     MHD_RESPMEM_PERSISTENT, "text/plain");
	}
	if (strcmp(url, "/metrics"))
		return reply(conn, MHD_HTTP_NOT_FOUND,
			     "not found: try /metrics, /healthz, /readyz\n",
			     43, MHD_RESPMEM_PERSISTENT, "text/plain");
	return scrape(conn, s->src);
}

int metrics_listen_parse(const char *listen, struct sockaddr_storage *ss)
{
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	const char *colon = strrchr(listen, ':');
	char host[INET6_ADDRSTRLEN + 2], *end;
	size_t hl;
	long port;

	memset(ss, 0, sizeof(*ss));
	if (!colon)
		return -EINVAL;
	port = strtol(colon + 1, &end, 10);
	hl = (size_t)(colon - listen);
	if (!colon[1] || *end || port < 0 || port > 65535 ||
	    hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, listen, hl);
	host[hl] = 0;
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
		host[hl - 1] = 0;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		return inet_pton(AF_INET6, host + 1, &in6->sin6_addr) == 1 ?
		       0 : -EINVAL;
	}
	in->sin_family = AF_INET;
	in->sin_port = htons((uint16_t)port);
	if (!hl)
		return 0;	/* every address */
	return inet_pton(AF_INET, host, &in->sin_addr) == 1 ? 0 : -EINVAL;
}

/* As libmicrohttpd would open it: reusable address, IPv6 only on an
 * IPv6 address. */
static int listen_on(const struct sockaddr_storage *ss)
{
	socklen_t len = ss->ss_family == AF_INET6 ?
			sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC |
			SOCK_NONBLOCK, 0), one = 1;

	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    (ss->ss_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one))) ||
	    bind(fd, (const struct sockaddr *)ss, len) ||
	    listen(fd, SOMAXCONN)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

int metrics_bind(const char *listen, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	int fd;

	if (metrics_listen_parse(listen, &ss)) {
		snprintf(err, errlen, "bad metrics address '%s': want "
			 "ADDR:PORT, [V6ADDR]:PORT or :PORT", listen);
		return -EINVAL;
	}
	fd = listen_on(&ss);
	if (fd < 0)
		snprintf(err, errlen, "cannot serve metrics on %s: %s", listen,
			 strerror(-fd));
	return fd;
}

struct metrics_server *metrics_serve(int fd, const struct metrics_source *src,
				     char *err, size_t errlen)
{
	struct metrics_server *s = calloc(1, sizeof(*s));

	if (!s) {
		snprintf(err, errlen, "out of memory");
		close(fd);
		return NULL;
	}
	pthread_once(&mhd_once, mhd_load);
	if (!mhd_loaded) {
		snprintf(err, errlen, "cannot serve metrics: %s", mhd_why);
		free(s);
		close(fd);
		return NULL;
	}
	s->src = src;
	errno = 0;
	/* Failing, it may have closed @fd or not: left open, not closed
	 * twice (the agent exits then). */
	s->mhd = mhd.start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL,
				  NULL, on_request, s,
				  MHD_OPTION_LISTEN_SOCKET, fd,
				  MHD_OPTION_CONNECTION_TIMEOUT, 10u,
				  MHD_OPTION_END);
	if (!s->mhd) {
		snprintf(err, errlen, "cannot start the metrics server: %s",
			 errno ? strerror(errno) : "libmicrohttpd failed");
		free(s);
		return NULL;
	}
	return s;
}

struct metrics_server *metrics_start(const char *listen,
				     const struct metrics_source *src,
				     char *err, size_t errlen)
{
	int fd = metrics_bind(listen, err, errlen);

	return fd < 0 ? NULL : metrics_serve(fd, src, err, errlen);
}

void metrics_stop(struct metrics_server *s)
{
	if (!s)
		return;
	mhd.stop_daemon(s->mhd);
	free(s);
}

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The metrics (user/agent/metrics.c) without maps: label escaping, the
 * agent's metrics from the snapshot it publishes, and the HTTP server.
 * The counters from the maps are checked by test-agent against a running
 * data plane.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "metrics.h"
#include "reappace.h"

static struct metrics_route routes[] = {
	{ .id = 3, .ns = "default", .name = "fo\"o" },
};

static const struct metrics_snapshot snap = {
	.routes = routes, .nroutes = 1, .syncs = 7, .sync_errors = 1,
	.last_sync = 1790000100.25, .errors = 1,
	.reaper = { .passes = 12, .pass_s = 1.6, .wait_s = 8 },
};

static void test_label_escape(void **state)
{
	char b[64];

	(void)state;
	metrics_label_escape(b, sizeof(b), "a\"b\\c\nd");
	assert_string_equal(b, "a\\\"b\\\\c\\nd");
	metrics_label_escape(b, 4, "ab\"");	/* no half escape */
	assert_string_equal(b, "ab");
	metrics_label_escape(b, sizeof(b), NULL);
	assert_string_equal(b, "");
}

/* metrics_render(@p NULL, @s) as a string (caller frees). */
static char *render(const struct metrics_snapshot *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(metrics_render(f, NULL, s), 0);
	fclose(f);
	return buf;
}

static void test_render_without_maps(void **state)
{
	char *s;

	(void)state;
	s = render(&snap);
	assert_non_null(strstr(s, "# TYPE snilb_agent_syncs_total counter\n"
				  "snilb_agent_syncs_total 7\n"));
	assert_non_null(strstr(s, "snilb_agent_sync_errors_total 1\n"));
	assert_non_null(strstr(s, "snilb_agent_last_sync_timestamp_seconds "
				  "1790000100.250\n"));
	assert_non_null(strstr(s, "snilb_agent_errors 1\n"));
	assert_non_null(strstr(s, "snilb_agent_reaper_passes_total 12\n"));
	assert_non_null(strstr(s, "snilb_agent_reaper_pass_seconds "
				  "1.600000\n"));
	assert_non_null(strstr(s, "snilb_agent_reaper_interval_seconds "
				  "8.000\n"));
	/* no maps, no counters: never a made-up 0 */
	assert_null(strstr(s, "snilb_route_"));
	free(s);
	s = render(NULL);
	assert_string_equal(s, "");
	free(s);
}

/* The flow table's walk: each second, or at most a fifth of the time. */
static void test_reap_pace(void **state)
{
	(void)state;
	assert_int_equal(reap_wait_ns(0), 1000000000ull);
	assert_int_equal(reap_wait_ns(150000000ull), 1000000000ull);
	assert_int_equal(reap_wait_ns(200000000ull), 1000000000ull);
	assert_int_equal(reap_wait_ns(300000000ull), 1500000000ull);
	/* a million flows: 1.6 s a pass, one pass in 8 s */
	assert_int_equal(reap_wait_ns(1600000000ull), 8000000000ull);
}

static void test_snapshot_copy(void **state)
{
	struct metrics_snapshot c;

	(void)state;
	assert_int_equal(metrics_snapshot_copy(&c, &snap), 0);
	assert_ptr_not_equal(c.routes, snap.routes);
	assert_int_equal(c.nroutes, 1);
	assert_string_equal(c.routes[0].name, "fo\"o");
	assert_int_equal(c.syncs, 7);
	metrics_snapshot_free(&c);
	assert_null(c.routes);
	assert_int_equal(c.nroutes, 0);
}

static int snapshot(void *ctx, struct metrics_snapshot *s)
{
	return metrics_snapshot_copy(s, ctx);
}

/* One HTTP/1.0 request to 127.0.0.1:@port; the whole answer. */
static char *http_get(uint16_t port, const char *path)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(port) };
	static char buf[65536];
	size_t len = 0;
	ssize_t n;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	dprintf(fd, "GET %s HTTP/1.0\r\n\r\n", path);
	while ((n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	buf[len] = 0;
	return buf;
}

static void test_server(void **state)
{
	struct metrics_source src = { .snapshot = snapshot,
				      .ctx = (void *)&snap };
	struct metrics_server *s;
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	char err[256];
	int fd;

	(void)state;
	assert_null(metrics_start("nonsense", &src, err, sizeof(err)));
	assert_non_null(strstr(err, "bad metrics address"));
	assert_null(metrics_start("[::1]:99999", &src, err, sizeof(err)));
	/* a free port: bind one, release it, serve on it */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	sa = (struct sockaddr_in){ .sin_family = AF_INET };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	close(fd);
	snprintf(err, sizeof(err), "127.0.0.1:%u", ntohs(sa.sin_port));
	s = metrics_start(err, &src, err, sizeof(err));
	assert_non_null(s);
	assert_non_null(strstr(http_get(ntohs(sa.sin_port), "/metrics"),
			       "snilb_agent_syncs_total 7\n"));
	assert_non_null(strstr(http_get(ntohs(sa.sin_port), "/metrics"),
			       "200 OK"));
	assert_non_null(strstr(http_get(ntohs(sa.sin_port), "/"), "404"));
	metrics_stop(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_label_escape),
		cmocka_unit_test(test_render_without_maps),
		cmocka_unit_test(test_reap_pace),
		cmocka_unit_test(test_snapshot_copy),
		cmocka_unit_test(test_server),
	};

	return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}

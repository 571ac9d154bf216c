// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The access log's lines (user/agent/accesslog.c): a record as JSON and
 * as logfmt, a hostile SNI escaped, rejections over the rate counted in
 * a "suppressed" line, ends sampled, lost records reported, the SNIs
 * most rejected, the histograms.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "accesslog.h"

static char path[64];

static const char *route(void *ctx, uint32_t id)
{
	(void)ctx;
	return id == 7 ? "shop/www" : NULL;
}

static struct alog *open_log(int logfmt, uint32_t rej, uint32_t sample)
{
	struct alog_opts o = { .path = path, .logfmt = logfmt,
			       .rejects_per_s = rej, .sample = sample };
	char err[128];
	int fd;

	snprintf(path, sizeof(path), "/tmp/test_accesslog.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	return alog_open(&o, route, NULL, err, sizeof(err));
}

/* The file's lines, NUL-separated in one buffer; *n of them. */
static char *lines(size_t *n)
{
	static char buf[65536];
	FILE *f = fopen(path, "r");
	size_t len, i;

	assert_non_null(f);
	len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = 0;
	for (i = 0, *n = 0; i < len; i++)
		if (buf[i] == '\n')
			buf[i] = 0, (*n)++;
	return buf;
}

static struct snilb_log_rec spliced(void)
{
	struct snilb_log_rec e = { 0 };

	e.end = SNILB_END_FIN_CLIENT;
	e.reason = SNILB_LOG_NO_REASON;
	e.family = SNILB_AF_INET;
	e.bfamily = SNILB_AF_INET;
	inet_pton(AF_INET, "198.18.1.2", e.caddr);
	inet_pton(AF_INET, "198.18.0.10", e.vaddr);
	inet_pton(AF_INET, "198.18.2.11", e.baddr);
	e.cport = htons(40000);
	e.vport = htons(443);
	e.bport = htons(8443);
	e.nport = htons(12345);
	e.route = 7;
	e.conn_id = 0x1234;
	e.tls13 = 1;
	e.tls_version = 0x0303;
	strcpy(e.sni, "www.example.com");
	e.sni_len = 15;
	memcpy(e.alpn, "\x02h2\x08http/1.1", 12);
	e.alpn_len = 12;
	e.created_ns = 1000000000;
	e.routed_ns = 1001000000;
	e.bind_ns = 1001000000;
	e.spliced_ns = 1002000000;
	e.first_ns = 1004000000;
	e.end_ns = 3000000000;
	e.bytes_c2b = 600;
	e.bytes_b2c = 5000;
	e.pkts_c2b = 5;
	e.pkts_b2c = 7;
	return e;
}

static void test_json(void **state)
{
	struct alog *l = open_log(0, 0, 1);
	struct snilb_log_rec e = spliced();
	json_t *j;
	size_t n;
	char *s;

	(void)state;
	alog_record(&e, l);
	alog_close(l);
	s = lines(&n);
	assert_int_equal(n, 1);
	j = json_loads(s, 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "type")), "end");
	assert_string_equal(json_string_value(json_object_get(j, "conn_id")),
			    "0000000000001234");
	assert_string_equal(json_string_value(json_object_get(j, "client")),
			    "198.18.1.2:40000");
	assert_string_equal(json_string_value(json_object_get(j, "backend")),
			    "198.18.2.11:8443");
	assert_string_equal(json_string_value(json_object_get(j, "alpn")),
			    "h2,http/1.1");
	assert_string_equal(json_string_value(json_object_get(j, "tls")),
			    "1.3,1.2");
	assert_string_equal(json_string_value(json_object_get(j, "route")),
			    "shop/www");
	assert_string_equal(json_string_value(json_object_get(j, "end")),
			    "fin_client");
	assert_int_equal(json_integer_value(json_object_get(j, "snat_port")),
			 12345);
	assert_true(json_real_value(json_object_get(j, "setup_ms")) == 4.0);
	assert_true(json_real_value(json_object_get(j, "replay_ms")) == 2.0);
	assert_true(json_real_value(json_object_get(j, "duration_ms")) ==
		    2000.0);
	assert_null(json_object_get(j, "reason"));
	json_decref(j);
	unlink(path);
}

/* A spliced flow the agent adopted after a restart has no setup times
 * (they are in conns, which it may have made afresh): its route is still
 * printed, by its state. */
static void test_route_without_times(void **state)
{
	struct alog *l = open_log(0, 0, 1);
	struct snilb_log_rec e = spliced();
	json_t *j;
	size_t n;

	(void)state;
	e.state = SNILB_FS_SPLICED;
	e.routed_ns = e.bind_ns = e.spliced_ns = e.first_ns = 0;
	alog_record(&e, l);
	alog_close(l);
	j = json_loads(lines(&n), 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "route")),
			    "shop/www");
	assert_null(json_object_get(j, "setup_ms"));
	json_decref(j);
	unlink(path);
}

/* A name from the wire with a quote and a newline: one line still. */
static void test_hostile_sni_logfmt(void **state)
{
	struct alog *l = open_log(1, 0, 1);
	struct snilb_log_rec e = spliced();
	size_t n;
	char *s;

	(void)state;
	e.end = SNILB_END_REJECT;
	e.reason = CH_R_BAD_SNI;
	strcpy(e.sni, "a\"b\nc=d");
	e.sni_len = 7;
	alog_record(&e, l);
	alog_close(l);
	s = lines(&n);
	assert_int_equal(n, 1);
	assert_non_null(strstr(s, "sni=\"a\\x22b\\x0ac\\x3dd\""));
	assert_non_null(strstr(s, "reason=\"bad_sni\""));
	assert_non_null(strstr(s, "type=\"reject\""));
	unlink(path);
}

/* 3 a second per reason: 10 no_route give 3 lines and a count of 7;
 * another reason has its own budget. Ends sampled 1 in 4. */
static void test_limits(void **state)
{
	struct alog *l = open_log(0, 3, 4);
	struct snilb_log_rec e = spliced();
	size_t n, i, rej = 0, ends = 0, supp = 0, lost = 0;
	char *s;
	int k;

	(void)state;
	alog_tick(l, 5);		/* the start: what was lost before */
	e.end = SNILB_END_REJECT;
	e.reason = SNILB_REJ_NO_ROUTE;
	for (k = 0; k < 10; k++)
		alog_record(&e, l);
	e.reason = SNILB_REJ_TABLE_FULL;
	alog_record(&e, l);
	e = spliced();
	for (k = 0; k < 8; k++)
		alog_record(&e, l);
	alog_tick(l, 9);
	alog_close(l);
	s = lines(&n);
	for (i = 0; i < n; i++, s += strlen(s) + 1) {
		json_t *j = json_loads(s, 0, NULL);
		const char *t = json_string_value(json_object_get(j, "type"));

		assert_non_null(t);
		rej += !strcmp(t, "reject");
		ends += !strcmp(t, "end");
		if (!strcmp(t, "suppressed")) {
			supp++;
			assert_string_equal(json_string_value(
				json_object_get(j, "reason")), "no_route");
			assert_int_equal(json_integer_value(
				json_object_get(j, "count")), 7);
		}
		if (!strcmp(t, "lost")) {
			lost++;
			assert_int_equal(json_integer_value(
				json_object_get(j, "count")), 4);
		}
		json_decref(j);
	}
	assert_int_equal(rej, 4);
	assert_int_equal(ends, 2);
	assert_int_equal(supp, 1);
	assert_int_equal(lost, 1);
	unlink(path);
}

/* The SNIs most rejected, counted past the rate limit; the histograms of
 * the spliced ones. */
static void test_top_and_histograms(void **state)
{
	struct alog *l = open_log(0, 1, 1);
	struct snilb_log_rec e = spliced();
	char top[80], *buf = NULL;
	size_t len = 0;
	json_t *j, *a;
	FILE *m;
	int k;

	(void)state;
	alog_record(&e, l);
	e.end = SNILB_END_REJECT;
	e.reason = SNILB_REJ_NO_ROUTE;
	for (k = 0; k < 5; k++)
		alog_record(&e, l);
	strcpy(e.sni, "other.example.com");
	e.sni_len = 17;
	alog_record(&e, l);
	snprintf(top, sizeof(top), "%s.top", path);
	assert_int_equal(alog_write_rejects(l, top), 0);
	j = json_load_file(top, 0, NULL);
	a = json_object_get(j, "rejected_snis");
	assert_int_equal(json_array_size(a), 2);
	assert_string_equal(json_string_value(json_object_get(
		json_array_get(a, 0), "sni")), "www.example.com");
	assert_int_equal(json_integer_value(json_object_get(
		json_array_get(a, 0), "count")), 5);
	json_decref(j);
	m = open_memstream(&buf, &len);
	assert_int_equal(alog_metrics(l, m), 0);
	fclose(m);
	assert_non_null(strstr(buf, "snilb_connection_duration_seconds_count"
				    "{namespace=\"shop\",name=\"www\"} 1"));
	assert_non_null(strstr(buf, "snilb_connection_setup_seconds_bucket"
				    "{namespace=\"shop\",name=\"www\","
				    "le=\"0.005\"} 1"));
	assert_non_null(strstr(buf, "snilb_connection_setup_seconds_bucket"
				    "{namespace=\"shop\",name=\"www\","
				    "le=\"0.0025\"} 0"));
	free(buf);
	alog_close(l);
	unlink(top);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_route_without_times),
		cmocka_unit_test(test_hostile_sni_logfmt),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_top_and_histograms),
	};

	return cmocka_run_group_tests_name("accesslog", tests, NULL, NULL);
}

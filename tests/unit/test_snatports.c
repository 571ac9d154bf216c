// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * user/agent/snatports.c: --snat-ports parsing, the kernel's port lists, and the
 * start-up check and reservation against sysctl files in a temporary
 * directory (the real ones are tested by tests/tcp/t-snat-ports.sh).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "snatports.h"
#include "snilb_abi.h"

static const struct port_range dflt = { SNILB_SNAT_PORT_LO,
					SNILB_SNAT_PORT_HI };

static void expect_parse_error(const char *s, const char *why)
{
	struct port_range r = { 1, 2 };
	char err[128] = "";

	assert_int_equal(snat_ports_parse(s, &r, err, sizeof(err)), -EINVAL);
	if (!strstr(err, why))
		fail_msg("'%s': error '%s', want '%s' in it", s, err, why);
	assert_int_equal(r.lo, 1);		/* untouched */
}

static void test_parse(void **state)
{
	struct port_range r;
	char err[128];

	(void)state;
	assert_int_equal(snat_ports_parse("10000-29999", &r, err, 128), 0);
	assert_int_equal(r.lo, 10000);
	assert_int_equal(r.hi, 29999);
	assert_int_equal(snat_ports_parse("1024-65535", &r, err, 128), 0);
	assert_int_equal(r.lo, 1024);
	assert_int_equal(r.hi, 65535);
	assert_int_equal(snat_ports_parse("40000-40000", &r, err, 128), 0);
	expect_parse_error("", "LO-HI");
	expect_parse_error("10000", "LO-HI");
	expect_parse_error("10000-", "LO-HI");
	expect_parse_error("-10000", "LO-HI");
	expect_parse_error(" 10000-29999", "LO-HI");
	expect_parse_error("10000 - 29999", "LO-HI");
	expect_parse_error("10000-29999x", "LO-HI");
	expect_parse_error("+10000-29999", "LO-HI");
	expect_parse_error("10000:29999", "LO-HI");
	expect_parse_error("5-10", "within 1024-65535");
	expect_parse_error("1023-2000", "within 1024-65535");
	expect_parse_error("1024-65536", "within 1024-65535");
	expect_parse_error("99999999999999999999-2", "within 1024-65535");
	expect_parse_error("30000-20000", "LO 30000 is above HI 20000");
}

static void roundtrip(const char *in, const char *want)
{
	static struct port_set s;
	char buf[256];

	assert_int_equal(port_set_parse(&s, in), 0);
	assert_int_equal(port_set_format(&s, buf, sizeof(buf)), strlen(want));
	assert_string_equal(buf, want);
}

static void test_port_set(void **state)
{
	static struct port_set s;
	char small[8];

	(void)state;
	roundtrip("", "");
	roundtrip("\n", "");
	roundtrip("8080\n", "8080");
	roundtrip("8080,50000-50010\n", "8080,50000-50010");
	roundtrip("1-3,2-5", "1-5");
	roundtrip("5,6,7,9", "5-7,9");
	roundtrip("0,65535", "0,65535");
	roundtrip("65534-65535", "65534-65535");
	assert_int_equal(port_set_parse(&s, "a"), -EINVAL);
	assert_int_equal(port_set_parse(&s, "5-3"), -EINVAL);
	assert_int_equal(port_set_parse(&s, "5,,6"), -EINVAL);
	assert_int_equal(port_set_parse(&s, "5;6"), -EINVAL);
	assert_int_equal(port_set_parse(&s, "70000"), -EINVAL);
	/* Too small a buffer: truncated, the length it needed returned. */
	assert_int_equal(port_set_parse(&s, "10000-29999,40000"), 0);
	assert_int_equal(port_set_format(&s, small, sizeof(small)), 17);
	assert_int_equal(strlen(small), 7);
}

/* The defect: the old default range against Linux's default ephemeral
 * range; the new default against the same. */
static void test_exposed(void **state)
{
	static struct port_set none, res;
	struct port_range eph = { 32768, 60999 }, span;

	(void)state;
	assert_int_equal(snat_ports_exposed((struct port_range){ 20000, 59999 },
					    eph, &none, &span), 27232);
	assert_int_equal(span.lo, 32768);
	assert_int_equal(span.hi, 59999);
	assert_int_equal(snat_ports_exposed(dflt, eph, &none, &span), 0);
	assert_true(SNILB_SNAT_PORT_HI < 30000);	/* NodePorts */
	/* Reserved ports are not exposed; the rest of the range is. */
	assert_int_equal(port_set_parse(&res, "40000-40499"), 0);
	assert_int_equal(snat_ports_exposed((struct port_range){ 40000, 40999 },
					    eph, &res, &span), 500);
	assert_int_equal(span.lo, 40500);
	assert_int_equal(span.hi, 40999);
	/* A wide ephemeral range (1024-65535) exposes the default. */
	assert_int_equal(snat_ports_exposed(dflt, (struct port_range){
		1024, 65535 }, &none, &span), 20000);
}

/* --- snat_ports_prepare() on files ---------------------------------------- */

static char dir[64];

static void put(const char *name, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static const char *get(const char *name)
{
	static char buf[256];
	char path[128];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	fclose(f);
	return buf;
}

static int dir_setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/snilb-snatports.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int dir_teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

/* Merged with what is there, not written over it. */
static void test_prepare_reserves(void **state)
{
	struct snat_check c;

	(void)state;
	put("ip_local_port_range", "32768\t60999\n");
	put("ip_local_reserved_ports", "8080,50000-50010\n");
	assert_int_equal(snat_ports_prepare(dir, dflt, &c), 0);
	assert_int_equal(c.write_err, 0);
	assert_false(c.already);
	assert_int_equal(c.nexposed, 0);
	assert_int_equal(c.eph.lo, 32768);
	assert_int_equal(c.eph.hi, 60999);
	assert_string_equal(get("ip_local_reserved_ports"),
			    "8080,10000-29999,50000-50010\n");
	assert_string_equal(c.reserved, "8080,10000-29999,50000-50010");
}

/* Reserved already: nothing written (no newline added). */
static void test_prepare_already(void **state)
{
	struct snat_check c;

	(void)state;
	put("ip_local_port_range", "32768 60999\n");
	put("ip_local_reserved_ports", "9000-30000");
	assert_int_equal(snat_ports_prepare(dir, dflt, &c), 0);
	assert_true(c.already);
	assert_int_equal(c.write_err, 0);
	assert_string_equal(get("ip_local_reserved_ports"), "9000-30000");
	/* An overlapping range the operator reserved: accepted as well. */
	put("ip_local_reserved_ports", "40000-40999\n");
	assert_int_equal(snat_ports_prepare(dir, (struct port_range){
		40000, 40999 }, &c), 0);
	assert_true(c.already);
}

/* Ephemeral and not reserved: refused, nothing written. */
static void test_prepare_refuses(void **state)
{
	struct snat_check c;

	(void)state;
	put("ip_local_port_range", "32768\t60999\n");
	put("ip_local_reserved_ports", "40000-40099\n");
	assert_int_equal(snat_ports_prepare(dir, (struct port_range){
		40000, 40999 }, &c), -EADDRINUSE);
	assert_int_equal(c.nexposed, 900);
	assert_int_equal(c.exposed.lo, 40100);
	assert_int_equal(c.exposed.hi, 40999);
	assert_string_equal(c.reserved, "40000-40999");	/* the fix */
	assert_string_equal(get("ip_local_reserved_ports"), "40000-40099\n");
	/* The default range, on a node whose ephemeral range is wide. */
	put("ip_local_port_range", "1024\t65535\n");
	put("ip_local_reserved_ports", "\n");
	assert_int_equal(snat_ports_prepare(dir, dflt, &c), -EADDRINUSE);
	assert_int_equal(c.exposed.lo, SNILB_SNAT_PORT_LO);
	assert_int_equal(c.exposed.hi, SNILB_SNAT_PORT_HI);
	assert_string_equal(get("ip_local_reserved_ports"), "\n");
}

/* A list that cannot be written (/dev/full: reads empty, writes fail):
 * not fatal for a range the node never picks, still refused otherwise. */
static void test_prepare_unwritable(void **state)
{
	char path[128];
	struct snat_check c;

	(void)state;
	put("ip_local_port_range", "32768\t60999\n");
	snprintf(path, sizeof(path), "%s/ip_local_reserved_ports", dir);
	unlink(path);
	assert_int_equal(symlink("/dev/full", path), 0);
	assert_int_equal(snat_ports_prepare(dir, dflt, &c), 0);
	assert_int_equal(c.write_err, -ENOSPC);
	assert_int_equal(snat_ports_prepare(dir, (struct port_range){
		32768, 33000 }, &c), -EADDRINUSE);
	unlink(path);
	/* No sysctls at all: an error, not a guess. */
	snprintf(path, sizeof(path), "%s/ip_local_port_range", dir);
	unlink(path);
	assert_int_equal(snat_ports_prepare(dir, dflt, &c), -ENOENT);
}

/* The check writes nothing; the write can be undone, unless the list
 * changed since (then it is someone else's). */
static void test_check_restore(void **state)
{
	struct snat_check c;

	(void)state;
	put("ip_local_port_range", "32768\t60999\n");
	put("ip_local_reserved_ports", "8080\n");
	assert_int_equal(snat_ports_check(dir, dflt, &c), 0);
	assert_string_equal(get("ip_local_reserved_ports"), "8080\n");
	assert_string_equal(c.before, "8080");
	assert_false(c.written);
	assert_int_equal(snat_ports_restore(dir, &c), 0);	/* nothing */
	assert_string_equal(get("ip_local_reserved_ports"), "8080\n");
	snat_ports_write(dir, &c);
	assert_true(c.written);
	assert_string_equal(get("ip_local_reserved_ports"),
			    "8080,10000-29999\n");
	assert_int_equal(snat_ports_restore(dir, &c), 0);
	assert_string_equal(get("ip_local_reserved_ports"), "8080\n");
	assert_false(c.written);
	/* An empty list comes back empty. */
	put("ip_local_reserved_ports", "\n");
	assert_int_equal(snat_ports_prepare(dir, dflt, &c), 0);
	assert_int_equal(snat_ports_restore(dir, &c), 0);
	assert_string_equal(get("ip_local_reserved_ports"), "\n");
	/* Someone else's edit after ours is left alone. */
	assert_int_equal(snat_ports_prepare(dir, dflt, &c), 0);
	put("ip_local_reserved_ports", "10000-29999,9000\n");
	assert_int_equal(snat_ports_restore(dir, &c), -ESTALE);
	assert_string_equal(get("ip_local_reserved_ports"),
			    "10000-29999,9000\n");
	/* Reserved already: nothing written, nothing to undo. */
	put("ip_local_reserved_ports", "10000-29999\n");
	assert_int_equal(snat_ports_prepare(dir, dflt, &c), 0);
	assert_true(c.already);
	assert_false(c.written);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_port_set),
		cmocka_unit_test(test_exposed),
		cmocka_unit_test(test_prepare_reserves),
		cmocka_unit_test(test_prepare_already),
		cmocka_unit_test(test_prepare_refuses),
		cmocka_unit_test(test_prepare_unwritable),
		cmocka_unit_test(test_check_restore),
	};

	return cmocka_run_group_tests_name("snatports", tests, dir_setup,
					   dir_teardown);
}

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Our slot on TC ingress (user/dataplane/tc.c): what dp_tc_query() sees
 * before, while and after the program is attached, that dp_detach()
 * empties it, and that an attach noted by dp_attach_saving() is undone
 * to what was there. Run in a namespace of its own (tests/lib/in-netns.sh): it
 * attaches to that namespace's dummy1.
 */
#include <errno.h>
#include <linux/capability.h>
#include <net/if.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include <bpf/libbpf.h>

#include "dataplane.h"

static void test_attach_query_detach(void **state)
{
	struct dataplane *dp = *state;
	int ifindex = (int)if_nametoindex("dummy1");
	struct dp_tc_state st;

	assert_true(ifindex > 0);
	assert_int_equal(dp_tc_query(ifindex, &st), -ENOENT);
	assert_int_equal(st.prog_id, 0);
	assert_int_equal(dp_attach(dp, ifindex), 0);
	assert_int_equal(dp_tc_query(ifindex, &st), 0);
	assert_true(st.prog_id > 0);
	assert_true(st.ours);
	assert_string_equal(st.name, dp_prog_name(dp));
	/* Attaching again replaces the program in place. */
	assert_int_equal(dp_attach(dp, ifindex), 0);
	assert_int_equal(dp_detach(ifindex), 0);
	assert_int_equal(dp_tc_query(ifindex, &st), -ENOENT);
	assert_int_equal(dp_tc_query(0, &st) < 0, 1);
}

/* No clsact qdisc on @ifindex: creating one makes a new one. */
static void assert_no_clsact(int ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);

	assert_int_equal(bpf_tc_hook_create(&hook), 0);
	assert_int_equal(bpf_tc_hook_destroy(&hook), 0);
}

static void remove_clsact(int ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);

	bpf_tc_hook_destroy(&hook);	/* dp_detach() leaves it */
}

/* A fresh attach taken back: no program, no qdisc. */
static void test_attach_undo_fresh(void **state)
{
	struct dataplane *dp = *state;
	int ifindex = (int)if_nametoindex("dummy1");
	struct dp_tc_prev prev;
	struct dp_tc_state st;

	remove_clsact(ifindex);
	assert_int_equal(dp_attach_saving(dp, ifindex, &prev), 0);
	assert_true(prev.attached);
	assert_true(prev.made_qdisc);
	assert_int_equal(prev.prog_fd, -1);
	assert_int_equal(dp_tc_query(ifindex, &st), 0);
	assert_int_equal(dp_attach_undo(&prev), 0);
	assert_int_equal(dp_tc_query(ifindex, &st), -ENOENT);
	assert_no_clsact(ifindex);
	/* Undone twice: nothing more to do. */
	assert_int_equal(dp_attach_undo(&prev), 0);
}

/* Over an earlier load's program: that program is put back, in the
 * qdisc it had. */
static void test_attach_undo_earlier(void **state)
{
	struct dataplane *dp = *state, *old;
	int ifindex = (int)if_nametoindex("dummy1");
	struct dp_tc_prev prev;
	struct dp_tc_state st;
	uint32_t old_id;
	char err[512];

	old = dp_open(NULL, err, sizeof(err));
	assert_non_null(old);
	assert_int_equal(dp_attach(old, ifindex), 0);
	assert_int_equal(dp_tc_query(ifindex, &st), 0);
	old_id = st.prog_id;
	dp_close(old);		/* the attachment holds the program */
	assert_int_equal(dp_attach_saving(dp, ifindex, &prev), 0);
	assert_false(prev.made_qdisc);
	assert_true(prev.prog_fd >= 0);
	assert_int_equal(dp_tc_query(ifindex, &st), 0);
	assert_int_not_equal(st.prog_id, old_id);
	assert_int_equal(dp_attach_undo(&prev), 0);
	assert_int_equal(dp_tc_query(ifindex, &st), 0);
	assert_int_equal(st.prog_id, old_id);
	/* Kept instead: ours stays, the earlier one is let go. */
	assert_int_equal(dp_attach_saving(dp, ifindex, &prev), 0);
	dp_attach_keep(&prev);
	assert_int_equal(prev.prog_fd, -1);
	assert_int_equal(dp_tc_query(ifindex, &st), 0);
	assert_int_not_equal(st.prog_id, old_id);
	assert_int_equal(dp_detach(ifindex), 0);
}

/* CAP_SYS_ADMIN out of (@on false) or back into the effective set. */
static void sys_admin(bool on)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];

	assert_int_equal(syscall(SYS_capget, &h, d), 0);
	if (on)
		d[0].effective |= 1u << CAP_SYS_ADMIN;
	else
		d[0].effective &= ~(1u << CAP_SYS_ADMIN);
	assert_int_equal(syscall(SYS_capset, &h, d), 0);
}

/* A restart over our own program without CAP_SYS_ADMIN (the DaemonSet's
 * capabilities: a program cannot be opened by id): the program in the
 * slot is the one we hold, noted and put back without opening it. */
static void test_attach_again_without_sys_admin(void **state)
{
	struct dataplane *dp = *state;
	int ifindex = (int)if_nametoindex("dummy1");
	struct dp_tc_prev prev;
	struct dp_tc_state st;
	uint32_t id;
	int e;

	assert_int_equal(dp_attach(dp, ifindex), 0);
	assert_int_equal(dp_tc_query(ifindex, &st), 0);
	id = st.prog_id;
	sys_admin(false);
	e = dp_attach_saving(dp, ifindex, &prev);
	if (!e)
		e = dp_attach_undo(&prev);
	sys_admin(true);
	assert_int_equal(e, 0);
	assert_int_equal(dp_tc_query(ifindex, &st), 0);
	assert_int_equal(st.prog_id, id);
	assert_int_equal(dp_detach(ifindex), 0);
}

/* The restart of a container: an earlier agent pinned and attached its
 * program and is gone; a new one, without CAP_SYS_ADMIN, loads its own
 * and attaches over it, noting the earlier one (through the pin it holds)
 * and putting it back when its start fails. */
static void test_restart_without_sys_admin(void **state)
{
	char dir[] = "/tmp/snilb-tc.XXXXXX", pins[64], err[512];
	int ifindex = (int)if_nametoindex("dummy1");
	struct dataplane *old, *dp;
	struct dp_opts o = { 0 };
	struct dp_tc_prev prev;
	struct dp_tc_state st;
	uint32_t old_id;
	int e;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(mount("bpf", dir, "bpf", 0, NULL), 0);
	snprintf(pins, sizeof(pins), "%s/snilb", dir);
	assert_int_equal(mkdir(pins, 0700), 0);
	o.pin_dir = pins;
	old = dp_open(&o, err, sizeof(err));
	assert_non_null(old);
	assert_int_equal(dp_attach(old, ifindex), 0);
	assert_int_equal(dp_pin_progs(old, pins), 0);
	assert_int_equal(dp_tc_query(ifindex, &st), 0);
	old_id = st.prog_id;
	dp_close(old);
	dp = dp_open(&o, err, sizeof(err));
	assert_non_null(dp);
	sys_admin(false);
	e = dp_attach_saving(dp, ifindex, &prev);
	if (!e && dp_tc_query(ifindex, &st) == 0 && st.prog_id == old_id)
		e = -EEXIST;	/* not attached over it */
	if (!e)
		e = dp_attach_undo(&prev);
	sys_admin(true);
	assert_int_equal(e, 0);
	assert_int_equal(dp_tc_query(ifindex, &st), 0);
	assert_int_equal(st.prog_id, old_id);
	assert_int_equal(dp_detach(ifindex), 0);
	dp_close(dp);
	assert_int_equal(umount2(dir, MNT_DETACH), 0);
	assert_int_equal(rmdir(dir), 0);
}

static int setup(void **state)
{
	char err[512];

	if (geteuid() != 0) {
		print_message("skipped: loading BPF needs root\n");
		return -1;
	}
	*state = dp_open(NULL, err, sizeof(err));
	if (!*state)
		print_message("%s\n", err);
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	dp_close(*state);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_attach_query_detach),
		cmocka_unit_test(test_attach_undo_fresh),
		cmocka_unit_test(test_attach_undo_earlier),
		cmocka_unit_test(test_attach_again_without_sys_admin),
		cmocka_unit_test(test_restart_without_sys_admin),
	};

	return cmocka_run_group_tests_name("tc", tests, setup, teardown);
}

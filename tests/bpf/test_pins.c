// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Pinned maps a build cannot adopt (user/dataplane/loader.c,
 * check_pins()): a map of the same type, sizes and flags whose fields lie
 * elsewhere (another version moved them: issue 18 packs the flow) is
 * refused, naming the map and the field, before anything is loaded; the
 * same map with this build's layout is adopted. syn_state and conns, whose
 * sizes follow the CPUs and the access log, are made afresh when their
 * size is another, not refused. With the DaemonSet's capabilities alone
 * (no CAP_SYS_ADMIN: the kernel's BTF of a map cannot be read), a restart
 * adopts from the layouts recorded in `layouts`, and refuses a map whose
 * recorded layout is another. Run in a namespace of its own
 * (tests/lib/in-netns.sh); it mounts a bpffs of its own.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/capability.h>

#include <dirent.h>

#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>

#include "dataplane.h"

/* Pin at @path a `sets` map whose value is struct snilb_set's four u32
 * fields named in the order @names gives. */
static void pin_sets(const char *path, const char *const names[4])
{
	struct btf *btf = btf__new_empty();
	int u32, st, i, fd;

	assert_non_null(btf);
	u32 = btf__add_int(btf, "unsigned int", 4, 0);
	st = btf__add_struct(btf, "snilb_set", 16);
	assert_true(u32 > 0 && st > 0);
	for (i = 0; i < 4; i++)
		assert_int_equal(btf__add_field(btf, names[i], u32, i * 32, 0),
				 0);
	assert_int_equal(btf__load_into_kernel(btf), 0);
	{
		LIBBPF_OPTS(bpf_map_create_opts, o, .btf_fd = btf__fd(btf),
			    .btf_key_type_id = (__u32)u32,
			    .btf_value_type_id = (__u32)st);

		fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "sets", 4,
				    sizeof(struct snilb_set), SNILB_MAX_SETS,
				    &o);
	}
	assert_true(fd >= 0);
	assert_int_equal(bpf_obj_pin(fd, path), 0);
	close(fd);
	btf__free(btf);
}

static void test_moved_field_refused(void **state)
{
	static const char *const moved[4] = { "nbackends", "size", "flags",
					       "pad" };
	static const char *const same[4] = { "size", "nbackends", "flags",
					      "pad" };
	char dir[] = "/tmp/snilb-pins.XXXXXX", pins[64], path[96], err[512];
	struct dp_opts o = { 0 };
	struct dataplane *dp;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(mount("bpf", dir, "bpf", 0, NULL), 0);
	snprintf(pins, sizeof(pins), "%s/snilb", dir);
	snprintf(path, sizeof(path), "%s/sets", pins);
	assert_int_equal(mkdir(pins, 0700), 0);
	o.pin_dir = pins;

	pin_sets(path, moved);
	dp = dp_open(&o, err, sizeof(err));
	assert_null(dp);
	if (!strstr(err, "the map sets pinned at") ||
	    !strstr(err, "value layout: field 0 is nbackends at bit 0, "
			 "this build's size at 0"))
		fail_msg("not refused by its layout: %s", err);

	assert_int_equal(unlink(path), 0);
	pin_sets(path, same);
	dp = dp_open(&o, err, sizeof(err));
	if (!dp)
		fail_msg("this build's layout refused: %s", err);
	assert_true(dp_adopted(dp));
	assert_int_equal(dp_unpin_new(dp), 0);
	dp_close(dp);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(pins), 0);
	assert_int_equal(umount2(dir, MNT_DETACH), 0);
	assert_int_equal(rmdir(dir), 0);
}

static uint32_t max_entries(struct dataplane *dp, enum snilb_map m)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	assert_int_equal(bpf_obj_get_info_by_fd(dp_map_fd(dp, m), &info,
						&len), 0);
	return info.max_entries;
}

/* Every pin under @pins, then @pins and the bpffs at @dir. */
static void unpin_all(const char *dir, const char *pins)
{
	char path[512];
	struct dirent *e;
	DIR *d = opendir(pins);

	assert_non_null(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.') {
			snprintf(path, sizeof(path), "%s/%s", pins, e->d_name);
			assert_int_equal(unlink(path), 0);
		}
	closedir(d);
	assert_int_equal(rmdir(pins), 0);
	assert_int_equal(umount2(dir, MNT_DETACH), 0);
	assert_int_equal(rmdir(dir), 0);
}

/* A bpffs of its own at @dir (a mkdtemp template), @pins under it, and a
 * first load there with @o's settings: its maps pinned, closed. */
static void first_load(char *dir, char *pins, size_t n, struct dp_opts *o)
{
	char err[512];
	struct dataplane *dp;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(mount("bpf", dir, "bpf", 0, NULL), 0);
	snprintf(pins, n, "%s/snilb", dir);
	assert_int_equal(mkdir(pins, 0700), 0);
	o->pin_dir = pins;
	dp = dp_open(o, err, sizeof(err));
	if (!dp)
		fail_msg("the first load failed: %s", err);
	dp_close(dp);
}

/* A load that never logs keeps one conns entry; a restart with the log
 * on (or syn_state of another size: other CPUs) makes the map afresh at
 * its size and adopts the rest. */
static void test_sized_maps_replaced(void **state)
{
	char dir[] = "/tmp/snilb-pins.XXXXXX", pins[64], path[96], err[512];
	struct dp_opts o = { .log_ring = DP_LOG_RING_OFF };
	struct dataplane *dp;
	uint32_t syn;
	int fd;

	(void)state;
	first_load(dir, pins, sizeof(pins), &o);
	dp = dp_open(&o, err, sizeof(err));	/* adopting its own */
	if (!dp)
		fail_msg("the same settings refused: %s", err);
	assert_int_equal(max_entries(dp, SNILB_MAP_CONNS), 1);
	syn = max_entries(dp, SNILB_MAP_SYN_STATE);
	assert_true(syn >= SNILB_SYN_BUCKETS_MIN && syn <= SNILB_SYN_BUCKETS);
	assert_int_equal(syn & (syn - 1), 0);
	dp_close(dp);

	/* another machine's syn_state: 4 times as many buckets */
	snprintf(path, sizeof(path), "%s/syn_state", pins);
	assert_int_equal(unlink(path), 0);
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "syn_state", 4,
			    sizeof(struct snilb_syn_bucket), syn * 4, NULL);
	assert_true(fd >= 0);
	assert_int_equal(bpf_obj_pin(fd, path), 0);
	close(fd);

	o.log_ring = 0;		/* the access log on */
	dp = dp_open(&o, err, sizeof(err));
	if (!dp)
		fail_msg("refused, not made afresh: %s", err);
	assert_true(dp_adopted(dp));
	assert_int_equal(max_entries(dp, SNILB_MAP_CONNS), SNILB_MAX_FLOWS);
	assert_int_equal(max_entries(dp, SNILB_MAP_SYN_STATE), syn);
	dp_close(dp);
	unpin_all(dir, pins);
}

/* The DaemonSet's capabilities and nothing else (deploy/30-daemonset.yaml):
 * BPF, PERFMON, NET_ADMIN, NET_RAW. */
static int daemonset_caps(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2] = { { 0 } };
	int caps[] = { CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN, CAP_NET_RAW };
	size_t i;

	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		d[caps[i] / 32].effective |= 1u << (caps[i] % 32);
		d[caps[i] / 32].permitted |= 1u << (caps[i] % 32);
	}
	return (int)syscall(SYS_capset, &h, d);
}

/* dp_open() over @pins in a child with the DaemonSet's capabilities: 0
 * adopted; 1 refused with @want in the error; 2 otherwise (said). */
static int open_as_daemonset(const char *pins, const char *want)
{
	struct dp_opts o = { .pin_dir = pins, .log_ring = DP_LOG_RING_OFF };
	char err[512];
	pid_t pid = fork();
	int st;

	assert_true(pid >= 0);
	if (!pid) {
		struct dataplane *dp;

		if (daemonset_caps())
			_exit(3);
		dp = dp_open(&o, err, sizeof(err));
		if (dp && dp_adopted(dp))
			_exit(0);
		if (!dp && want && strstr(err, want))
			_exit(1);
		fprintf(stderr, "child: %s\n", dp ? "not adopted" : err);
		_exit(2);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 4;
}

static void test_adopted_without_sys_admin(void **state)
{
	char dir[] = "/tmp/snilb-pins.XXXXXX", pins[64], path[96];
	struct dp_opts o = { .log_ring = DP_LOG_RING_OFF };
	struct snilb_layout_key k = { .name = "sets" };
	__u64 other = 12345;
	int fd;

	(void)state;
	first_load(dir, pins, sizeof(pins), &o);
	assert_int_equal(open_as_daemonset(pins, NULL), 0);

	/* another version's sets, by its recorded layout */
	snprintf(path, sizeof(path), "%s/layouts", pins);
	fd = bpf_obj_get(path);
	assert_true(fd >= 0);
	assert_int_equal(bpf_map_update_elem(fd, &k, &other, BPF_ANY), 0);
	close(fd);
	assert_int_equal(open_as_daemonset(pins, "the map sets pinned at"), 1);
	assert_int_equal(open_as_daemonset(pins, "its layout was recorded as "
					   "0000000000003039"), 1);
	unpin_all(dir, pins);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_moved_field_refused),
		cmocka_unit_test(test_sized_maps_replaced),
		cmocka_unit_test(test_adopted_without_sys_admin),
	};

	if (geteuid() != 0) {
		printf("skipped: pinning maps needs root\n");
		return 0;
	}
	return cmocka_run_group_tests_name("pins", tests, NULL, NULL);
}

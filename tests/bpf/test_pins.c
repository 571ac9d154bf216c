// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Pinned maps a build cannot adopt (user/dataplane/loader.c,
 * check_pins()): a map of the same type, sizes and flags whose fields lie
 * elsewhere (another version moved them: issue 18 packs the flow) is
 * refused, naming the map and the field, before anything is loaded; the
 * same map with this build's layout is adopted. syn_state and conns, whose
 * sizes follow the CPUs and the access log, are made afresh when their
 * size is another, not refused. Run in a namespace of its own
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
#include <unistd.h>

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
	assert_non_null(mkdtemp(dir));
	assert_int_equal(mount("bpf", dir, "bpf", 0, NULL), 0);
	snprintf(pins, sizeof(pins), "%s/snilb", dir);
	assert_int_equal(mkdir(pins, 0700), 0);
	o.pin_dir = pins;

	dp = dp_open(&o, err, sizeof(err));
	if (!dp)
		fail_msg("the first load failed: %s", err);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_moved_field_refused),
		cmocka_unit_test(test_sized_maps_replaced),
	};

	if (geteuid() != 0) {
		printf("skipped: pinning maps needs root\n");
		return 0;
	}
	return cmocka_run_group_tests_name("pins", tests, NULL, NULL);
}

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The program on TC ingress: attach, detach, and what holds our slot
 * (clsact ingress, handle DP_TC_HANDLE, priority DP_TC_PRIORITY): the
 * agent attaches there, `snilb status` and `snilb detach` look there.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "dataplane.h"

/* Our slot on @ifindex holds @prog_fd; *@made: the clsact qdisc is new. */
static int attach_fd(int ifindex, int prog_fd, bool *made)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = DP_TC_HANDLE,
		    .priority = DP_TC_PRIORITY, .prog_fd = prog_fd,
		    .flags = BPF_TC_F_REPLACE);
	int err = bpf_tc_hook_create(&hook);

	if (err && err != -EEXIST)
		return err;
	*made = !err;
	return bpf_tc_attach(&hook, &opts);
}

int dp_attach(struct dataplane *dp, int ifindex)
{
	bool made;

	return attach_fd(ifindex, dp_prog_fd(dp), &made);
}

/* The id of the program behind @fd (0: unknown). */
static __u32 prog_id_of(int fd)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

/* A descriptor of the program @id that sits in our slot, to put it back.
 * One we hold already (ours, or the one an earlier agent pinned: a
 * restart) is duplicated; another is opened by id, which needs
 * CAP_SYS_ADMIN: a container with the DaemonSet's capabilities cannot
 * (tests/image/run.sh, tests/bpf/test_tc.c). */
static int prev_prog_fd(struct dataplane *dp, __u32 id)
{
	int fds[2] = { dp_prog_fd(dp), dp_prog_pinned_fd(dp) };
	int i;

	for (i = 0; i < 2; i++)
		if (id && fds[i] >= 0 && id == prog_id_of(fds[i]))
			return fcntl(fds[i], F_DUPFD_CLOEXEC, 0);
	return bpf_prog_get_fd_by_id(id);
}

int dp_attach_saving(struct dataplane *dp, int ifindex, struct dp_tc_prev *prev)
{
	struct dp_tc_state st;

	memset(prev, 0, sizeof(*prev));
	prev->ifindex = ifindex;
	prev->prog_fd = -1;
	if (!dp_tc_query(ifindex, &st)) {
		prev->prog_fd = prev_prog_fd(dp, st.prog_id);
		if (prev->prog_fd < 0 && errno != ENOENT)
			return -errno;	/* could not be put back */
	}
	prev->err = attach_fd(ifindex, dp_prog_fd(dp), &prev->made_qdisc);
	prev->attached = !prev->err;
	return prev->err;
}

int dp_attach_undo(struct dp_tc_prev *prev)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = prev->ifindex,
		    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
	bool made;
	int err = 0;

	if (prev->attached)
		err = prev->prog_fd >= 0 ?
		      attach_fd(prev->ifindex, prev->prog_fd, &made) :
		      dp_detach(prev->ifindex);
	if (!err && prev->made_qdisc)
		err = bpf_tc_hook_destroy(&hook);
	if (err)
		return err;
	prev->attached = prev->made_qdisc = false;
	if (prev->prog_fd >= 0)
		close(prev->prog_fd);
	prev->prog_fd = -1;
	return 0;
}

void dp_attach_keep(struct dp_tc_prev *prev)
{
	if (prev->prog_fd >= 0)
		close(prev->prog_fd);
	memset(prev, 0, sizeof(*prev));
	prev->prog_fd = -1;
}

int dp_detach(int ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = DP_TC_HANDLE,
		    .priority = DP_TC_PRIORITY);

	return bpf_tc_detach(&hook, &opts);
}

int dp_tc_query(int ifindex, struct dp_tc_state *st)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = DP_TC_HANDLE,
		    .priority = DP_TC_PRIORITY);
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	libbpf_print_fn_t print;
	int e, fd;

	/* Nothing attached is an answer here, not a libbpf warning. */
	print = libbpf_set_print(NULL);
	e = bpf_tc_query(&hook, &opts);
	libbpf_set_print(print);
	memset(st, 0, sizeof(*st));
	if (e)
		return e == -EINVAL ? -ENOENT : e;	/* no clsact qdisc */
	st->prog_id = opts.prog_id;
	memset(&info, 0, sizeof(info));
	/* A program we cannot look at (gone meanwhile, no right to) is
	 * taken for ours: it sits in our slot. */
	st->ours = true;
	fd = bpf_prog_get_fd_by_id(opts.prog_id);
	if (fd < 0)
		return 0;
	if (!bpf_obj_get_info_by_fd(fd, &info, &len)) {
		memcpy(st->name, info.name, sizeof(st->name) - 1);
		st->ours = !strncmp(info.name, DP_PROG_PREFIX,
				    strlen(DP_PROG_PREFIX));
	}
	close(fd);
	return 0;
}

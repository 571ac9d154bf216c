// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The XDP program (bpf/xdp.h) on an interface, in the driver (native)
 * mode only: generic XDP runs after the skb is built, where the TC
 * program already is, and would only add a pass. --xdp auto tries native
 * and falls back to none (TC answers every SYN), native requires it, off
 * removes ours. An attach replaces our program in place (a restarted
 * agent); another program's XDP slot is never taken.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include "dataplane.h"

const char *dp_xdp_mode_name(enum dp_xdp_mode m)
{
	switch (m) {
	case DP_XDP_AUTO:
		return "auto";
	case DP_XDP_NATIVE:
		return "native";
	default:
		return "off";
	}
}

int dp_xdp_mode_parse(const char *s, enum dp_xdp_mode *m)
{
	if (!strcmp(s, "auto"))
		*m = DP_XDP_AUTO;
	else if (!strcmp(s, "native"))
		*m = DP_XDP_NATIVE;
	else if (!strcmp(s, "off"))
		*m = DP_XDP_OFF;
	else
		return -EINVAL;
	return 0;
}

int dp_xdp_query(int ifindex, struct dp_xdp_state *st)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	int fd, e;

	memset(st, 0, sizeof(*st));
	e = bpf_xdp_query(ifindex, 0, &q);
	if (e)
		return e;
	st->prog_id = q.attach_mode == XDP_ATTACHED_DRV ? q.drv_prog_id :
		      q.attach_mode == XDP_ATTACHED_SKB ? q.skb_prog_id :
		      q.attach_mode == XDP_ATTACHED_HW ? q.hw_prog_id :
		      q.prog_id;
	st->native = q.attach_mode == XDP_ATTACHED_DRV;
	if (!st->prog_id)
		return -ENOENT;
	st->ours = true;	/* unreadable: taken for ours, as tc.c */
	fd = bpf_prog_get_fd_by_id(st->prog_id);
	if (fd < 0)
		return 0;
	memset(&info, 0, sizeof(info));
	if (!bpf_obj_get_info_by_fd(fd, &info, &len)) {
		memcpy(st->name, info.name, sizeof(st->name) - 1);
		st->ours = !strcmp(info.name, DP_XDP_PROG);
	}
	close(fd);
	return 0;
}

int dp_xdp_detach(int ifindex)
{
	struct dp_xdp_state st;
	int e = dp_xdp_query(ifindex, &st);

	if (e == -ENOENT)
		return 0;
	if (e)
		return e;
	if (!st.ours)
		return 0;		/* not ours to remove */
	return bpf_xdp_detach(ifindex, st.native ? XDP_FLAGS_DRV_MODE :
			      XDP_FLAGS_SKB_MODE, NULL);
}

int dp_xdp_attach(struct dataplane *dp, int ifindex, enum dp_xdp_mode mode,
		  bool *native)
{
	struct dp_xdp_state st;
	int e;

	*native = false;
	if (mode == DP_XDP_OFF)
		return dp_xdp_detach(ifindex);
	e = dp_xdp_query(ifindex, &st);
	if (!e && !st.ours)
		return mode == DP_XDP_AUTO ? 0 : -EBUSY;
	/* Not UPDATE_IF_NOEXIST: our earlier program is replaced. */
	e = bpf_xdp_attach(ifindex, dp_xdp_prog_fd(dp), XDP_FLAGS_DRV_MODE,
			   NULL);
	if (!e) {
		*native = true;
		return 0;
	}
	if (mode == DP_XDP_NATIVE)
		return e;
	/* auto: no native XDP here; the TC program answers SYNs. A program
	 * of ours left from an earlier load goes too. */
	dp_xdp_detach(ifindex);
	return 0;
}

int dp_xdp_saved(int ifindex)
{
	struct dp_xdp_state st;

	if (dp_xdp_query(ifindex, &st) || !st.ours || !st.native)
		return -1;
	return bpf_prog_get_fd_by_id(st.prog_id);
}

int dp_xdp_restore(int ifindex, int saved)
{
	int e;

	if (saved < 0)
		return dp_xdp_detach(ifindex);
	e = bpf_xdp_attach(ifindex, saved, XDP_FLAGS_DRV_MODE, NULL);
	close(saved);
	return e;
}

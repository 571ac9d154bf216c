/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Pinned maps' layouts against this build's (layout.c; the loader's). */
#ifndef SNILB_USER_DP_LAYOUT_H
#define SNILB_USER_DP_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

/* A hash of @map's key and value layouts in this build's @btf (names,
 * offsets and sizes of their fields, nested structs too); 0: no types. */
uint64_t layout_fp(const struct btf *btf, const struct bpf_map *map);

/*
 * Does pinned map @info lay its key and value out as this build's @map?
 * From the layout @layouts_fd (the pinned `layouts` map, -1: none)
 * recorded for it when it was made or adopted, else from the kernel's
 * BTF of it (which needs CAP_SYS_ADMIN). Empty @why: alike.
 */
void layout_check(int layouts_fd, const struct bpf_map_info *info,
		  const struct bpf_map *map, const struct btf *ours,
		  char *why, size_t len);

/* Record @map's layout in @layouts_fd under its name; 0 or -errno. */
int layout_record(int layouts_fd, const struct bpf_map *map,
		  const struct btf *ours);

#endif /* SNILB_USER_DP_LAYOUT_H */

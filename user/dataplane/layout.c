// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Whether a pinned map's fields lie where this build's programs read them.
 * Sizes alone miss a field moved or retyped in a struct of the same size,
 * whose adopted values the programs would then misread. The loader that
 * makes or adopts a map records a hash of its layout in the pinned
 * `layouts` map; a restart compares its own hash to it. The kernel's BTF
 * of a pinned map tells the field that differs, but reading it
 * (BPF_BTF_GET_FD_BY_ID) needs CAP_SYS_ADMIN, which the DaemonSet does
 * not have: it is asked only to name the difference, or for pins made
 * before `layouts` was.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "layout.h"
#include "snilb_abi.h"

#define FNV_OFFSET	0xcbf29ce484222325ull
#define FNV_PRIME	0x100000001b3ull

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;

	while (n--)
		h = (h ^ *c++) * FNV_PRIME;
	return h;
}

static uint64_t fnv_u32(uint64_t h, uint32_t v)
{
	return fnv(h, &v, sizeof(v));
}

/* Type @t of @btf into @h: its size, and each field's name, bit offset
 * and type as deep as @depth (as btf_differs() compares them). */
static uint64_t type_hash(const struct btf *btf, __u32 t, int depth,
			  uint64_t h)
{
	const struct btf_type *x;
	int i;

	t = (__u32)btf__resolve_type(btf, t);
	x = btf__type_by_id(btf, t);
	h = fnv_u32(h, (uint32_t)btf__resolve_size(btf, t));
	if (!x || !btf_is_composite(x) || depth <= 0)
		return h;
	h = fnv_u32(h, btf_vlen(x));
	for (i = 0; i < btf_vlen(x); i++) {
		const struct btf_member *m = btf_members(x) + i;
		const char *n = btf__name_by_offset(btf, m->name_off);

		h = fnv(h, n ? n : "", n ? strlen(n) + 1 : 1);
		h = fnv_u32(h, btf_member_bit_offset(x, i));
		h = type_hash(btf, m->type, depth - 1, h);
	}
	return h;
}

uint64_t layout_fp(const struct btf *btf, const struct bpf_map *map)
{
	uint64_t h;

	if (!btf || !bpf_map__btf_value_type_id(map))
		return 0;
	h = type_hash(btf, bpf_map__btf_key_type_id(map), 3, FNV_OFFSET);
	h = type_hash(btf, bpf_map__btf_value_type_id(map), 3, h);
	return h ? h : 1;
}

/*
 * The first field where type @ta of @a (the pinned map's BTF) and @tb of
 * @b (this build's) differ in name, offset or size, into @why; 0 when they
 * are laid out alike. Nested structs are compared as deep as @depth.
 */
static int btf_differs(const struct btf *a, __u32 ta, const struct btf *b,
		       __u32 tb, int depth, char *why, size_t len)
{
	const struct btf_type *x, *y;
	int i, r;

	ta = (__u32)btf__resolve_type(a, ta);
	tb = (__u32)btf__resolve_type(b, tb);
	x = btf__type_by_id(a, ta);
	y = btf__type_by_id(b, tb);
	if (!x || !y || btf__resolve_size(a, ta) != btf__resolve_size(b, tb))
		return snprintf(why, len, "a field's size differs"), 1;
	if (!btf_is_composite(x) || !btf_is_composite(y) || depth <= 0)
		return 0;
	if (btf_vlen(x) != btf_vlen(y))
		return snprintf(why, len, "%u fields, this build's %u",
				btf_vlen(x), btf_vlen(y)), 1;
	for (i = 0; i < btf_vlen(x); i++) {
		const struct btf_member *m = btf_members(x) + i;
		const struct btf_member *n = btf_members(y) + i;
		const char *mn = btf__name_by_offset(a, m->name_off);
		const char *nn = btf__name_by_offset(b, n->name_off);

		if (strcmp(mn ? mn : "", nn ? nn : "") ||
		    btf_member_bit_offset(x, i) != btf_member_bit_offset(y, i))
			return snprintf(why, len, "field %d is %s at bit %u, "
					"this build's %s at %u", i, mn,
					btf_member_bit_offset(x, i), nn,
					btf_member_bit_offset(y, i)), 1;
		r = btf_differs(a, m->type, b, n->type, depth - 1, why, len);
		if (r)
			return r;
	}
	return 0;
}

/* From the kernel's BTF of the pinned map: the field that differs. -1:
 * its BTF cannot be read (errno). */
static int btf_mismatch(const struct bpf_map_info *info,
			const struct bpf_map *map, const struct btf *ours,
			char *why, size_t len)
{
	struct btf *theirs = btf__load_from_kernel_by_id(info->btf_id);
	char w[96];

	if (!theirs)
		return -1;
	if (btf_differs(theirs, info->btf_key_type_id, ours,
			bpf_map__btf_key_type_id(map), 3, w, sizeof(w)))
		snprintf(why, len, "key layout: %s", w);
	else if (btf_differs(theirs, info->btf_value_type_id, ours,
			     bpf_map__btf_value_type_id(map), 3, w, sizeof(w)))
		snprintf(why, len, "value layout: %s", w);
	btf__free(theirs);
	return 0;
}

static void key_of(struct snilb_layout_key *k, const struct bpf_map *map)
{
	memset(k, 0, sizeof(*k));
	snprintf(k->name, sizeof(k->name), "%s", bpf_map__name(map));
}

void layout_check(int layouts_fd, const struct bpf_map_info *info,
		  const struct bpf_map *map, const struct btf *ours,
		  char *why, size_t len)
{
	uint64_t mine = layout_fp(ours, map), theirs = 0;
	struct snilb_layout_key k;
	int recorded;

	*why = 0;
	if (!info->btf_id || !mine)
		return;		/* no types to compare: sizes must do */
	key_of(&k, map);
	recorded = layouts_fd >= 0 &&
		   !bpf_map_lookup_elem(layouts_fd, &k, &theirs);
	if (recorded && theirs == mine)
		return;
	if (!btf_mismatch(info, map, ours, why, len))
		return;		/* the kernel's types tell */
	if (recorded)
		snprintf(why, len, "its layout was recorded as %016llx, this "
			 "build's is %016llx", (unsigned long long)theirs,
			 (unsigned long long)mine);
	else
		snprintf(why, len, "its types cannot be read (%s) and no "
			 "layout was recorded for it: pins older than this "
			 "check need CAP_SYS_ADMIN once", strerror(errno));
}

int layout_record(int layouts_fd, const struct bpf_map *map,
		  const struct btf *ours)
{
	uint64_t fp = layout_fp(ours, map);
	struct snilb_layout_key k;

	if (!fp)
		return 0;
	key_of(&k, map);
	return bpf_map_update_elem(layouts_fd, &k, &fp, BPF_ANY) ? -errno : 0;
}

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The PROXY protocol v2 header a backend that asks for it (SNILB_BE_
 * PROXY_V2) reads before the client's hello: the client's and the VIP's
 * address and port, and TLVs: PP2_TYPE_UNIQUE_ID (the connection id,
 * snilb_conn_id(), in hex), PP2_TYPE_ALPN (the client's first protocol),
 * PP2_TYPE_AUTHORITY (the SNI). Built once, when the hello is routed, in
 * the hello's buffer (replay.h sends it); the backend's ISN is the
 * client's less its length (bind.h), so its bytes take sequence numbers
 * of their own and a spliced packet needs no translation more.
 * docs/dataplane.md, "PROXY protocol v2".
 */
#ifndef SNILB_BPF_PROXY_H
#define SNILB_BPF_PROXY_H

#include "maps.h"

#define PP2_CMD_PROXY		0x21	/* version 2, PROXY */
#define PP2_TCP4		0x11
#define PP2_TCP6		0x21
#define PP2_TYPE_ALPN		0x01
#define PP2_TYPE_AUTHORITY	0x02
#define PP2_TYPE_UNIQUE_ID	0x05
#define PP2_MASK		(SNILB_PP2_BUF - 1)

/* Does the set of @set_id hold a backend that asks for the header? */
static __always_inline int pp_wanted(__u32 set_id)
{
	struct snilb_set *s = bpf_map_lookup_elem(&sets, &set_id);

	return s && (s->flags & SNILB_SET_PROXY_V2);
}

static __always_inline void pp_tlv_hdr(__u8 *pp, __u32 at, __u8 type,
				       __u32 len)
{
	pp[at & PP2_MASK] = type;
	pp[(at + 1) & PP2_MASK] = 0;
	pp[(at + 2) & PP2_MASK] = len;
}

/* Copies of the SNI and the ALPN protocol, one byte per bpf_loop() step:
 * the verifier walks the step once (a loop of 253 bytes, walked byte by
 * byte, passes its limits on 6.1). */
struct pp_copy {
	__u8 *pp;
	const struct ch_result *res;
	__u32 at;
};

static long pp_sni_cb(__u32 i, void *ctx)
{
	struct pp_copy *c = ctx;

	c->pp[(c->at + i) & PP2_MASK] = c->res->sni[i & 255];
	return 0;
}

static long pp_alpn_cb(__u32 i, void *ctx)
{
	struct pp_copy *c = ctx;

	/* alpn[0] is the first protocol's length, its name follows. */
	c->pp[(c->at + i) & PP2_MASK] =
		c->res->alpn[(i + 1) & (CH_ALPN_MAX - 1)];
	return 0;
}

static const char pp2_sig[12] = "\r\n\r\n\0\r\nQUIT\n";

/*
 * Build the header of the flow @k, @f routed on the hello parsed into
 * @res, into @hb->pp (zero past its end: replay.h sums it 4 bytes at a
 * time): at most 393 bytes (snilb_abi.h, SNILB_PP2_BUF).
 */
static __noinline int pp_build(struct snilb_hello *hb,
			       const struct snilb_flow_key *k,
			       const struct snilb_flow *f,
			       const struct ch_result *res)
{
	__u64 id = snilb_conn_id(k, f->client_isn, f->created_ns);
	__u8 *pp = hb->pp;
	struct pp_copy c = { .pp = pp, .res = res };
	__u32 at, alen = 4, i;
	__u8 alpn = 0;

	__builtin_memset(pp, 0, SNILB_PP2_BUF);
	__builtin_memcpy(pp, pp2_sig, 12);
	pp[12] = PP2_CMD_PROXY;
	if (k->family == SNILB_AF_INET) {
		pp[13] = PP2_TCP4;
		__builtin_memcpy(pp + 16, k->caddr, 4);
		__builtin_memcpy(pp + 20, k->vaddr, 4);
	} else {
		pp[13] = PP2_TCP6;
		alen = 16;
		__builtin_memcpy(pp + 16, k->caddr, 16);
		__builtin_memcpy(pp + 32, k->vaddr, 16);
	}
	__builtin_memcpy(pp + 16 + 2 * alen, &k->cport, 2);
	__builtin_memcpy(pp + 18 + 2 * alen, &k->vport, 2);
	at = 20 + 2 * alen;
	pp_tlv_hdr(pp, at, PP2_TYPE_UNIQUE_ID, SNILB_PP2_ID_LEN);
	for (i = 0; i < SNILB_PP2_ID_LEN; i++) {
		__u8 d = (id >> (60 - 4 * i)) & 0xf;

		pp[(at + 3 + i) & PP2_MASK] = d < 10 ? '0' + d : 'a' + d - 10;
	}
	at += 3 + SNILB_PP2_ID_LEN;
	/* The first protocol of the list as sent: length, name. */
	if (res->alpn_len)
		alpn = res->alpn[0];
	if (alpn && alpn < res->alpn_len && alpn < CH_ALPN_MAX) {
		pp_tlv_hdr(pp, at, PP2_TYPE_ALPN, alpn);
		c.at = at + 3;
		bpf_loop(alpn, pp_alpn_cb, &c, 0);
		at += 3 + alpn;
	}
	pp_tlv_hdr(pp, at, PP2_TYPE_AUTHORITY, res->sni_len);
	c.at = at + 3;
	bpf_loop(res->sni_len, pp_sni_cb, &c, 0);
	at += 3 + res->sni_len;
	at &= PP2_MASK;
	pp[14] = (at - 16) >> 8;
	pp[15] = at - 16;
	hb->pp_len = at;
	return 0;
}

#endif /* SNILB_BPF_PROXY_H */

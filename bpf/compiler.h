/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The few compiler words the data plane uses, spelled one way. */
#ifndef SNILB_BPF_COMPILER_H
#define SNILB_BPF_COMPILER_H

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif
#ifndef __noinline
#define __noinline __noinline
#endif

/*
 * Rare by far, and said so: clang then keeps a check's temporaries out of
 * the caller's frame (snilb_ingress's 176 bytes, not 184, for mtu.h's),
 * which matters where a call chain is near the verifier's 512 bytes.
 */
#define unlikely(x)	__builtin_expect(!!(x), 0)

#endif /* SNILB_BPF_COMPILER_H */

#ifndef CQRNG_INTRINSICS_H
#define CQRNG_INTRINSICS_H

// CPU intrinsics Swift cannot reach directly: carry-less multiplication (PCLMULQDQ and its AVX-512 form
// VPCLMULQDQ) and the run-time checks for them. Everything else in qrng is Swift.

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/// Whether this CPU has PCLMULQDQ (and SSE4.1, which the kernel also uses).
bool qrng_cpu_has_pclmul(void);

/// Whether this CPU has VPCLMULQDQ with AVX-512F.
bool qrng_cpu_has_vpclmul_avx512(void);

/// out[0 ..< na + nb] = a[0 ..< na] · b[0 ..< nb] over GF(2)[z], 64 coefficients per word, least significant
/// word first. `out` must not overlap the inputs. Call only when qrng_cpu_has_pclmul() is true.
void qrng_clmul_schoolbook_pclmul(const uint64_t *a, size_t na, const uint64_t *b, size_t nb, uint64_t *out);

/// The same product with VPCLMULQDQ, four word products per instruction. Call only when
/// qrng_cpu_has_vpclmul_avx512() is true.
void qrng_clmul_schoolbook_vpclmul(const uint64_t *a, size_t na, const uint64_t *b, size_t nb, uint64_t *out);

#endif

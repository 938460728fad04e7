#ifndef CQRNG_CARRYLESS_MULTIPLY_H
#define CQRNG_CARRYLESS_MULTIPLY_H

// Carry-less multiplication for Toeplitz hashing: PCLMULQDQ and its AVX-512 form VPCLMULQDQ, with the run-time
// checks for them. The extractor has a portable Swift path that its tests compare these with.

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/// Whether this CPU has PCLMULQDQ (and SSE4.1, which the kernel also uses).
bool qrng_cpu_has_pclmul(void);

/// Whether this CPU has VPCLMULQDQ with AVX-512F.
bool qrng_cpu_has_vpclmul_avx512(void);

/// Middle product, the dot products behind Toeplitz hashing: for k < k_count,
/// out[2k] (low word) and out[2k + 1] (high word) ^= XOR over j < b_count of a[k + j] · b[j], each product a
/// 128-bit carry-less product. `a` holds k_count + b_count − 1 words. Call only when qrng_cpu_has_pclmul().
void qrng_clmul_middle_pclmul(const uint64_t *a, const uint64_t *b, size_t k_count, size_t b_count, uint64_t *out);

/// The same middle product with VPCLMULQDQ: eight word products per two instructions. Call only when
/// qrng_cpu_has_vpclmul_avx512().
void qrng_clmul_middle_vpclmul(const uint64_t *a, const uint64_t *b, size_t k_count, size_t b_count, uint64_t *out);

#endif

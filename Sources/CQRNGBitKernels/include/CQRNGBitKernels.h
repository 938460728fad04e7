#ifndef CQRNG_BIT_KERNELS_H
#define CQRNG_BIT_KERNELS_H

// Bit and word kernels of the pipeline: bit gathering (PEXT) for the von Neumann family, and the pool's hand-out of
// words as big-endian bytes (VPSHUFB), with the run-time checks for them. Each has a portable Swift path that its
// tests compare it with.

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/// Whether this CPU has BMI2 (PEXT).
bool qrng_cpu_has_bmi2(void);

/// PEXT: the bits of x at the set positions of mask, packed into the low bits in order. Call only when
/// qrng_cpu_has_bmi2() is true.
uint64_t qrng_pext_u64(uint64_t x, uint64_t mask);

/// Whether this CPU has AVX2.
bool qrng_cpu_has_avx2(void);

/// Stores the `count` words at `words` to `bytes` most significant byte first (big-endian) and zeroes them: the
/// pool's hand-out of whole words as bytes. Swift's own loop is vectorised for the baseline x86-64 (SSE2), which
/// has no byte shuffle, and byte-swaps two words in a dozen instructions. `bytes` need not be aligned and must not
/// overlap `words`. Call only when qrng_cpu_has_avx2().
void qrng_move_words_big_endian_avx2(void *bytes, uint64_t *words, size_t count);

#endif

#include "CQRNGAssessmentKernels.h"

// The byte shuffle of the permutation tests (see `ByteShuffle` in PermutationTests.swift, which defines it and
// is the portable path): Fisher–Yates whose random 32-bit halves come from four xoshiro256** generators stepped
// together, eight halves a step in the order lane 0 low, lane 0 high, lane 1 low, …; a half rejected by Lemire's
// method is replaced from a fifth generator.

static inline uint64_t qrng_rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t qrng_xoshiro_next(uint64_t *s) {
    const uint64_t result = qrng_rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = qrng_rotl(s[3], 45);
    return result;
}

// An index uniform in 0 ..< bound from the half `bits`, redrawing from `spare` in the rare rejected case.
static inline size_t qrng_bounded(uint32_t bits, uint32_t bound, uint64_t *spare) {
    uint64_t product = (uint64_t)bits * bound;
    if ((uint32_t)product < bound) {
        const uint32_t threshold = (uint32_t)(0u - bound) % bound;
        while ((uint32_t)product < threshold) product = (uint64_t)(uint32_t)qrng_xoshiro_next(spare) * bound;
    }
    return (size_t)(product >> 32);
}

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx2")))
static inline __m256i qrng_rotl4(__m256i x, int k) {
    return _mm256_or_si256(_mm256_slli_epi64(x, k), _mm256_srli_epi64(x, 64 - k));
}

__attribute__((target("avx2")))
void qrng_shuffle_bytes_avx2(uint8_t *bytes, size_t count, uint64_t *lanes, uint64_t *spare) {
    if (count < 2) return;
    __m256i s0 = _mm256_loadu_si256((const __m256i *)lanes);
    __m256i s1 = _mm256_loadu_si256((const __m256i *)(lanes + 4));
    __m256i s2 = _mm256_loadu_si256((const __m256i *)(lanes + 8));
    __m256i s3 = _mm256_loadu_si256((const __m256i *)(lanes + 12));
    size_t i = count - 1;
    uint32_t halves[8];
    while (i >= 1) {
        // x · 5 and x · 9 as shifts and adds: AVX2 has no 64-bit multiply.
        const __m256i times5 = _mm256_add_epi64(_mm256_slli_epi64(s1, 2), s1);
        const __m256i rotated = qrng_rotl4(times5, 7);
        const __m256i result = _mm256_add_epi64(_mm256_slli_epi64(rotated, 3), rotated);
        const __m256i t = _mm256_slli_epi64(s1, 17);
        s2 = _mm256_xor_si256(s2, s0);
        s3 = _mm256_xor_si256(s3, s1);
        s1 = _mm256_xor_si256(s1, s2);
        s0 = _mm256_xor_si256(s0, s3);
        s2 = _mm256_xor_si256(s2, t);
        s3 = qrng_rotl4(s3, 45);
        if (i >= 8) {
            // Lemire's products for all eight at once: the low halves (lanes' even 32-bit parts) with the bounds
            // of steps 0, 2, 4, 6 and the high halves with those of steps 1, 3, 5, 7. Only when a product's low
            // part falls below its bound (about once in 2^32 / bound) may it be rejected: then the scalar path.
            const __m256i top = _mm256_set1_epi64x((long long)i + 1);
            const __m256i evenBounds = _mm256_sub_epi64(top, _mm256_set_epi64x(6, 4, 2, 0));
            const __m256i oddBounds = _mm256_sub_epi64(top, _mm256_set_epi64x(7, 5, 3, 1));
            const __m256i even = _mm256_mul_epu32(result, evenBounds);
            const __m256i odd = _mm256_mul_epu32(_mm256_srli_epi64(result, 32), oddBounds);
            const __m256i lowMask = _mm256_set1_epi64x(0xffffffff);
            const __m256i suspect = _mm256_or_si256(
                _mm256_cmpgt_epi64(evenBounds, _mm256_and_si256(even, lowMask)),
                _mm256_cmpgt_epi64(oddBounds, _mm256_and_si256(odd, lowMask)));
            if (_mm256_testz_si256(suspect, suspect)) {
                // Indices: the products' high halves, interleaved back into step order.
                const __m256i indices = _mm256_or_si256(_mm256_srli_epi64(even, 32), _mm256_and_si256(odd, _mm256_set1_epi64x((long long)0xffffffff00000000ULL)));
                _mm256_storeu_si256((__m256i *)halves, indices);
                for (size_t k = 0; k < 8; k++) {
                    const size_t position = i - k;
                    const size_t other = halves[k];
                    const uint8_t value = bytes[position];
                    bytes[position] = bytes[other];
                    bytes[other] = value;
                }
                i -= 8;
                continue;
            }
        }
        _mm256_storeu_si256((__m256i *)halves, result);
        const size_t steps = i >= 8 ? 8 : i;
        for (size_t k = 0; k < steps; k++) {
            const size_t position = i - k;
            const size_t other = qrng_bounded(halves[k], (uint32_t)(position + 1), spare);
            const uint8_t value = bytes[position];
            bytes[position] = bytes[other];
            bytes[other] = value;
        }
        i -= steps;
    }
    _mm256_storeu_si256((__m256i *)lanes, s0);
    _mm256_storeu_si256((__m256i *)(lanes + 4), s1);
    _mm256_storeu_si256((__m256i *)(lanes + 8), s2);
    _mm256_storeu_si256((__m256i *)(lanes + 12), s3);
}

#else

void qrng_shuffle_bytes_avx2(uint8_t *bytes, size_t count, uint64_t *lanes, uint64_t *spare) {
    (void)bytes; (void)count; (void)lanes; (void)spare;
    __builtin_trap();
}

#endif

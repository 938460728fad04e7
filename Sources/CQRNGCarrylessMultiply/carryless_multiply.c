#include "CQRNGCarrylessMultiply.h"

#if defined(__x86_64__)
#include <immintrin.h>

bool qrng_cpu_has_pclmul(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
}

bool qrng_cpu_has_vpclmul_avx512(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("vpclmulqdq") && __builtin_cpu_supports("avx512f");
}

__attribute__((target("pclmul,sse4.1")))
void qrng_clmul_middle_pclmul(const uint64_t *a, const uint64_t *b, size_t k_count, size_t b_count, uint64_t *out) {
    for (size_t k = 0; k < k_count; k++) {
        // Two accumulators, so that consecutive products do not wait on one XOR chain.
        __m128i even = _mm_setzero_si128();
        __m128i odd = _mm_setzero_si128();
        size_t j = 0;
        for (; j + 1 < b_count; j += 2) {
            const __m128i x = _mm_loadu_si128((const __m128i *)(a + k + j));
            const __m128i y = _mm_loadu_si128((const __m128i *)(b + j));
            even = _mm_xor_si128(even, _mm_clmulepi64_si128(x, y, 0x00));
            odd = _mm_xor_si128(odd, _mm_clmulepi64_si128(x, y, 0x11));
        }
        if (j < b_count) {
            even = _mm_xor_si128(even, _mm_clmulepi64_si128(_mm_set_epi64x(0, (long long)a[k + j]),
                                                            _mm_set_epi64x(0, (long long)b[j]), 0x00));
        }
        const __m128i sum = _mm_xor_si128(even, odd);
        out[2 * k] ^= (uint64_t)_mm_cvtsi128_si64(sum);
        out[2 * k + 1] ^= (uint64_t)_mm_extract_epi64(sum, 1);
    }
}

__attribute__((target("avx512f,vpclmulqdq,pclmul,sse4.1")))
void qrng_clmul_middle_vpclmul(const uint64_t *a, const uint64_t *b, size_t k_count, size_t b_count, uint64_t *out) {
    const size_t whole = b_count & ~(size_t)7;
    for (size_t k = 0; k < k_count; k++) {
        // Lanes hold pairs (a[k+j+2t], a[k+j+2t+1]) and (b[j+2t], b[j+2t+1]): the low-by-low and high-by-high
        // products of the lanes are exactly the terms of the dot product.
        __m512i even = _mm512_setzero_si512();
        __m512i odd = _mm512_setzero_si512();
        for (size_t j = 0; j < whole; j += 8) {
            const __m512i x = _mm512_loadu_si512((const void *)(a + k + j));
            const __m512i y = _mm512_loadu_si512((const void *)(b + j));
            even = _mm512_xor_si512(even, _mm512_clmulepi64_epi128(x, y, 0x00));
            odd = _mm512_xor_si512(odd, _mm512_clmulepi64_epi128(x, y, 0x11));
        }
        const __m512i both = _mm512_xor_si512(even, odd);
        __m128i sum = _mm_xor_si128(_mm512_extracti32x4_epi32(both, 0), _mm512_extracti32x4_epi32(both, 1));
        sum = _mm_xor_si128(sum, _mm_xor_si128(_mm512_extracti32x4_epi32(both, 2), _mm512_extracti32x4_epi32(both, 3)));
        for (size_t j = whole; j < b_count; j++) {
            sum = _mm_xor_si128(sum, _mm_clmulepi64_si128(_mm_set_epi64x(0, (long long)a[k + j]),
                                                          _mm_set_epi64x(0, (long long)b[j]), 0x00));
        }
        out[2 * k] ^= (uint64_t)_mm_cvtsi128_si64(sum);
        out[2 * k + 1] ^= (uint64_t)_mm_extract_epi64(sum, 1);
    }
}

#else

bool qrng_cpu_has_pclmul(void) { return false; }

bool qrng_cpu_has_vpclmul_avx512(void) { return false; }

void qrng_clmul_middle_pclmul(const uint64_t *a, const uint64_t *b, size_t k_count, size_t b_count, uint64_t *out) {
    (void)a; (void)b; (void)k_count; (void)b_count; (void)out;
    __builtin_trap();
}

void qrng_clmul_middle_vpclmul(const uint64_t *a, const uint64_t *b, size_t k_count, size_t b_count, uint64_t *out) {
    (void)a; (void)b; (void)k_count; (void)b_count; (void)out;
    __builtin_trap();
}

#endif

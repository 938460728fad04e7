#include "CQRNGIntrinsics.h"

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

// Row by row: for each word of a, multiply it with two words of b at a time and fold the 128-bit products into
// out. The products of a[i] with b[j] and b[j+1] land on out[i+j .. i+j+2].
__attribute__((target("pclmul,sse4.1")))
void qrng_clmul_schoolbook_pclmul(const uint64_t *a, size_t na, const uint64_t *b, size_t nb, uint64_t *out) {
    for (size_t k = 0; k < na + nb; k++) out[k] = 0;
    for (size_t i = 0; i < na; i++) {
        const __m128i ai = _mm_set_epi64x(0, (long long)a[i]);
        __m128i carry = _mm_setzero_si128();  // the high word of the previous product, still to be added
        size_t j = 0;
        for (; j < nb; j++) {
            const __m128i bj = _mm_set_epi64x(0, (long long)b[j]);
            const __m128i product = _mm_xor_si128(_mm_clmulepi64_si128(ai, bj, 0x00), carry);
            out[i + j] ^= (uint64_t)_mm_cvtsi128_si64(product);
            carry = _mm_srli_si128(product, 8);
        }
        out[i + j] ^= (uint64_t)_mm_cvtsi128_si64(carry);
    }
}

// Four words of b per instruction: out[i + j .. i + j + 4] += a[i] · b[j .. j + 4].
__attribute__((target("avx512f,vpclmulqdq,pclmul,sse4.1")))
void qrng_clmul_schoolbook_vpclmul(const uint64_t *a, size_t na, const uint64_t *b, size_t nb, uint64_t *out) {
    for (size_t k = 0; k < na + nb; k++) out[k] = 0;
    const size_t whole = nb & ~(size_t)3;
    for (size_t i = 0; i < na; i++) {
        const __m512i ai = _mm512_set1_epi64((long long)a[i]);
        uint64_t *row = out + i;
        for (size_t j = 0; j < whole; j += 4) {
            // b[j..j+4] in the even lanes; the product of lane 2t is a[i]·b[j+t], 128 bits in lanes 2t, 2t+1.
            const __m512i bj = _mm512_set_epi64(0, (long long)b[j + 3], 0, (long long)b[j + 2],
                                                0, (long long)b[j + 1], 0, (long long)b[j]);
            const __m512i products = _mm512_clmulepi64_epi128(ai, bj, 0x00);
            uint64_t lanes[8];
            _mm512_storeu_si512((void *)lanes, products);
            row[j] ^= lanes[0];
            row[j + 1] ^= lanes[1] ^ lanes[2];
            row[j + 2] ^= lanes[3] ^ lanes[4];
            row[j + 3] ^= lanes[5] ^ lanes[6];
            row[j + 4] ^= lanes[7];
        }
        for (size_t j = whole; j < nb; j++) {
            const __m128i product = _mm_clmulepi64_si128(_mm_set_epi64x(0, (long long)a[i]),
                                                         _mm_set_epi64x(0, (long long)b[j]), 0x00);
            row[j] ^= (uint64_t)_mm_cvtsi128_si64(product);
            row[j + 1] ^= (uint64_t)_mm_extract_epi64(product, 1);
        }
    }
}

#else

bool qrng_cpu_has_pclmul(void) { return false; }
bool qrng_cpu_has_vpclmul_avx512(void) { return false; }
void qrng_clmul_schoolbook_pclmul(const uint64_t *a, size_t na, const uint64_t *b, size_t nb, uint64_t *out) {
    (void)a; (void)na; (void)b; (void)nb; (void)out;
    __builtin_trap();
}
void qrng_clmul_schoolbook_vpclmul(const uint64_t *a, size_t na, const uint64_t *b, size_t nb, uint64_t *out) {
    (void)a; (void)na; (void)b; (void)nb; (void)out;
    __builtin_trap();
}

#endif

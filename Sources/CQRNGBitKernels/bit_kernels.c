#include "CQRNGBitKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

bool qrng_cpu_has_bmi2(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("bmi2");
}

__attribute__((target("bmi2")))
uint64_t qrng_pext_u64(uint64_t x, uint64_t mask) {
    return _pext_u64(x, mask);
}

bool qrng_cpu_has_avx2(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2");
}

__attribute__((target("avx2")))
void qrng_move_words_big_endian_avx2(void *bytes, uint64_t *words, size_t count) {
    // Reverses the bytes of each 64-bit lane (VPSHUFB works within 128-bit halves, so the pattern repeats).
    const __m256i reverse = _mm256_setr_epi8(7, 6, 5, 4, 3, 2, 1, 0, 15, 14, 13, 12, 11, 10, 9, 8,
                                             7, 6, 5, 4, 3, 2, 1, 0, 15, 14, 13, 12, 11, 10, 9, 8);
    const __m256i zero = _mm256_setzero_si256();
    unsigned char *out = bytes;
    size_t i = 0;
    for (; i + 8 <= count; i += 8) {
        const __m256i a = _mm256_loadu_si256((const __m256i *)(words + i));
        const __m256i b = _mm256_loadu_si256((const __m256i *)(words + i + 4));
        _mm256_storeu_si256((__m256i *)(out + 8 * i), _mm256_shuffle_epi8(a, reverse));
        _mm256_storeu_si256((__m256i *)(out + 8 * i + 32), _mm256_shuffle_epi8(b, reverse));
        _mm256_storeu_si256((__m256i *)(words + i), zero);
        _mm256_storeu_si256((__m256i *)(words + i + 4), zero);
    }
    for (; i < count; i++) {
        const uint64_t value = __builtin_bswap64(words[i]);
        __builtin_memcpy(out + 8 * i, &value, 8);
        words[i] = 0;
    }
}

#else

bool qrng_cpu_has_bmi2(void) { return false; }

uint64_t qrng_pext_u64(uint64_t x, uint64_t mask) {
    (void)x; (void)mask;
    __builtin_trap();
}

bool qrng_cpu_has_avx2(void) { return false; }

void qrng_move_words_big_endian_avx2(void *bytes, uint64_t *words, size_t count) {
    (void)bytes; (void)words; (void)count;
    __builtin_trap();
}

#endif

#include "CQRNGIntrinsics.h"

#if defined(__x86_64__)
#include <immintrin.h>

// Every value below is exactly what the one-sample-at-a-time loop computes: running sums of 16-bit samples are
// whole numbers below 2^53, exact as doubles however they are added up, and each deviation is the same product,
// difference and absolute value, so no contraction into a fused multiply-add.
#pragma clang fp contract(off)

// The running sums of four lanes: x0, x0+x1, x0+x1+x2, x0+…+x3, by two shifted adds.
__attribute__((target("avx2")))
static inline __m256d qrng_prefix_sum4(__m256d x) {
    const __m256d zero = _mm256_setzero_pd();
    x = _mm256_add_pd(x, _mm256_blend_pd(_mm256_permute4x64_pd(x, _MM_SHUFFLE(2, 1, 0, 0)), zero, 0x1));
    return _mm256_add_pd(x, _mm256_blend_pd(_mm256_permute4x64_pd(x, _MM_SHUFFLE(1, 0, 0, 0)), zero, 0x3));
}

__attribute__((target("avx2")))
static inline __m256d qrng_load4_u16(const uint16_t *values) {
    return _mm256_cvtepi32_pd(_mm_cvtepu16_epi32(_mm_loadl_epi64((const __m128i *)values)));
}

__attribute__((target("avx2")))
double qrng_excursion_avx2(const uint16_t *values, size_t count, double mean) {
    const __m256d means = _mm256_set1_pd(mean);
    const __m256d sign = _mm256_set1_pd(-0.0);
    const __m256d eight = _mm256_set1_pd(8.0);
    __m256d largest = _mm256_setzero_pd();
    __m256d total = _mm256_setzero_pd();
    __m256d positions0 = _mm256_set_pd(4, 3, 2, 1);
    __m256d positions1 = _mm256_set_pd(8, 7, 6, 5);
    size_t i = 0;
    for (; i + 8 <= count; i += 8) {
        const __m256d low = qrng_prefix_sum4(qrng_load4_u16(values + i));
        __m256d high = qrng_prefix_sum4(qrng_load4_u16(values + i + 4));
        high = _mm256_add_pd(high, _mm256_permute4x64_pd(low, _MM_SHUFFLE(3, 3, 3, 3)));
        const __m256d sums0 = _mm256_add_pd(low, total);
        const __m256d sums1 = _mm256_add_pd(high, total);
        // The running total waits on one add per eight samples.
        total = _mm256_add_pd(total, _mm256_permute4x64_pd(high, _MM_SHUFFLE(3, 3, 3, 3)));
        const __m256d deviation0 = _mm256_andnot_pd(sign, _mm256_sub_pd(sums0, _mm256_mul_pd(positions0, means)));
        const __m256d deviation1 = _mm256_andnot_pd(sign, _mm256_sub_pd(sums1, _mm256_mul_pd(positions1, means)));
        largest = _mm256_max_pd(largest, _mm256_max_pd(deviation0, deviation1));
        positions0 = _mm256_add_pd(positions0, eight);
        positions1 = _mm256_add_pd(positions1, eight);
    }
    double lanes[4];
    _mm256_storeu_pd(lanes, largest);
    double result = lanes[0];
    for (int lane = 1; lane < 4; lane++) result = lanes[lane] > result ? lanes[lane] : result;
    double sum = _mm256_cvtsd_f64(total);
    for (; i < count; i++) {
        sum += (double)values[i];
        double deviation = sum - (double)(i + 1) * mean;
        deviation = deviation < 0 ? -deviation : deviation;
        result = deviation > result ? deviation : result;
    }
    return result;
}

#else

double qrng_excursion_avx2(const uint16_t *values, size_t count, double mean) {
    (void)values; (void)count; (void)mean;
    __builtin_trap();
}

#endif

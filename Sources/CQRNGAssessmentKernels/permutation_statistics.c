#include "CQRNGAssessmentKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

// Every value below is exactly what the one-sample-at-a-time loop computes: running sums of 16-bit samples are
// whole numbers below 2^53, exact as doubles however they are added up, and each deviation is the same product,
// difference and absolute value, so no contraction into a fused multiply-add.
#pragma clang fp contract(off)

// AVX2 compares only signed 16-bit lanes; flipping the top bit of both sides turns it into an unsigned compare.
// Two 16-lane compares pack to 32 bytes in lane order (0–7, 16–23, 8–15, 24–31), which the 64-bit permute puts
// back in order before VPMOVMSKB takes one bit a byte.
__attribute__((target("avx2")))
static inline uint32_t qrng_mask32_greater(__m256i a0, __m256i b0, __m256i a1, __m256i b1) {
    const __m256i packed = _mm256_packs_epi16(_mm256_cmpgt_epi16(a0, b0), _mm256_cmpgt_epi16(a1, b1));
    return (uint32_t)_mm256_movemask_epi8(_mm256_permute4x64_epi64(packed, 0xD8));
}

__attribute__((target("avx2")))
void qrng_mask_below_u16_avx2(const uint16_t *values, size_t count, uint16_t threshold, uint64_t *masks) {
    const __m256i flip = _mm256_set1_epi16((short)0x8000);
    const __m256i bound = _mm256_xor_si256(_mm256_set1_epi16((short)threshold), flip);
    size_t i = 0;
    for (; i + 64 <= count; i += 64) {
        __m256i v[4];
        for (int j = 0; j < 4; j++) {
            v[j] = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(values + i + 16 * j)), flip);
        }
        const uint64_t low = qrng_mask32_greater(bound, v[0], bound, v[1]);
        const uint64_t high = qrng_mask32_greater(bound, v[2], bound, v[3]);
        masks[i / 64] = low | high << 32;
    }
    if (i < count) {
        uint64_t word = 0;
        for (size_t j = 0; i + j < count; j++) word |= (uint64_t)(values[i + j] < threshold) << j;
        masks[i / 64] = word;
    }
}

__attribute__((target("avx2")))
void qrng_mask_descents_u16_avx2(const uint16_t *values, size_t count, uint64_t *masks) {
    const __m256i flip = _mm256_set1_epi16((short)0x8000);
    size_t i = 0;
    for (; i + 64 <= count; i += 64) {
        __m256i v[4], next[4];
        for (int j = 0; j < 4; j++) {
            v[j] = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(values + i + 16 * j)), flip);
            next[j] = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(values + i + 16 * j + 1)), flip);
        }
        const uint64_t low = qrng_mask32_greater(v[0], next[0], v[1], next[1]);
        const uint64_t high = qrng_mask32_greater(v[2], next[2], v[3], next[3]);
        masks[i / 64] = low | high << 32;
    }
    if (i < count) {
        uint64_t word = 0;
        for (size_t j = 0; i + j < count; j++) word |= (uint64_t)(values[i + j] > values[i + j + 1]) << j;
        masks[i / 64] = word;
    }
}

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

// The lags of SP 800-90B §5.1.9–§5.1.10.
static const size_t qrng_lags[5] = {1, 2, 8, 16, 32};

__attribute__((target("avx2")))
static inline uint64_t qrng_sum_i32(__m256i lanes) {
    int32_t values[8];
    _mm256_storeu_si256((__m256i *)values, lanes);
    uint64_t sum = 0;
    for (int lane = 0; lane < 8; lane++) sum += (uint32_t)values[lane];
    return sum;
}

__attribute__((target("avx2")))
void qrng_lag_statistics_u8_avx2(const uint16_t *values, size_t count, uint64_t *matches, uint64_t *products) {
    for (int k = 0; k < 5; k++) matches[k] = products[k] = 0;
    const __m256i ones = _mm256_set1_epi16(1);
    size_t i = 0;
    // Sixteen samples a step against the sixteen at each lag. Match counts are 16-bit lanes and products pairs
    // summed into 32-bit lanes (at most 2 · 255² each), both safe for 4,096 steps before they are added up.
    while (i + 16 + 32 <= count) {
        __m256i counted[5], summed[5];
        for (int k = 0; k < 5; k++) counted[k] = summed[k] = _mm256_setzero_si256();
        for (size_t steps = 0; steps < 4096 && i + 16 + 32 <= count; steps++, i += 16) {
            const __m256i here = _mm256_loadu_si256((const __m256i *)(values + i));
            for (int k = 0; k < 5; k++) {
                const __m256i there = _mm256_loadu_si256((const __m256i *)(values + i + qrng_lags[k]));
                counted[k] = _mm256_sub_epi16(counted[k], _mm256_cmpeq_epi16(here, there));
                summed[k] = _mm256_add_epi32(summed[k], _mm256_madd_epi16(here, there));
            }
        }
        for (int k = 0; k < 5; k++) {
            matches[k] += qrng_sum_i32(_mm256_madd_epi16(counted[k], ones));
            products[k] += qrng_sum_i32(summed[k]);
        }
    }
    for (int k = 0; k < 5; k++) {
        const size_t lag = qrng_lags[k];
        for (size_t j = i; j + lag < count; j++) {
            matches[k] += values[j] == values[j + lag];
            products[k] += (uint64_t)values[j] * values[j + lag];
        }
    }
}

#else

void qrng_mask_below_u16_avx2(const uint16_t *values, size_t count, uint16_t threshold, uint64_t *masks) {
    (void)values; (void)count; (void)threshold; (void)masks;
    __builtin_trap();
}

void qrng_mask_descents_u16_avx2(const uint16_t *values, size_t count, uint64_t *masks) {
    (void)values; (void)count; (void)masks;
    __builtin_trap();
}

void qrng_lag_statistics_u8_avx2(const uint16_t *values, size_t count, uint64_t *matches, uint64_t *products) {
    (void)values; (void)count; (void)matches; (void)products;
    __builtin_trap();
}

double qrng_excursion_avx2(const uint16_t *values, size_t count, double mean) {
    (void)values; (void)count; (void)mean;
    __builtin_trap();
}

#endif

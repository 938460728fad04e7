#ifndef CQRNG_ASSESSMENT_KERNELS_H
#define CQRNG_ASSESSMENT_KERNELS_H

// The AVX2 and AVX-512 kernels of the SP 800-90B assessment's hot loops: the permutation tests' statistics and
// shuffle (permutation_statistics.c, shuffle.c) and the back end of the bzip2 compressor behind the compression
// statistic (bzip2_kernels.c), with the run-time checks for them (AVX2's is CQRNGBitKernels' qrng_cpu_has_avx2).
// Each kernel has a portable Swift path that its tests compare it with.

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/// Sets bit i % 64 of masks[i / 64] when values[i] < threshold (unsigned), for i < count, and clears the other
/// bits of the words written: the comparisons of the permutation tests' run statistics (SP 800-90B §5.1.3–§5.1.4),
/// 64 samples a word. Call only when qrng_cpu_has_avx2().
void qrng_mask_below_u16_avx2(const uint16_t *values, size_t count, uint16_t threshold, uint64_t *masks);

/// Sets bit i % 64 of masks[i / 64] when values[i] > values[i + 1] (unsigned), for i < count, and clears the
/// other bits of the words written; reads values[0...count]. Call only when qrng_cpu_has_avx2().
void qrng_mask_descents_u16_avx2(const uint16_t *values, size_t count, uint64_t *masks);

/// The permutation tests' excursion statistic (SP 800-90B §5.1.1): the largest |values[0] + … + values[i] −
/// (i + 1)·mean| over i < count, the same double the loop that takes one sample at a time computes (0 when count
/// is 0). Call only when qrng_cpu_has_avx2().
double qrng_excursion_avx2(const uint16_t *values, size_t count, double mean);

/// The periodicity and covariance statistics (SP 800-90B §5.1.9, §5.1.10) at lags 1, 2, 8, 16 and 32 in one pass:
/// matches[k] = the number of i with values[i] = values[i + lag k] and products[k] = the sum of values[i] ·
/// values[i + lag k], over i < count − lag k. Every value must be below 256. Call only when qrng_cpu_has_avx2().
void qrng_lag_statistics_u8_avx2(const uint16_t *values, size_t count, uint64_t *matches, uint64_t *products);

/// The permutation tests' shuffle of bytes (`ByteShuffle` in the QRNGAssessment module defines it): Fisher–Yates from the
/// end, position p taking the byte at a uniform index in 0...p, the indices' random halves from four xoshiro256**
/// generators stepped together (`lanes`: word w of generator g at lanes[4w + g]; left advanced) and any rejected
/// half replaced from a fifth (`spare`, 4 words). count must be below 2^32. Call only when qrng_cpu_has_avx2().
void qrng_shuffle_bytes_avx2(uint8_t *bytes, size_t count, uint64_t *lanes, uint64_t *spare);

/// Move-to-front positions of the `count` bytes of `column`, at most 16 distinct, in eight segments advanced in step:
/// segment k < 7 is bytes k·(count / 8) ..< (k + 1)·(count / 8), and segment 7 runs on to the end. Segment k's list
/// starts as lists[16k ..< 16k + 16], front first, every byte of the segment among its first entries (the entries
/// after the alphabet are never matched first). Writes each byte's position in its list to `positions`, then moves
/// the byte to the front. Call only when qrng_cpu_has_avx2().
void qrng_mtf_positions_avx2(const uint8_t *column, size_t count, const uint8_t *lists, uint8_t *positions);

/// Whether this CPU has AVX-512F, AVX-512BW and AVX-512VBMI (byte permutes across a whole register).
bool qrng_cpu_has_avx512_vbmi(void);

/// `qrng_mtf_positions_avx2`'s positions with AVX-512, in sixteen segments rather than eight: segment k < 15 is
/// bytes k·(count / 16) ..< (k + 1)·(count / 16), segment 15 runs on to the end, and `lists` holds sixteen lists of
/// 16 as there. `numbers` holds 256 bytes, each byte's number among the symbols (distinct, below 16; any value for
/// bytes not in `column`). Call only when qrng_cpu_has_avx512_vbmi().
void qrng_mtf_positions_avx512(const uint8_t *column, size_t count, const uint8_t *lists, const uint8_t *numbers,
                               uint8_t *positions);

/// Whether this CPU has AVX-512VBMI2 (byte compression) with AVX-512F, BW, VBMI and BMI2 (PDEP).
bool qrng_cpu_has_avx512_vbmi2(void);

/// bzip2's zero-run coding of `count` move-to-front positions (each below 254): each run of r zeros becomes the
/// bits of r + 1 below its top bit, least significant first, one to a byte, and each other position p becomes p + 1.
/// Returns the number of values written (EOB is not written). Stores up to 64 bytes past the last value. Call only
/// when qrng_cpu_has_avx512_vbmi2().
size_t qrng_bzip2_code_zero_runs_avx512(const uint8_t *positions, size_t count, uint8_t *values);

/// Whether this CPU has AVX-512F and AVX-512BW (and POPCNT).
bool qrng_cpu_has_avx512_bw(void);

/// bzip2's per-group histograms for alphabets of at most 16 values: for each group of 50 of the `count` values (the
/// last may be shorter), each below alphabet_size ≤ 16, a row of 16 counts at `rows` (how often each value occurs,
/// zero from alphabet_size on), rows one after another; and the sum of all rows to frequencies[0 ..< 16]. Call only
/// when qrng_cpu_has_avx512_bw().
void qrng_bzip2_group_histograms_avx512(const uint8_t *values, size_t count, size_t alphabet_size, uint8_t *rows,
                                        uint32_t *frequencies);

/// One refinement round of bzip2's table choice for alphabets of at most 16 values. `histograms` holds
/// `group_count` rows of 16 counts (at most 50 each, zero past the alphabet), `lengths` six rows of 16 code lengths
/// (at most 17; rows from `table_count` on, 2 ≤ table_count ≤ 6, are ignored). For each group, the table whose
/// lengths give the fewest bits for its counts (the lowest-numbered on a tie) goes to selectors[group], and the
/// counts are added to that table's row of 16 in `frequencies`. Call only when qrng_cpu_has_avx2().
void qrng_bzip2_choose_tables_avx2(const uint8_t *histograms, size_t group_count, const uint8_t *lengths,
                                   size_t table_count, uint32_t *frequencies, uint8_t *selectors);

/// Whether this CPU has AVX-512VNNI (byte dot products) with AVX-512F and BW.
bool qrng_cpu_has_avx512_vnni(void);

/// `qrng_bzip2_choose_tables_avx2` with AVX-512VNNI, two groups at a time; same arguments and results. Call only
/// when qrng_cpu_has_avx512_vnni().
void qrng_bzip2_choose_tables_avx512(const uint8_t *histograms, size_t group_count, const uint8_t *lengths,
                                     size_t table_count, uint32_t *frequencies, uint8_t *selectors);

#endif

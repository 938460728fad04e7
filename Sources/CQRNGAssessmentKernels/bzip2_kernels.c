#include "CQRNGAssessmentKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

// Move-to-front with the list as sixteen bytes of a vector: the symbol's position is the first equal byte
// (VPCMPEQB, VPMOVMSKB, a trailing-zero count), and moving it to the front is one byte shuffle by a mask per
// position (lanes 1 ... position take the lane before them, lane 0 is cleared) and an OR of the symbol. A step
// depends on the list the last one left, through about fourteen cycles of latency; eight independent segments
// keep the core busy meanwhile.
#define QRNG_MTF_SEGMENTS 8
__attribute__((target("avx2")))
void qrng_mtf_positions_avx2(const uint8_t *column, size_t count, const uint8_t *lists, uint8_t *positions) {
    __m128i shift[16];
    for (int position = 0; position < 16; position++) {
        uint8_t lanes[16];
        for (int lane = 0; lane < 16; lane++) {
            lanes[lane] = lane == 0 ? 0x80 : (uint8_t)(lane <= position ? lane - 1 : lane);
        }
        shift[position] = _mm_loadu_si128((const __m128i *)lanes);
    }
    __m128i list[QRNG_MTF_SEGMENTS];
    for (int segment = 0; segment < QRNG_MTF_SEGMENTS; segment++) {
        list[segment] = _mm_loadu_si128((const __m128i *)(lists + 16 * segment));
    }
    const size_t length = count / QRNG_MTF_SEGMENTS;
#define QRNG_MTF_STEP(segment, index)                                                                        \
    do {                                                                                                     \
        const uint8_t byte = column[index];                                                                  \
        const __m128i equal = _mm_cmpeq_epi8(list[segment], _mm_set1_epi8((char)byte));                     \
        const unsigned position = (unsigned)__builtin_ctz((unsigned)_mm_movemask_epi8(equal));              \
        list[segment] = _mm_or_si128(_mm_shuffle_epi8(list[segment], shift[position]),                     \
                                     _mm_cvtsi32_si128(byte));                                              \
        positions[index] = (uint8_t)position;                                                                \
    } while (0)
    for (size_t offset = 0; offset < length; offset++) {
        QRNG_MTF_STEP(0, offset);
        QRNG_MTF_STEP(1, length + offset);
        QRNG_MTF_STEP(2, 2 * length + offset);
        QRNG_MTF_STEP(3, 3 * length + offset);
        QRNG_MTF_STEP(4, 4 * length + offset);
        QRNG_MTF_STEP(5, 5 * length + offset);
        QRNG_MTF_STEP(6, 6 * length + offset);
        QRNG_MTF_STEP(7, 7 * length + offset);
    }
    for (size_t index = QRNG_MTF_SEGMENTS * length; index < count; index++) QRNG_MTF_STEP(7, index);
#undef QRNG_MTF_STEP
}

// bzip2's table choice for one refinement round over groups of at most 16 values: VPMADDUBSW multiplies a
// group's counts by two tables' lengths at once (the counts broadcast to both 128-bit halves) and adds pairs,
// VPMADDWD the next pairs, and two horizontal adds leave the six totals in lanes 0, 4, 1, 5, 2, 6 (lanes 3 and 7
// repeat tables 4 and 5). Each total times 8 plus its table number (plus a penalty past tableCount) makes the
// lowest key the cheapest table, the first on a tie, as bzip2 picks it.
__attribute__((target("avx2")))
void qrng_bzip2_choose_tables_avx2(const uint8_t *histograms, size_t group_count, const uint8_t *lengths,
                                   size_t table_count, uint32_t *frequencies, uint8_t *selectors) {
    const __m256i lengths01 = _mm256_loadu_si256((const __m256i *)lengths);
    const __m256i lengths23 = _mm256_loadu_si256((const __m256i *)(lengths + 32));
    const __m256i lengths45 = _mm256_loadu_si256((const __m256i *)(lengths + 64));
    const __m256i ones = _mm256_set1_epi16(1);
    static const int lane_tables[8] = {0, 2, 4, 4, 1, 3, 5, 5};
    int lane_keys[8];
    for (int lane = 0; lane < 8; lane++) {
        lane_keys[lane] = lane_tables[lane] + ((size_t)lane_tables[lane] < table_count ? 0 : 1 << 24);
    }
    const __m256i key_offsets = _mm256_loadu_si256((const __m256i *)lane_keys);
    for (size_t group = 0; group < group_count; group++) {
        const __m128i counts = _mm_loadu_si128((const __m128i *)(histograms + 16 * group));
        const __m256i both = _mm256_broadcastsi128_si256(counts);
        const __m256i sums01 = _mm256_madd_epi16(_mm256_maddubs_epi16(both, lengths01), ones);
        const __m256i sums23 = _mm256_madd_epi16(_mm256_maddubs_epi16(both, lengths23), ones);
        const __m256i sums45 = _mm256_madd_epi16(_mm256_maddubs_epi16(both, lengths45), ones);
        const __m256i costs = _mm256_hadd_epi32(_mm256_hadd_epi32(sums01, sums23), _mm256_hadd_epi32(sums45, sums45));
        __m256i keys = _mm256_add_epi32(_mm256_slli_epi32(costs, 3), key_offsets);
        keys = _mm256_min_epu32(keys, _mm256_permute2x128_si256(keys, keys, 1));
        keys = _mm256_min_epu32(keys, _mm256_shuffle_epi32(keys, 0x4E));
        keys = _mm256_min_epu32(keys, _mm256_shuffle_epi32(keys, 0xB1));
        const unsigned best = (unsigned)_mm256_cvtsi256_si32(keys) & 7;
        selectors[group] = (uint8_t)best;
        uint32_t *row = frequencies + 16 * best;
        const __m256i low = _mm256_cvtepu8_epi32(counts);
        const __m256i high = _mm256_cvtepu8_epi32(_mm_srli_si128(counts, 8));
        _mm256_storeu_si256((__m256i *)row, _mm256_add_epi32(_mm256_loadu_si256((const __m256i *)row), low));
        _mm256_storeu_si256((__m256i *)(row + 8),
                            _mm256_add_epi32(_mm256_loadu_si256((const __m256i *)(row + 8)), high));
    }
}

bool qrng_cpu_has_avx512_vbmi(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vbmi");
}

// Move-to-front kept as ranks rather than a list: rank[x] is symbol x's position, so a step is a lookup of the
// symbol's rank (VPSHUFB with the symbol in every lane), a compare that adds one to the ranks below it and a zeroing
// of its own. That chain is about six cycles, against fourteen for the list's compare, mask, count and shuffle; a
// 128-bit lane per segment puts four segments in a register, and four registers keep four chains in flight. Every
// sixteen steps, sixteen bytes of each segment are numbered by a 256-entry table (two VPERMI2B and a blend on the
// top bit) and each step's symbols are spread across their lanes by VPERMB; positions are shifted into a register a
// step at a time (VPALIGNR) and stored sixteen at a time. Steps past the last whole sixteen go one at a time on the
// ranks in memory.
__attribute__((target("avx512f,avx512bw,avx512vbmi")))
static inline __m512i qrng_number_bytes(__m512i bytes, const __m512i table[4]) {
    const __m512i low = _mm512_permutex2var_epi8(table[0], bytes, table[1]);
    const __m512i high = _mm512_permutex2var_epi8(table[2], bytes, table[3]);
    return _mm512_mask_blend_epi8(_mm512_movepi8_mask(bytes), low, high);
}

__attribute__((target("avx512f,avx512bw,avx512vbmi")))
static inline __m512i qrng_four_segments(const uint8_t *column, size_t length, size_t offset) {
    __m512i bytes = _mm512_castsi128_si512(_mm_loadu_si128((const __m128i *)(column + offset)));
    bytes = _mm512_inserti32x4(bytes, _mm_loadu_si128((const __m128i *)(column + length + offset)), 1);
    bytes = _mm512_inserti32x4(bytes, _mm_loadu_si128((const __m128i *)(column + 2 * length + offset)), 2);
    return _mm512_inserti32x4(bytes, _mm_loadu_si128((const __m128i *)(column + 3 * length + offset)), 3);
}

#define QRNG_MTF_WIDE_SEGMENTS 16
__attribute__((target("avx512f,avx512bw,avx512vbmi")))
void qrng_mtf_positions_avx512(const uint8_t *column, size_t count, const uint8_t *lists, const uint8_t *numbers,
                               uint8_t *positions) {
    __m512i table[4];
    for (int part = 0; part < 4; part++) table[part] = _mm512_loadu_si512((const void *)(numbers + 64 * part));
    uint8_t ranks[QRNG_MTF_WIDE_SEGMENTS][16];
    for (int segment = 0; segment < QRNG_MTF_WIDE_SEGMENTS; segment++) {
        // Numbers no list holds keep rank 255, never below a position. Entries past the alphabet repeat the
        // front, so going backwards leaves the front's rank 0.
        for (int number = 0; number < 16; number++) ranks[segment][number] = 255;
        for (int index = 15; index >= 0; index--) ranks[segment][numbers[lists[16 * segment + index]]] = (uint8_t)index;
    }
    // Four registers of four segments: four chains of about six cycles in flight.
    __m512i rank[4];
    for (int group = 0; group < 4; group++) rank[group] = _mm512_loadu_si512((const void *)ranks[4 * group]);
    const size_t length = count / QRNG_MTF_WIDE_SEGMENTS;
    const size_t whole = length & ~(size_t)15;
    const __m512i ones = _mm512_set1_epi8(1);
    const __m512i lane_index =
        _mm512_broadcast_i32x4(_mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
    // Byte 16k + step of a register of numbered bytes in every byte of lane k: the step's symbol of each segment.
    const __m512i first_step = _mm512_set_epi64(0x3030303030303030, 0x3030303030303030, 0x2020202020202020,
                                                0x2020202020202020, 0x1010101010101010, 0x1010101010101010, 0, 0);
    for (size_t offset = 0; offset < whole; offset += 16) {
        __m512i symbols[4], out[4];
        for (int group = 0; group < 4; group++) {
            symbols[group] = qrng_number_bytes(qrng_four_segments(column + 4 * group * length, length, offset), table);
            out[group] = _mm512_setzero_si512();
        }
        __m512i step = first_step;
        for (int index = 0; index < 16; index++) {
            for (int group = 0; group < 4; group++) {
                const __m512i symbol = _mm512_permutexvar_epi8(step, symbols[group]);
                const __m512i position = _mm512_shuffle_epi8(rank[group], symbol);
                const __mmask64 below = _mm512_cmplt_epu8_mask(rank[group], position);
                const __mmask64 others = _mm512_cmpneq_epi8_mask(symbol, lane_index);
                const __m512i raised = _mm512_mask_add_epi8(rank[group], below, rank[group], ones);
                rank[group] = _mm512_maskz_mov_epi8(others, raised);
                out[group] = _mm512_alignr_epi8(position, out[group], 1);
            }
            step = _mm512_add_epi8(step, ones);
        }
        for (int group = 0; group < 4; group++) {
            uint8_t *target = positions + 4 * group * length + offset;
            _mm_storeu_si128((__m128i *)target, _mm512_extracti32x4_epi32(out[group], 0));
            _mm_storeu_si128((__m128i *)(target + length), _mm512_extracti32x4_epi32(out[group], 1));
            _mm_storeu_si128((__m128i *)(target + 2 * length), _mm512_extracti32x4_epi32(out[group], 2));
            _mm_storeu_si128((__m128i *)(target + 3 * length), _mm512_extracti32x4_epi32(out[group], 3));
        }
    }
    for (int group = 0; group < 4; group++) _mm512_storeu_si512((void *)ranks[4 * group], rank[group]);
    for (int segment = 0; segment < QRNG_MTF_WIDE_SEGMENTS; segment++) {
        const size_t end = segment == QRNG_MTF_WIDE_SEGMENTS - 1 ? count : (size_t)(segment + 1) * length;
        uint8_t *segment_ranks = ranks[segment];
        for (size_t index = (size_t)segment * length + whole; index < end; index++) {
            const uint8_t number = numbers[column[index]];
            const uint8_t position = segment_ranks[number];
            for (int other = 0; other < 16; other++) segment_ranks[other] += segment_ranks[other] < position;
            segment_ranks[number] = 0;
            positions[index] = position;
        }
    }
}

bool qrng_cpu_has_avx512_vbmi2(void) {
    __builtin_cpu_init();
    return qrng_cpu_has_avx512_vbmi() && __builtin_cpu_supports("avx512vbmi2") && __builtin_cpu_supports("bmi2");
}

// The digits of a run of r zeros are the bits of r + 1 below its top bit, least significant first, one to a byte:
// PDEP spreads them to the low bit of each byte. Codes of nine bits or more take a digit at a time.
__attribute__((target("bmi2")))
static inline size_t qrng_write_run_digits(uint8_t *values, size_t written, uint64_t run) {
    const uint64_t code = run + 1;
    const unsigned digits = 63 - (unsigned)__builtin_clzll(code);
    if (code < 256) {
        const uint64_t spread = _pdep_u64(code & ((1ULL << digits) - 1), 0x0101010101010101ULL);
        __builtin_memcpy(values + written, &spread, 8);
        return written + digits;
    }
    for (unsigned digit = 0; digit < digits; digit++) values[written + digit] = (uint8_t)(code >> digit & 1);
    return written + digits;
}

// Zero-run coding 64 positions at a time. A run of r zeros inside the 64 is replaced in place by its digits: they
// are never more than r, so they fit where the zeros were, and the positions after the digits are dropped by one
// VPCOMPRESSB with the nonzero positions (plus one). Runs of one to six zeros are found all at once with shifts
// of the zero mask (a start of k zeros and not k + 1) and give their one or two digits by mask; longer ones, rare
// in text, a run at a time. Zeros at the ends of the 64 join the runs across them, coded by the scalar digits.
__attribute__((target("avx512f,avx512bw,avx512vbmi,avx512vbmi2,bmi2")))
size_t qrng_bzip2_code_zero_runs_avx512(const uint8_t *positions, size_t count, uint8_t *values) {
    size_t written = 0;
    uint64_t run = 0;
    const __m512i ones = _mm512_set1_epi8(1);
    size_t base = 0;
    for (; base + 64 <= count; base += 64) {
        const __m512i chunk = _mm512_loadu_si512((const void *)(positions + base));
        const uint64_t nonzero = _mm512_test_epi8_mask(chunk, chunk);
        if (nonzero == 0) {
            run += 64;
            continue;
        }
        const unsigned first = (unsigned)__builtin_ctzll(nonzero);
        const unsigned last = 63 - (unsigned)__builtin_clzll(nonzero);
        written = qrng_write_run_digits(values, written, run + first);
        run = 63 - last;
        const uint64_t zero = ~nonzero & (~0ULL >> (63 - last)) & (~0ULL << first);
        const uint64_t at_least2 = zero & zero >> 1;
        const uint64_t at_least3 = at_least2 & zero >> 2;
        const uint64_t at_least4 = at_least3 & zero >> 3;
        const uint64_t at_least5 = at_least4 & zero >> 4;
        const uint64_t at_least6 = at_least5 & zero >> 5;
        const uint64_t at_least7 = at_least6 & zero >> 6;
        const uint64_t starts = zero & ~(zero << 1);
        const uint64_t one_digit = starts & ~at_least3;
        const uint64_t two_digits = starts & at_least3 & ~at_least7;
        const uint64_t runs2 = starts & at_least2 & ~at_least3;
        const uint64_t runs4 = starts & at_least4 & ~at_least5;
        const uint64_t runs5 = starts & at_least5 & ~at_least6;
        const uint64_t runs6 = starts & at_least6 & ~at_least7;
        uint64_t keep = nonzero | one_digit | two_digits | two_digits << 1;
        uint64_t digit_ones = runs2 | runs4 | runs5 << 1 | runs6 | runs6 << 1;
        for (uint64_t longer = starts & at_least7; longer != 0; longer &= longer - 1) {
            const unsigned start = (unsigned)__builtin_ctzll(longer);
            const uint64_t code = (uint64_t)__builtin_ctzll(nonzero >> start) + 1;
            const unsigned digits = 63 - (unsigned)__builtin_clzll(code);
            keep |= ((1ULL << digits) - 1) << start;
            digit_ones |= (code & ((1ULL << digits) - 1)) << start;
        }
        const __m512i coded = _mm512_mask_add_epi8(_mm512_maskz_mov_epi8(digit_ones, ones), nonzero, chunk, ones);
        _mm512_storeu_si512((void *)(values + written), _mm512_maskz_compress_epi8(keep, coded));
        written += (size_t)__builtin_popcountll(keep);
    }
    for (; base < count; base++) {
        if (positions[base] == 0) {
            run++;
        } else {
            written = qrng_write_run_digits(values, written, run);
            run = 0;
            values[written++] = (uint8_t)(positions[base] + 1);
        }
    }
    return qrng_write_run_digits(values, written, run);
}

bool qrng_cpu_has_avx512_bw(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("popcnt");
}

// A group's 50 values fit one register: the count of a value is the population count of one compare's mask, a few
// instructions for the whole group where adding one-hot rows costs a few per value.
__attribute__((target("avx512f,avx512bw,popcnt")))
void qrng_bzip2_group_histograms_avx512(const uint8_t *values, size_t count, size_t alphabet_size, uint8_t *rows,
                                        uint32_t *frequencies) {
    __m512i totals = _mm512_setzero_si512();
    const __m512i ones = _mm512_set1_epi8(1);
    for (size_t start = 0; start < count; start += 50, rows += 16) {
        const size_t size = count - start < 50 ? count - start : 50;
        const __mmask64 valid = (1ULL << size) - 1;
        const __m512i group = _mm512_maskz_loadu_epi8(valid, values + start);
        // The lanes past the group were loaded as zeros: the compares leave them out.
        _mm_storeu_si128((__m128i *)rows, _mm_setzero_si128());
        __m512i value = _mm512_setzero_si512();
        for (size_t number = 0; number < alphabet_size; number++) {
            rows[number] = (uint8_t)__builtin_popcountll(_mm512_mask_cmpeq_epi8_mask(valid, group, value));
            value = _mm512_add_epi8(value, ones);
        }
        totals = _mm512_add_epi32(totals, _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)rows)));
    }
    _mm512_storeu_si512((void *)frequencies, totals);
}

bool qrng_cpu_has_avx512_vnni(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vnni");
}

// The AVX2 table choice's work two groups at a time with VPDPBUSD, which multiplies four counts by four lengths and
// adds them to a 32-bit lane: with dword t of each half holding four lengths of table t, and VPERMD spreading four
// counts of one group over a half, four of them leave both groups' totals for all tables in lanes t and 8 + t,
// with no horizontal adds. The same keys (cost × 8 + table) make the first cheapest table the least.
__attribute__((target("avx512f,avx512bw,avx512vnni")))
void qrng_bzip2_choose_tables_avx512(const uint8_t *histograms, size_t group_count, const uint8_t *lengths,
                                     size_t table_count, uint32_t *frequencies, uint8_t *selectors) {
    __m512i table_lengths[4], spread[4];
    for (int block = 0; block < 4; block++) {
        uint32_t lanes[16];
        int32_t indices[16];
        for (int lane = 0; lane < 8; lane++) {
            uint32_t four = 0;
            if (lane < 6) __builtin_memcpy(&four, lengths + 16 * lane + 4 * block, 4);
            lanes[lane] = lanes[lane + 8] = four;
            indices[lane] = block;
            indices[lane + 8] = 4 + block;
        }
        table_lengths[block] = _mm512_loadu_si512((const void *)lanes);
        spread[block] = _mm512_loadu_si512((const void *)indices);
    }
    int32_t offsets[16];
    for (int lane = 0; lane < 8; lane++) {
        offsets[lane] = offsets[lane + 8] = lane + ((size_t)lane < table_count ? 0 : 1 << 24);
    }
    const __m512i key_offsets = _mm512_loadu_si512((const void *)offsets);
    // Neighbouring groups often pick the same table; adding their counts to one row would chain each addition to
    // the last through a store and a reload. Four sets of rows (by group number mod 4) break that chain.
    __m512i sums[4][6];
    for (int set = 0; set < 4; set++) {
        for (int table = 0; table < 6; table++) sums[set][table] = _mm512_setzero_si512();
    }
    for (size_t group = 0; group < group_count; group += 2) {
        const int pair = group + 1 < group_count;
        const __m512i counts =
            pair ? _mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(histograms + 16 * group)))
                 : _mm512_castsi128_si512(_mm_loadu_si128((const __m128i *)(histograms + 16 * group)));
        __m512i costs = _mm512_setzero_si512();
        for (int block = 0; block < 4; block++) {
            costs = _mm512_dpbusd_epi32(costs, _mm512_permutexvar_epi32(spread[block], counts), table_lengths[block]);
        }
        __m512i keys = _mm512_add_epi32(_mm512_slli_epi32(costs, 3), key_offsets);
        keys = _mm512_min_epu32(keys, _mm512_shuffle_epi32(keys, 0x4E));
        keys = _mm512_min_epu32(keys, _mm512_shuffle_epi32(keys, 0xB1));
        keys = _mm512_min_epu32(keys, _mm512_shuffle_i64x2(keys, keys, 0xB1));
        const unsigned first = (unsigned)_mm512_cvtsi512_si32(keys) & 7;
        selectors[group] = (uint8_t)first;
        __m512i *row = &sums[group & 2][first];
        *row = _mm512_add_epi32(*row, _mm512_cvtepu8_epi32(_mm512_castsi512_si128(counts)));
        if (pair) {
            const unsigned second = (unsigned)_mm_cvtsi128_si32(_mm512_extracti32x4_epi32(keys, 2)) & 7;
            selectors[group + 1] = (uint8_t)second;
            row = &sums[(group & 2) + 1][second];
            *row = _mm512_add_epi32(*row, _mm512_cvtepu8_epi32(_mm512_extracti32x4_epi32(counts, 1)));
        }
    }
    for (size_t table = 0; table < 6; table++) {
        const __m512i total = _mm512_add_epi32(_mm512_add_epi32(sums[0][table], sums[1][table]),
                                               _mm512_add_epi32(sums[2][table], sums[3][table]));
        _mm512_storeu_si512((void *)(frequencies + 16 * table),
                            _mm512_add_epi32(_mm512_loadu_si512((const void *)(frequencies + 16 * table)), total));
    }
}

#else

void qrng_mtf_positions_avx2(const uint8_t *column, size_t count, const uint8_t *lists, uint8_t *positions) {
    (void)column; (void)count; (void)lists; (void)positions;
    __builtin_trap();
}

void qrng_bzip2_choose_tables_avx2(const uint8_t *histograms, size_t group_count, const uint8_t *lengths,
                                   size_t table_count, uint32_t *frequencies, uint8_t *selectors) {
    (void)histograms; (void)group_count; (void)lengths; (void)table_count; (void)frequencies; (void)selectors;
    __builtin_trap();
}

bool qrng_cpu_has_avx512_vbmi(void) { return false; }

void qrng_mtf_positions_avx512(const uint8_t *column, size_t count, const uint8_t *lists, const uint8_t *numbers,
                               uint8_t *positions) {
    (void)column; (void)count; (void)lists; (void)numbers; (void)positions;
    __builtin_trap();
}

bool qrng_cpu_has_avx512_vbmi2(void) { return false; }

size_t qrng_bzip2_code_zero_runs_avx512(const uint8_t *positions, size_t count, uint8_t *values) {
    (void)positions; (void)count; (void)values;
    __builtin_trap();
}

bool qrng_cpu_has_avx512_bw(void) { return false; }

void qrng_bzip2_group_histograms_avx512(const uint8_t *values, size_t count, size_t alphabet_size, uint8_t *rows,
                                        uint32_t *frequencies) {
    (void)values; (void)count; (void)alphabet_size; (void)rows; (void)frequencies;
    __builtin_trap();
}

bool qrng_cpu_has_avx512_vnni(void) { return false; }

void qrng_bzip2_choose_tables_avx512(const uint8_t *histograms, size_t group_count, const uint8_t *lengths,
                                     size_t table_count, uint32_t *frequencies, uint8_t *selectors) {
    (void)histograms; (void)group_count; (void)lengths; (void)table_count; (void)frequencies; (void)selectors;
    __builtin_trap();
}

#endif

#include "CKMeansKernels.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

// Swift never fuses a multiply and an add on its own, and these kernels replaced Swift code:
// keep every product and sum separately rounded so that results do not depend on the level.
#pragma clang fp contract(off)

typedef float fk_f32x16 __attribute__((vector_size(64)));
typedef int32_t fk_i32x16 __attribute__((vector_size(64)));
typedef int8_t fk_i8x16 __attribute__((vector_size(16)));

typedef struct fk_kernel_table {
    float (*squared_norm)(const float *, long);
    float (*squared_distance)(const float *, const float *, long);
    float (*direct_score)(const float *, const float *, float, long);
    float (*score_and_distance)(const float *, const float *, float, long, float *);
    void (*fold_minimum)(const float *, long, const float *, long, int32_t, long, float *, float *, int32_t *);
    void (*block_dot_products)(const float *, const float *, long, long, float *);
    int (*yinyang_screen)(uint16_t *, const float *, long, float, uint8_t *);
    void (*yinyang_record)(uint16_t *, const float *, const float *, const int32_t *, int32_t, const uint8_t *, const uint8_t *,
                           long, float, float);
    void (*lower_by_drift)(float *, const float *, long);
    void (*half_to_float)(const void *, float *, long);
    void (*quantize_points)(const float *, long, long, long, long, uint8_t *, float *, float *, float *);
    void (*quantize_centroids)(const float *, long, long, long, int8_t *, float *, float *, float *, int32_t *);
    void (*int8_products)(const uint8_t *, long, long, const int8_t *, long, int32_t *, long);
    void (*screen_int8)(const int32_t *, long, long, int32_t, fk_screen_centroids, const float *, const float *, const float *,
                        const float *, long, long, int32_t *, float *, float *, int32_t *, float *);
    void (*candidate_potentials)(const int32_t *, long, long, long, const float *, const float *, const int32_t *, const float *,
                                 const float *, int, float *, double *);
    uint32_t (*largest_magnitude_bits)(const float *, long);
    void (*nearest_short_rows)(const float *, long, long, long, const float *, const float *, long, float *, float *, int32_t *);
    void (*squared_norms)(const float *, long, long, long, float *);
    void (*distances_to_labels)(const float *, long, long, long, const float *, const int32_t *, float *);
    int (*move_rows_exact)(const float *, long, long, long, const int32_t *, const int32_t *, double, int64_t *, long *);
    void (*group_lower_scores)(const int32_t *, long, long, fk_screen_centroids, const float *, const float *, const float *,
                               const float *, long, const int32_t *, long, float *, int32_t *, float *, float *, int32_t *);
} fk_kernel_table;

/// The float32 nearest to `value` from above: bounds computed in float64 stay bounds.
static inline float fk_round_up(double value) {
    float rounded = (float)value;
    return (double)rounded < value ? nextafterf(rounded, INFINITY) : rounded;
}

/// Rows of up to this many groups of four values are quantized through a buffer on the stack.
#define FK_QUANTIZE_GROUPS 256

// Loads and stores through memcpy: the data need no alignment, and no type punning is involved.
#define fk_load(pointer) ({ fk_f32x16 fk_v_; memcpy(&fk_v_, (pointer), sizeof fk_v_); fk_v_; })
#define fk_load_int(pointer) ({ fk_i32x16 fk_v_; memcpy(&fk_v_, (pointer), sizeof fk_v_); fk_v_; })
#define fk_store(pointer, value) do { fk_f32x16 fk_v_ = (value); memcpy((pointer), &fk_v_, sizeof fk_v_); } while (0)
#define fk_store_int(pointer, value) do { fk_i32x16 fk_v_ = (value); memcpy((pointer), &fk_v_, sizeof fk_v_); } while (0)
#define fk_load_half(pointer) ({ _Float16 fk_h_; memcpy(&fk_h_, (pointer), 2); fk_h_; })
#define fk_store_half(pointer, value) do { _Float16 fk_h_ = (value); memcpy((pointer), &fk_h_, 2); } while (0)
// Macros rather than functions: a function returning a 64-byte vector has a different ABI
// at each level.
#define fk_splat(value) ({ float fk_s_ = (value); fk_f32x16 fk_v_; \
    for (int fk_i_ = 0; fk_i_ < 16; fk_i_++) fk_v_[fk_i_] = fk_s_; fk_v_; })
#define fk_splat_int(value) ({ int32_t fk_s_ = (value); fk_i32x16 fk_v_; \
    for (int fk_i_ = 0; fk_i_ < 16; fk_i_++) fk_v_[fk_i_] = fk_s_; fk_v_; })
// Lane-wise `mask ? a : b` for a comparison mask (all bits set or clear per lane).
#define fk_select(mask, a, b) ((fk_f32x16)(((mask) & (fk_i32x16)(a)) | (~(mask) & (fk_i32x16)(b))))
// The screen's quick test: the largest error of any centroid for each row (raised by 2⁻²⁰)
// and the threshold above which a centroid's score can neither lower the best upper bound
// nor make it a candidate (plus 2⁻²⁰ of the bound, over the roundings of this test).
#define FK_LARGEST_SLACK(error, norm, c) \
    (((error) * (c).alpha_max + (norm) * (c).beta_max) + (c).gamma_max) * (1.0f + 0x1p-20f)
#define FK_THRESHOLD(upper, largest_slack) \
    ((upper) + (largest_slack) + fk_select((upper) < 0.0f, -(upper), (upper)) * 0x1p-20f)
// A centroid's screened score for 16 points from their raw integer sums, and the bound on
// its error (see QuantizedCentroids): the screen and Yinyang's bounds evaluate both alike.
#define FK_SCREENED_SCORE(raw, j, c, scale) ({ \
    fk_i32x16 fk_sum_ = (raw) - fk_splat_int(128 * (c).sums[j]); \
    fk_f32x16 fk_dot_ = ((scale) * (c).scales[j]) * __builtin_convertvector(fk_sum_, fk_f32x16); \
    (c).squared_norms[j] - (fk_dot_ + fk_dot_); })
#define FK_SCREEN_SLACK(j, c, error, norm, residual) \
    ((((error) * (c).alpha[j] + (norm) * (c).beta[j]) + (c).gamma[j]) + (residual) * (c).residuals[j])
// The lanes added one after another from −0, as Swift's SIMD `sum()` does.
#define fk_sum(lanes) ({ fk_f32x16 fk_l_ = (lanes); float fk_t_ = -0.0f; \
    for (int fk_i_ = 0; fk_i_ < 16; fk_i_++) fk_t_ += fk_l_[fk_i_]; fk_t_; })

#define FK_TARGET
#define FK_NAME(name) baseline_##name
#include "KernelBodies.inc"
#undef FK_TARGET
#undef FK_NAME

#if defined(__x86_64__)
#define FK_TARGET __attribute__((target("avx2,fma,f16c,bmi,bmi2,popcnt")))
#define FK_NAME(name) avx2_##name
#include "KernelBodies.inc"
#undef FK_TARGET
#undef FK_NAME

#define FK_TARGET __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma,f16c,bmi,bmi2,popcnt")))
#define FK_NAME(name) avx512_##name
#include "KernelBodies.inc"
#undef FK_TARGET
#undef FK_NAME
#endif

#if defined(__x86_64__)
// The integer products with AVX-512 VNNI: `vpdpbusd` adds four u8 × s8 products into each of
// 16 int32 lanes. A register tile of 6 centroids × 4 blocks of 16 points takes 24 of the 32
// vector registers; per group of 4 values it loads 4 point vectors (from L1: a 64-point
// panel of d = 384 is 24 KiB) and broadcasts 4 bytes of each centroid. Measured on Zen 4:
// 228 billion products a second per core, 4.4 times OpenBLAS's float32 `sgemm`.
#define FK_VNNI_CENTROIDS 6
#define FK_VNNI_TARGET __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx512vnni,avx2,fma,f16c,bmi,bmi2,popcnt")))

#define FK_VNNI_KERNEL(BLOCKS)                                                                                              \
    static FK_VNNI_TARGET void fk_vnni_panel_##BLOCKS(const uint8_t *points, long groups, const int8_t *centroids, long count, \
                                                      int32_t *out, long stride) {                                      \
        for (long first = 0; first < count; first += FK_VNNI_CENTROIDS) {                                                \
            __m512i sums[FK_VNNI_CENTROIDS][BLOCKS];                                                                     \
            const int8_t *rows[FK_VNNI_CENTROIDS];                                                                       \
            /* Past the last centroid, repeat it; those sums are not stored. */                                          \
            for (int a = 0; a < FK_VNNI_CENTROIDS; a++)                                                                  \
                rows[a] = centroids + (first + a < count ? first + a : count - 1) * groups * 4;                          \
            {                                                                                                            \
                __m512i values[BLOCKS];                                                                                  \
                for (int b = 0; b < BLOCKS; b++) values[b] = _mm512_loadu_si512(points + b * groups * 64);               \
                for (int a = 0; a < FK_VNNI_CENTROIDS; a++) {                                                            \
                    int32_t four;                                                                                        \
                    memcpy(&four, rows[a], 4);                                                                           \
                    __m512i broadcast = _mm512_set1_epi32(four);                                                         \
                    for (int b = 0; b < BLOCKS; b++)                                                                     \
                        sums[a][b] = _mm512_dpbusd_epi32(_mm512_setzero_si512(), values[b], broadcast);                  \
                }                                                                                                        \
            }                                                                                                            \
            for (long g = 1; g < groups; g++) {                                                                          \
                __m512i values[BLOCKS];                                                                                  \
                for (int b = 0; b < BLOCKS; b++) values[b] = _mm512_loadu_si512(points + (b * groups + g) * 64);         \
                for (int a = 0; a < FK_VNNI_CENTROIDS; a++) {                                                            \
                    int32_t four;                                                                                        \
                    memcpy(&four, rows[a] + g * 4, 4);                                                                   \
                    __m512i broadcast = _mm512_set1_epi32(four);                                                         \
                    for (int b = 0; b < BLOCKS; b++) sums[a][b] = _mm512_dpbusd_epi32(sums[a][b], values[b], broadcast); \
                }                                                                                                        \
            }                                                                                                            \
            /* Constant bounds, so that the loops unroll and the sums stay in registers. */                              \
            for (int a = 0; a < FK_VNNI_CENTROIDS; a++)                                                                  \
                if (first + a < count)                                                                                   \
                    for (int b = 0; b < BLOCKS; b++) _mm512_storeu_si512(out + (first + a) * stride + b * 16, sums[a][b]); \
        }                                                                                                                \
    }
FK_VNNI_KERNEL(1)
FK_VNNI_KERNEL(2)
FK_VNNI_KERNEL(3)
FK_VNNI_KERNEL(4)

static FK_VNNI_TARGET void fk_vnni_products(const uint8_t *packed, long point_blocks, long groups, const int8_t *centroids,
                                            long count, int32_t *out, long stride) {
    long block = 0;
    for (; block + 4 <= point_blocks; block += 4)
        fk_vnni_panel_4(packed + block * groups * 64, groups, centroids, count, out + block * 16, stride);
    const uint8_t *rest = packed + block * groups * 64;
    switch (point_blocks - block) {
    case 3: fk_vnni_panel_3(rest, groups, centroids, count, out + block * 16, stride); break;
    case 2: fk_vnni_panel_2(rest, groups, centroids, count, out + block * 16, stride); break;
    case 1: fk_vnni_panel_1(rest, groups, centroids, count, out + block * 16, stride); break;
    default: break;
    }
}

// The products and the screen fused: the same register tile as `fk_vnni_products`, and each
// 16-point vector of sums is screened while still in a register instead of going through a
// 1 MiB block in L2 (which cost the separate screen as much as a fifth of a pass).
#define FK_VNNI_SCREEN_KERNEL(BLOCKS)                                                                                       \
    static FK_VNNI_TARGET void fk_vnni_screen_panel_##BLOCKS(                                                               \
        const uint8_t *points, long groups, const int8_t *centroids, long count, int32_t first_label,                      \
        const fk_screen_centroids *c, const float *point_scales, const float *point_errors, const float *point_norms,       \
        const float *point_residuals, long first_point, long capacity, int32_t *counts, float *upper, float *lower, int32_t *labels,        \
        float *overflow) {                                                                                                 \
        /* The points' screen state lives in memory (L1) between centroid groups: in registers    */                       \
        /* it would push the 24 sums out of them.                                                 */                       \
        fk_f32x16 largest[BLOCKS], best[BLOCKS], threshold[BLOCKS];                                                        \
        fk_f32x16 scale[BLOCKS], error[BLOCKS], norm[BLOCKS], raised[BLOCKS];                                              \
        for (int b = 0; b < BLOCKS; b++) {                                                                                  \
            long point = first_point + b * 16;                                                                              \
            scale[b] = fk_load(point_scales + point);                                                                       \
            error[b] = fk_load(point_errors + point);                                                                       \
            norm[b] = fk_load(point_norms + point);                                                                         \
            /* ρ_x raised by 2⁻²⁰ for the roundings of the sums it enters. */                                               \
            raised[b] = fk_load(point_residuals + point) * (1.0f + 0x1p-20f);                                               \
            largest[b] = FK_LARGEST_SLACK(fk_load(point_errors + point), fk_load(point_norms + point), *c);                \
            best[b] = fk_load(upper + point);                                                                               \
            threshold[b] = FK_THRESHOLD(best[b], largest[b]);                                                               \
        }                                                                                                                   \
        for (long first = 0; first < count; first += FK_VNNI_CENTROIDS) {                                                  \
            __m512i sums[FK_VNNI_CENTROIDS][BLOCKS];                                                                        \
            const int8_t *rows[FK_VNNI_CENTROIDS];                                                                          \
            for (int a = 0; a < FK_VNNI_CENTROIDS; a++)                                                                     \
                rows[a] = centroids + (first + a < count ? first + a : count - 1) * groups * 4;                             \
            /* The first group starts the sums (zeroing them first turns into a memset of a stack */                      \
            /* copy that the compiler keeps for the epilogue). */                                                           \
            {                                                                                                               \
                __m512i values[BLOCKS];                                                                                     \
                for (int b = 0; b < BLOCKS; b++) values[b] = _mm512_loadu_si512(points + b * groups * 64);                  \
                for (int a = 0; a < FK_VNNI_CENTROIDS; a++) {                                                               \
                    int32_t four;                                                                                           \
                    memcpy(&four, rows[a], 4);                                                                              \
                    __m512i broadcast = _mm512_set1_epi32(four);                                                            \
                    for (int b = 0; b < BLOCKS; b++)                                                                        \
                        sums[a][b] = _mm512_dpbusd_epi32(_mm512_setzero_si512(), values[b], broadcast);                     \
                }                                                                                                           \
            }                                                                                                               \
            for (long g = 1; g < groups; g++) {                                                                             \
                __m512i values[BLOCKS];                                                                                     \
                for (int b = 0; b < BLOCKS; b++) values[b] = _mm512_loadu_si512(points + (b * groups + g) * 64);            \
                for (int a = 0; a < FK_VNNI_CENTROIDS; a++) {                                                               \
                    int32_t four;                                                                                           \
                    memcpy(&four, rows[a] + g * 4, 4);                                                                      \
                    __m512i broadcast = _mm512_set1_epi32(four);                                                            \
                    for (int b = 0; b < BLOCKS; b++) sums[a][b] = _mm512_dpbusd_epi32(sums[a][b], values[b], broadcast);    \
                }                                                                                                           \
            }                                                                                                               \
            /* The quick tests of all the tile's vectors first, against each block's threshold as */   \
            /* this group began. A vector that fails it has every lane's low and high bounds above */   \
            /* the best upper bound as the group began, and the best bound only falls, so its step */ \
            /* would change nothing later either; the others run the step, which tests again. */      \
            /* Testing inside the steps kept the sums on the stack: 6% slower on 43,742 real rows. */  \
            __mmask16 passed[FK_VNNI_CENTROIDS][BLOCKS];                                                                    \
            __mmask16 anyPassed = 0;                                                                                         \
            for (int a = 0; a < FK_VNNI_CENTROIDS; a++) {                                                                   \
                long j = first + a < count ? first + a : count - 1;                                                          \
                for (int b = 0; b < BLOCKS; b++) {                                                                          \
                    fk_f32x16 score = FK_SCREENED_SCORE((fk_i32x16)sums[a][b], j, *c, scale[b]);                             \
                    fk_f32x16 limit = threshold[b] + raised[b] * c->residuals[j];                                            \
                    passed[a][b] = first + a < count ? _mm512_cmp_ps_mask((__m512)score, (__m512)limit, _CMP_LE_OQ) : 0;    \
                    anyPassed |= passed[a][b];                                                                               \
                }                                                                                                           \
            }                                                                                                               \
            if (anyPassed)                                                                                                  \
                for (int a = 0; a < FK_VNNI_CENTROIDS; a++)                                                                 \
                    for (int b = 0; b < BLOCKS; b++)                                                                        \
                        if (passed[a][b]) {                                                                                 \
                            fk_i32x16 vector = (fk_i32x16)sums[a][b];                                                       \
                            avx512_screen_step(&vector, first + a, first_label, c, &scale[b], &error[b], &norm[b], &raised[b], \
                                               &largest[b], &best[b], &threshold[b], first_point + b * 16, capacity, counts,  \
                                               lower, labels, overflow);                                                    \
                        }                                                                                                   \
        }                                                                                                                   \
        for (int b = 0; b < BLOCKS; b++) fk_store(upper + first_point + b * 16, best[b]);                                  \
    }
FK_VNNI_SCREEN_KERNEL(1)
FK_VNNI_SCREEN_KERNEL(2)
FK_VNNI_SCREEN_KERNEL(3)
FK_VNNI_SCREEN_KERNEL(4)

static FK_VNNI_TARGET void fk_vnni_screen(const uint8_t *packed, long point_blocks, long groups, const int8_t *centroids, long count,
                                          int32_t first_label, const fk_screen_centroids *c, const float *scales,
                                          const float *errors, const float *norms, const float *residuals, long capacity, int32_t *counts,
                                          float *upper, float *lower, int32_t *labels, float *overflow) {
    long block = 0;
    for (; block + 4 <= point_blocks; block += 4)
        fk_vnni_screen_panel_4(packed + block * groups * 64, groups, centroids, count, first_label, c, scales, errors, norms,
                               residuals, block * 16, capacity, counts, upper, lower, labels, overflow);
    const uint8_t *rest = packed + block * groups * 64;
    switch (point_blocks - block) {
    case 3: fk_vnni_screen_panel_3(rest, groups, centroids, count, first_label, c, scales, errors, norms, residuals, block * 16, capacity, counts, upper, lower, labels, overflow); break;
    case 2: fk_vnni_screen_panel_2(rest, groups, centroids, count, first_label, c, scales, errors, norms, residuals, block * 16, capacity, counts, upper, lower, labels, overflow); break;
    case 1: fk_vnni_screen_panel_1(rest, groups, centroids, count, first_label, c, scales, errors, norms, residuals, block * 16, capacity, counts, upper, lower, labels, overflow); break;
    default: break;
    }
}

// The integer products without VNNI, for AVX2 machines (and AVX-512 ones without VNNI).
// `vpmaddubsw` would multiply the bytes directly but saturates its 16-bit pair sums
// (255 · 127 · 2 > 32767), so each 16-point block is widened to int16 once and `vpmaddwd`
// multiplies int16 pairs into exact int32 sums: the same integers as VNNI's, hence the same
// screen. A 16-point block of a 192-value prefix is 6 KiB as int16, in L1 for every centroid.
// Two centroids × 16 points take 8 of the 16 vector registers (two partial sums per point).
#define FK_AVX2_TARGET __attribute__((target("avx2,fma,f16c,bmi,bmi2,popcnt")))

/// One packed block (`groups` × 16 points × 4 bytes) widened to int16 in the same order.
static FK_AVX2_TARGET void fk_avx2_widen_block(const uint8_t *packed, long groups, int16_t *wide) {
    for (long index = 0; index < groups * 64; index += 16)
        _mm256_storeu_si256((__m256i *)(wide + index), _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(packed + index))));
}

/// Four int8 values as int16, repeated across the register: one group of a centroid.
static FK_AVX2_TARGET inline __attribute__((always_inline)) __m256i fk_avx2_centroid_group(const int8_t *values) {
    int32_t four;
    memcpy(&four, values, 4);
    return _mm256_broadcastq_epi64(_mm_cvtepi8_epi16(_mm_cvtsi32_si128(four)));
}

/// The two partial sums of each point (lanes 2i, 2i + 1 of a register hold point i of its
/// four) folded into 16 sums in point order.
static FK_AVX2_TARGET inline __attribute__((always_inline)) void fk_avx2_fold_pairs(const __m256i partial[4], fk_i32x16 *sums) {
    // hadd works within 128-bit halves: points 0, 1, 4, 5 | 2, 3, 6, 7; the permute restores the order.
    __m256i low = _mm256_permute4x64_epi64(_mm256_hadd_epi32(partial[0], partial[1]), 0xd8);
    __m256i high = _mm256_permute4x64_epi64(_mm256_hadd_epi32(partial[2], partial[3]), 0xd8);
    memcpy(sums, &low, 32);
    memcpy((char *)sums + 32, &high, 32);
}

/// The integer sums of one widened block with centroids `first` and `second` (which may be
/// the same).
static FK_AVX2_TARGET inline __attribute__((always_inline)) void fk_avx2_block_sums(const int16_t *wide, long groups,
                                                                                     const int8_t *first, const int8_t *second,
                                                                                     fk_i32x16 *first_sums, fk_i32x16 *second_sums) {
    __m256i a[4], b[4];
    for (int q = 0; q < 4; q++) a[q] = b[q] = _mm256_setzero_si256();
    for (long g = 0; g < groups; g++) {
        __m256i c0 = fk_avx2_centroid_group(first + g * 4), c1 = fk_avx2_centroid_group(second + g * 4);
        for (int q = 0; q < 4; q++) {
            __m256i points = _mm256_loadu_si256((const __m256i *)(wide + g * 64 + q * 16));
            a[q] = _mm256_add_epi32(a[q], _mm256_madd_epi16(points, c0));
            b[q] = _mm256_add_epi32(b[q], _mm256_madd_epi16(points, c1));
        }
    }
    fk_avx2_fold_pairs(a, first_sums);
    fk_avx2_fold_pairs(b, second_sums);
}

static FK_AVX2_TARGET void fk_avx2_products(const uint8_t *packed, long point_blocks, long groups, const int8_t *centroids,
                                            long count, int32_t *out, long stride) {
    int16_t stack[64 * FK_QUANTIZE_GROUPS];
    int16_t *wide = groups <= FK_QUANTIZE_GROUPS ? stack : malloc((size_t)(groups * 64) * 2);
    for (long block = 0; block < point_blocks; block++) {
        fk_avx2_widen_block(packed + block * groups * 64, groups, wide);
        for (long j = 0; j < count; j += 2) {
            long other = j + 1 < count ? j + 1 : j;
            fk_i32x16 first_sums, second_sums;
            fk_avx2_block_sums(wide, groups, centroids + j * groups * 4, centroids + other * groups * 4, &first_sums, &second_sums);
            memcpy(out + j * stride + block * 16, &first_sums, sizeof first_sums);
            if (other != j) memcpy(out + other * stride + block * 16, &second_sums, sizeof second_sums);
        }
    }
    if (wide != stack) free(wide);
}

/// `fk_avx2_products` and `screen_int8` fused, block by block: the sums go from registers
/// straight into the screen.
static FK_AVX2_TARGET void fk_avx2_screen(const uint8_t *packed, long point_blocks, long groups, const int8_t *centroids, long count,
                                          int32_t first_label, const fk_screen_centroids *c, const float *point_scales,
                                          const float *point_errors, const float *point_norms, const float *point_residuals,
                                          long capacity, int32_t *counts, float *upper, float *lower, int32_t *labels, float *overflow) {
    int16_t stack[64 * FK_QUANTIZE_GROUPS];
    int16_t *wide = groups <= FK_QUANTIZE_GROUPS ? stack : malloc((size_t)(groups * 64) * 2);
    for (long block = 0; block < point_blocks; block++) {
        fk_avx2_widen_block(packed + block * groups * 64, groups, wide);
        long point = block * 16;
        fk_f32x16 best = fk_load(upper + point);
        const fk_f32x16 scale = fk_load(point_scales + point), error = fk_load(point_errors + point);
        const fk_f32x16 norm = fk_load(point_norms + point);
        const fk_f32x16 residual = fk_load(point_residuals + point) * (1.0f + 0x1p-20f);
        const fk_f32x16 largest = FK_LARGEST_SLACK(error, norm, *c);
        fk_f32x16 threshold = FK_THRESHOLD(best, largest);
        for (long j = 0; j < count; j += 2) {
            long other = j + 1 < count ? j + 1 : j;
            fk_i32x16 first_sums, second_sums;
            fk_avx2_block_sums(wide, groups, centroids + j * groups * 4, centroids + other * groups * 4, &first_sums, &second_sums);
            avx2_screen_step(&first_sums, j, first_label, c, &scale, &error, &norm, &residual, &largest, &best, &threshold, point,
                             capacity, counts, lower, labels, overflow);
            if (other != j)
                avx2_screen_step(&second_sums, other, first_label, c, &scale, &error, &norm, &residual, &largest, &best, &threshold,
                                 point, capacity, counts, lower, labels, overflow);
        }
        fk_store(upper + point, best);
    }
    if (wide != stack) free(wide);
}
#endif

static fk_int8_speed_class fk_int8_products_speed = FK_INT8_SLOW;
static int fk_int8_kernel_available(fk_int8_speed_class kernel);
static void fk_run_int8_products(fk_int8_speed_class kernel, const uint8_t *packed, long point_blocks, long groups,
                                 const int8_t *centroids, long count, int32_t *out, long stride);
static void fk_run_screen_tile(fk_int8_speed_class kernel, const uint8_t *packed, long point_blocks, long groups,
                               const int8_t *centroids, long count, int32_t first_label, const fk_screen_centroids *c,
                               const float *point_scales, const float *point_errors, const float *point_norms,
                               const float *point_residuals, long capacity, int32_t *counts, float *upper, float *lower,
                               int32_t *labels, float *overflow, int32_t *products, long stride);

int fk_level_supported(fk_simd_level level) {
    switch (level) {
    case FK_SIMD_BASELINE:
        return 1;
#if defined(__x86_64__)
    case FK_SIMD_AVX2:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c")
            && __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("popcnt");
    case FK_SIMD_AVX512:
        return fk_level_supported(FK_SIMD_AVX2) && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
            && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
#endif
    default:
        return 0;
    }
}

const char *fk_level_name(fk_simd_level level) {
    switch (level) {
    case FK_SIMD_AVX2: return "avx2";
    case FK_SIMD_AVX512: return "avx512";
    default:
#if defined(__x86_64__)
        return "sse2";
#elif defined(__aarch64__)
        return "neon";
#else
        return "baseline";
#endif
    }
}

static fk_simd_level fk_chosen_level = FK_SIMD_BASELINE;
static const fk_kernel_table *fk_table = &baseline_table;

// Runs when the binary (or library) loads, before any Swift code, so the table never
// changes while kernels run.
__attribute__((constructor)) static void fk_choose_kernels(void) {
    fk_simd_level level = FK_SIMD_BASELINE;
    for (int candidate = FK_SIMD_AVX512; candidate > FK_SIMD_BASELINE; candidate--) {
        if (fk_level_supported((fk_simd_level)candidate)) { level = (fk_simd_level)candidate; break; }
    }
    const char *requested = getenv("FLASHKMEANS_SIMD");
    if (requested) {
        for (int candidate = FK_SIMD_BASELINE; candidate <= FK_SIMD_AVX512; candidate++) {
            const char *name = fk_level_name((fk_simd_level)candidate);
            int matches = strcmp(requested, name) == 0 || (candidate == FK_SIMD_BASELINE && strcmp(requested, "baseline") == 0);
            if (matches && candidate < (int)level) level = (fk_simd_level)candidate;
        }
    }
    fk_chosen_level = level;
#if defined(__x86_64__)
    if (level == FK_SIMD_AVX512) fk_table = &avx512_table;
    else if (level == FK_SIMD_AVX2) fk_table = &avx2_table;
    // The integer kernels with their own instructions: VNNI at the AVX-512 level only, so
    // that capping the level at AVX2 runs the AVX2 kernels.
    if (level == FK_SIMD_AVX512 && fk_int8_kernel_available(FK_INT8_VNNI)) fk_int8_products_speed = FK_INT8_VNNI;
    else if (level >= FK_SIMD_AVX2) fk_int8_products_speed = FK_INT8_AVX2;
#endif
}

fk_int8_speed_class fk_int8_speed(void) { return fk_int8_products_speed; }

fk_simd_level fk_active_level(void) { return fk_chosen_level; }

float fk_squared_norm(const float *row, long dimension) { return fk_table->squared_norm(row, dimension); }
float fk_squared_distance(const float *a, const float *b, long dimension) { return fk_table->squared_distance(a, b, dimension); }
float fk_direct_score(const float *row, const float *centroid, float centroid_squared_norm, long dimension) {
    return fk_table->direct_score(row, centroid, centroid_squared_norm, dimension);
}
float fk_score_and_distance(const float *row, const float *centroid, float centroid_squared_norm, long dimension,
                            float *squared_distance) {
    return fk_table->score_and_distance(row, centroid, centroid_squared_norm, dimension, squared_distance);
}
void fk_fold_minimum(const float *cross, long stride, const float *norms, long count, int32_t first_label, long padded_rows,
                     float *best, float *second, int32_t *labels) {
    fk_table->fold_minimum(cross, stride, norms, count, first_label, padded_rows, best, second, labels);
}
void fk_block_dot_products(const float *block, const float *candidates, long count, long dimension, float *output) {
    fk_table->block_dot_products(block, candidates, count, dimension, output);
}
int fk_yinyang_screen(uint16_t *bounds, const float *drift, long group_count, float upper, uint8_t *candidates) {
    return fk_table->yinyang_screen(bounds, drift, group_count, upper, candidates);
}
void fk_yinyang_record(uint16_t *bounds, const float *best, const float *second, const int32_t *labels, int32_t label,
                       const uint8_t *candidates, const uint8_t *non_empty, long group_count, float norm_floor, float score_error) {
    fk_table->yinyang_record(bounds, best, second, labels, label, candidates, non_empty, group_count, norm_floor, score_error);
}
void fk_lower_by_drift(float *bounds, const float *drift, long count) { fk_table->lower_by_drift(bounds, drift, count); }
void fk_half_to_float(const void *source, float *destination, long count) { fk_table->half_to_float(source, destination, count); }
void fk_quantize_points(const float *rows, long row_stride, long count, long dimension, long groups, uint8_t *packed,
                        float *scales, float *errors, float *norms) {
    fk_table->quantize_points(rows, row_stride, count, dimension, groups, packed, scales, errors, norms);
}
void fk_quantize_centroids(const float *rows, long count, long dimension, long groups, int8_t *quantized, float *scales,
                           float *errors, float *norms, int32_t *sums) {
    fk_table->quantize_centroids(rows, count, dimension, groups, quantized, scales, errors, norms, sums);
}
void fk_int8_products(const uint8_t *packed, long point_blocks, long groups, const int8_t *centroids, long count,
                      int32_t *out, long stride) {
    fk_run_int8_products(fk_int8_products_speed, packed, point_blocks, groups, centroids, count, out, stride);
}
void fk_screen_int8(const int32_t *products, long stride, long count, int32_t first_label, fk_screen_centroids centroids,
                    const float *point_scales, const float *point_errors, const float *point_norms,
                    const float *point_residuals, long padded_points, long capacity, int32_t *counts, float *upper, float *lower,
                    int32_t *labels, float *overflow) {
    fk_table->screen_int8(products, stride, count, first_label, centroids, point_scales, point_errors, point_norms,
                          point_residuals, padded_points, capacity, counts, upper, lower, labels, overflow);
}

void fk_screen_tile(const uint8_t *packed, long point_blocks, long groups, const int8_t *centroids, long count, int32_t first_label,
                    fk_screen_centroids centroids_terms, const float *point_scales, const float *point_errors,
                    const float *point_norms, const float *point_residuals, long capacity, int32_t *counts, float *upper, float *lower,
                    int32_t *labels, float *overflow, int32_t *products, long stride) {
    fk_run_screen_tile(fk_int8_products_speed, packed, point_blocks, groups, centroids, count, first_label, &centroids_terms,
                       point_scales, point_errors, point_norms, point_residuals, capacity, counts, upper, lower, labels, overflow,
                       products, stride);
}

/// Whether `kernel` runs on this CPU.
static int fk_int8_kernel_available(fk_int8_speed_class kernel) {
    switch (kernel) {
    case FK_INT8_SLOW: return 1;
#if defined(__x86_64__)
    case FK_INT8_AVX2: return fk_level_supported(FK_SIMD_AVX2);
    case FK_INT8_VNNI: return fk_level_supported(FK_SIMD_AVX512) && __builtin_cpu_supports("avx512vnni");
#endif
    default: return 0;
    }
}

// The kernels by class, for one the CPU has (checked once at start-up, or by the `_using` hooks).
static void fk_run_int8_products(fk_int8_speed_class kernel, const uint8_t *packed, long point_blocks, long groups,
                                 const int8_t *centroids, long count, int32_t *out, long stride) {
    switch (kernel) {
#if defined(__x86_64__)
    case FK_INT8_AVX2: fk_avx2_products(packed, point_blocks, groups, centroids, count, out, stride); break;
    case FK_INT8_VNNI: fk_vnni_products(packed, point_blocks, groups, centroids, count, out, stride); break;
#endif
    default: fk_table->int8_products(packed, point_blocks, groups, centroids, count, out, stride); break;
    }
}

static void fk_run_screen_tile(fk_int8_speed_class kernel, const uint8_t *packed, long point_blocks, long groups,
                               const int8_t *centroids, long count, int32_t first_label, const fk_screen_centroids *c,
                               const float *point_scales, const float *point_errors, const float *point_norms,
                               const float *point_residuals, long capacity, int32_t *counts, float *upper, float *lower,
                               int32_t *labels, float *overflow, int32_t *products, long stride) {
    switch (kernel) {
#if defined(__x86_64__)
    case FK_INT8_AVX2:
        fk_avx2_screen(packed, point_blocks, groups, centroids, count, first_label, c, point_scales, point_errors, point_norms,
                       point_residuals, capacity, counts, upper, lower, labels, overflow);
        break;
    case FK_INT8_VNNI:
        fk_vnni_screen(packed, point_blocks, groups, centroids, count, first_label, c, point_scales, point_errors, point_norms,
                       point_residuals, capacity, counts, upper, lower, labels, overflow);
        break;
#endif
    default:
        fk_table->int8_products(packed, point_blocks, groups, centroids, count, products, stride);
        fk_table->screen_int8(products, stride, count, first_label, *c, point_scales, point_errors, point_norms, point_residuals,
                              point_blocks * 16, capacity, counts, upper, lower, labels, overflow);
        break;
    }
}

int fk_int8_products_using(fk_int8_speed_class kernel, const uint8_t *packed, long point_blocks, long groups,
                           const int8_t *centroids, long count, int32_t *out, long stride) {
    if (!fk_int8_kernel_available(kernel)) return 0;
    fk_run_int8_products(kernel, packed, point_blocks, groups, centroids, count, out, stride);
    return 1;
}

int fk_screen_tile_using(fk_int8_speed_class kernel, const uint8_t *packed, long point_blocks, long groups,
                         const int8_t *centroids, long count, int32_t first_label, fk_screen_centroids centroids_terms,
                         const float *point_scales, const float *point_errors, const float *point_norms,
                         const float *point_residuals, long capacity, int32_t *counts, float *upper, float *lower,
                         int32_t *labels, float *overflow, int32_t *products, long stride) {
    if (!fk_int8_kernel_available(kernel)) return 0;
    fk_run_screen_tile(kernel, packed, point_blocks, groups, centroids, count, first_label, &centroids_terms, point_scales,
                       point_errors, point_norms, point_residuals, capacity, counts, upper, lower, labels, overflow, products,
                       stride);
    return 1;
}
void fk_screen_products(const int32_t *products, long stride, long count, int32_t first_label, fk_screen_centroids centroids_terms,
                        const float *point_scales, const float *point_errors, const float *point_norms,
                        const float *point_residuals, long padded_points, long capacity, int32_t *counts, float *upper,
                        float *lower, int32_t *labels, float *overflow) {
    fk_table->screen_int8(products, stride, count, first_label, centroids_terms, point_scales, point_errors, point_norms,
                          point_residuals, padded_points, capacity, counts, upper, lower, labels, overflow);
}
void fk_candidate_potentials(const int32_t *products, long stride, long count, long rows, const float *row_scales,
                             const float *row_norms, const int32_t *candidate_sums, const float *candidate_scales,
                             const float *candidate_norms, int update_first, float *closest, double *sums) {
    fk_table->candidate_potentials(products, stride, count, rows, row_scales, row_norms, candidate_sums, candidate_scales,
                                   candidate_norms, update_first, closest, sums);
}
uint32_t fk_largest_magnitude_bits(const float *values, long count) { return fk_table->largest_magnitude_bits(values, count); }


void fk_nearest_short_rows(const float *rows, long row_stride, long count, long dimension, const float *centroids,
                           const float *norms, long centroid_count, float *best, float *second, int32_t *labels) {
    fk_table->nearest_short_rows(rows, row_stride, count, dimension, centroids, norms, centroid_count, best, second, labels);
}
void fk_squared_norms(const float *rows, long row_stride, long count, long dimension, float *norms) {
    fk_table->squared_norms(rows, row_stride, count, dimension, norms);
}
void fk_distances_to_labels(const float *rows, long row_stride, long count, long dimension, const float *centroids,
                            const int32_t *labels, float *distances) {
    fk_table->distances_to_labels(rows, row_stride, count, dimension, centroids, labels, distances);
}
int fk_move_rows_exact(const float *rows, long row_stride, long count, long dimension, const int32_t *old_labels,
                       const int32_t *new_labels, double scale, int64_t *words, long *counts) {
    return fk_table->move_rows_exact(rows, row_stride, count, dimension, old_labels, new_labels, scale, words, counts);
}

void fk_normalize_exact(int64_t *words, long dimension, long clusters) {
    for (long cluster = 0; cluster < clusters; cluster++) {
        int64_t *low = words + cluster * 3 * dimension, *middle = low + dimension, *high = middle + dimension;
        for (long index = 0; index < dimension; index++) {
            // Arithmetic shifts: floor division by 2^31, so the lower digits end in [0, 2^31).
            middle[index] += low[index] >> 31;
            low[index] &= 0x7fffffff;
            high[index] += middle[index] >> 31;
            middle[index] &= 0x7fffffff;
        }
    }
}

void fk_exact_to_double(const int64_t *words, long dimension, long clusters, double inverse_scale, double *sums) {
    for (long cluster = 0; cluster < clusters; cluster++) {
        const int64_t *low = words + cluster * 3 * dimension, *middle = low + dimension, *high = middle + dimension;
        for (long index = 0; index < dimension; index++)
            sums[cluster * dimension + index] =
                ((double)high[index] * 0x1p62 + (double)middle[index] * 0x1p31 + (double)low[index]) * inverse_scale;
    }
}

void fk_add_exact_floats(const float *values, long count, int64_t *words) {
    for (long index = 0; index < count; index++) {
        uint32_t bits;
        memcpy(&bits, values + index, 4);
        uint32_t exponent = (bits >> 23) & 0xff;
        // Infinities and NaNs never reach here (rows are checked); capped to stay in bounds.
        if (exponent == 0xff) exponent = 0xfe;
        uint64_t mantissa = bits & 0x7fffff;
        if (exponent != 0) mantissa |= 0x800000;
        // The value is mantissa × 2^(position − 149): bit `position` of a 277-bit integer.
        long position = exponent != 0 ? (long)exponent - 1 : 0;
        uint64_t shifted = mantissa << (position % 31);
        int64_t low = (int64_t)(shifted & 0x7fffffff), high = (int64_t)(shifted >> 31);
        if (bits >> 31) {
            low = -low;
            high = -high;
        }
        words[position / 31] += low;
        words[position / 31 + 1] += high;
    }
    fk_normalize_exact_float_total(words);
}

void fk_normalize_exact_float_total(int64_t *words) {
    for (int word = 0; word + 1 < FK_EXACT_FLOAT_WORDS; word++) {
        words[word + 1] += words[word] >> 31;
        words[word] &= 0x7fffffff;
    }
}

double fk_exact_float_total(const int64_t *words) {
    double total = 0;
    for (int word = FK_EXACT_FLOAT_WORDS - 1; word >= 0; word--) total += ldexp((double)words[word], 31 * word - 149);
    return total;
}

void fk_group_lower_scores(const int32_t *products, long stride, long count, fk_screen_centroids centroids,
                           const float *point_scales, const float *point_errors, const float *point_norms,
                           const float *point_residuals, long points, const int32_t *group_of, long group_count, float *state,
                           int32_t *state_labels, float *best, float *second, int32_t *labels) {
    fk_table->group_lower_scores(products, stride, count, centroids, point_scales, point_errors, point_norms, point_residuals,
                                 points, group_of, group_count, state, state_labels, best, second, labels);
}

void fk_pack_quantized_rows(const int8_t *rows, long row_stride, long count, long groups, uint8_t *packed) {
    for (long first = 0; first < count; first += 16) {
        uint32_t *out = (uint32_t *)(packed + (first / 16) * groups * 64);
        for (int lane = 0; lane < 16; lane++) {
            long row = first + lane;
            if (row < count) {
                const int8_t *values = rows + row * row_stride;
                for (long g = 0; g < groups; g++) {
                    uint32_t four;
                    memcpy(&four, values + g * 4, 4);
                    // q + 128 is q with its top bit flipped.
                    out[g * 16 + lane] = four ^ 0x80808080u;
                }
            } else {
                for (long g = 0; g < groups; g++) out[g * 16 + lane] = 0x80808080u;
            }
        }
    }
}

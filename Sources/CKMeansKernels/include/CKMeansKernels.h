#pragma once
// The engine's few hot loops that need CPU-specific SIMD, compiled in C for several x86-64
// levels (baseline SSE2, AVX2 with F16C, AVX-512) and chosen once at load time from what the
// CPU supports. Swift cannot compile one function for several CPUs, and `-target-cpu native`
// is an unsafe flag that would stop other packages from depending on FlashKMeans.
//
// Every function gives bit-identical results at every level: the arithmetic is written in a
// fixed order, with no fused multiply-adds (`#pragma clang fp contract(off)` in the sources)
// and no reassociation, exactly as the Swift code it replaced evaluated it. Rows and vectors
// need no particular alignment.
//
// Shapes and roles are given per parameter: (in) is only read, (out) only written, (inout) both.

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// A SIMD level the kernels are compiled for.
typedef enum fk_simd_level {
    FK_SIMD_BASELINE = 0,  ///< SSE2 on x86-64; NEON on arm64 (the only level there).
    FK_SIMD_AVX2 = 1,      ///< AVX2 with FMA and F16C (x86-64-v3).
    FK_SIMD_AVX512 = 2,    ///< AVX-512 F/BW/DQ/VL (x86-64-v4).
} fk_simd_level;

/// The level in use: the best this CPU supports, capped by the environment variable
/// `FLASHKMEANS_SIMD` (`baseline`, `avx2` or `avx512`) when it is set.
fk_simd_level fk_active_level(void);
/// The level's name, as reports print it.
const char *fk_level_name(fk_simd_level level);
/// Whether this CPU (and build) can run `level`.
int fk_level_supported(fk_simd_level level);

/// `‖row‖²` in float32: 16 running lane sums over whole blocks of 16, the lanes added in
/// order, then the tail one by one.
/// - row: `dimension` floats (in).
float fk_squared_norm(const float *row, long dimension);

/// `‖a − b‖²` in float32, in the same order as `fk_squared_norm`.
/// - a, b: `dimension` floats each (in).
float fk_squared_distance(const float *a, const float *b, long dimension);

/// The score `‖c‖² − 2 x·c` from a direct dot product, summed in the same order as
/// `fk_squared_norm`.
/// - row, centroid: `dimension` floats each (in).
float fk_direct_score(const float *row, const float *centroid, float centroid_squared_norm, long dimension);

/// `sums[i] += row[i]` in float64.
/// - row: `dimension` floats (in); sums: `dimension` doubles (inout).
void fk_add_row(const float *row, double *sums, long dimension);

/// Folds `count` rows of a centroid-major cross-product block into every point's running
/// best score, second-best score and best label. The score of centroid j for point i is
/// `norms[j] − 2 cross[j·stride + i]`; a strictly smaller score replaces the best, so ties
/// keep the earlier (lower) label.
/// - cross: `count × stride` (in); norms: `count` (in); best, second: `padded_rows` (inout);
///   labels: `padded_rows` (inout). `padded_rows` is a multiple of 16, at most `stride`.
void fk_fold_minimum(const float *cross, long stride, const float *norms, long count, int32_t first_label,
                     long padded_rows, float *best, float *second, int32_t *labels);

/// `x·c` for the 16 rows of one block stored dimension by dimension (row r, value j at
/// `block[16 j + r]`) against `count` candidates, each summed over j in order.
/// - block: `16 × dimension` (in); candidates: `count × dimension`, row-major (in);
///   output: `count × 16`, `output[16 s + r]` (out).
void fk_block_dot_products(const float *block, const float *candidates, long count, long dimension, float *output);

/// Yinyang's per-pass screen of one point: each group bound falls by the group's drift,
/// rounded down into float16, and a group is a candidate unless its new bound exceeds
/// `upper`. Returns whether any group is a candidate.
/// - bounds: `group_count` float16 bit patterns (inout); drift: `group_count` (in);
///   candidates: `group_count` flags, 1 = needed (out).
int fk_yinyang_screen(uint16_t *bounds, const float *drift, long group_count, float upper, uint8_t *candidates);

/// Yinyang's bounds of one examined point from its per-group best and second-best scores:
/// a rigorous lower bound on the distance to every centroid of the group other than the
/// point's own, rounded down into float16, written for the groups that were compared
/// (`candidates[g] & non_empty[g]`).
/// - bounds: `group_count` float16 bit patterns (inout); best, second, labels: `group_count`
///   (in); candidates, non_empty: `group_count` flags (in).
void fk_yinyang_record(uint16_t *bounds, const float *best, const float *second, const int32_t *labels, int32_t label,
                       const uint8_t *candidates, const uint8_t *non_empty, long group_count,
                       float norm_floor, float score_error);

/// Elkan's bound update: `bounds[j] = l − |l| 2⁻²²` with `l = bounds[j] − drift[j]`, so the
/// float32 subtraction's rounding cannot lift a bound.
/// - bounds: `count` (inout); drift: `count` (in).
void fk_lower_by_drift(float *bounds, const float *drift, long count);

/// float16 (as bit patterns, at any byte alignment) to float32, exactly.
/// - source: `count` (in); destination: `count` (out).
void fk_half_to_float(const void *source, float *destination, long count);

#ifdef __cplusplus
}
#endif

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

/// `fk_direct_score` (returned) and `fk_squared_distance` (into `squared_distance`, out) of
/// one pair, bit-identical to the two calls, in one read of both rows.
float fk_score_and_distance(const float *row, const float *centroid, float centroid_squared_norm, long dimension,
                            float *squared_distance);

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

/// The longest rows `fk_nearest_short_rows` takes.
#define FK_SHORT_ROW_DIMENSION_LIMIT 16

/// The nearest centroid of `count` rows of at most `FK_SHORT_ROW_DIMENSION_LIMIT` values,
/// without a cross-product block: for each row the smallest score `norms[j] − 2 x·c_j`, the
/// smallest of any other centroid, and the label of the smallest (ties keep the lower label),
/// as `fk_fold_minimum` leaves them after every centroid. Each `x·c` is summed over the
/// dimension in order.
/// - rows: `count` rows, `row_stride` floats apart (in); centroids: `centroid_count × dimension`
///   (in); norms: `centroid_count` (in); best, second, labels: `count` rounded up to 16 (out).
void fk_nearest_short_rows(const float *rows, long row_stride, long count, long dimension, const float *centroids,
                           const float *norms, long centroid_count, float *best, float *second, int32_t *labels);

/// `fk_squared_norm` of each of `count` rows, `row_stride` floats apart, into `norms` (out).
void fk_squared_norms(const float *rows, long row_stride, long count, long dimension, float *norms);

/// `fk_squared_distance` of each row to the centroid its label names, into `distances` (out).
/// - centroids: `k × dimension` (in); labels: `count` (in).
void fk_distances_to_labels(const float *rows, long row_stride, long count, long dimension, const float *centroids,
                            const int32_t *labels, float *distances);

/// Exact cluster sums: every value is placed on a fixed grid, `value × scale` rounded toward
/// zero to an integer below 2^93 in magnitude, and kept as three base-2^31 digits, each
/// summed in an int64 word. Integer sums are associative, so the total is the same to the
/// bit however the rows are split over threads, slices and ranks, and a row can be taken out
/// of one cluster and into another without recomputing either.
/// Words are laid out per cluster as `[low digits of d values][middle][high]`.
///
/// Moves each row whose label changed from `old_labels` to `new_labels`: its digits out of
/// the old cluster's words and into the new one's; with `old_labels` NULL, every row is
/// added. Each call adds less than 2^31 to a word per row: normalize before 2^32 rows.
/// - old_labels, new_labels: `count` (in); words: `k × 3 × dimension` (inout); counts: `k` (inout).
/// - Returns: 1 if a moved value was at or past 2^92 on the grid (its digits are then capped,
///   and the sums wrong), else 0.
int fk_move_rows_exact(const float *rows, long row_stride, long count, long dimension, const int32_t *old_labels,
                       const int32_t *new_labels, double scale, int64_t *words, long *counts);

/// Carries each value's low and middle words into the next, leaving them in `[0, 2^31)`:
/// after it, equal totals have equal words.
void fk_normalize_exact(int64_t *words, long dimension, long clusters);

/// Normalized words as float64 sums, `(high·2^62 + middle·2^31 + low) × inverse_scale`.
/// - sums: `clusters × dimension` (out).
void fk_exact_to_double(const int64_t *words, long dimension, long clusters, double inverse_scale, double *sums);

/// Words of an exact total of any float32 values (a 277-bit integer in units of 2^-149, as
/// base-2^31 digits): squared distances summed into the inertia without rounding.
#define FK_EXACT_FLOAT_WORDS 10

/// Adds `count` finite values into `words` (`FK_EXACT_FLOAT_WORDS`), then normalizes them.
void fk_add_exact_floats(const float *values, long count, int64_t *words);

/// Carries each word into the next, leaving all but the top one in `[0, 2^31)`.
void fk_normalize_exact_float_total(int64_t *words);

/// A normalized exact total as the float64 nearest to it, give or take the last bit.
double fk_exact_float_total(const int64_t *words);

/// float16 (as bit patterns, at any byte alignment) to float32, exactly.
/// - source: `count` (in); destination: `count` (out).
void fk_half_to_float(const void *source, float *destination, long count);

#ifdef __cplusplus
}
#endif

// MARK: Integer screening
//
// A dense pass can rank centroids with 8-bit products first (4× the multiply rate of float32
// on CPUs with AVX-512 VNNI, about 1× with AVX2's 16-bit multiply-adds, where only a screen
// over a prefix of rotated coordinates pays) and compute exact float32/float64 distances only for the few
// centroids whose screened score is within its proven error of the best. Rows and centroids
// are quantized per row: x ≈ s·q with integer q in [−127, 127], s = max|x|/127.

#ifdef __cplusplus
extern "C" {
#endif

/// How fast the integer products run here.
typedef enum fk_int8_speed_class {
    /// In plain C: correct, slower than float32 `sgemm`.
    FK_INT8_SLOW = 0,
    /// AVX2 16-bit multiply-adds: about as fast as float32 per product.
    FK_INT8_AVX2 = 1,
    /// AVX-512 VNNI: about four times float32.
    FK_INT8_VNNI = 2,
} fk_int8_speed_class;
fk_int8_speed_class fk_int8_speed(void);

/// Quantizes `count` rows into the interleaved layout `fk_int8_products` reads: blocks of 16
/// rows, each block `groups × 64` bytes, byte `(g × 16 + lane) × 4 + j` holding value
/// `4g + j` of row `16 block + lane`, stored as q + 128. Values past `dimension` and rows
/// past `count` (up to a multiple of 16) are stored as 128 (zero).
/// - rows: `count` rows of `dimension` floats, `row_stride` floats apart (in).
/// - packed: `⌈count/16⌉ × groups × 64` bytes (out); `groups = ⌈dimension/4⌉`.
/// - scales: s per row (out). errors: an upper bound on ‖x − s q‖ (out). norms: an upper
///   bound on ‖s q‖ (out). Each `count` long.
void fk_quantize_points(const float *rows, long row_stride, long count, long dimension, long groups, uint8_t *packed,
                        float *scales, float *errors, float *norms);

/// Quantizes `count` centroids row by row, `groups × 4` bytes each (zero past `dimension`).
/// - rows: `count × dimension`, row-major (in). quantized: `count × groups × 4` (out).
/// - scales, errors, norms: as for points (out). sums: Σ q per row (out).
void fk_quantize_centroids(const float *rows, long count, long dimension, long groups, int8_t *quantized, float *scales,
                           float *errors, float *norms, int32_t *sums);

/// Integer products of packed points and quantized centroids, centroid-major like the
/// float32 block: `out[j × stride + i] = Σ (q_x + 128) q_c` over the `groups × 4` values.
/// - packed: `point_blocks` blocks of 16 points (in). centroids: `count × groups × 4` (in).
/// - out: `count × stride`, `stride ≥ 16 point_blocks` (out).
void fk_int8_products(const uint8_t *packed, long point_blocks, long groups, const int8_t *centroids, long count,
                      int32_t *out, long stride);

/// What the screen needs of each centroid: its integer row sum, scale, squared norm and the
/// three coefficients of its score error, `E = e_x α + ‖x̃‖ β + γ` (see KernelBodies.inc).
typedef struct fk_screen_centroids {
    const int32_t *sums;
    const float *scales;
    const float *squared_norms;
    const float *alpha;
    const float *beta;
    const float *gamma;
    /// For a screen over a prefix of rotated coordinates: `2ρ_c`, raised like α, where ρ_c
    /// bounds the norm of the centroid's coordinates past the prefix (zero for a full screen).
    /// A row's score error gains `ρ_x · 2ρ_c` (Cauchy–Schwarz on the rest of the product).
    const float *residuals;
    /// The largest α, β and γ of the pass: with each centroid's residual term, a row's
    /// largest error, for a quick test that rules most centroids out with fewer operations.
    float alpha_max;
    float beta_max;
    float gamma_max;
} fk_screen_centroids;

/// Candidates each point's full screen keeps: where more are left, the point is compared with
/// every centroid in float32. Sixteen keep that rare for 128-d token embeddings with k = 4096
/// (four sent a tenth of the rows there).
#define FK_SCREEN_CANDIDATES 16
/// Candidates a prefix screen keeps: its bounds are looser (the coordinates past the prefix
/// enter only through their norms), so more centroids survive. On real 384-d sentence
/// embeddings with the 160-value prefix it picks, k = 1024, a row keeps 4-5 on average and
/// one in a thousand more than 64 (with 128 values: 7-8, and 2.4% more than 64).
#define FK_PREFIX_SCREEN_CANDIDATES 64

/// Folds one tile of integer products into every point's screen: `upper` is the smallest
/// upper bound seen on a true score `‖c‖² − 2x·c`, and each point keeps the `capacity` smallest
/// lower bounds (ascending, with their labels) of the centroids whose lower bound was not
/// above `upper` when seen; `overflow` is the smallest lower bound that did not fit. At the
/// end, the nearest centroid is among the listed ones whose lower bound is at most `upper`,
/// unless `overflow` is at most `upper` too.
/// - products: `count × stride` (in). centroids: offset to this tile's first centroid (in).
/// - point scales, errors, norms, residuals (ρ_x, zero for a full screen): `padded_points` each (in).
/// - upper: `padded_points` (inout). lower: `padded_points × capacity` (inout). labels: likewise
///   (inout). overflow: `padded_points` (inout). `padded_points` is a multiple of 16.
/// - counts: `NULL` to keep each list sorted (smallest lower bounds first, for an upper bound
///   that starts at infinity), or `padded_points` list lengths (inout): candidates are then
///   appended as seen, for an upper bound seeded from an exact score; entries whose lower
///   bound ended above `upper` are still listed and must be skipped.
void fk_screen_int8(const int32_t *products, long stride, long count, int32_t first_label, fk_screen_centroids centroids,
                    const float *point_scales, const float *point_errors, const float *point_norms,
                    const float *point_residuals, long padded_points, long capacity, int32_t *counts, float *upper, float *lower,
                    int32_t *labels, float *overflow);

/// k-means++'s potentials from integer products: for each of `rows` rows and `count`
/// candidates, `D² = max(0, (‖x‖² + ‖c‖²) − 2 s_x s_c (p − 128 Σq_c))`, and per candidate
/// `Σ_r min(closest[r], D²)` into `sums`: in float64, rows r ≡ i (mod 16) summed in row order
/// into 16 partial sums, added in order of i, then the rows past the last multiple of 16, so
/// that the result is the same at every SIMD level. With `update_first`, candidate 0 is the
/// centroid chosen last: `closest` becomes `min(closest, D²)` first, in place, and the other
/// candidates are compared with the updated values.
/// - products: `count × stride` (in). row_scales, row_norms: `rows` (in). The candidate
///   arrays: `count` (in). closest: `rows` (in, and out with `update_first`). sums: `count` (out).
void fk_candidate_potentials(const int32_t *products, long stride, long count, long rows, const float *row_scales,
                             const float *row_norms, const int32_t *candidate_sums, const float *candidate_scales,
                             const float *candidate_norms, int update_first, float *closest, double *sums);

/// The bits of the largest `|values[i]|` (sign bit cleared): compare with 0x7f800000 for a
/// non-finite value, or read as a float for the largest magnitude.
uint32_t fk_largest_magnitude_bits(const float *values, long count);

/// `fk_int8_products` and `fk_screen_int8` in one: with AVX-512 VNNI or AVX2 the products are
/// screened while still in registers and `products` is not used; elsewhere they go through
/// `products` (`count × stride`, scratch).
void fk_screen_tile(const uint8_t *packed, long point_blocks, long groups, const int8_t *centroids, long count, int32_t first_label,
                    fk_screen_centroids centroids_terms, const float *point_scales, const float *point_errors,
                    const float *point_norms, const float *point_residuals, long capacity, int32_t *counts, float *upper, float *lower,
                    int32_t *labels, float *overflow, int32_t *products, long stride);

/// `fk_int8_products` and `fk_screen_tile` on a given kernel rather than this CPU's fastest,
/// for tests: every kernel must give the same sums and the same screen. Return 0, doing
/// nothing, where the CPU lacks the kernel's instructions.
int fk_int8_products_using(fk_int8_speed_class kernel, const uint8_t *packed, long point_blocks, long groups,
                           const int8_t *centroids, long count, int32_t *out, long stride);
int fk_screen_tile_using(fk_int8_speed_class kernel, const uint8_t *packed, long point_blocks, long groups,
                         const int8_t *centroids, long count, int32_t first_label, fk_screen_centroids centroids_terms,
                         const float *point_scales, const float *point_errors, const float *point_norms,
                         const float *point_residuals, long capacity, int32_t *counts, float *upper, float *lower,
                         int32_t *labels, float *overflow, int32_t *products, long stride);

/// `fk_screen_tile`'s screen from integer sums already computed (`products`, `count` rows of
/// `stride`, as `fk_int8_products` writes them) for `padded_points` rows: for a pass that also
/// reads the sums for other ends (Yinyang's bounds).
void fk_screen_products(const int32_t *products, long stride, long count, int32_t first_label, fk_screen_centroids centroids_terms,
                        const float *point_scales, const float *point_errors, const float *point_norms,
                        const float *point_residuals, long padded_points, long capacity, int32_t *counts, float *upper,
                        float *lower, int32_t *labels, float *overflow);

/// Yinyang's bounds from a screen: for `points` rows (terms as for `fk_screen_int8`, from
/// the first), the screen's lower bound on each of `count` centroids' scores from their
/// integer sums (`products`, `count` rows of `stride`, as `fk_int8_products` writes them),
/// folded per group (`group_of`, one per centroid) into the smallest, the second smallest
/// and the centroid of the smallest (out: `best`, `second`, `labels`, `group_count` per row).
/// `state` (`2 × group_count × 16` floats) and `state_labels` (`group_count × 16`) are scratch.
void fk_group_lower_scores(const int32_t *products, long stride, long count, fk_screen_centroids centroids,
                           const float *point_scales, const float *point_errors, const float *point_norms,
                           const float *point_residuals, long points, const int32_t *group_of, long group_count, float *state,
                           int32_t *state_labels, float *best, float *second, int32_t *labels);

/// Interleaves `count` rows already quantized (row-major int8, `groups × 4` bytes each,
/// `row_stride` bytes apart) into the layout `fk_quantize_points` writes, rows past `count`
/// up to a multiple of 16 as zero: for rows whose quantized values are kept between passes.
/// - packed: `⌈count/16⌉ × groups × 64` bytes (out).
void fk_pack_quantized_rows(const int8_t *rows, long row_stride, long count, long groups, uint8_t *packed);

#ifdef __cplusplus
}
#endif

#include "CKMeansKernels.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

// Swift never fuses a multiply and an add on its own, and these kernels replaced Swift code:
// keep every product and sum separately rounded so that results do not depend on the level.
#pragma clang fp contract(off)

typedef float fk_f32x16 __attribute__((vector_size(64)));
typedef int32_t fk_i32x16 __attribute__((vector_size(64)));

typedef struct fk_kernel_table {
    float (*squared_norm)(const float *, long);
    float (*squared_distance)(const float *, const float *, long);
    float (*direct_score)(const float *, const float *, float, long);
    void (*add_row)(const float *, double *, long);
    void (*fold_minimum)(const float *, long, const float *, long, int32_t, long, float *, float *, int32_t *);
    void (*block_dot_products)(const float *, const float *, long, long, float *);
    int (*yinyang_screen)(uint16_t *, const float *, long, float, uint8_t *);
    void (*yinyang_record)(uint16_t *, const float *, const float *, const int32_t *, int32_t, const uint8_t *, const uint8_t *,
                           long, float, float);
    void (*lower_by_drift)(float *, const float *, long);
    void (*half_to_float)(const void *, float *, long);
} fk_kernel_table;

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
#endif
}

fk_simd_level fk_active_level(void) { return fk_chosen_level; }

float fk_squared_norm(const float *row, long dimension) { return fk_table->squared_norm(row, dimension); }
float fk_squared_distance(const float *a, const float *b, long dimension) { return fk_table->squared_distance(a, b, dimension); }
float fk_direct_score(const float *row, const float *centroid, float centroid_squared_norm, long dimension) {
    return fk_table->direct_score(row, centroid, centroid_squared_norm, dimension);
}
void fk_add_row(const float *row, double *sums, long dimension) { fk_table->add_row(row, sums, dimension); }
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

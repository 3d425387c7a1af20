import CKMeansKernels

/// The instruction set the engine's hot loops (the `CKMeansKernels` C target) run with.
///
/// The loops are compiled for several levels and the best one the CPU supports is picked
/// when the library loads, so one portable binary runs everywhere and still uses wide
/// vectors where they exist. Every level gives bit-identical results. Setting the
/// environment variable `FLASHKMEANS_SIMD` to `baseline`, `avx2` or `avx512` before the
/// process starts caps the level (for comparisons and tests).
public enum SIMDKernels {
    /// `sse2`, `avx2` or `avx512` on x86-64; `neon` on arm64.
    public static var level: String {
        String(cString: fk_level_name(fk_active_level()))
    }
}

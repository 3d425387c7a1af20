import CKMeansKernels

/// Whether dense comparisons rank centroids with exact 8-bit integer products before the
/// float32 and float64 checks that settle labels. Results are identical either way: the
/// screen only rules out centroids its proven error bound shows to be farther.
public enum Screening: String, CaseIterable, Sendable, Codable {
    /// Screen where it is faster: on CPUs with AVX-512 VNNI (whose integer products run
    /// four times as fast as float32 `sgemm`), for rows of at least ``minimumDimension``
    /// values and at least ``minimumProducts`` values per row times centroids; on AVX2
    /// CPUs, for rows of at least ``minimumDimensionWithoutVNNI`` values (and as many
    /// products), and only in passes with a prefix screen.
    case auto
    /// Compare in float32 only.
    case off
    /// Screen always, even where the integer products run in plain C (slower); for tests
    /// and comparisons.
    case on

    /// Below this many values per row, or this many values per row times centroids, the
    /// screen's per-row quantization and exact checks cost more than the faster products
    /// save. Measured per Lloyd iteration, screened against float32 (AVX-512 VNNI, 2 threads):
    /// real 384-d sentence embeddings (43,742 rows) 22.6 against 27.3 ms at k = 128 but
    /// 13.4 against 10.8 ms at k = 32; SIFT (10,000 × 128) 6.5 against 8.0 ms at k = 512
    /// but 6.9 against 4.8 ms at k = 128; 64,000 × 8 blobs 25.7 against 3.1 ms at k = 128.
    public static let minimumDimension = 128
    /// Without VNNI (AVX2), 16-bit integer products run about as fast as float32 ones, so the
    /// screen pays only through the prefix screen's shorter rows, which take at most half a
    /// row. Measured per 20-iteration run against float32 (Zen 4 limited to AVX2, 2 threads):
    /// 43,742 real 384-d sentence embeddings, k = 1024, 3.2-3.6 s against 4.9-5.2 s; 262,144
    /// 128-d token embeddings, k = 4096, 10 iterations, 20.7 s against 13.1 s.
    public static let minimumDimensionWithoutVNNI = 256
    public static let minimumProducts = 32_768
    /// A slice stops screening for the rest of a pass once more than this fraction of the
    /// rows it screened fell back to float32 (after ``giveUpProbeRows`` rows). A row that
    /// falls back costs the screen plus about 1.5 float32 rows, so past about 40% the
    /// screen is slower than float32 alone: on isotropic Gaussian data (200k × 384,
    /// k = 1024) 98% of rows fell back and a screened pass took 1.9 times a float32 one.
    public static let giveUpFallbackFraction = 1.0 / 3
    /// Rows a slice screens before it judges the screen, at the start of each pass. Real
    /// embeddings fall back on 0-4% of rows, far from the limit, so a small probe decides as
    /// well as a tile's worth, and costs a quarter of a 512-row tile in each slice where the
    /// screen does not pay.
    public static let giveUpProbeRows = 128
    /// Rows up to this length keep the integer sums exact in 32 bits (255 × 127 × d < 2³¹).
    public static let maximumDimension = 32_768

    /// Whether a run over `dimension`-long rows with `clusterCount` centroids screens.
    public func isEnabled(clusterCount: Int, dimension: Int) -> Bool {
        guard dimension <= Self.maximumDimension else { return false }
        switch self {
        case .off: return false
        case .on: return true
        case .auto:
            let speed = fk_int8_speed()
            guard speed != FK_INT8_SLOW, dimension * clusterCount >= Self.minimumProducts else { return false }
            return dimension >= (speed == FK_INT8_VNNI ? Self.minimumDimension : Self.minimumDimensionWithoutVNNI)
        }
    }
}

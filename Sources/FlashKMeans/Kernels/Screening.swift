import CKMeansKernels

/// Whether dense comparisons rank centroids with exact 8-bit integer products before the
/// float32 and float64 checks that settle labels. Results are identical either way: the
/// screen only rules out centroids its proven error bound shows to be farther.
public enum Screening: String, CaseIterable, Sendable, Codable {
    /// Screen where it is faster: on CPUs with AVX-512 VNNI (whose integer products run
    /// four times as fast as float32 `sgemm`), for at least ``minimumClusterCount`` centroids.
    case auto
    /// Compare in float32 only.
    case off
    /// Screen always, even where the integer products run in plain C (slower); for tests
    /// and comparisons.
    case on

    /// Below this many centroids the screen's per-row quantization costs more than the
    /// faster products save.
    public static let minimumClusterCount = 32
    /// A slice stops screening for the rest of a pass once more than this fraction of the
    /// rows it screened fell back to float32 (after ``giveUpProbeRows`` rows). A row that
    /// falls back costs the screen plus about 1.5 float32 rows, so past about 40% the
    /// screen is slower than float32 alone: on isotropic Gaussian data (200k × 384,
    /// k = 1024) 98% of rows fell back and a screened pass took 1.9 times a float32 one.
    public static let giveUpFallbackFraction = 1.0 / 3
    /// Rows a slice screens before it judges the screen; a pass's first tiles per slice.
    public static let giveUpProbeRows = 512
    /// Rows up to this length keep the integer sums exact in 32 bits (255 × 127 × d < 2³¹).
    public static let maximumDimension = 32_768

    /// Whether a run over `dimension`-long rows with `clusterCount` centroids screens.
    public func isEnabled(clusterCount: Int, dimension: Int) -> Bool {
        guard dimension <= Self.maximumDimension else { return false }
        switch self {
        case .off: return false
        case .on: return true
        case .auto: return fk_int8_fast() != 0 && clusterCount >= Self.minimumClusterCount
        }
    }
}

/// What one Lloyd iteration did.
public struct IterationStats: Sendable, Codable, Equatable {
    /// 1-based.
    public var iteration: Int
    /// `Σ ‖x − c(x)‖²` with the centroids this iteration started from.
    public var inertia: Double
    /// Rows whose label changed in this iteration's assignment.
    public var reassigned: Int
    /// Rows whose two nearest centroids were within float32 rounding of each other and
    /// were re-ranked in float64 (see the README's note on exactness).
    public var ambiguousRows: Int
    /// Empty clusters re-seeded in this iteration's update.
    public var emptyClustersReseeded: Int
    /// Largest distance any centroid moved in this iteration's update (0 when the run stopped here).
    public var maxCentroidShift: Double
    /// Fraction of the `n × k` point–centroid distances computed (1 for Lloyd).
    public var distanceFraction: Double
    /// Points that passed the global filter and were compared with some centroids (n for Lloyd).
    public var examinedPoints: Int
    /// Whether bound pruning was on in this iteration (off in the first iterations,
    /// while many labels still change, and for Lloyd).
    public var pruning: Bool
    /// Bytes of bounds held.
    public var boundBytes: Int
    /// Bound invariants verified in this iteration; non-zero only in debug builds,
    /// which check every bound before it is used (`KMEANS_INTERNAL_CHECKS`).
    public var invariantChecks: Int
    public var seconds: Double
}

/// Why the iterations stopped.
public enum StopReason: String, Sendable, Codable {
    /// An assignment left every label unchanged.
    case converged
    /// The relative inertia decrease fell below the tolerance.
    case tolerance
    /// The iteration limit was reached; a final assignment made the labels match the centroids.
    case maxIterations = "max-iterations"
}

/// Memory figures read from `/proc/self/status` (zero where unavailable).
public struct MemoryReport: Sendable, Codable, Equatable {
    /// `VmHWM`: the peak resident set, mapped file pages included.
    public var peakResidentBytes: Int
    /// The largest `RssAnon` seen at the checkpoints (after initialization and after each pass).
    public var peakAnonymousBytes: Int
    /// `RssFile` at the end: pages of the mapped input (and libraries) in memory.
    public var fileBackedBytes: Int
    /// Anonymous memory the engine itself holds: labels, distances, scratch, slice sums.
    public var engineWorkingBytes: Int
}

/// The outcome of ``KMeans/fit(_:configuration:progress:)``.
public struct KMeansResult: Sendable {
    /// `k × d`, row-major.
    public var centroids: [Float]
    /// The nearest centroid of every row, computed with `centroids`.
    public var labels: [Int32]
    /// `Σ ‖x − c(x)‖²` for `labels` and `centroids`.
    public var inertia: Double
    public var clusterCount: Int
    public var dimension: Int
    public var iterations: [IterationStats]
    public var stopReason: StopReason
    /// Rows k-means++ ran on (0 for other initializations).
    public var initializationSampleSize: Int
    public var initializationSeconds: Double
    public var totalSeconds: Double
    public var plan: TilePlan
    /// Bytes of per-thread kernel scratch.
    public var scratchBytesPerThread: Int
    public var memory: MemoryReport
    /// The OpenBLAS kernel family in use.
    public var blasCore: String
    /// The algorithm used, and why (for `auto`, including any fallback to Lloyd).
    public var algorithm: AlgorithmChoice
    /// Rows the centroids were trained on: n, or the sample that `maxPointsPerCentroid` asked for.
    public var trainingRowCount: Int

    public var emptyClustersReseeded: Int { iterations.reduce(0) { $0 + $1.emptyClustersReseeded } }

    /// How evenly the rows spread over the clusters.
    public var balance: ClusterBalance { ClusterBalance(labels: labels, clusterCount: clusterCount) }
}

/// Cluster sizes, and faiss's imbalance factor `k · Σ nᵢ² / n²` (1 when every cluster
/// has n / k rows; larger means longer inverted lists to scan in an IVF index).
public struct ClusterBalance: Sendable, Codable, Equatable {
    public var smallest: Int
    public var median: Int
    public var largest: Int
    public var emptyClusters: Int
    public var imbalanceFactor: Double

    public init(labels: [Int32], clusterCount: Int) {
        var sizes = [Int](repeating: 0, count: clusterCount)
        for label in labels { sizes[Int(label)] += 1 }
        sizes.sort()
        smallest = sizes.first ?? 0
        median = sizes.isEmpty ? 0 : sizes[sizes.count / 2]
        largest = sizes.last ?? 0
        emptyClusters = sizes.prefix { $0 == 0 }.count
        let rows = Double(labels.count)
        imbalanceFactor = rows == 0 ? 0 : Double(clusterCount) * sizes.reduce(0.0) { $0 + Double($1) * Double($1) } / (rows * rows)
    }
}

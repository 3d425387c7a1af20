/// The outcome of ``KMeans/fit(_:configuration:progress:)``.
public struct KMeansResult: Sendable {
    /// `k × d`, row-major. Under ``Metric/cosine``, unit vectors.
    public var centroids: [Float]
    /// The nearest centroid of every row, computed with `centroids`: n labels, one per
    /// input row even when the run trained on a sample (<doc:Exactness>).
    public var labels: [Int32]
    /// `Σ ‖x − c(x)‖²` for `labels` and `centroids`, over every row, summed in float64.
    /// Under ``Metric/cosine``, between the normalized rows and centroids.
    public var inertia: Double
    /// k.
    public var clusterCount: Int
    /// d, the length of every row and centroid.
    public var dimension: Int
    /// One entry per iteration run, in order.
    public var iterations: [IterationStats]
    /// Why the iterations stopped.
    public var stopReason: StopReason
    /// Rows k-means++ ran on (0 for other initializations).
    public var initializationSampleSize: Int
    /// Wall-clock seconds from the start of the run until the initial centroids were
    /// ready: validation, the training sample, and k-means++ or the gathering of random rows.
    public var initializationSeconds: Double
    /// Wall-clock seconds of the whole run, initialization and the final labeling of
    /// every row included.
    public var totalSeconds: Double
    /// The tiles, slices and threads of the training passes.
    public var plan: TilePlan
    /// Bytes of per-thread kernel scratch.
    public var scratchBytesPerThread: Int
    /// Memory of the process over the run: peaks, and file-backed pages at the end.
    public var memory: MemoryReport
    /// The OpenBLAS kernel family in use.
    public var blasCore: String
    /// The algorithm used, and why (for `auto`, including any fallback to Lloyd).
    public var algorithm: AlgorithmChoice
    /// Rows the centroids were trained on: n, or the sample that `maxPointsPerCentroid` asked for.
    public var trainingRowCount: Int
    /// How the run was split over the ranks of a job (``KMeans/fit(_:configuration:across:progress:)``);
    /// `nil` for a run in one process.
    public var ranks: RankReport? = nil

    /// Empty clusters re-seeded, over all iterations.
    public var emptyClustersReseeded: Int { iterations.reduce(0) { $0 + $1.emptyClustersReseeded } }

    /// How evenly the rows spread over the clusters.
    public var balance: ClusterBalance { ClusterBalance(labels: labels, clusterCount: clusterCount) }
}

/// How a run was split over the ranks of an SPMD job, and what exchanging cost.
public struct RankReport: Sendable, Codable, Equatable {
    /// Processes in the job.
    public var ranks: Int
    /// Rows each rank computed on, in rank order.
    public var rowsPerRank: [Int]
    /// Seconds this rank spent exchanging results (waiting for slower ranks included).
    public var communicationSeconds: Double
    /// Bytes this rank received, its own part included.
    public var exchangedBytes: Int
}

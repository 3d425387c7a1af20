/// The contents of `report.json`: what was run, on what, and what it cost.
public struct RunReport: Codable, Sendable {
    /// The settings the run used, as resolved: defaults filled in and tiles clamped.
    public struct Parameters: Codable, Sendable {
        /// k.
        public var clusterCount: Int
        /// The distance the run minimized.
        public var metric: Metric
        /// ``KMeans/Configuration/maxPointsPerCentroid`` as given; `nil` when the run
        /// trained on every row.
        public var maxPointsPerCentroid: Int?
        /// ``Initialization/name``: `kmeans++`, `random` or `file`.
        public var initialization: String
        /// The file the initial centroids were read from; `nil` unless `initialization` is `file`.
        public var initializationFile: String?
        /// Rows k-means++ ran on; 0 for the other initializations.
        public var initializationSampleSize: Int
        /// The seed of initialization and of the training sample.
        public var seed: UInt64
        /// The iteration limit.
        public var maxIterations: Int
        /// The relative inertia decrease below which the run stops.
        public var tolerance: Double
        /// Threads that ran the passes: the requested count (every core by default),
        /// capped at `accumulationSlices`, since each slice runs on one thread.
        public var threads: Int
        /// Rows per point tile.
        public var pointTile: Int
        /// Centroids per centroid tile, at most k.
        public var centroidTile: Int
        /// Fixed row ranges, each run by one thread in row order (``TilePlan/sliceCount``).
        public var accumulationSlices: Int
        /// The bound memory budget in bytes as given; `nil` for the default, a quarter of
        /// physical memory.
        public var memoryBudget: Int?
        /// Pruning started once fewer than this fraction of the rows changed label in an iteration.
        public var pruningStartFraction: Double
    }

    /// Wall-clock times of the run, in seconds.
    public struct Timing: Codable, Sendable {
        /// The whole of ``KMeans/fit(_:configuration:progress:)``, initialization and the
        /// final labeling of every row included.
        public var totalSeconds: Double
        /// From the start of the run until the initial centroids were ready: validation,
        /// the training sample, and k-means++ or the gathering of random rows.
        public var initializationSeconds: Double
        /// Median seconds of one Lloyd iteration (the upper middle one for an even count).
        public var medianIterationSeconds: Double
    }

    /// The FlashKMeans version that wrote the report (`FlashKMeansVersion.current`).
    public var version: String
    /// The input file, as its reader describes it.
    public var input: EmbeddingDescription
    /// The settings the run used.
    public var parameters: Parameters
    /// The algorithm used and why `auto` chose it.
    public var algorithm: AlgorithmChoice
    /// Why the iterations stopped.
    public var stopReason: StopReason
    /// `Σ ‖x − c(x)‖²` of every row to its final centroid, summed in float64
    /// (``KMeansResult/inertia``).
    public var inertia: Double
    /// One entry per iteration, in order.
    public var iterations: [IterationStats]
    /// Empty clusters re-seeded, over all iterations.
    public var emptyClustersReseeded: Int
    /// Sizes of the final clusters, over every row.
    public var balance: ClusterBalance
    /// Rows the centroids were trained on: n, or the sample that
    /// ``KMeans/Configuration/maxPointsPerCentroid`` (`--max-points-per-centroid`) asked for.
    public var trainingRows: Int
    /// Wall-clock times.
    public var timing: Timing
    /// Resident and anonymous memory of the process.
    public var memory: MemoryReport
    /// Bytes of kernel scratch each thread held (``TilePlan/scratchBytes(dimension:)``).
    public var scratchBytesPerThread: Int
    /// The OpenBLAS kernel family that ran `sgemm` (``BLAS/coreName``).
    public var blasCore: String
    /// The instruction set of the engine's own SIMD loops (``SIMDKernels/level``).
    public var simdLevel: String
    /// For a run across MPI ranks: ranks, rows per rank, and rank 0's time exchanging.
    public var ranks: RankReport?

    /// Gathers the report of a finished run.
    ///
    /// - Parameters:
    ///   - input: The input's description, usually the source's
    ///     ``EmbeddingSource/description``.
    ///   - configuration: The configuration the run was given.
    ///   - initializationFile: The file the initial centroids came from, or `nil`.
    ///   - result: What ``KMeans/fit(_:configuration:progress:)`` returned.
    public init(input: EmbeddingDescription, configuration: KMeans.Configuration, initializationFile: String?, result: KMeansResult) {
        version = FlashKMeansVersion.current
        self.input = input
        parameters = Parameters(
            clusterCount: result.clusterCount, metric: configuration.metric,
            maxPointsPerCentroid: configuration.maxPointsPerCentroid, initialization: configuration.initialization.name,
            initializationFile: initializationFile, initializationSampleSize: result.initializationSampleSize,
            seed: configuration.seed, maxIterations: configuration.maxIterations, tolerance: configuration.tolerance,
            threads: result.plan.threadCount, pointTile: result.plan.pointTile, centroidTile: result.plan.centroidTile,
            accumulationSlices: result.plan.sliceCount, memoryBudget: configuration.memoryBudget,
            pruningStartFraction: configuration.pruningStartFraction)
        algorithm = result.algorithm
        stopReason = result.stopReason
        inertia = result.inertia
        iterations = result.iterations
        emptyClustersReseeded = result.emptyClustersReseeded
        balance = result.balance
        trainingRows = result.trainingRowCount
        ranks = result.ranks
        let seconds = result.iterations.map(\.seconds).sorted()
        timing = Timing(
            totalSeconds: result.totalSeconds, initializationSeconds: result.initializationSeconds,
            medianIterationSeconds: seconds.isEmpty ? 0 : seconds[seconds.count / 2])
        memory = result.memory
        scratchBytesPerThread = result.scratchBytesPerThread
        blasCore = result.blasCore
        simdLevel = SIMDKernels.level
    }
}

/// The library's version, as `report.json` and `flashkmeans --version` give it.
public enum FlashKMeansVersion {
    /// A semantic version string, such as `0.1.0`.
    public static let current = "0.1.0"
}

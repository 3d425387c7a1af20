#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension KMeans {
    /// Everything that shapes a run. Every field has a default except the cluster count.
    public struct Configuration: Sendable {
        /// Number of clusters, k. Must be between 1 and the number of rows.
        public var clusterCount: Int
        /// How the first centroids are chosen. The default is ``Initialization/kMeansPlusPlus``.
        public var initialization: Initialization = .kMeansPlusPlus
        /// Rows k-means++ runs on. The default, `nil`, picks `min(n, max(16 k, n / 24))`.
        /// Each of the k steps reads the whole sample (8-bit products against its
        /// `2 + ⌊ln k⌋` candidates), so the sample size sets the cost: about two dense
        /// passes when n / k ≥ 384, three to four screened ones at 64 rows per centroid. Fewer
        /// than 16 rows per centroid cost quality at large k: with 8, the inertia after 20
        /// iterations on 262,144 token embeddings with k = 4096 was 0.84% above greedy
        /// k-means++ on every row; with 16, 0.36%.
        public var initializationSampleSize: Int?
        /// Most Lloyd iterations. The default is 100.
        public var maxIterations = 100
        /// Stop once the inertia falls by less than this fraction in one iteration.
        /// The default is 1e-4; 0 runs until the labels stop changing.
        public var tolerance = 1e-4
        /// Seed for initialization and the training sample. The default is 0; the same seed
        /// and input give the same result, whatever the threads and tiles.
        public var seed: UInt64 = 0
        /// Worker threads. The default, `nil`, uses every core. A run uses at most one per
        /// accumulation slice (``TilePlan/sliceCount``, at most 16).
        public var threadCount: Int?
        /// Rows per point tile. The default, `nil`, is ``TilePlan/defaultPointTile``.
        public var pointTile: Int?
        /// Centroids per centroid tile. The default, `nil`, is ``TilePlan/defaultCentroidTile``.
        public var centroidTile: Int?
        /// Squared Euclidean distance, or cosine similarity (spherical k-means: rows are
        /// normalized tile by tile and centroids re-normalized after every update, as faiss's
        /// `spherical` option does). The default is ``Metric/l2``.
        public var metric: Metric = .l2
        /// Train on a seeded uniform sample of `k × maxPointsPerCentroid` rows, as faiss does
        /// by default, then label every row in one final assignment pass. The default, `nil`,
        /// trains on all rows, so results stay exact Lloyd on the whole input.
        public var maxPointsPerCentroid: Int?
        /// How nearest centroids are found. The default is ``Algorithm/auto``; every
        /// choice gives the same result.
        public var algorithm: Algorithm = .auto
        /// Most bytes the bounds of a pruning algorithm may take. The default, `nil`, is a
        /// quarter of physical memory. `auto` picks an algorithm that fits; an explicit
        /// algorithm that does not fit is an error.
        public var memoryBudget: Int?
        /// Pruning starts once fewer than this fraction of the rows change label in one
        /// iteration. The default is 0.1: before that, centroids move so far that bounds
        /// prune little and only cost time.
        public var pruningStartFraction = 0.1
        /// Whether dense comparisons are screened with 8-bit integer products. The default,
        /// ``Screening/auto``, screens where the CPU makes it faster; results never change.
        public var screening: Screening = .auto

        /// A configuration for `clusterCount` clusters, every other setting at its default.
        ///
        /// Nothing is checked here: ``validate(pointCount:dimension:)`` checks the whole
        /// configuration against the data once it is known.
        /// - Parameter clusterCount: k, between 1 and the number of rows.
        public init(clusterCount: Int) {
            self.clusterCount = clusterCount
        }

        /// The most rows a run trains on: each exact sum's top word holds at most 2^30 per row
        /// (``SumGrid``), so 2^33 rows keep it within an `Int64`.
        public static let maximumTrainingRows = 1 << 33

        /// Checks the configuration against the data once, before any work.
        /// ``KMeans/fit(_:configuration:progress:)`` calls it too.
        /// - Parameters:
        ///   - pointCount: n, the rows to cluster (after any training sample).
        ///   - dimension: d, which user-supplied centroids must match.
        /// - Throws: ``KMeansError``: the first setting out of range, naming it, the value
        ///   found and the limit.
        public func validate(pointCount: Int, dimension: Int) throws(KMeansError) {
            func require(_ condition: Bool, _ setting: KMeansError.Setting, _ value: KMeansError.Value, _ requirement: KMeansError.Requirement)
                throws(KMeansError)
            {
                if !condition { throw .invalidSetting(setting, value: value, requirement: requirement) }
            }
            try require(clusterCount >= 1, .clusterCount, .integer(clusterCount), .atLeast(1))
            guard clusterCount <= pointCount else { throw .tooManyClusters(clusterCount: clusterCount, pointCount: pointCount) }
            let (sampled, overflow) = clusterCount.multipliedReportingOverflow(by: maxPointsPerCentroid ?? .max)
            let trainingRows = overflow ? pointCount : min(pointCount, sampled)
            guard trainingRows <= Self.maximumTrainingRows else {
                throw .tooManyRows(pointCount: trainingRows, limit: Self.maximumTrainingRows)
            }
            try require(maxIterations >= 1, .maxIterations, .integer(maxIterations), .atLeast(1))
            try require(tolerance >= 0 && tolerance.isFinite, .tolerance, .real(tolerance), .nonNegative)
            if let threadCount { try require(threadCount >= 1, .threadCount, .integer(threadCount), .atLeast(1)) }
            if let pointTile { try require(pointTile >= 1, .pointTile, .integer(pointTile), .atLeast(1)) }
            if let centroidTile { try require(centroidTile >= 1, .centroidTile, .integer(centroidTile), .atLeast(1)) }
            if let maxPointsPerCentroid {
                try require(maxPointsPerCentroid >= 1, .maxPointsPerCentroid, .integer(maxPointsPerCentroid), .atLeast(1))
            }
            if let memoryBudget { try require(memoryBudget >= 0, .memoryBudget, .integer(memoryBudget), .nonNegative) }
            try require(
                pruningStartFraction >= 0 && pruningStartFraction <= 1, .pruningStartFraction, .real(pruningStartFraction), .fraction)
            if let size = initializationSampleSize {
                try require(size >= clusterCount, .initializationSampleSize, .integer(size), .atLeastClusterCount(clusterCount))
            }
            if case let .centroids(values) = initialization, values.count != clusterCount * dimension {
                throw .centroidShape(valueCount: values.count, expectedRows: clusterCount, dimension: dimension)
            }
        }

        func resolvedSampleSize(pointCount: Int) -> Int {
            if let size = initializationSampleSize { return min(size, pointCount) }
            return min(pointCount, max(16 * clusterCount, pointCount / 24))
        }

        var resolvedThreadCount: Int { threadCount ?? availableProcessorCount }

        /// Validates against `source`, keeps OpenBLAS single-threaded, and plans the tiles.
        func prepareRun(on source: any EmbeddingSource) throws -> TilePlan {
            try validate(pointCount: source.rowCount, dimension: source.dimension)
            BLAS.useSingleThreadedKernels()
            return tilePlan(for: source)
        }

        /// The tiles, slices and threads this configuration gives `source`.
        func tilePlan(for source: any EmbeddingSource) -> TilePlan {
            TilePlan(
                pointCount: source.rowCount, clusterCount: clusterCount, dimension: source.dimension,
                pointTile: pointTile, centroidTile: centroidTile, threadCount: resolvedThreadCount,
                integerScreening: screening.isEnabled(clusterCount: clusterCount, dimension: source.dimension),
                screeningGivesUp: screening != .on)
        }

        /// The algorithm this configuration runs on `pointCount × dimension` data, and why.
        ///
        /// `auto` takes Lloyd for k < 8 or d × k ≤ 1,024, Hamerly for rows of up to 16
        /// values, else Yinyang when its bounds fit the memory budget, else Hamerly when its
        /// bounds fit, else Lloyd. A run may still fall
        /// back to Lloyd later, when the bounds prove too loose on the data.
        /// - Parameters:
        ///   - pointCount: n, the training rows.
        ///   - dimension: d.
        /// - Returns: The algorithm, the reason, and the bytes of bounds it keeps.
        /// - Throws: ``KMeansError`` when an explicitly chosen algorithm's bounds exceed the budget.
        public func chooseAlgorithm(pointCount: Int, dimension: Int) throws(KMeansError) -> AlgorithmChoice {
            try AlgorithmPlanner(
                pointCount: pointCount, clusterCount: clusterCount, dimension: dimension,
                memoryBudget: memoryBudget ?? AlgorithmPlanner.defaultMemoryBudget
            ).choose(algorithm)
        }
    }
}

/// Cores this process may use, read once: Foundation reads the cgroup files on every call,
/// four files for each k of an `elbow` run.
let availableProcessorCount = ProcessInfo.processInfo.activeProcessorCount

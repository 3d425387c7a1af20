import Foundation

extension KMeans {
    /// Everything that shapes a run. Every field has a default except the cluster count.
    public struct Configuration: Sendable {
        /// Number of clusters, k. Must be between 1 and the number of rows.
        public var clusterCount: Int
        /// How the first centroids are chosen. The default is ``Initialization/kMeansPlusPlus``.
        public var initialization: Initialization = .kMeansPlusPlus
        /// Rows k-means++ runs on. The default, `nil`, picks `min(n, max(16 k, n / 24))`.
        /// Each of the k steps reads the whole sample (a thin `sgemm` against its
        /// `2 + ⌊ln k⌋` candidates, bound by memory bandwidth), so the sample size sets the
        /// cost: n / 24 keeps k-means++ under about two Lloyd iterations (measured on
        /// 1M × 128, k = 1024: 2.3 s against 1.6 s per iteration) while every centroid
        /// still has at least 16 candidate rows.
        public var initializationSampleSize: Int?
        /// Most Lloyd iterations. The default is 100.
        public var maxIterations = 100
        /// Stop once the inertia falls by less than this fraction in one iteration.
        /// The default is 1e-4; 0 runs until the labels stop changing.
        public var tolerance = 1e-4
        /// Seed for initialization. The default is 0; the same seed and input give the same result.
        public var seed: UInt64 = 0
        /// Worker threads. The default, `nil`, uses every core.
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

        public init(clusterCount: Int) {
            self.clusterCount = clusterCount
        }

        /// Checks the configuration against the data once, before any work.
        /// ``KMeans/fit(_:configuration:progress:)`` calls it too.
        /// - Throws: ``KMeansError``.
        public func validate(pointCount: Int, dimension: Int) throws(KMeansError) {
            guard clusterCount >= 1 else { throw .invalidParameter("k must be at least 1, got \(clusterCount)") }
            guard clusterCount <= pointCount else { throw .tooManyClusters(clusterCount: clusterCount, pointCount: pointCount) }
            guard maxIterations >= 1 else { throw .invalidParameter("max-iter must be at least 1, got \(maxIterations)") }
            guard tolerance >= 0, tolerance.isFinite else { throw .invalidParameter("tol must be a non-negative number, got \(tolerance)") }
            if let threadCount, threadCount < 1 { throw .invalidParameter("threads must be at least 1, got \(threadCount)") }
            if let pointTile, pointTile < 1 { throw .invalidParameter("tile-points must be at least 1, got \(pointTile)") }
            if let centroidTile, centroidTile < 1 { throw .invalidParameter("tile-centroids must be at least 1, got \(centroidTile)") }
            if let maxPointsPerCentroid, maxPointsPerCentroid < 1 {
                throw .invalidParameter("max-points-per-centroid must be at least 1, got \(maxPointsPerCentroid)")
            }
            if let memoryBudget, memoryBudget < 0 { throw .invalidParameter("memory-budget must not be negative") }
            guard pruningStartFraction >= 0, pruningStartFraction <= 1 else {
                throw .invalidParameter("the pruning start fraction must be between 0 and 1, got \(pruningStartFraction)")
            }
            if let size = initializationSampleSize, size < clusterCount {
                throw .invalidParameter("init-sample (\(size)) must be at least k (\(clusterCount))")
            }
            if case let .centroids(values) = initialization, values.count != clusterCount * dimension {
                throw .invalidParameter("initial centroids hold \(values.count) values; expected k × d = \(clusterCount) × \(dimension)")
            }
        }

        func resolvedSampleSize(pointCount: Int) -> Int {
            if let size = initializationSampleSize { return min(size, pointCount) }
            return min(pointCount, max(16 * clusterCount, pointCount / 24))
        }

        var resolvedThreadCount: Int { threadCount ?? ProcessInfo.processInfo.activeProcessorCount }

        /// Validates against `source`, keeps OpenBLAS single-threaded, and plans the tiles.
        func prepareRun(on source: any EmbeddingSource) throws -> TilePlan {
            try validate(pointCount: source.rowCount, dimension: source.dimension)
            BLAS.useSingleThreadedKernels()
            return TilePlan(
                pointCount: source.rowCount, clusterCount: clusterCount, dimension: source.dimension,
                pointTile: pointTile, centroidTile: centroidTile, threadCount: resolvedThreadCount)
        }

        /// The algorithm this configuration runs on `pointCount × dimension` data, and why.
        /// - Throws: ``KMeansError`` when an explicitly chosen algorithm's bounds exceed the budget.
        public func chooseAlgorithm(pointCount: Int, dimension: Int) throws(KMeansError) -> AlgorithmChoice {
            try AlgorithmPlanner(
                pointCount: pointCount, clusterCount: clusterCount, dimension: dimension,
                memoryBudget: memoryBudget ?? AlgorithmPlanner.defaultMemoryBudget
            ).choose(algorithm)
        }
    }
}

/// What "nearest" means.
public enum Metric: String, CaseIterable, Sendable, Codable {
    /// Squared Euclidean distance.
    case l2
    /// Cosine similarity; every pruning algorithm supports it exactly, since on unit
    /// vectors the most similar centroid is the one at the smallest Euclidean distance.
    case cosine

    /// The rows as this metric sees them: for cosine, each scaled to unit length as it is read.
    public func rows(of source: any EmbeddingSource) -> any EmbeddingSource {
        self == .cosine ? NormalizedSource(source) : source
    }

    /// What is reported for a squared distance: itself, or for unit vectors the cosine
    /// similarity `1 − ‖x − c‖² / 2`.
    func reported(_ squaredDistance: Float) -> Float {
        self == .cosine ? 1 - squaredDistance / 2 : squaredDistance
    }

    /// Initial centroids ready for this metric: for cosine, each scaled to unit length.
    /// - Throws: ``KMeansError`` for an all-zero centroid under cosine.
    func prepared(_ centroids: [Float], dimension: Int) throws(KMeansError) -> [Float] {
        guard self == .cosine else { return centroids }
        var normalized = centroids
        for row in 0..<(centroids.count / dimension) {
            var squared = 0.0
            for index in 0..<dimension { squared += Double(centroids[row * dimension + index]) * Double(centroids[row * dimension + index]) }
            guard squared > 0 else { throw .invalidParameter("initial centroid \(row) is all zeros and has no direction for cosine") }
            for index in 0..<dimension {
                normalized[row * dimension + index] = Float(Double(centroids[row * dimension + index]) / squared.squareRoot())
            }
        }
        return normalized
    }
}

/// A configuration that cannot run on the given data.
public enum KMeansError: Error, CustomStringConvertible, Equatable, Sendable {
    case tooManyClusters(clusterCount: Int, pointCount: Int)
    case invalidParameter(String)

    public var description: String {
        switch self {
        case let .tooManyClusters(clusterCount, pointCount):
            "k (\(clusterCount)) is larger than the number of rows (\(pointCount))"
        case let .invalidParameter(why):
            why
        }
    }
}

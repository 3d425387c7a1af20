import Dispatch

/// The nearest centroid of every row, as ``KMeans/assign(_:centroids:threadCount:pointTile:centroidTile:)`` computes it.
public struct Assignment: Sendable {
    /// `n` labels.
    public var labels: [Int32]
    /// `n` squared distances to the assigned centroid (cosine similarities with ``Metric/cosine``).
    public var squaredDistances: [Float]
    /// The sum of `squaredDistances`, accumulated in float64.
    public var inertia: Double
    public var seconds: Double
    public var plan: TilePlan
}

extension KMeans {
    /// Assigns every row of `source` to its nearest centroid through the fused kernel,
    /// with the exact labels of ``fit(_:configuration:progress:)``. With ``Metric/cosine``,
    /// rows and centroids are normalized and `squaredDistances` holds cosine similarities.
    ///
    /// - Parameters:
    ///   - centroids: `k × d`, row-major.
    ///   - threadCount: Worker threads. The default, `nil`, uses every core.
    ///   - pointTile: Rows per point tile. The default, `nil`, is ``TilePlan/defaultPointTile``.
    ///   - centroidTile: Centroids per tile. The default, `nil`, is ``TilePlan/defaultCentroidTile``.
    /// - Throws: ``KMeansError`` when `centroids` is empty or not a multiple of d;
    ///   ``DatasetError`` for bad rows.
    /// - Complexity: O(n · k · d) time; O(n) memory for the results plus the kernel's scratch.
    public static func assign(
        _ source: any EmbeddingSource, centroids: [Float], metric: Metric = .l2, threadCount: Int? = nil,
        pointTile: Int? = nil, centroidTile: Int? = nil
    ) throws -> Assignment {
        let dimension = source.dimension
        guard !centroids.isEmpty, centroids.count % dimension == 0 else {
            throw KMeansError.invalidParameter("centroids hold \(centroids.count) values, not a whole number of rows of \(dimension)")
        }
        let source = metric.rows(of: source)
        var configuration = Configuration(clusterCount: centroids.count / dimension)
        configuration.threadCount = threadCount
        configuration.pointTile = pointTile
        configuration.centroidTile = centroidTile
        var assignment = try TilePlanned(source: source, configuration: configuration)
            .assign(centroids: try metric.prepared(centroids, dimension: dimension))
        if metric == .cosine { assignment.squaredDistances = assignment.squaredDistances.map { metric.reported($0) } }
        return assignment
    }
}

/// A source with the tile plan a configuration gives it, ready for a plain assignment pass.
struct TilePlanned {
    let source: any EmbeddingSource
    let plan: TilePlan

    init(source: any EmbeddingSource, configuration: KMeans.Configuration) {
        self.source = source
        plan = TilePlan(
            pointCount: source.rowCount, clusterCount: configuration.clusterCount, dimension: source.dimension,
            pointTile: configuration.pointTile, centroidTile: configuration.centroidTile,
            threadCount: configuration.resolvedThreadCount)
    }

    /// Every row's nearest of `centroids` (`k × d`), labels exact.
    func assign(centroids: [Float]) throws -> Assignment {
        BLAS.useSingleThreadedKernels()
        let pass = AssignmentPass(
            source: source, step: LloydStep(), clusterCount: centroids.count / source.dimension, plan: plan)
        let started = DispatchTime.now().uptimeNanoseconds
        let outcome = try centroids.withUnsafeBufferPointer {
            try pass.run(centroids: $0.baseAddress!, accumulateSums: false, pruning: false)
        }
        return Assignment(
            labels: Array(pass.labels), squaredDistances: Array(pass.squaredDistances), inertia: outcome.inertia,
            seconds: Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9, plan: plan)
    }
}

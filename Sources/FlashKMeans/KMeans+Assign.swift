import Dispatch

/// The nearest centroid of every row, as
/// ``KMeans/assign(_:centroids:metric:threadCount:pointTile:centroidTile:screening:)`` computes it.
public struct Assignment: Sendable {
    /// `n` labels.
    public var labels: [Int32]
    /// `n` squared Euclidean distances to the assigned centroid; under ``Metric/cosine``,
    /// between the normalized row and the normalized centroid.
    public var squaredDistances: [Float]
    /// Under ``Metric/cosine``, each row's cosine similarity to its centroid,
    /// `1 − ‖x − c‖² / 2`; `nil` under ``Metric/l2``.
    public var cosineSimilarities: [Float]?
    /// The sum of `squaredDistances`, accumulated in float64.
    public var inertia: Double
    /// Wall time of the pass.
    public var seconds: Double
    /// The tiles and threads the pass ran with.
    public var plan: TilePlan
    /// How the pass was split over the ranks of a job
    /// (``KMeans/assign(_:centroids:metric:threadCount:pointTile:centroidTile:screening:across:)``);
    /// `nil` for one process.
    public var ranks: RankReport? = nil
}

extension KMeans {
    /// Assigns every row of `source` to its nearest centroid through the fused kernel,
    /// with the exact labels of ``fit(_:configuration:progress:)``. With ``Metric/cosine``,
    /// rows and centroids are normalized first.
    ///
    /// - Parameters:
    ///   - source: The rows to label; read once.
    ///   - centroids: `k × d`, row-major.
    ///   - metric: How to measure nearness. The default is ``Metric/l2``.
    ///   - threadCount: Worker threads. The default, `nil`, uses every core.
    ///   - pointTile: Rows per point tile. The default, `nil`, is ``TilePlan/defaultPointTile``.
    ///   - centroidTile: Centroids per tile. The default, `nil`, is ``TilePlan/defaultCentroidTile``.
    ///   - screening: Whether 8-bit integer products screen the centroids first. The
    ///     default is ``Screening/auto``; labels are the same either way.
    /// - Returns: n labels and distances, their inertia, and the pass's time and plan.
    /// - Throws: ``KMeansError`` when `centroids` is empty or not a multiple of d, or (under
    ///   cosine) holds an all-zero centroid; ``DatasetError`` for bad rows.
    /// - Complexity: O(n · k · d) time; O(n) memory for the results plus the kernel's scratch.
    public static func assign(
        _ source: any EmbeddingSource, centroids: [Float], metric: Metric = .l2, threadCount: Int? = nil,
        pointTile: Int? = nil, centroidTile: Int? = nil, screening: Screening = .auto
    ) throws -> Assignment {
        try assign(
            source, centroids: centroids, metric: metric, threadCount: threadCount, pointTile: pointTile,
            centroidTile: centroidTile, screening: screening, distribution: nil)
    }

    /// ``assign(_:centroids:metric:threadCount:pointTile:centroidTile:screening:)`` as one
    /// rank of an SPMD job (`mpirun`): every rank calls this with the same arguments and
    /// labels its own share of the rows (an even split);
    /// every rank then holds every row's label and distance, bit for bit those of one process.
    ///
    /// - Parameter ranks: The job's processes.
    /// - Returns: As the one-process call, with ``Assignment/ranks`` filled in.
    /// - Throws: As the one-process call, on every rank when any rank fails (``RankFailure``
    ///   on the others).
    public static func assign(
        _ source: any EmbeddingSource, centroids: [Float], metric: Metric = .l2, threadCount: Int? = nil,
        pointTile: Int? = nil, centroidTile: Int? = nil, screening: Screening = .auto, across ranks: RankGroup
    ) throws -> Assignment {
        try assign(
            source, centroids: centroids, metric: metric, threadCount: threadCount, pointTile: pointTile,
            centroidTile: centroidTile, screening: screening, distribution: Distribution(ranks))
    }

    private static func assign(
        _ source: any EmbeddingSource, centroids: [Float], metric: Metric, threadCount: Int?,
        pointTile: Int?, centroidTile: Int?, screening: Screening, distribution: Distribution?
    ) throws -> Assignment {
        let dimension = source.dimension
        guard !centroids.isEmpty, centroids.count % dimension == 0 else {
            throw KMeansError.centroidShape(valueCount: centroids.count, expectedRows: nil, dimension: dimension)
        }
        var configuration = Configuration(clusterCount: centroids.count / dimension)
        configuration.threadCount = threadCount
        configuration.pointTile = pointTile
        configuration.centroidTile = centroidTile
        configuration.screening = screening
        configuration.metric = metric
        configuration.initialization = .centroids(try metric.prepared(centroids, dimension: dimension))
        let (source, scaled, scale, _) = try scaledForRange(source, configuration: configuration, distribution: distribution)
        guard case let .centroids(engineCentroids) = scaled.initialization else { preconditionFailure("centroids were given") }
        var assignment = try assignEveryRow(
            of: source, to: engineCentroids, plan: configuration.tilePlan(for: source), distribution: distribution)
        if !scale.isIdentity {
            assignment.squaredDistances = scale.unscaled(squaredDistances: assignment.squaredDistances)
            assignment.inertia = scale.unscaled(squaredDistance: assignment.inertia)
        }
        assignment.cosineSimilarities = metric.similarities(assignment.squaredDistances)
        return assignment
    }

    /// Every row's nearest of `centroids` (`k × d`, in), labels exact, in one dense pass.
    static func assignEveryRow(
        of source: any EmbeddingSource, to centroids: [Float], plan: TilePlan, distribution: Distribution? = nil
    ) throws -> Assignment {
        BLAS.useSingleThreadedKernels()
        let rows = distribution.map { RowRangeSource(source, rows: $0.ownRows(rowCount: source.rowCount)) } ?? source
        let pass = AssignmentPass(
            source: rows, step: DenseStep(), clusterCount: centroids.count / source.dimension, plan: plan, distribution: distribution)
        let started = DispatchTime.now().uptimeNanoseconds
        let outcome = try centroids.withUnsafeBufferPointer {
            try pass.run(centroids: $0.baseAddress!, accumulateSums: false, pruning: false)
        }
        var labels = Array(pass.labels)
        var squaredDistances = Array(pass.squaredDistances)
        if let distribution {
            labels = try distribution.allGather(labels).flatMap { $0 }
            squaredDistances = try distribution.allGather(squaredDistances).flatMap { $0 }
        }
        return Assignment(
            labels: labels, squaredDistances: squaredDistances, cosineSimilarities: nil,
            inertia: outcome.inertia, seconds: Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9, plan: plan,
            ranks: distribution.map { $0.report(rowCount: source.rowCount) })
    }
}

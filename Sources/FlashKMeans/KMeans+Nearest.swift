/// The `M` nearest centroids of every row, as IVF multi-probe assignment needs them.
public struct NearestCentroids: Sendable {
    /// M.
    public var count: Int
    /// `n × M` labels, row-major, nearest first (ties to the lower label).
    public var labels: [Int32]
    /// `n × M` squared Euclidean distances matching `labels`, computed in float64 and
    /// rounded to float32; under ``Metric/cosine``, between the normalized vectors.
    public var squaredDistances: [Float]
    /// Under ``Metric/cosine``, the cosine similarities matching `labels`; `nil` under ``Metric/l2``.
    public var cosineSimilarities: [Float]?
}

extension KMeans {
    /// The `count` nearest centroids of every row of `source`, exactly: in ascending
    /// float64 distance, ties to the lower label, as a brute-force float64 search gives.
    ///
    /// Cross products come from the same tiled `sgemm` as ``assign(_:centroids:metric:threadCount:pointTile:centroidTile:screening:)``;
    /// each row keeps a short sorted list of its best float32 scores. The list is re-ranked
    /// in float64, and when the scores at its end are within rounding of the `count`-th
    /// (so a centroid outside it might belong), the row is searched in float64 against
    /// every centroid instead. The `n × k` matrix is never built.
    ///
    /// - Parameters:
    ///   - source: The rows; read once.
    ///   - centroids: `k × d`, row-major.
    ///   - count: M, between 1 and k.
    ///   - metric: How to measure nearness. The default is ``Metric/l2``.
    ///   - threadCount: Worker threads. The default, `nil`, uses every core.
    ///   - pointTile: Rows per point tile. The default, `nil`, is ``TilePlan/defaultPointTile``.
    /// - Returns: `n × M` labels and distances, nearest first.
    /// - Throws: ``KMeansError`` for a bad `count` or centroid shape, or (under cosine) an
    ///   all-zero centroid; ``DatasetError`` for bad rows.
    /// - Complexity: O(n · k · d) time; O(n · M) memory for the results.
    public static func nearest(
        _ source: any EmbeddingSource, centroids: [Float], count: Int, metric: Metric = .l2, threadCount: Int? = nil,
        pointTile: Int? = nil
    ) throws -> NearestCentroids {
        try nearest(
            source, centroids: centroids, count: count, metric: metric, threadCount: threadCount, pointTile: pointTile,
            distribution: nil)
    }

    /// ``nearest(_:centroids:count:metric:threadCount:pointTile:)`` as one rank of an SPMD
    /// job (`mpirun`): every rank calls this with the same arguments and searches its own
    /// share of the rows; every rank then holds every row's results, those of one process.
    ///
    /// - Parameter ranks: The job's processes.
    /// - Throws: As the one-process call, on every rank when any rank fails (``RankFailure``
    ///   on the others).
    public static func nearest(
        _ source: any EmbeddingSource, centroids: [Float], count: Int, metric: Metric = .l2, threadCount: Int? = nil,
        pointTile: Int? = nil, across ranks: RankGroup
    ) throws -> NearestCentroids {
        try nearest(
            source, centroids: centroids, count: count, metric: metric, threadCount: threadCount, pointTile: pointTile,
            distribution: Distribution(ranks))
    }

    private static func nearest(
        _ source: any EmbeddingSource, centroids: [Float], count: Int, metric: Metric, threadCount: Int?,
        pointTile: Int?, distribution: Distribution?
    ) throws -> NearestCentroids {
        let dimension = source.dimension
        guard !centroids.isEmpty, centroids.count % dimension == 0 else {
            throw KMeansError.centroidShape(valueCount: centroids.count, expectedRows: nil, dimension: dimension)
        }
        let clusterCount = centroids.count / dimension
        guard count >= 1 else { throw KMeansError.invalidSetting(.nearestCount, value: .integer(count), requirement: .atLeast(1)) }
        guard count <= clusterCount else {
            throw KMeansError.invalidSetting(.nearestCount, value: .integer(count), requirement: .atMostClusterCount(clusterCount))
        }
        var configuration = Configuration(clusterCount: clusterCount)
        configuration.threadCount = threadCount
        configuration.pointTile = pointTile
        configuration.metric = metric
        configuration.initialization = .centroids(try metric.prepared(centroids, dimension: dimension))
        let (allRows, scaled, scale, _) = try scaledForRange(source, configuration: configuration, distribution: distribution)
        guard case let .centroids(centroids) = scaled.initialization else { preconditionFailure("centroids were given") }
        BLAS.useSingleThreadedKernels()
        let plan = configuration.tilePlan(for: allRows)
        let source = distribution.map { RowRangeSource(allRows, rows: $0.ownRows(rowCount: allRows.rowCount)) } ?? allRows
        let search = {
            try centroids.withUnsafeBufferPointer { centroidBuffer in
                let operation = NearestOperation(
                    source: source, centroids: centroidBuffer.baseAddress!, clusterCount: clusterCount, count: count, plan: plan)
                let engine = TileEngine(
                    operation: operation, schedule: TileSchedule(plan: plan, rowCount: source.rowCount), threadCount: plan.threadCount,
                    source: source)
                try engine.run()
                return operation
            }
        }
        let operation = try distribution.map { try $0.agreeing(search) } ?? search()
        var labels = Array(operation.labels)
        var distances = Array(operation.distances)
        if let distribution {
            labels = try distribution.allGather(labels).flatMap { $0 }
            distances = try distribution.allGather(distances).flatMap { $0 }
        }
        let squaredDistances = scale.unscaled(squaredDistances: distances)
        return NearestCentroids(
            count: count, labels: labels, squaredDistances: squaredDistances,
            cosineSimilarities: metric.similarities(squaredDistances))
    }
}

/// One candidate of a row's float64 re-ranking.
struct RankedCentroid {
    var squaredDistance: Double
    var label: Int32
}

/// The per-tile work of ``KMeans/nearest(_:centroids:count:metric:threadCount:pointTile:)``:
/// cross products by `sgemm`, a short sorted float32 list per row, then the exact `M`
/// nearest in float64.
final class NearestOperation: TileOperation {
    /// Each row keeps `M + 4` float32 candidates: enough that the M-th and the last are
    /// rarely within rounding of each other, which would force a float64 search of every
    /// centroid for that row.
    static let spareCandidates = 4

    struct ThreadScratch {
        let kernel: KernelScratch
        /// `pointTile × listLength`: each row's best scores so far, ascending, and their labels.
        let listScores: ScratchMatrix<Float>
        let listLabels: ScratchMatrix<Int32>
        /// `k` slots for one row's float64 re-ranking.
        let candidates: UnsafeMutableBufferPointer<RankedCentroid>
        /// Owns the buffers above.
        let storage: ScratchStorage
    }

    let path: String
    let dimension: Int
    let count: Int
    let listLength: Int
    let plan: TilePlan
    /// Copied, so that the operation owns what it reads.
    let centroidValues: UnsafeMutablePointer<Float>
    let centroidSquaredNorms: UnsafeMutablePointer<Float>
    let centroids: CentroidTable
    let exactLabels: ExactLabels
    /// `n × M` results (out).
    let labels: UnsafeMutableBufferPointer<Int32>
    let distances: UnsafeMutableBufferPointer<Float>

    /// - Parameter centroids: `k × d`, row-major (in; copied).
    init(source: any EmbeddingSource, centroids values: UnsafePointer<Float>, clusterCount: Int, count: Int, plan: TilePlan) {
        path = source.path
        dimension = source.dimension
        self.count = count
        self.plan = plan
        listLength = min(clusterCount, count + Self.spareCandidates)
        centroidValues = .allocate(capacity: clusterCount * dimension)
        centroidValues.initialize(from: values, count: clusterCount * dimension)
        centroidSquaredNorms = .allocate(capacity: clusterCount)
        computeCentroidSquaredNorms(centroidValues, count: clusterCount, dimension: dimension, into: centroidSquaredNorms)
        centroids = CentroidTable(values: centroidValues, squaredNorms: centroidSquaredNorms, count: clusterCount, dimension: dimension)
        exactLabels = ExactLabels(centroids: centroids)
        labels = .allocate(capacity: source.rowCount * count)
        labels.initialize(repeating: 0)
        distances = .allocate(capacity: source.rowCount * count)
        distances.initialize(repeating: 0)
    }

    deinit {
        centroidValues.deallocate()
        centroidSquaredNorms.deallocate()
        labels.deallocate()
        distances.deallocate()
    }

    func makeThreadScratch() -> ThreadScratch {
        let storage = ScratchStorage()
        let candidates = storage.vector(centroids.count, of: RankedCentroid.self)
        return ThreadScratch(
            kernel: KernelScratch(plan: plan, dimension: dimension),
            listScores: storage.matrix(rows: plan.pointTile, columns: listLength, of: Float.self),
            listLabels: storage.matrix(rows: plan.pointTile, columns: listLength, of: Int32.self),
            candidates: UnsafeMutableBufferPointer(start: candidates.base, count: candidates.count), storage: storage)
    }

    func process(_ rows: Range<Int>, slice: Int, scratch: ThreadScratch, reader: TileReader) throws {
        try reader.withTile(rows) { points in
            let kernel = scratch.kernel
            try checkedSquaredNorms(of: points, into: kernel.pointSquaredNorms, path: path)
            scratch.listScores.base.update(repeating: .infinity, count: points.rowCount * listLength)
            scratch.listLabels.base.update(repeating: Int32.max, count: points.rowCount * listLength)
            var firstCentroid = 0
            while firstCentroid < centroids.count {
                let tileCentroids = min(plan.centroidTile, centroids.count - firstCentroid)
                computeCrossProducts(
                    points: points, centroids: centroids.row(firstCentroid), count: tileCentroids, output: kernel.crossProducts)
                for offset in 0..<tileCentroids {
                    let norm = centroids.squaredNorm(firstCentroid + offset)
                    let block = kernel.crossProducts.row(offset)
                    for row in 0..<points.rowCount {
                        insert(
                            norm - (block[row] + block[row]), label: Int32(firstCentroid + offset),
                            scores: scratch.listScores.row(row), labels: scratch.listLabels.row(row))
                    }
                }
                firstCentroid += tileCentroids
            }
            for row in 0..<points.rowCount {
                let point = points.firstRow + row
                settle(
                    points.row(row), pointSquaredNorm: kernel.pointSquaredNorms[row], scores: scratch.listScores.row(row),
                    labels: scratch.listLabels.row(row), candidates: scratch.candidates,
                    outputLabels: labels.baseAddress! + point * count, outputDistances: distances.baseAddress! + point * count)
            }
        }
    }

    /// Inserts a score into a row's sorted list of the best `listLength`, keeping the first
    /// label on equal scores (labels arrive in increasing order).
    /// - Parameters:
    ///   - scores, labels: `listLength` each (inout).
    @inline(__always)
    private func insert(_ score: Float, label: Int32, scores: UnsafeMutablePointer<Float>, labels: UnsafeMutablePointer<Int32>) {
        guard score < scores[listLength - 1] else { return }
        var position = listLength - 1
        while position > 0, scores[position - 1] > score {
            scores[position] = scores[position - 1]
            labels[position] = labels[position - 1]
            position -= 1
        }
        scores[position] = score
        labels[position] = label
    }

    /// Turns a row's float32 list into its exact `count` nearest, in float64.
    /// - Parameters:
    ///   - scores, labels: The row's list (in).
    ///   - candidates: `k` slots of scratch.
    ///   - outputLabels, outputDistances: `count` each (out).
    private func settle(
        _ row: UnsafePointer<Float>, pointSquaredNorm: Float, scores: UnsafePointer<Float>, labels: UnsafePointer<Int32>,
        candidates: UnsafeMutableBufferPointer<RankedCentroid>,
        outputLabels: UnsafeMutablePointer<Int32>, outputDistances: UnsafeMutablePointer<Float>
    ) {
        // Every centroid outside the list scores at least the list's last score; if that
        // is more than rounding above the count-th, none of them can be among the nearest.
        let margin = 2.5 * exactLabels.scoreError(pointSquaredNorm: pointSquaredNorm)
        let listIsEnough = listLength == centroids.count || Double(scores[listLength - 1]) - Double(scores[count - 1]) > margin
        let candidateCount = listIsEnough ? listLength : centroids.count
        for index in 0..<candidateCount {
            let label = listIsEnough ? labels[index] : Int32(index)
            candidates[index] = RankedCentroid(
                squaredDistance: ExactLabels.squaredDistance64(row, centroids.row(Int(label)), dimension: dimension), label: label)
        }
        var ranked = UnsafeMutableBufferPointer(rebasing: candidates[0..<candidateCount])
        ranked.sort { $0.squaredDistance != $1.squaredDistance ? $0.squaredDistance < $1.squaredDistance : $0.label < $1.label }
        for index in 0..<count {
            outputLabels[index] = ranked[index].label
            outputDistances[index] = Float(ranked[index].squaredDistance)
        }
    }
}

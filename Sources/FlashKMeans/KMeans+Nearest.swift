import Dispatch

/// The `M` nearest centroids of every row, as IVF multi-probe assignment needs them.
public struct NearestCentroids: Sendable {
    public var count: Int
    /// `n × M` labels, row-major, nearest first (ties to the lower label).
    public var labels: [Int32]
    /// `n × M` squared distances matching `labels`, computed in float64 and rounded to
    /// float32 (cosine similarities with ``Metric/cosine``).
    public var squaredDistances: [Float]
}

extension KMeans {
    /// The `count` nearest centroids of every row of `source`, exactly: in ascending
    /// float64 distance, ties to the lower label, as a brute-force float64 search gives.
    ///
    /// Cross products come from the same tiled `sgemm` as ``assign(_:centroids:threadCount:pointTile:centroidTile:)``;
    /// each row keeps a short sorted list of its best float32 scores (`count + 4` of them).
    /// The list is re-ranked in float64, and when the scores at its end are within
    /// rounding of the `count`-th (so a centroid outside it might belong), the row is
    /// searched in float64 against every centroid instead. The `n × k` matrix is never built.
    ///
    /// - Parameters:
    ///   - centroids: `k × d`, row-major.
    ///   - count: M, between 1 and k.
    /// - Throws: ``KMeansError`` for a bad `count` or centroid shape; ``DatasetError`` for bad rows.
    /// - Complexity: O(n · k · d) time; O(n · M) memory for the results.
    public static func nearest(
        _ source: any EmbeddingSource, centroids: [Float], count: Int, metric: Metric = .l2, threadCount: Int? = nil,
        pointTile: Int? = nil
    ) throws -> NearestCentroids {
        let dimension = source.dimension
        guard !centroids.isEmpty, centroids.count % dimension == 0 else {
            throw KMeansError.invalidParameter("centroids hold \(centroids.count) values, not a whole number of rows of \(dimension)")
        }
        let source = metric.rows(of: source)
        let centroids = try metric.prepared(centroids, dimension: dimension)
        let clusterCount = centroids.count / dimension
        guard count >= 1, count <= clusterCount else {
            throw KMeansError.invalidParameter("--top must be between 1 and k = \(clusterCount), got \(count)")
        }
        var configuration = Configuration(clusterCount: clusterCount)
        configuration.threadCount = threadCount
        BLAS.useSingleThreadedKernels()
        let plan = TilePlan(
            pointCount: source.rowCount, clusterCount: clusterCount, dimension: dimension, pointTile: pointTile,
            centroidTile: nil, threadCount: configuration.resolvedThreadCount)
        let rowCount = source.rowCount
        var labels = [Int32](repeating: 0, count: rowCount * count)
        var distances = [Float](repeating: 0, count: rowCount * count)
        var norms = [Float](repeating: 0, count: clusterCount)
        centroids.withUnsafeBufferPointer { centroidSquaredNorms($0.baseAddress!, count: clusterCount, dimension: dimension, into: &norms) }
        let largest = Double(norms.max() ?? 0).squareRoot() * (1 + 0x1p-20)
        let exact = ExactLabels(dimension: dimension, largestCentroidNorm: largest)
        let listLength = min(clusterCount, count + 4)
        let tileCount = (rowCount + plan.pointTile - 1) / plan.pointTile
        var failures = [(any Error)?](repeating: nil, count: plan.threadCount)
        try labels.withUnsafeMutableBufferPointer { labelBuffer in
            try distances.withUnsafeMutableBufferPointer { distanceBuffer in
                try centroids.withUnsafeBufferPointer { centroidBuffer in
                    try norms.withUnsafeBufferPointer { normBuffer in
                        nonisolated(unsafe) let labelBase = labelBuffer.baseAddress!
                        nonisolated(unsafe) let distanceBase = distanceBuffer.baseAddress!
                        nonisolated(unsafe) let centroidBase = centroidBuffer.baseAddress!
                        nonisolated(unsafe) let normBase = normBuffer.baseAddress!
                        nonisolated(unsafe) var threadFailures = failures
                        DispatchQueue.concurrentPerform(iterations: plan.threadCount) { thread in
                            let scratch = KernelScratch(plan: plan, dimension: dimension)
                            let listScores = UnsafeMutablePointer<Float>.allocate(capacity: plan.pointTile * listLength)
                            let listLabels = UnsafeMutablePointer<Int32>.allocate(capacity: plan.pointTile * listLength)
                            let candidates = UnsafeMutableBufferPointer<(distance: Double, label: Int32)>.allocate(capacity: clusterCount)
                            defer {
                                listScores.deallocate()
                                listLabels.deallocate()
                                candidates.deallocate()
                            }
                            var tile = thread
                            while tile < tileCount {
                                let rows = (tile * plan.pointTile)..<min((tile + 1) * plan.pointTile, rowCount)
                                do {
                                    try source.withRows(rows, scratch: scratch.convertedRows) { points in
                                        for row in 0..<points.rowCount {
                                            let norm = squaredNorm(points.row(row), dimension: dimension)
                                            guard norm.isFinite else {
                                                throw DatasetError(path: source.path, .nonFiniteValue(row: points.firstRow + row))
                                            }
                                            scratch.pointSquaredNorms[row] = norm
                                        }
                                        listScores.update(repeating: .infinity, count: points.rowCount * listLength)
                                        listLabels.update(repeating: Int32.max, count: points.rowCount * listLength)
                                        var firstCentroid = 0
                                        while firstCentroid < clusterCount {
                                            let tileCentroids = min(plan.centroidTile, clusterCount - firstCentroid)
                                            computeCrossProducts(
                                                points: points, centroids: centroidBase + firstCentroid * dimension, count: tileCentroids,
                                                output: scratch.crossProducts, outputStride: scratch.blockStride)
                                            for offset in 0..<tileCentroids {
                                                let norm = normBase[firstCentroid + offset]
                                                let block = scratch.crossProducts + offset * scratch.blockStride
                                                for row in 0..<points.rowCount {
                                                    let score = norm - (block[row] + block[row])
                                                    insert(score, label: Int32(firstCentroid + offset),
                                                           scores: listScores + row * listLength, labels: listLabels + row * listLength,
                                                           length: listLength)
                                                }
                                            }
                                            firstCentroid += tileCentroids
                                        }
                                        for row in 0..<points.rowCount {
                                            let point = points.firstRow + row
                                            settle(
                                                points.row(row), pointSquaredNorm: scratch.pointSquaredNorms[row],
                                                scores: listScores + row * listLength, labels: listLabels + row * listLength,
                                                listLength: listLength, count: count, exact: exact, centroids: centroidBase,
                                                clusterCount: clusterCount, dimension: dimension, candidates: candidates,
                                                outputLabels: labelBase + point * count, outputDistances: distanceBase + point * count)
                                        }
                                    }
                                } catch {
                                    threadFailures[thread] = error
                                    return
                                }
                                // One read of the file: its pages need not stay mapped.
                                source.releaseRows(rows)
                                tile += plan.threadCount
                            }
                        }
                        failures = threadFailures
                    }
                }
            }
        }
        if let failure = failures.compactMap({ $0 }).first { throw failure }
        return NearestCentroids(count: count, labels: labels, squaredDistances: distances.map { metric.reported($0) })
    }

    /// Inserts a score into a row's sorted list of the best `length`, keeping the first
    /// label on equal scores (labels arrive in increasing order).
    @inline(__always)
    private static func insert(_ score: Float, label: Int32, scores: UnsafeMutablePointer<Float>, labels: UnsafeMutablePointer<Int32>, length: Int) {
        guard score < scores[length - 1] else { return }
        var position = length - 1
        while position > 0, scores[position - 1] > score {
            scores[position] = scores[position - 1]
            labels[position] = labels[position - 1]
            position -= 1
        }
        scores[position] = score
        labels[position] = label
    }

    /// Turns a row's float32 list into its exact `count` nearest, in float64.
    private static func settle(
        _ row: UnsafePointer<Float>, pointSquaredNorm: Float, scores: UnsafePointer<Float>, labels: UnsafePointer<Int32>,
        listLength: Int, count: Int, exact: ExactLabels, centroids: UnsafePointer<Float>, clusterCount: Int, dimension: Int,
        candidates: UnsafeMutableBufferPointer<(distance: Double, label: Int32)>,
        outputLabels: UnsafeMutablePointer<Int32>, outputDistances: UnsafeMutablePointer<Float>
    ) {
        // Every centroid outside the list scores at least the list's last score; if that
        // is more than rounding above the count-th, none of them can be among the nearest.
        let margin = 2.5 * exact.scoreError(pointSquaredNorm: pointSquaredNorm)
        let listIsEnough = listLength == clusterCount || Double(scores[listLength - 1]) - Double(scores[count - 1]) > margin
        let candidateCount = listIsEnough ? listLength : clusterCount
        for index in 0..<candidateCount {
            let label = listIsEnough ? labels[index] : Int32(index)
            candidates[index] = (ExactLabels.squaredDistance64(row, centroids + Int(label) * dimension, dimension: dimension), label)
        }
        var ranked = UnsafeMutableBufferPointer(rebasing: candidates[0..<candidateCount])
        ranked.sort { $0.distance != $1.distance ? $0.distance < $1.distance : $0.label < $1.label }
        for index in 0..<count {
            outputLabels[index] = ranked[index].label
            outputDistances[index] = Float(ranked[index].distance)
        }
    }
}

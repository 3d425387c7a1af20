import COpenBLAS
import Dispatch
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A seeded sample of rows on which the silhouette coefficient of any number of
/// clusterings is computed exactly: every pairwise distance within the sample, in float64.
///
/// The silhouette of a row (Rousseeuw, "Silhouettes: a graphical aid to the
/// interpretation and validation of cluster analysis", J. Comput. Appl. Math. 20, 1987) is
/// `(b − a) / max(a, b)`, where `a` is its mean distance to the other sampled members of
/// its own cluster and `b` its smallest mean distance to the sampled members of another
/// cluster; the score is the mean over the sampled rows. The distance is Euclidean (not
/// squared) under ``Metric/l2`` and `1 − cos` under ``Metric/cosine``, as scikit-learn's
/// `silhouette_score` computes them with `metric="euclidean"` and `metric="cosine"`, and
/// the edge cases are scikit-learn's too (see ``score(sampleLabels:)``).
///
/// The sample is drawn once, so several values of k are judged on the same rows, and
/// ``scores(sampleLabels:threadCount:)`` computes each distance once for all of them.
public struct SilhouetteSample: Sendable {
    /// The largest sample drawn by default: 10,000 rows is 50 million distances, a few
    /// seconds at d = 768 on two cores, and the score's sampling error (about 0.01 at
    /// this size) is well below the differences between values of k worth acting on.
    public static let defaultSize = 10_000

    /// Mixed into the seed of the sample's generator (the bytes spell "SILHOU"), so that
    /// its draws differ from the initialization's and the training sample's.
    static let seedTag: UInt64 = 0x5349_4C48_4F55_0000

    /// The sampled rows of the source, ascending: pass the labels of these rows, in this
    /// order, to ``score(sampleLabels:)``.
    public let rows: [Int]
    /// d.
    public let dimension: Int
    /// The distance the silhouettes use.
    public let metric: Metric
    /// `m × d` float64: the sampled rows centred on their mean under L2 (distances do not
    /// change, and the expanded formula loses far less to cancellation), or scaled to unit
    /// length under cosine (an all-zero row stays zero: at distance 1 from every row, as in
    /// scikit-learn).
    private let values: [Double]
    /// `‖x‖²` of each row of `values`.
    private let squaredNorms: [Double]

    /// Draws the sample from `source` and reads its rows.
    ///
    /// - Parameters:
    ///   - source: The rows that were clustered, as stored (not normalized).
    ///   - size: Rows to sample; every row when the source has no more. The default is ``defaultSize``.
    ///   - seed: The run's seed; the same seed always draws the same rows.
    ///   - metric: The distance to judge clusterings by.
    /// - Throws: ``DatasetError`` when a sampled row cannot be read or is not finite.
    /// - Complexity: O(n) to draw the sample, O(m · d) to read it.
    public init(source: any EmbeddingSource, size: Int = defaultSize, seed: UInt64, metric: Metric) throws {
        precondition(size >= 1, "a sample needs at least one row")
        var generator = SeededGenerator(seed: seed ^ Self.seedTag)
        let rows = generator.sortedSample(count: min(size, source.rowCount), from: source.rowCount)
        var gathered = [Float](repeating: 0, count: rows.count * source.dimension)
        try gathered.withUnsafeMutableBufferPointer { try source.gatherRows(rows, into: $0.baseAddress!) }
        self.init(rows: rows, values: gathered, dimension: source.dimension, metric: metric)
    }

    /// A sample of every row of `values`, for rows already in memory.
    ///
    /// - Parameters:
    ///   - values: `n × d` float32, row-major.
    ///   - dimension: d, at least 1.
    ///   - metric: The distance to judge clusterings by.
    public init(everyRowOf values: [Float], dimension: Int, metric: Metric) {
        precondition(dimension >= 1 && values.count % dimension == 0, "values must be whole rows of \(dimension)")
        self.init(rows: Array(0..<(values.count / dimension)), values: values, dimension: dimension, metric: metric)
    }

    private init(rows: [Int], values floats: [Float], dimension: Int, metric: Metric) {
        let count = rows.count
        var values = floats.map(Double.init)
        switch metric {
        case .l2:
            var mean = [Double](repeating: 0, count: dimension)
            for row in 0..<count { for column in 0..<dimension { mean[column] += values[row * dimension + column] } }
            for column in 0..<dimension { mean[column] /= Double(max(1, count)) }
            for row in 0..<count { for column in 0..<dimension { values[row * dimension + column] -= mean[column] } }
        case .cosine:
            for row in 0..<count {
                var squared = 0.0
                for column in 0..<dimension { squared += values[row * dimension + column] * values[row * dimension + column] }
                guard squared > 0 else { continue }
                let length = squared.squareRoot()
                for column in 0..<dimension { values[row * dimension + column] /= length }
            }
        }
        self.rows = rows
        self.dimension = dimension
        self.metric = metric
        self.values = values
        squaredNorms = (0..<count).map { row in
            var squared = 0.0
            for column in 0..<dimension { squared += values[row * dimension + column] * values[row * dimension + column] }
            return squared
        }
    }

    /// The silhouette score of one clustering of the sample.
    ///
    /// - Parameter sampleLabels: The cluster of each sampled row, in the order of ``rows``;
    ///   any non-negative integers (clusters with no sampled row play no part).
    /// - Returns: The mean silhouette over the sampled rows, in `[−1, 1]`; `nil` when it is
    ///   undefined: fewer than 2 clusters among the sampled rows, or as many clusters as
    ///   rows (scikit-learn refuses both).
    ///
    /// *Edge cases*, as scikit-learn: a row alone in its cluster within the sample has a
    /// silhouette of 0, and so has a row with `a = b = 0` (duplicates).
    /// - Complexity: O(m² · d) time, O(m · d) memory.
    public func score(sampleLabels: [Int32]) -> Double? {
        scores(sampleLabels: [sampleLabels])[0]
    }

    /// The silhouette scores of several clusterings of the sample, each distance computed once.
    ///
    /// - Parameters:
    ///   - sampleLabels: One clustering per element, each as in ``score(sampleLabels:)``.
    ///   - threadCount: Threads to share the rows among. The default, `nil`, uses every
    ///     core; the scores are the same, bit for bit, for any count.
    /// - Returns: One score per clustering, `nil` where it is undefined.
    /// - Complexity: O(m² · (d + clusterings)) time; O(m · (d + clusterings)) memory.
    public func scores(sampleLabels: [[Int32]], threadCount: Int? = nil) -> [Double?] {
        let count = rows.count
        let clusterings = sampleLabels.map { DenseLabels($0, rowCount: count) }
        let defined = clusterings.map { $0.clusterCount >= 2 && $0.clusterCount <= count - 1 }
        guard defined.contains(true) else { return sampleLabels.map { _ in nil } }
        BLAS.useSingleThreadedKernels()
        // Each row's silhouette is stored, then summed in row order: the same sum for any threads.
        var silhouettes = [Double](repeating: 0, count: clusterings.count * count)
        let blockRows = 64
        let blockCount = (count + blockRows - 1) / blockRows
        let threads = max(1, min(threadCount ?? availableProcessorCount, blockCount))
        silhouettes.withUnsafeMutableBufferPointer { output in
            let output = SendablePointer(output.baseAddress!)
            DispatchQueue.concurrentPerform(iterations: threads) { thread in
                var distances = [Double](repeating: 0, count: blockRows * count)
                var sums: [Double] = []
                for block in stride(from: thread, to: blockCount, by: threads) {
                    let first = block * blockRows
                    let blockCount = min(blockRows, count - first)
                    fillDistances(rows: first..<(first + blockCount), into: &distances)
                    for (index, clustering) in clusterings.enumerated() where defined[index] {
                        sums = [Double](repeating: 0, count: clustering.clusterCount)
                        for local in 0..<blockCount {
                            let row = first + local
                            output.base[index * count + row] = clustering.silhouette(
                                of: row, distances: distances, offset: local * count, sums: &sums)
                        }
                    }
                }
            }
        }
        return clusterings.indices.map { index in
            guard defined[index] else { return nil }
            var total = 0.0
            for row in 0..<count { total += silhouettes[index * count + row] }
            return total / Double(count)
        }
    }

    /// Fills `distances[(r − rows.lowerBound) · m + j]` with the distance between sampled
    /// rows `r` and `j`, for `r` in `rows` and every `j`; a row's distance to itself is 0.
    private func fillDistances(rows block: Range<Int>, into distances: inout [Double]) {
        let count = rows.count
        values.withUnsafeBufferPointer { values in
            distances.withUnsafeMutableBufferPointer { distances in
                // distances ← X_block · Xᵀ
                cblas_dgemm(
                    CblasRowMajor, CblasNoTrans, CblasTrans,
                    blasint(block.count), blasint(count), blasint(dimension),
                    1, values.baseAddress! + block.lowerBound * dimension, blasint(dimension),
                    values.baseAddress!, blasint(dimension),
                    0, distances.baseAddress!, blasint(count))
                for row in block {
                    let offset = (row - block.lowerBound) * count
                    switch metric {
                    case .l2:
                        // Negative squared distances from the expanded formula are rounding: clamped to zero.
                        for other in 0..<count {
                            let squared = squaredNorms[row] + squaredNorms[other] - 2 * distances[offset + other]
                            distances[offset + other] = max(0, squared).squareRoot()
                        }
                    case .cosine:
                        for other in 0..<count { distances[offset + other] = min(2, max(0, 1 - distances[offset + other])) }
                    }
                    distances[offset + row] = 0
                }
            }
        }
    }
}

/// One clustering's labels renumbered `0..<clusterCount` over the clusters that occur,
/// with the size of each.
private struct DenseLabels: Sendable {
    let labels: [Int32]
    let sizes: [Int]
    var clusterCount: Int { sizes.count }

    init(_ given: [Int32], rowCount: Int) {
        precondition(given.count == rowCount, "one label per sampled row: \(given.count) labels for \(rowCount) rows")
        var numbers: [Int32: Int32] = [:]
        var sizes: [Int] = []
        labels = given.map { label in
            if let number = numbers[label] {
                sizes[Int(number)] += 1
                return number
            }
            let number = Int32(sizes.count)
            numbers[label] = number
            sizes.append(1)
            return number
        }
        self.sizes = sizes
    }

    /// Row `row`'s silhouette, from its distances to every sampled row at `distances[offset...]`.
    /// `sums` is scratch of `clusterCount` zeros, left zeroed.
    func silhouette(of row: Int, distances: [Double], offset: Int, sums: inout [Double]) -> Double {
        for other in labels.indices { sums[Int(labels[other])] += distances[offset + other] }
        let own = Int(labels[row])
        defer { for cluster in sums.indices { sums[cluster] = 0 } }
        // Alone in its cluster: 0 by definition (Rousseeuw's convention, and scikit-learn's).
        guard sizes[own] > 1 else { return 0 }
        let a = sums[own] / Double(sizes[own] - 1)
        var b = Double.infinity
        for cluster in sizes.indices where cluster != own { b = min(b, sums[cluster] / Double(sizes[cluster])) }
        let larger = max(a, b)
        // a = b = 0 (duplicate rows): scikit-learn turns the 0/0 into 0.
        return larger > 0 ? (b - a) / larger : 0
    }
}

/// A pointer handed to the threads of a parallel loop, each writing its own elements.
private struct SendablePointer: @unchecked Sendable {
    let base: UnsafeMutablePointer<Double>
    init(_ base: UnsafeMutablePointer<Double>) { self.base = base }
}

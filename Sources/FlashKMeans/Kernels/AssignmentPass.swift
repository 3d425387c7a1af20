import Dispatch

/// Partial results of one accumulation slice: a fixed, contiguous range of point tiles.
final class SliceAccumulator: @unchecked Sendable {
    /// `k × d` sums of the rows assigned to each cluster, in float64.
    let sums: UnsafeMutablePointer<Double>
    let counts: UnsafeMutablePointer<Int>
    var inertia = 0.0
    var reassigned = 0
    var ambiguousRows = 0
    var failure: (any Error)?
    private let sumCount: Int
    private let clusterCount: Int

    init(clusterCount: Int, dimension: Int) {
        self.clusterCount = clusterCount
        sumCount = clusterCount * dimension
        sums = .allocate(capacity: sumCount)
        counts = .allocate(capacity: clusterCount)
    }

    deinit {
        sums.deallocate()
        counts.deallocate()
    }

    func reset(sums clearSums: Bool) {
        if clearSums {
            sums.update(repeating: 0, count: sumCount)
            counts.update(repeating: 0, count: clusterCount)
        }
        inertia = 0
        reassigned = 0
        ambiguousRows = 0
        failure = nil
    }
}

/// What one pass over the data found.
struct PassOutcome {
    /// `Σ ‖x − c(x)‖²` over all rows, summed in float64 slice by slice, then in slice order.
    var inertia: Double
    /// Rows whose label differs from the previous pass (all rows on the first pass).
    var reassigned: Int
    /// Rows whose two best float32 scores were within rounding, re-ranked in float64.
    var ambiguousRows: Int
}

/// The streaming assignment pass: every row's nearest centroid, its squared
/// distance, and (optionally) the per-cluster sums for the next centroids, all in
/// one read of the data.
///
/// Work is split into ``TilePlan/sliceCount`` slices; thread `t` handles slices
/// `t, t + T, t + 2T, …` and each slice accumulates its own sums in row order.
/// Slices are combined in index order, so results are bit-identical for any thread
/// count.
///
/// Memory: `labels` and `squaredDistances` (8 bytes per row), one ``KernelScratch``
/// per thread, and `k × d` float64 sums per slice.
final class AssignmentPass: @unchecked Sendable {
    let source: any EmbeddingSource
    let plan: TilePlan
    let clusterCount: Int
    let dimension: Int
    var pointCount: Int { source.rowCount }

    /// Current label of each row; −1 before the first pass.
    let labels: UnsafeMutableBufferPointer<Int32>
    /// `‖x − c(x)‖²` for each row from the latest pass, recomputed directly for the winning centroid.
    let squaredDistances: UnsafeMutableBufferPointer<Float>
    private let scratches: [KernelScratch]
    private let slices: [SliceAccumulator]
    private let centroidNorms: UnsafeMutablePointer<Float>
    private var exactLabels = ExactLabels(dimension: 1, largestCentroidNorm: 0)

    init(source: any EmbeddingSource, clusterCount: Int, plan: TilePlan) {
        self.source = source
        self.plan = plan
        self.clusterCount = clusterCount
        dimension = source.dimension
        labels = .allocate(capacity: source.rowCount)
        labels.initialize(repeating: -1)
        squaredDistances = .allocate(capacity: source.rowCount)
        squaredDistances.initialize(repeating: 0)
        scratches = (0..<plan.threadCount).map { _ in KernelScratch(plan: plan, dimension: source.dimension) }
        slices = (0..<plan.sliceCount).map { _ in SliceAccumulator(clusterCount: clusterCount, dimension: source.dimension) }
        centroidNorms = .allocate(capacity: clusterCount)
    }

    deinit {
        labels.deallocate()
        squaredDistances.deallocate()
        centroidNorms.deallocate()
    }

    /// Bytes of anonymous memory this pass holds, for the run report.
    var workingBytes: Int {
        pointCount * 8 + scratches.count * plan.scratchBytes(dimension: dimension)
            + slices.count * clusterCount * (dimension * 8 + 8) + clusterCount * 4
    }

    /// Assigns every row to its nearest centroid.
    ///
    /// - Parameters:
    ///   - centroids: `k × d`, row-major (in).
    ///   - accumulateSums: Whether to gather per-cluster sums for ``combineSums(into:counts:)``.
    /// - Throws: The first (lowest-row) ``DatasetError`` any slice met, such as a
    ///   non-finite row or an inconsistent fvecs header.
    func run(centroids: UnsafePointer<Float>, accumulateSums: Bool) throws -> PassOutcome {
        centroidSquaredNorms(centroids, count: clusterCount, dimension: dimension, into: centroidNorms)
        let largestSquaredNorm = (0..<clusterCount).reduce(Float(0)) { max($0, centroidNorms[$1]) }
        exactLabels = ExactLabels(dimension: dimension, largestCentroidNorm: Double(largestSquaredNorm).squareRoot() * (1 + 0x1p-20))
        for slice in slices { slice.reset(sums: accumulateSums) }
        let threads = plan.threadCount
        // Each thread reads the centroids and writes only its own slices and scratch.
        nonisolated(unsafe) let centroids = centroids
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            var slice = thread
            while slice < slices.count {
                do {
                    try runSlice(slice, centroids: centroids, scratch: scratches[thread], accumulateSums: accumulateSums)
                } catch {
                    slices[slice].failure = error
                }
                slice += threads
            }
        }
        var outcome = PassOutcome(inertia: 0, reassigned: 0, ambiguousRows: 0)
        for slice in slices {
            if let failure = slice.failure { throw failure }
            outcome.inertia += slice.inertia
            outcome.reassigned += slice.reassigned
            outcome.ambiguousRows += slice.ambiguousRows
        }
        return outcome
    }

    private func runSlice(_ sliceIndex: Int, centroids: UnsafePointer<Float>, scratch: KernelScratch, accumulateSums: Bool) throws {
        let slice = slices[sliceIndex]
        let rows = plan.rows(ofSlice: sliceIndex, pointCount: pointCount)
        var tileStart = rows.lowerBound
        while tileStart < rows.upperBound {
            let tileRows = tileStart..<min(tileStart + plan.pointTile, rows.upperBound)
            try source.withRows(tileRows, scratch: scratch.convertedRows) { tile in
                try processTile(tile, centroids: centroids, scratch: scratch, slice: slice, accumulateSums: accumulateSums)
            }
            tileStart = tileRows.upperBound
        }
    }

    @inline(__always)
    private func processTile(
        _ tile: RowTile, centroids: UnsafePointer<Float>, scratch: KernelScratch, slice: SliceAccumulator, accumulateSums: Bool
    ) throws {
        for row in 0..<tile.rowCount {
            let norm = squaredNorm(tile.row(row), dimension: dimension)
            // NaN, Inf, or values whose squares overflow float32.
            guard norm.isFinite else {
                throw DatasetError(path: source.path, .nonFiniteValue(row: tile.firstRow + row))
            }
            scratch.pointSquaredNorms[row] = norm
        }
        findNearestCentroids(
            tile: tile, centroids: centroids, centroidSquaredNorms: centroidNorms,
            clusterCount: clusterCount, centroidTile: plan.centroidTile, scratch: scratch)
        var inertia = 0.0
        var reassigned = 0
        var ambiguous = 0
        for row in 0..<tile.rowCount {
            let point = tile.firstRow + row
            var label = scratch.bestLabels[row]
            if exactLabels.isAmbiguous(
                best: scratch.bestScores[row], second: scratch.secondScores[row], pointSquaredNorm: scratch.pointSquaredNorms[row]
            ) {
                label = ExactLabels.nearest(tile.row(row), centroids: centroids, clusterCount: clusterCount, dimension: dimension)
                ambiguous += 1
            }
            let distance = squaredDistance(tile.row(row), centroids + Int(label) * dimension, dimension: dimension)
            if labels[point] != label {
                labels[point] = label
                reassigned += 1
            }
            squaredDistances[point] = distance
            inertia += Double(distance)
            if accumulateSums {
                slice.counts[Int(label)] += 1
                addRow(tile.row(row), to: slice.sums + Int(label) * dimension, dimension: dimension)
            }
        }
        slice.inertia += inertia
        slice.reassigned += reassigned
        slice.ambiguousRows += ambiguous
    }

    /// Adds the slices' sums in slice order.
    ///
    /// - Parameters:
    ///   - sums: `k × d` float64 (out).
    ///   - counts: `k` (out).
    func combineSums(into sums: UnsafeMutablePointer<Double>, counts: UnsafeMutablePointer<Int>) {
        let sumCount = clusterCount * dimension
        sums.update(repeating: 0, count: sumCount)
        counts.update(repeating: 0, count: clusterCount)
        for slice in slices {
            for index in 0..<sumCount { sums[index] += slice.sums[index] }
            for cluster in 0..<clusterCount { counts[cluster] += slice.counts[cluster] }
        }
    }
}

/// Partial results of one accumulation slice: a fixed, contiguous range of point tiles.
final class SliceAccumulator: @unchecked Sendable {
    /// `k × d` sums of the rows assigned to each cluster, in float64.
    let sums: UnsafeMutablePointer<Double>
    let counts: UnsafeMutablePointer<Int>
    var inertia = 0.0
    var reassigned = 0
    var counters = StepCounters()
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
        counters = StepCounters()
        failure = nil
    }
}

/// What one pass over the data found.
struct PassOutcome {
    /// `Σ ‖x − c(x)‖²` over all rows, summed in float64 slice by slice, then in slice order.
    var inertia: Double
    /// Rows whose label differs from the previous pass (all rows on the first pass).
    var reassigned: Int
    /// What the step computed and skipped.
    var counters: StepCounters
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
/// Which centroids each row is compared with is the `step`'s business (all of them for
/// Lloyd; those its bounds cannot rule out for Hamerly, Elkan and Yinyang); the pass
/// streams the tiles, checks rows for NaN and Inf, and keeps labels, sums and inertia,
/// so every step's results are summed identically.
///
/// Memory: `labels` and `squaredDistances` (8 bytes per row), one ``KernelScratch``
/// per thread, and `k × d` float64 sums per slice, plus the step's bounds.
final class AssignmentPass<Step: AssignmentStep>: ParallelWork, @unchecked Sendable {
    let source: any EmbeddingSource
    let step: Step
    let plan: TilePlan
    let clusterCount: Int
    let dimension: Int
    var pointCount: Int { source.rowCount }

    /// Current label of each row; −1 before the first pass.
    let labels: UnsafeMutableBufferPointer<Int32>
    /// `‖x − c(x)‖²` for each row from the latest pass, recomputed directly for the winning centroid.
    let squaredDistances: UnsafeMutableBufferPointer<Float>
    private let scratches: [KernelScratch]
    private let stepScratches: [Step.Scratch]
    private let slices: [SliceAccumulator]
    private let centroidNorms: UnsafeMutablePointer<Float>
    private let workers: WorkerThreads
    /// What ``work(participant:)`` needs during ``run(centroids:accumulateSums:pruning:)``.
    private var currentPass: (context: PassContext, accumulateSums: Bool)?

    init(source: any EmbeddingSource, step: Step, clusterCount: Int, plan: TilePlan) {
        self.source = source
        self.step = step
        self.plan = plan
        self.clusterCount = clusterCount
        dimension = source.dimension
        labels = .allocate(capacity: source.rowCount)
        labels.initialize(repeating: -1)
        squaredDistances = .allocate(capacity: source.rowCount)
        squaredDistances.initialize(repeating: 0)
        scratches = (0..<plan.threadCount).map { _ in KernelScratch(plan: plan, dimension: source.dimension) }
        stepScratches = (0..<plan.threadCount).map { _ in step.makeScratch() }
        slices = (0..<plan.sliceCount).map { _ in SliceAccumulator(clusterCount: clusterCount, dimension: source.dimension) }
        centroidNorms = .allocate(capacity: clusterCount)
        workers = WorkerThreads(count: plan.threadCount)
    }

    deinit {
        workers.stop()
        labels.deallocate()
        squaredDistances.deallocate()
        centroidNorms.deallocate()
    }

    /// Bytes of anonymous memory this pass holds, for the run report.
    var workingBytes: Int {
        pointCount * 8 + scratches.count * plan.scratchBytes(dimension: dimension)
            + slices.count * clusterCount * (dimension * 8 + 8) + clusterCount * 4 + step.boundBytes
    }

    /// Assigns every row to its nearest centroid.
    ///
    /// - Parameters:
    ///   - centroids: `k × d`, row-major (in).
    ///   - accumulateSums: Whether to gather per-cluster sums for ``combineSums(into:counts:)``.
    ///   - pruning: Whether the step may skip work its bounds rule out.
    /// - Throws: The first (lowest-row) ``DatasetError`` any slice met, such as a
    ///   non-finite row or an inconsistent fvecs header.
    func run(centroids: UnsafePointer<Float>, accumulateSums: Bool, pruning: Bool) throws -> PassOutcome {
        centroidSquaredNorms(centroids, count: clusterCount, dimension: dimension, into: centroidNorms)
        let largestSquaredNorm = (0..<clusterCount).reduce(Float(0)) { max($0, centroidNorms[$1]) }
        let context = PassContext(
            centroids: centroids, centroidSquaredNorms: centroidNorms, clusterCount: clusterCount, dimension: dimension,
            centroidTile: plan.centroidTile,
            exactLabels: ExactLabels(dimension: dimension, largestCentroidNorm: Double(largestSquaredNorm).squareRoot() * (1 + 0x1p-20)),
            labels: labels, pruning: pruning)
        step.beginPass(context)
        for slice in slices { slice.reset(sums: accumulateSums) }
        currentPass = (context, accumulateSums)
        workers.run(self)
        currentPass = nil
        var outcome = PassOutcome(inertia: 0, reassigned: 0, counters: StepCounters())
        for slice in slices {
            if let failure = slice.failure { throw failure }
            outcome.inertia += slice.inertia
            outcome.reassigned += slice.reassigned
            outcome.counters += slice.counters
        }
        return outcome
    }

    /// Participant `t` handles slices `t, t + T, t + 2T, …`; each thread reads the
    /// centroids and writes only its own slices, scratch and rows.
    func work(participant: Int) {
        guard let (context, accumulateSums) = currentPass else { return }
        var slice = participant
        while slice < slices.count {
            do {
                try runSlice(
                    slice, context: context, scratch: scratches[participant], stepScratch: stepScratches[participant],
                    accumulateSums: accumulateSums)
            } catch {
                slices[slice].failure = error
            }
            slice += workers.count
        }
    }

    private func runSlice(
        _ sliceIndex: Int, context: PassContext, scratch: KernelScratch, stepScratch: Step.Scratch, accumulateSums: Bool
    ) throws {
        let slice = slices[sliceIndex]
        let rows = plan.rows(ofSlice: sliceIndex, pointCount: pointCount)
        // A mapped file's pages are released every 8 MiB of rows read, so a pass holds
        // about that much of the file per thread instead of all of it. Batches this size
        // keep the cost small (each release interrupts the other threads to flush their
        // TLBs); per tile it cost 5% of a Lloyd iteration on 1M × 128.
        let releaseRowCount = max(plan.pointTile, (8 << 20) / max(1, dimension * 4))
        var unreleasedStart = rows.lowerBound
        var tileStart = rows.lowerBound
        while tileStart < rows.upperBound {
            let tileRows = tileStart..<min(tileStart + plan.pointTile, rows.upperBound)
            try source.withRows(tileRows, scratch: scratch.convertedRows) { tile in
                try processTile(
                    tile, context: context, scratch: scratch, stepScratch: stepScratch, slice: slice, accumulateSums: accumulateSums)
            }
            tileStart = tileRows.upperBound
            if tileStart - unreleasedStart >= releaseRowCount || tileStart == rows.upperBound {
                source.releaseRows(unreleasedStart..<tileStart)
                unreleasedStart = tileStart
            }
        }
    }

    @inline(__always)
    private func processTile(
        _ tile: RowTile, context: PassContext, scratch: KernelScratch, stepScratch: Step.Scratch,
        slice: SliceAccumulator, accumulateSums: Bool
    ) throws {
        for row in 0..<tile.rowCount {
            let norm = squaredNorm(tile.row(row), dimension: dimension)
            // NaN, Inf, or values whose squares overflow float32.
            guard norm.isFinite else {
                throw DatasetError(path: source.path, .nonFiniteValue(row: tile.firstRow + row))
            }
            scratch.pointSquaredNorms[row] = norm
        }
        try step.assignTile(tile, context: context, scratch: scratch, stepScratch: stepScratch, counters: &slice.counters)
        var inertia = 0.0
        var reassigned = 0
        for row in 0..<tile.rowCount {
            let point = tile.firstRow + row
            let label = scratch.finalLabels[row]
            let distance = scratch.labelDistances[row]
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

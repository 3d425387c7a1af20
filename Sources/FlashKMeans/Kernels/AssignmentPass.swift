import CKMeansKernels

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `k × d` float64 sums of rows by cluster, and the `k` cluster sizes.
final class ClusterSums {
    let sums: UnsafeMutablePointer<Double>
    let counts: UnsafeMutablePointer<Int>
    let sumCount: Int
    let clusterCount: Int

    init(clusterCount: Int, dimension: Int) {
        self.clusterCount = clusterCount
        sumCount = clusterCount * dimension
        sums = .allocate(capacity: max(1, sumCount))
        counts = .allocate(capacity: max(1, clusterCount))
    }

    deinit {
        sums.deallocate()
        counts.deallocate()
    }

    var byteCount: Int { sumCount * MemoryLayout<Double>.stride + clusterCount * MemoryLayout<Int>.stride }

    func clear() {
        sums.update(repeating: 0, count: sumCount)
        counts.update(repeating: 0, count: clusterCount)
    }

    /// Adds `part`, each sum on its own; the first part of a total is copied instead: adding
    /// it to +0 gives the same bits, as a slice's sums start at +0 and so are never −0.
    func add(_ part: ClusterSums, first: Bool) {
        let partSums = UnsafePointer(part.sums)
        if first {
            sums.update(from: partSums, count: sumCount)
            counts.update(from: part.counts, count: clusterCount)
        } else {
            for index in 0..<sumCount { sums[index] += partSums[index] }
            for cluster in 0..<clusterCount { counts[cluster] += part.counts[cluster] }
        }
    }

    /// The sums, then the counts, as bytes.
    var bytes: [UInt8] {
        Array(UnsafeRawBufferPointer(start: sums, count: sumCount * MemoryLayout<Double>.stride))
            + Array(UnsafeRawBufferPointer(start: counts, count: clusterCount * MemoryLayout<Int>.stride))
    }

    /// Reads what ``bytes`` wrote.
    func load(_ bytes: [UInt8]) {
        precondition(bytes.count == byteCount)
        bytes.withUnsafeBytes { raw in
            UnsafeMutableRawPointer(sums).copyMemory(from: raw.baseAddress!, byteCount: sumCount * MemoryLayout<Double>.stride)
            UnsafeMutableRawPointer(counts).copyMemory(
                from: raw.baseAddress! + sumCount * MemoryLayout<Double>.stride, byteCount: clusterCount * MemoryLayout<Int>.stride)
        }
    }
}

/// Partial results of one accumulation slice: a fixed, contiguous range of rows.
final class SliceAccumulator {
    /// Where the slice adds its rows in a pass that gathers sums: its own sums when the pass
    /// is one rank's share of a job, otherwise a ``SliceFolding`` slot lent for the pass.
    var partial: ClusterSums?
    var inertia = 0.0
    var reassigned = 0
    var counters = StepCounters()

    init(partial: ClusterSums?) {
        self.partial = partial
    }

    func resetTotals() {
        inertia = 0
        reassigned = 0
        counters = StepCounters()
    }
}

/// Adds each slice's sums into the total as soon as every slice before it has been added,
/// so that a pass holds the sums of a few slices at a time rather than of all of them
/// (16 slices of 4 MiB at k = 4096, d = 128).
///
/// The total adds the slices in slice order, each sum on its own: the same additions, hence
/// the same bits, as adding all slices to a cleared total after the pass. Slice `s` uses slot
/// `s mod slots` and may start only once slice `s − slots` has been added; the lowest slice
/// not yet added can always start or finish, so the pass never stalls for good. With slices
/// dealt round-robin to `T` threads, `2T` slots let one thread run a whole slice ahead of
/// another before it waits.
final class SliceFolding: @unchecked Sendable {
    let total: ClusterSums
    private let slots: [ClusterSums]
    private let sliceCount: Int
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let slotFreed: UnsafeMutablePointer<pthread_cond_t>
    // Guarded by `mutex`.
    private let finished: UnsafeMutablePointer<Bool>
    private var nextToAdd = 0
    private var adding = false

    init(sliceCount: Int, threadCount: Int, clusterCount: Int, dimension: Int) {
        self.sliceCount = sliceCount
        total = ClusterSums(clusterCount: clusterCount, dimension: dimension)
        slots = (0..<max(1, min(sliceCount, 2 * threadCount))).map { _ in ClusterSums(clusterCount: clusterCount, dimension: dimension) }
        mutex = .allocate(capacity: 1)
        slotFreed = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(slotFreed, nil)
        finished = .allocate(capacity: sliceCount)
        finished.initialize(repeating: false, count: sliceCount)
    }

    deinit {
        pthread_cond_destroy(slotFreed)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        slotFreed.deallocate()
        finished.deallocate()
    }

    var byteCount: Int { (slots.count + 1) * total.byteCount }

    /// Before a pass that gathers sums, on the calling thread.
    func beginPass() {
        nextToAdd = 0
        finished.update(repeating: false, count: sliceCount)
    }

    /// The cleared slot for `slice`, once the slice that used it last has been added.
    func slot(forSlice slice: Int) -> ClusterSums {
        pthread_mutex_lock(mutex)
        while slice >= nextToAdd + slots.count { pthread_cond_wait(slotFreed, mutex) }
        pthread_mutex_unlock(mutex)
        let slot = slots[slice % slots.count]
        slot.clear()
        return slot
    }

    /// Marks `slice` done and adds every slice that is now next in order. One thread adds at
    /// a time; a slice that finishes meanwhile is picked up by the thread already adding.
    func finish(slice: Int) {
        pthread_mutex_lock(mutex)
        finished[slice] = true
        if adding {
            pthread_mutex_unlock(mutex)
            return
        }
        adding = true
        while nextToAdd < sliceCount, finished[nextToAdd] {
            let next = nextToAdd
            pthread_mutex_unlock(mutex)
            total.add(slots[next % slots.count], first: next == 0)
            pthread_mutex_lock(mutex)
            nextToAdd += 1
            pthread_cond_broadcast(slotFreed)
        }
        adding = false
        pthread_mutex_unlock(mutex)
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
/// one read of the data, through the ``TileEngine``.
///
/// Each of the ``TilePlan/sliceCount`` slices accumulates its own sums in row order, and
/// slices are combined in index order, so results are bit-identical for any thread count.
///
/// Which centroids each row is compared with is the `step`'s business (all of them for
/// Lloyd; those its bounds cannot rule out for Hamerly, Elkan and Yinyang); the pass
/// checks rows for NaN and Inf and keeps labels, sums and inertia, so every step's
/// results are summed identically.
///
/// Memory: `labels` and `squaredDistances` (8 bytes per row), one ``KernelScratch`` and
/// one tile reader per thread, and `k × d` float64 sums for at most twice as many slices as
/// threads (a rank's share: its own slices and one total), plus the step's bounds.
final class AssignmentPass<Step: AssignmentStep> {
    let source: any EmbeddingSource
    let step: Step
    let plan: TilePlan
    let clusterCount: Int
    let dimension: Int
    var pointCount: Int { source.rowCount }
    private let operation: AssignmentOperation<Step>
    private let engine: TileEngine<AssignmentOperation<Step>>
    /// In one process: adds the slices' sums while the pass runs.
    private let folding: SliceFolding?
    /// For one rank's share: the job's sums, which the ranks add up in turn after a pass
    /// (``chainSums(_:)``).
    private let rankTotal: ClusterSums?
    private let centroidSquaredNorms: UnsafeMutablePointer<Float>
    private let quantizedCentroids: QuantizedCentroids?
    /// Screens labelled rows by a prefix of rotated coordinates, where the plan screens.
    private let prefixScreen: PrefixScreen?
    /// Whether a pass has completed, so that every row has a label to seed the prefix screen.
    private var rowsHaveLabels = false

    /// When this pass is one rank's share of a job: the exchange, and every slice of the
    /// single-process split (this rank's own and copies of the others', filled each pass).
    private let ranks: (distribution: Distribution, share: RankShare)?
    private let allSlices: [SliceAccumulator]

    /// - Parameters:
    ///   - ranks: For one rank of a job, the exchange and this rank's share; `source` and
    ///     `plan` are then that share's rows and plan.
    ///   - prefixBudget: The most bytes the prefix screen may keep of the rows (`n × (p + 21)`);
    ///     0 for none. Only a pass that runs more than once can use it.
    init(
        source: any EmbeddingSource, step: Step, clusterCount: Int, plan: TilePlan,
        ranks: (distribution: Distribution, share: RankShare)? = nil, prefixBudget: Int = 0
    ) {
        self.source = source
        self.step = step
        self.plan = plan
        self.clusterCount = clusterCount
        self.ranks = ranks
        dimension = source.dimension
        let schedule = TileSchedule(plan: plan, rowCount: source.rowCount)
        let threadCount = max(1, min(plan.threadCount, schedule.sliceCount))
        folding = ranks == nil
            ? SliceFolding(sliceCount: plan.sliceCount, threadCount: threadCount, clusterCount: clusterCount, dimension: dimension) : nil
        operation = AssignmentOperation(source: source, step: step, clusterCount: clusterCount, plan: plan, folding: folding)
        engine = TileEngine(operation: operation, schedule: schedule, threadCount: plan.threadCount, source: source)
        if let share = ranks?.share {
            let local = operation.slices
            // Other ranks' slices bring their totals only; their sums arrive added up.
            allSlices = (0..<share.globalSliceCount).map {
                share.slices.contains($0) ? local[$0 - share.slices.lowerBound] : SliceAccumulator(partial: nil)
            }
            rankTotal = ClusterSums(clusterCount: clusterCount, dimension: source.dimension)
        } else {
            allSlices = operation.slices
            rankTotal = nil
        }
        centroidSquaredNorms = .allocate(capacity: max(1, clusterCount))
        quantizedCentroids = plan.integerScreening ? QuantizedCentroids(clusterCount: clusterCount, dimension: source.dimension) : nil
        prefixScreen = plan.integerScreening && prefixBudget > 0
            ? PrefixScreen(rowCount: source.rowCount, clusterCount: clusterCount, byteBudget: prefixBudget) : nil
    }

    deinit { centroidSquaredNorms.deallocate() }

    /// Current label of each row; −1 before the first pass.
    var labels: UnsafeMutableBufferPointer<Int32> { operation.labels }
    /// `‖x − c(x)‖²` for each row from the latest pass, recomputed directly for the winning centroid.
    var squaredDistances: UnsafeMutableBufferPointer<Float> { operation.squaredDistances }

    /// Bytes of anonymous memory this pass holds, for the run report.
    var workingBytes: Int {
        pointCount * 8 + engine.threadCount * plan.scratchBytes(dimension: dimension)
            + (folding?.byteCount ?? allSlices.reduce(rankTotal?.byteCount ?? 0) { $0 + ($1.partial?.byteCount ?? 0) })
            + clusterCount * 4 + step.boundBytes
            + (quantizedCentroids?.byteCount ?? 0) + (prefixScreen?.byteCount ?? 0)
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
        computeCentroidSquaredNorms(centroids, count: clusterCount, dimension: dimension, into: centroidSquaredNorms)
        let table = CentroidTable(values: centroids, squaredNorms: centroidSquaredNorms, count: clusterCount, dimension: dimension)
        var context = PassContext(
            centroids: table, centroidTile: plan.centroidTile, exactLabels: ExactLabels(centroids: table),
            previousLabels: UnsafeBufferPointer(operation.labels), pruning: pruning, quantizedCentroids: quantizedCentroids)
        if rowsHaveLabels { context.prefixScreen = prefixScreen?.load(table) }
        // The full screen is still needed where a slice's rows lack labels or a prefix was not found.
        quantizedCentroids?.load(table)
        step.beginPass(context)
        operation.currentPass = (context, accumulateSums)
        defer { operation.currentPass = nil }
        if accumulateSums { folding?.beginPass() }
        if let ranks {
            // A rank that failed tells the others, which would otherwise wait for it.
            try ranks.distribution.agreeing { try engine.run() }
            try exchangeSlices(ranks.distribution, share: ranks.share)
            if accumulateSums { try chainSums(ranks.distribution) }
        } else {
            try engine.run()
        }
        rowsHaveLabels = true
        var outcome = PassOutcome(inertia: 0, reassigned: 0, counters: StepCounters())
        for slice in allSlices {
            outcome.inertia += slice.inertia
            outcome.reassigned += slice.reassigned
            outcome.counters += slice.counters
        }
        return outcome
    }

    /// Gives every rank every slice's totals (inertia, reassignments, counters), so that all
    /// add them as one process would.
    private func exchangeSlices(_ distribution: Distribution, share: RankShare) throws {
        var packed: [UInt8] = []
        for slice in operation.slices {
            withUnsafeBytes(of: slice.inertia) { packed += $0 }
            withUnsafeBytes(of: slice.reassigned) { packed += $0 }
            withUnsafeBytes(of: slice.counters) { packed += $0 }
        }
        let parts = try distribution.allGather(packed)
        for (rank, part) in parts.enumerated() where rank != distribution.rank {
            part.withUnsafeBytes { raw in
                var offset = 0
                func take<T>(_ type: T.Type) -> T {
                    defer { offset += MemoryLayout<T>.size }
                    return raw.loadUnaligned(fromByteOffset: offset, as: T.self)
                }
                for index in share.slicesOfRank[rank] {
                    let slice = allSlices[index]
                    slice.inertia = take(Double.self)
                    slice.reassigned = take(Int.self)
                    slice.counters = take(StepCounters.self)
                }
            }
        }
    }

    /// Adds the job's slices' sums in slice order, as one process does, rank after rank: each
    /// rank adds its own slices to the total the ranks before it passed on and passes it on.
    /// Every rank receives one total from each rank (R of them) where it received every slice's
    /// sums before (S ≥ R), and holds its own slices' sums only.
    private func chainSums(_ distribution: Distribution) throws {
        guard let total = rankTotal else { return }
        for sender in 0..<distribution.size {
            var payload: [UInt8] = []
            if sender == distribution.rank {
                for (position, slice) in operation.slices.enumerated() {
                    total.add(slice.partial!, first: sender == 0 && position == 0)
                }
                payload = total.bytes
            }
            let passedOn = try distribution.allGather(payload)[sender]
            // Only the total this rank adds to, and the job's, are needed here.
            if sender != distribution.rank, sender == distribution.rank - 1 || sender == distribution.size - 1 {
                total.load(passedOn)
            }
        }
    }

    /// The slices' sums, added in slice order, from the latest pass that gathered them.
    ///
    /// - Parameters:
    ///   - sums: `k × d` float64 (out).
    ///   - counts: `k` (out).
    func combineSums(into sums: UnsafeMutablePointer<Double>, counts: UnsafeMutablePointer<Int>) throws {
        guard let total = folding?.total ?? rankTotal else { return }
        sums.update(from: total.sums, count: total.sumCount)
        counts.update(from: total.counts, count: clusterCount)
    }
}

/// The per-tile work of an ``AssignmentPass``: norms and finiteness, the step, then labels,
/// distances, inertia and sums, into the tile's own slice.
final class AssignmentOperation<Step: AssignmentStep>: TileOperation {
    typealias ThreadScratch = (kernel: KernelScratch, step: Step.Scratch)

    let path: String
    let step: Step
    let plan: TilePlan
    let dimension: Int
    let labels: UnsafeMutableBufferPointer<Int32>
    let squaredDistances: UnsafeMutableBufferPointer<Float>
    let slices: [SliceAccumulator]
    private let folding: SliceFolding?
    /// Set by ``AssignmentPass/run(centroids:accumulateSums:pruning:)`` for the pass under way.
    var currentPass: (context: PassContext, accumulateSums: Bool)?

    /// - Parameter folding: Lends the slices their sums and adds them up while the pass runs;
    ///   `nil`: every slice keeps sums of its own.
    init(source: any EmbeddingSource, step: Step, clusterCount: Int, plan: TilePlan, folding: SliceFolding?) {
        self.folding = folding
        path = source.path
        self.step = step
        self.plan = plan
        dimension = source.dimension
        labels = .allocate(capacity: source.rowCount)
        labels.initialize(repeating: -1)
        squaredDistances = .allocate(capacity: source.rowCount)
        squaredDistances.initialize(repeating: 0)
        slices = (0..<plan.sliceCount).map { _ in
            SliceAccumulator(partial: folding == nil ? ClusterSums(clusterCount: clusterCount, dimension: source.dimension) : nil)
        }
    }

    deinit {
        labels.deallocate()
        squaredDistances.deallocate()
    }

    func makeThreadScratch() -> ThreadScratch {
        (KernelScratch(plan: plan, dimension: dimension), step.makeScratch())
    }

    /// Each slice clears its sums on its own thread (`k × d` of them: 4 MiB a slice at
    /// k = 4096, d = 128, which one thread cleared for every slice in 7% of a pass).
    func beginSlice(_ slice: Int) {
        guard let (_, accumulateSums) = currentPass else { return }
        let accumulator = slices[slice]
        accumulator.resetTotals()
        guard accumulateSums else { return }
        if let folding {
            accumulator.partial = folding.slot(forSlice: slice)
        } else {
            accumulator.partial!.clear()
        }
    }

    func endSlice(_ slice: Int) {
        guard let (_, accumulateSums) = currentPass, accumulateSums else { return }
        folding?.finish(slice: slice)
    }

    /// Whether the slice's rows so far in this pass say the screen still narrows enough to
    /// pay. A slice is run by one thread in row order, so the decision depends on the data
    /// and the tile size only, never on the thread count (and labels never depend on it).
    static func screeningPays(_ counters: StepCounters) -> Bool {
        counters.screenedRows < Screening.giveUpProbeRows
            || Double(counters.screeningFallbacks) <= Screening.giveUpFallbackFraction * Double(counters.screenedRows)
    }

    func process(_ rows: Range<Int>, slice sliceIndex: Int, scratch: ThreadScratch, reader: TileReader) throws {
        guard let (context, accumulateSums) = currentPass else { return }
        let slice = slices[sliceIndex]
        var tileContext = context
        if plan.screeningGivesUp, !Self.screeningPays(slice.counters) { tileContext.quantizedCentroids = nil }
        try reader.withTile(rows) { tile in
            // Rows whose prefixes are kept had their norms computed and checked then.
            if tileContext.prefixScreen?.rows.copySquaredNorms(of: tile, into: scratch.kernel.pointSquaredNorms) != true {
                try checkedSquaredNorms(of: tile, into: scratch.kernel.pointSquaredNorms, path: path)
            }
            try step.assignTile(tile, context: tileContext, scratch: scratch.kernel, stepScratch: scratch.step, counters: &slice.counters)
            let settled = scratch.kernel.settled
            // Inertia goes straight into the slice's total, row by row, so that where float64
            // rounds depends on the rows only, never on the tile size.
            var inertia = slice.inertia
            var reassigned = 0
            for row in 0..<tile.rowCount {
                let point = tile.firstRow + row
                let label = settled.labels[row]
                let distance = settled.squaredDistances[row]
                if labels[point] != label {
                    labels[point] = label
                    reassigned += 1
                }
                squaredDistances[point] = distance
                inertia += Double(distance)
            }
            if accumulateSums {
                // Row by row, in row order: each sum sees the same additions as one row at a time.
                fk_add_rows_by_label(
                    tile.base, tile.rowStride, tile.rowCount, dimension, settled.labels.pointer(at: 0, length: tile.rowCount),
                    slice.partial!.sums, slice.partial!.counts)
            }
            slice.inertia = inertia
            slice.reassigned += reassigned
        }
    }
}

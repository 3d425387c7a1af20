import CKMeansKernels

/// Where exact sums put their grid: every value summed has a magnitude below `2^top`, and
/// lands on the grid as an integer below 2^92 (see `fk_move_rows_exact`). Values down to
/// 2^68 times smaller than `2^top` are on the grid exactly; smaller ones lose bits below
/// `2^(top − 92)`, far less than float64 summation rounds away.
struct SumGrid: Sendable, Equatable {
    let top: Int

    /// The grid for values of magnitude at most `largest` (zero for all-zero data). Data with
    /// NaN or infinity get a grid that holds every finite float32, since the other rows are
    /// summed until the pass that meets the bad row stops the run.
    init(largestMagnitude largest: Float) {
        top = !largest.isFinite ? Int(Float.greatestFiniteMagnitude.exponent) + 1 : largest > 0 ? Int(largest.exponent) + 1 : 0
    }

    /// The grid for `source`'s rows, measured with one read of the data where the stored type
    /// does not bound them (``DataScale/largestMagnitude(of:centroids:plan:)``).
    static func covering(_ source: any EmbeddingSource, plan: TilePlan) throws -> SumGrid {
        SumGrid(largestMagnitude: try DataScale.largestMagnitude(of: source, plan: plan))
    }

    /// Values times this are integers below 2^92 on the grid.
    var scale: Double { Double(sign: .plus, exponent: 92 - top, significand: 1) }
    var inverseScale: Double { Double(sign: .plus, exponent: top - 92, significand: 1) }
}

/// Exact sums of rows by cluster on a ``SumGrid``, as three int64 words a value, and the `k`
/// cluster sizes. Being integers, they add up to the same bits in any order, so rows can be
/// moved between clusters as their labels change rather than summed again every pass.
final class ClusterSums {
    let words: UnsafeMutablePointer<Int64>
    let counts: UnsafeMutablePointer<Int>
    let clusterCount: Int
    let dimension: Int
    var wordCount: Int { clusterCount * 3 * dimension }

    init(clusterCount: Int, dimension: Int) {
        self.clusterCount = clusterCount
        self.dimension = dimension
        words = .allocate(capacity: max(1, clusterCount * 3 * dimension))
        counts = .allocate(capacity: max(1, clusterCount))
        clear()
    }

    deinit {
        words.deallocate()
        counts.deallocate()
    }

    var byteCount: Int { wordCount * MemoryLayout<Int64>.stride + clusterCount * MemoryLayout<Int>.stride }

    func clear() {
        words.update(repeating: 0, count: wordCount)
        counts.update(repeating: 0, count: clusterCount)
    }

    /// Carries the lower words up, so that equal sums have equal words.
    func normalize() { fk_normalize_exact(words, dimension, clusterCount) }

    /// The sums as float64, from normalized words.
    /// - Parameters:
    ///   - sums: `k × d` (out).
    ///   - counts: `k` (out).
    func values(on grid: SumGrid, into sums: UnsafeMutablePointer<Double>, counts: UnsafeMutablePointer<Int>) {
        fk_exact_to_double(words, dimension, clusterCount, grid.inverseScale, sums)
        counts.update(from: self.counts, count: clusterCount)
    }
}

/// ``ClusterSums`` that every thread of a pass moves its tiles' rows in and out of, one tile
/// at a time. The moves are exact integer additions, so their order does not matter.
final class SharedClusterSums: @unchecked Sendable {
    let sums: ClusterSums
    let grid: SumGrid
    private let lock = Lock()
    /// Rows moved since the words were last normalized; guarded by `lock`.
    private var movedSinceNormalized = 0

    init(clusterCount: Int, dimension: Int, grid: SumGrid) {
        sums = ClusterSums(clusterCount: clusterCount, dimension: dimension)
        self.grid = grid
    }

    /// Moves the rows of `tile` whose label changed from `oldLabels` (`nil`: every row is
    /// new) to `newLabels`.
    func move(_ tile: RowTile, from oldLabels: UnsafePointer<Int32>?, to newLabels: UnsafePointer<Int32>) {
        lock.lock()
        defer { lock.unlock() }
        let offTheGrid = fk_move_rows_exact(
            tile.base, tile.rowStride, tile.rowCount, tile.dimension, oldLabels, newLabels, grid.scale, sums.words, sums.counts)
        // The grid comes from the data's measured largest magnitude, or from the bound of a
        // type that is never measured (float16, uint8): only a source whose rows exceed what
        // its declared type holds can get here.
        precondition(offTheGrid == 0, "rows \(tile.firstRow)..<\(tile.firstRow + tile.rowCount) hold values beyond their declared type's range")
        // Each row moves less than 2^31 into a word: carrying well before 2^32 rows keeps
        // every int64 word from overflowing.
        movedSinceNormalized += tile.rowCount
        if movedSinceNormalized >= 1 << 30 {
            sums.normalize()
            movedSinceNormalized = 0
        }
    }

    /// After a pass, on the calling thread.
    func normalize() {
        sums.normalize()
        movedSinceNormalized = 0
    }
}

/// An exact total of float32 values (`fk_add_exact_floats`): the inertia, the same to the bit
/// however the rows are split.
struct ExactFloatTotal: BitwiseCopyable {
    private var words: (Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0)

    init() { precondition(FK_EXACT_FLOAT_WORDS == 10) }

    mutating func add(_ values: UnsafePointer<Float>, count: Int) {
        withUnsafeMutableBytes(of: &words) { fk_add_exact_floats(values, count, $0.baseAddress!.assumingMemoryBound(to: Int64.self)) }
    }

    static func += (total: inout ExactFloatTotal, other: ExactFloatTotal) {
        withUnsafeMutableBytes(of: &total.words) { raw in
            let words = raw.baseAddress!.assumingMemoryBound(to: Int64.self)
            withUnsafeBytes(of: other.words) { otherRaw in
                for index in 0..<10 { words[index] += otherRaw.load(fromByteOffset: index * 8, as: Int64.self) }
            }
            fk_normalize_exact_float_total(words)
        }
    }

    var value: Double {
        withUnsafeBytes(of: words) { fk_exact_float_total($0.baseAddress!.assumingMemoryBound(to: Int64.self)) }
    }
}

/// Totals of one accumulation slice: a fixed, contiguous range of rows.
final class SliceAccumulator {
    var inertia = ExactFloatTotal()
    var reassigned = 0
    var counters = StepCounters()

    func resetTotals() {
        inertia = ExactFloatTotal()
        reassigned = 0
        counters = StepCounters()
    }
}

/// What one pass over the data found.
struct PassOutcome {
    /// `Σ ‖x − c(x)‖²` over all rows, summed exactly, then rounded to float64.
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
/// Sums and inertia are exact (``ClusterSums``, ``ExactFloatTotal``), so results are
/// bit-identical for any thread count, tile size and split over ranks. A pass that gathers
/// sums after one that did moves only the rows whose label changed.
///
/// Which centroids each row is compared with is the `step`'s business (all of them for
/// Lloyd; those its bounds cannot rule out for Hamerly, Elkan and Yinyang); the pass
/// checks rows for NaN and Inf and keeps labels, sums and inertia, so every step's
/// results are summed identically.
///
/// Memory: `labels` and `squaredDistances` (8 bytes per row), one ``KernelScratch`` and
/// one tile reader per thread, `k × d` exact sums (24 bytes a value; twice for one rank of
/// a job: its rows' and the job's), plus the step's bounds.
final class AssignmentPass<Step: AssignmentStep> {
    let source: any EmbeddingSource
    let step: Step
    let plan: TilePlan
    let clusterCount: Int
    let dimension: Int
    var pointCount: Int { source.rowCount }
    private let operation: AssignmentOperation<Step>
    private let engine: TileEngine<AssignmentOperation<Step>>
    /// The sums of this process's rows by their labels, kept from pass to pass.
    private let sums: SharedClusterSums?
    /// Whether `sums` are of the current labels, so that the next pass moves only the rows
    /// that change label; a pass without sums or one that failed leaves them stale.
    private var sumsFollowLabels = false
    /// For one rank of a job: the job's sums, every rank's added up after each pass.
    private let jobSums: ClusterSums?
    private let centroidSquaredNorms: UnsafeMutablePointer<Float>
    private let quantizedCentroids: QuantizedCentroids?
    /// Screens labelled rows by a prefix of rotated coordinates, where the plan screens.
    private let prefixScreen: PrefixScreen?
    /// Whether a pass has completed, so that every row has a label to seed the prefix screen.
    private var rowsHaveLabels = false

    /// When this pass is one rank's share of a job.
    private let distribution: Distribution?

    /// - Parameters:
    ///   - grid: Where sums are kept; needed by passes that gather sums.
    ///   - distribution: For one rank of a job, the exchange; `source` and `plan` are then
    ///     that rank's rows and plan.
    ///   - prefixBudget: The most bytes the prefix screen may keep of the rows (`n × (p + 21)`);
    ///     0 for none. Only a pass that runs more than once can use it.
    init(
        source: any EmbeddingSource, step: Step, clusterCount: Int, plan: TilePlan, grid: SumGrid? = nil,
        distribution: Distribution? = nil, prefixBudget: Int = 0
    ) {
        self.source = source
        self.step = step
        self.plan = plan
        self.clusterCount = clusterCount
        self.distribution = distribution
        dimension = source.dimension
        let schedule = TileSchedule(plan: plan, rowCount: source.rowCount)
        sums = grid.map { SharedClusterSums(clusterCount: clusterCount, dimension: source.dimension, grid: $0) }
        jobSums = grid != nil && distribution != nil ? ClusterSums(clusterCount: clusterCount, dimension: source.dimension) : nil
        operation = AssignmentOperation(source: source, step: step, clusterCount: clusterCount, plan: plan, sums: sums)
        engine = TileEngine(operation: operation, schedule: schedule, threadCount: plan.threadCount, source: source)
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
            + (sums?.sums.byteCount ?? 0) + (jobSums?.byteCount ?? 0)
            + clusterCount * 4 + step.boundBytes
            + (quantizedCentroids?.byteCount ?? 0) + (prefixScreen?.byteCount ?? 0)
    }

    /// Assigns every row to its nearest centroid.
    ///
    /// - Parameters:
    ///   - centroids: `k × d`, row-major (in).
    ///   - accumulateSums: Whether to gather per-cluster sums for ``combineSums(into:counts:)``
    ///     (the pass needs a grid).
    ///   - pruning: Whether the step may skip work its bounds rule out.
    /// - Throws: The first (lowest-row) ``DatasetError`` any slice met, such as a
    ///   non-finite row or an inconsistent fvecs header.
    func run(centroids: UnsafePointer<Float>, accumulateSums: Bool, pruning: Bool) throws -> PassOutcome {
        precondition(!accumulateSums || sums != nil, "a pass that gathers sums needs a grid")
        computeCentroidSquaredNorms(centroids, count: clusterCount, dimension: dimension, into: centroidSquaredNorms)
        let table = CentroidTable(values: centroids, squaredNorms: centroidSquaredNorms, count: clusterCount, dimension: dimension)
        var context = PassContext(
            centroids: table, centroidTile: plan.centroidTile, exactLabels: ExactLabels(centroids: table),
            previousLabels: UnsafeBufferPointer(operation.labels), pruning: pruning, quantizedCentroids: quantizedCentroids)
        if rowsHaveLabels { context.prefixScreen = prefixScreen?.load(table) }
        if plan.screeningGivesUp, context.prefixScreen == nil, !ScreenedAssignment.fullScreenPays {
            // Without VNNI only the prefix screen is faster than float32 (``Screening``).
            context.quantizedCentroids = nil
        } else {
            // The full screen is still needed where a slice's rows lack labels or a prefix was not found.
            quantizedCentroids?.load(table)
        }
        step.beginPass(context)
        let movesRows = accumulateSums && sumsFollowLabels
        if accumulateSums, !movesRows { sums!.sums.clear() }
        sumsFollowLabels = false
        operation.currentPass = (context, accumulateSums ? (movesRows ? .moveChangedRows : .addEveryRow) : .none)
        defer { operation.currentPass = nil }
        var totals = RankTotals()
        if let distribution {
            // A rank that failed tells the others, which would otherwise wait for it.
            try distribution.agreeing { try engine.run() }
            totals = try RankTotals.exchanged(RankTotals(operation.slices), across: distribution)
        } else {
            try engine.run()
            totals = RankTotals(operation.slices)
        }
        if accumulateSums, let sums {
            sums.normalize()
            if let distribution, let jobSums {
                try distribution.allReduceSum(sums.sums, into: jobSums)
                jobSums.normalize()
            }
            sumsFollowLabels = true
        }
        rowsHaveLabels = true
        return PassOutcome(inertia: totals.inertia.value, reassigned: totals.reassigned, counters: totals.counters)
    }

    /// The sums of the latest pass that gathered them (of every rank's rows, for one rank of a job).
    ///
    /// - Parameters:
    ///   - sums: `k × d` float64 (out).
    ///   - counts: `k` (out).
    func combineSums(into sums: UnsafeMutablePointer<Double>, counts: UnsafeMutablePointer<Int>) throws {
        guard let local = self.sums else { return }
        (jobSums ?? local.sums).values(on: local.grid, into: sums, counts: counts)
    }
}

/// A pass's totals over slices, and over ranks for one rank of a job: integers and exact
/// sums, so the same whichever rows each rank and slice had.
struct RankTotals: BitwiseCopyable {
    var inertia = ExactFloatTotal()
    var reassigned = 0
    var counters = StepCounters()

    init() {}

    init(_ slices: [SliceAccumulator]) {
        for slice in slices { add(slice.inertia, slice.reassigned, slice.counters) }
    }

    mutating func add(_ inertia: ExactFloatTotal, _ reassigned: Int, _ counters: StepCounters) {
        self.inertia += inertia
        self.reassigned += reassigned
        self.counters += counters
    }

    static func exchanged(_ local: RankTotals, across distribution: Distribution) throws -> RankTotals {
        var total = RankTotals()
        for part in try distribution.allGather([local]) {
            total.add(part[0].inertia, part[0].reassigned, part[0].counters)
        }
        return total
    }
}

/// How a pass keeps the cluster sums.
enum SumsUpdate {
    case none
    /// Adds every row to sums cleared for the pass.
    case addEveryRow
    /// Moves the rows whose label changed in sums that follow the previous labels.
    case moveChangedRows
}

/// The per-tile work of an ``AssignmentPass``: norms and finiteness, the step, then labels,
/// distances, inertia and sums.
final class AssignmentOperation<Step: AssignmentStep>: TileOperation {
    typealias ThreadScratch = (kernel: KernelScratch, step: Step.Scratch)

    let path: String
    let step: Step
    let plan: TilePlan
    let dimension: Int
    let labels: UnsafeMutableBufferPointer<Int32>
    let squaredDistances: UnsafeMutableBufferPointer<Float>
    let slices: [SliceAccumulator]
    private let sums: SharedClusterSums?
    /// Set by ``AssignmentPass/run(centroids:accumulateSums:pruning:)`` for the pass under way.
    var currentPass: (context: PassContext, sumsUpdate: SumsUpdate)?

    init(source: any EmbeddingSource, step: Step, clusterCount: Int, plan: TilePlan, sums: SharedClusterSums?) {
        self.sums = sums
        path = source.path
        self.step = step
        self.plan = plan
        dimension = source.dimension
        labels = .allocate(capacity: source.rowCount)
        labels.initialize(repeating: -1)
        squaredDistances = .allocate(capacity: source.rowCount)
        squaredDistances.initialize(repeating: 0)
        slices = (0..<plan.sliceCount).map { _ in SliceAccumulator() }
    }

    deinit {
        labels.deallocate()
        squaredDistances.deallocate()
    }

    func makeThreadScratch() -> ThreadScratch {
        (KernelScratch(plan: plan, dimension: dimension), step.makeScratch())
    }

    func beginSlice(_ slice: Int) {
        guard currentPass != nil else { return }
        slices[slice].resetTotals()
    }

    /// Whether the slice's rows so far in this pass say the screen still narrows enough to
    /// pay. A slice is run by one thread in row order, so the decision depends on the data
    /// and the tile size only, never on the thread count (and labels never depend on it).
    static func screeningPays(_ counters: StepCounters) -> Bool {
        counters.screenedRows < Screening.giveUpProbeRows
            || Double(counters.screeningFallbacks) <= Screening.giveUpFallbackFraction * Double(counters.screenedRows)
    }

    func process(_ rows: Range<Int>, slice sliceIndex: Int, scratch: ThreadScratch, reader: TileReader) throws {
        guard let (context, sumsUpdate) = currentPass else { return }
        let slice = slices[sliceIndex]
        try reader.withTile(rows) { tile in
            // A slice judges its screen on its first rows: those go through alone, so that a
            // screen that does not pay is dropped after them rather than after a whole tile (on
            // 131,072 isotropic rows, d = 1,024, k = 20,000, 16 slices screening a first tile of
            // 512 rows each every pass took two iterations from 62.6 s to 71.8 s).
            let probing = plan.screeningGivesUp && context.quantizedCentroids != nil && slice.counters.screenedRows == 0
                && rows.lowerBound == plan.rows(ofSlice: sliceIndex, pointCount: labels.count).lowerBound
            let split = probing ? min(tile.rowCount, Screening.giveUpProbeRows) : tile.rowCount
            try assign(tile.rows(0..<split), context: context, sumsUpdate: sumsUpdate, slice: slice, scratch: scratch)
            if split < tile.rowCount {
                try assign(tile.rows(split..<tile.rowCount), context: context, sumsUpdate: sumsUpdate, slice: slice, scratch: scratch)
            }
        }
    }

    private func assign(
        _ tile: RowTile, context: PassContext, sumsUpdate: SumsUpdate, slice: SliceAccumulator, scratch: ThreadScratch
    ) throws {
        var tileContext = context
        if plan.screeningGivesUp, !Self.screeningPays(slice.counters) { tileContext.quantizedCentroids = nil }
        // Rows whose prefixes are kept had their norms computed and checked then.
        if tileContext.prefixScreen?.rows.copySquaredNorms(of: tile, into: scratch.kernel.pointSquaredNorms) != true {
            try checkedSquaredNorms(of: tile, into: scratch.kernel.pointSquaredNorms, path: path)
        }
        try step.assignTile(tile, context: tileContext, scratch: scratch.kernel, stepScratch: scratch.step, counters: &slice.counters)
        let settled = scratch.kernel.settled
        let newLabels = settled.labels.pointer(at: 0, length: tile.rowCount)
        let oldLabels = UnsafePointer(labels.baseAddress! + tile.firstRow)
        switch sumsUpdate {
        case .none: break
        case .addEveryRow: sums!.move(tile, from: nil, to: newLabels)
        case .moveChangedRows: sums!.move(tile, from: oldLabels, to: newLabels)
        }
        var reassigned = 0
        for row in 0..<tile.rowCount {
            let point = tile.firstRow + row
            let label = settled.labels[row]
            if labels[point] != label {
                labels[point] = label
                reassigned += 1
            }
            squaredDistances[point] = settled.squaredDistances[row]
        }
        slice.inertia.add(settled.squaredDistances.pointer(at: 0, length: tile.rowCount), count: tile.rowCount)
        slice.reassigned += reassigned
    }
}

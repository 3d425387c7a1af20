import COpenBLAS

/// Bounds kept by a step that compares points with whole groups of centroids.
///
/// ``GroupedStep`` does the shared work (exact own-centroid distance, gathering the rows
/// that need a group, one `sgemm` per group, settling labels); a policy decides which
/// groups a point needs and keeps the bounds that decide it.
protocol GroupBounds: AnyObject {
    init(pointCount: Int, groups: CentroidGroups)
    var boundBytes: Int { get }
    func discard()
    func beginPass(_ context: PassContext, groups: CentroidGroups)
    func centroidsMoved(_ drifts: [Double], groups: CentroidGroups)
    /// Applies the last update's drift to the point's bounds, then either proves the
    /// label stands (returns `true`) or marks in `candidates` (out, one byte per group) the
    /// groups that may hold a closer centroid. `upper` bounds the distance to centroid `label`.
    func screen(
        _ x: UnsafePointer<Float>, point: Int, label: Int, upper: Double, context: PassContext, groups: CentroidGroups,
        candidates: UnsafeMutablePointer<UInt8>, counters: inout StepCounters
    ) -> Bool
    /// Sees the scores of `count` grouped centroids starting at group position
    /// `firstPosition`: rows `0..<count` of `scratch.crossProducts` (in), for the kernel
    /// slots `0..<slotCount`, slot `s` being tile row `scratch.gathered.tileRows[s]`.
    func observe(
        scratch: KernelScratch, firstPosition: Int, count: Int, slotCount: Int, firstRow: Int, context: PassContext,
        groups: CentroidGroups)
    /// The fraction of all centroids that `screen` would compare the point with, given the
    /// pending drift, without changing the bounds; `nil` if the policy cannot tell.
    func predictedFraction(point: Int, label: Int, upper: Double, groups: CentroidGroups) -> Double?
    /// Records the bounds of an examined point once its label is settled.
    /// - Parameters:
    ///   - candidates: The groups the point was compared with, one byte per group (in).
    ///   - results: The point's best scores per group (in).
    func record(
        point: Int, newLabel: Int, oldLabel: Int, oldSquaredDistance: Float, pointSquaredNorm: Float,
        candidates: UnsafePointer<UInt8>, results: GroupResults, context: PassContext, groups: CentroidGroups)
    /// Whether ``recordLowerScores(point:label:pointSquaredNorm:results:context:groups:)`` can
    /// build the bounds from the integer screen.
    static var buildsFromLowerScores: Bool { get }
    /// Records a bound-building pass's bounds from rigorous lower bounds on the scores of every
    /// centroid (`results`, per group: the smallest, the second smallest, the label of the smallest).
    func recordLowerScores(
        point: Int, label: Int, pointSquaredNorm: Float, results: GroupResults, context: PassContext, groups: CentroidGroups)
}

extension GroupBounds {
    static var buildsFromLowerScores: Bool { false }
    func recordLowerScores(
        point: Int, label: Int, pointSquaredNorm: Float, results: GroupResults, context: PassContext, groups: CentroidGroups
    ) {
        preconditionFailure("\(Self.self) builds its bounds from exact scores only")
    }
}

/// One point's results per group (in): the best and second-best float32 score among the
/// group's centroids, and the label of the best; `groupCount` of each.
struct GroupResults {
    let best: UnsafePointer<Float>
    let second: UnsafePointer<Float>
    let label: UnsafePointer<Int32>
}

/// Per-thread memory of a ``GroupedStep``, per tile row `r` and group `g`.
final class GroupedScratch {
    let groupCount: Int
    /// `pointTile × t` flags: does row r need group g.
    let candidates: ScratchMatrix<UInt8>
    /// Per group, 16 rows' smallest and second smallest lower bounds and the label of the
    /// smallest, while the integer screen builds the bounds (`fk_group_lower_scores`).
    let groupState: ScratchVector<Float>
    let groupStateLabels: ScratchVector<Int32>
    /// `pointTile × t` results per group: best score, second-best score, label of the best.
    let groupBest: ScratchMatrix<Float>
    let groupSecond: ScratchMatrix<Float>
    let groupLabel: ScratchMatrix<Int32>
    /// Per tile row: running best and second-best score over every group compared, and the best's label.
    let rowBest: ScratchVector<Float>
    let rowSecond: ScratchVector<Float>
    let rowLabel: ScratchVector<Int32>
    /// Per tile row: the float32 squared distance to its previous centroid.
    let ownSquaredDistance: ScratchVector<Float>
    /// Per tile row: whether the row passed the global filter.
    let examined: ScratchVector<Bool>
    /// `t × pointTile`: row g lists the tile rows that need group g (`groupRowCounts[g]` of them).
    let groupRows: ScratchMatrix<Int32>
    let groupRowCounts: ScratchVector<Int>
    private let storage = ScratchStorage()

    /// Every buffer starts zeroed: bound updates read every group's slot and keep only the
    /// compared ones, so the others must hold numbers.
    init(pointTile: Int, groupCount: Int) {
        self.groupCount = groupCount
        candidates = storage.matrix(rows: pointTile, columns: groupCount, of: UInt8.self)
        groupState = storage.vector(2 * groupCount * 16, of: Float.self)
        groupStateLabels = storage.vector(groupCount * 16, of: Int32.self)
        groupRows = storage.matrix(rows: groupCount, columns: pointTile, of: Int32.self)
        groupRowCounts = storage.vector(groupCount, of: Int.self)
        groupBest = storage.matrix(rows: pointTile, columns: groupCount, of: Float.self)
        groupSecond = storage.matrix(rows: pointTile, columns: groupCount, of: Float.self)
        groupLabel = storage.matrix(rows: pointTile, columns: groupCount, of: Int32.self)
        rowBest = storage.vector(pointTile, of: Float.self)
        rowSecond = storage.vector(pointTile, of: Float.self)
        rowLabel = storage.vector(pointTile, of: Int32.self)
        ownSquaredDistance = storage.vector(pointTile, of: Float.self)
        examined = storage.vector(pointTile, of: Bool.self)
    }

    /// Row `row`'s results per group.
    func results(ofRow row: Int) -> GroupResults {
        GroupResults(best: groupBest.row(row), second: groupSecond.row(row), label: groupLabel.row(row))
    }
}

/// Yinyang and Elkan over centroid groups: points that pass the policy's filters are
/// gathered, per group they need, into dense tiles and compared with that group's
/// centroids by the fused kernel.
final class GroupedStep<Bounds: GroupBounds>: AssignmentStep, @unchecked Sendable {
    let groups: CentroidGroups
    private let bounds: Bounds
    private let pointTile: Int
    private var boundsValid = false
    private var boundsRecordedLastPass = false

    /// Rows sampled to predict a pruned pass's cost (``predictedDistanceFraction(centroids:source:labels:)``).
    static var predictionSampleRows: Int { 1024 }
    /// Rows sampled to predict, before any bounds exist, whether they would pay: 512 rows
    /// against every centroid cost about 1% of a pass on 100,000 rows.
    static var boundSampleRows: Int { 512 }

    /// What ``sampleBounds(centroids:source:labels:)`` found: the sampled rows, their labels,
    /// and for each row and group the smallest distance to a centroid of the group other
    /// than the row's own (estimated in float32: a prediction, not a bound).
    private var boundSample: (values: [Float], labels: [Int], lowerBounds: [Float])?
    /// The rows ``sampleBounds(centroids:source:labels:)`` reads, kept when they take at most
    /// ``keptSampleBytes``: the same evenly spaced rows every time, and gathering them one page
    /// fault at a time cost as much as the estimates (5 of 12 ms on 43,742 × 384 rows).
    private var keptSample: (rows: [Int], values: [Float], squaredNorms: [Float])?
    /// 512 rows of up to 4,096 values.
    static var keptSampleBytes: Int { 8 << 20 }

    init(groups: CentroidGroups, pointCount: Int, pointTile: Int) {
        self.groups = groups
        self.pointTile = pointTile
        bounds = Bounds(pointCount: pointCount, groups: groups)
    }

    var boundBytes: Int { bounds.boundBytes }

    func discardBounds() { bounds.discard() }

    func makeScratch() -> GroupedScratch { GroupedScratch(pointTile: pointTile, groupCount: groups.groupCount) }

    func beginPass(_ context: PassContext) {
        // Bounds are recorded only by pruning passes; a dense pass leaves them stale.
        boundsValid = boundsRecordedLastPass
        boundsRecordedLastPass = context.pruning
        groups.load(context.centroids)
        bounds.beginPass(context, groups: groups)
    }

    func centroidsMoved(_ drifts: [Double]) { bounds.centroidsMoved(drifts, groups: groups) }

    /// Screens up to ``predictionSampleRows`` evenly spaced rows against the new centroids.
    func predictedDistanceFraction(
        centroids: UnsafePointer<Float>, source: any EmbeddingSource, labels: UnsafeBufferPointer<Int32>
    ) throws -> Double? {
        guard boundsRecordedLastPass else { return nil }
        let rowCount = source.rowCount
        let sampleCount = min(rowCount, Self.predictionSampleRows)
        let rows = (0..<sampleCount).map { $0 * rowCount / sampleCount }
        let dimension = source.dimension
        var values = [Float](repeating: 0, count: sampleCount * dimension)
        try values.withUnsafeMutableBufferPointer { try source.gatherRows(rows, into: $0.baseAddress!) }
        let rounding = RoundingBounds(dimension: dimension)
        var total = 0.0
        for (slot, row) in rows.enumerated() {
            let label = Int(labels[row])
            let squared = values.withUnsafeBufferPointer {
                squaredDistance($0.baseAddress! + slot * dimension, centroids + label * dimension, dimension: dimension)
            }
            guard let fraction = bounds.predictedFraction(
                point: row, label: label, upper: rounding.upperDistance(squared: squared), groups: groups) else { return nil }
            total += fraction
        }
        return total / Double(sampleCount)
    }

    func sampleBounds(centroids: UnsafePointer<Float>, source: any EmbeddingSource, labels: UnsafeBufferPointer<Int32>) throws {
        let dimension = source.dimension
        let sample: (rows: [Int], values: [Float], squaredNorms: [Float])
        if let keptSample {
            sample = keptSample
        } else {
            let rowCount = source.rowCount
            let sampleCount = min(rowCount, Self.boundSampleRows)
            let rows = (0..<sampleCount).map { $0 * rowCount / sampleCount }
            var values = [Float](repeating: 0, count: sampleCount * dimension)
            try values.withUnsafeMutableBufferPointer { try source.gatherRows(rows, into: $0.baseAddress!) }
            let squaredNorms = values.withUnsafeBufferPointer { buffer in
                (0..<sampleCount).map { squaredNorm(buffer.baseAddress! + $0 * dimension, dimension: dimension) }
            }
            sample = (rows, values, squaredNorms)
            if values.count * 4 <= Self.keptSampleBytes { keptSample = sample }
        }
        let (rows, values, rowNorms) = sample
        let sampleCount = rows.count
        let groupCount = groups.groupCount
        let clusterCount = groups.clusterCount
        // Estimates through one `sgemm` (about 1% of a pass): ‖x‖² + ‖c‖² − 2 x·c.
        var products = [Float](repeating: 0, count: sampleCount * clusterCount)
        var centroidNorms = [Float](repeating: 0, count: clusterCount)
        computeCentroidSquaredNorms(centroids, count: clusterCount, dimension: dimension, into: &centroidNorms)
        values.withUnsafeBufferPointer { buffer in
            cblas_sgemm(
                CblasRowMajor, CblasNoTrans, CblasTrans, blasint(sampleCount), blasint(clusterCount), blasint(dimension),
                1, buffer.baseAddress!, blasint(dimension), centroids, blasint(dimension), 0, &products, blasint(clusterCount))
        }
        // The smallest squared distance per group, then its root: the root is monotonic, so
        // this is the smallest distance, for one root per group instead of one per centroid.
        var lowerBounds = [Float](repeating: .infinity, count: sampleCount * groupCount)
        for slot in 0..<sampleCount {
            let own = Int(labels[rows[slot]])
            for label in 0..<clusterCount where label != own {
                let product = products[slot * clusterCount + label]
                let squared = max(0, rowNorms[slot] + centroidNorms[label] - (product + product))
                let index = slot * groupCount + Int(groups.groupOf[label])
                lowerBounds[index] = min(lowerBounds[index], squared)
            }
        }
        for index in lowerBounds.indices { lowerBounds[index] = lowerBounds[index].squareRoot() }
        boundSample = (values, rows.map { Int(labels[$0]) }, lowerBounds)
    }

    func predictedFractionsFromSample(drifts: [Double], centroids: UnsafePointer<Float>, passes: Int) -> [Double]? {
        guard let sample = boundSample else { return nil }
        boundSample = nil
        let groupCount = groups.groupCount
        var groupDrift = [Double](repeating: 0, count: groupCount)
        for (label, drift) in drifts.enumerated() {
            groupDrift[Int(groups.groupOf[label])] = max(groupDrift[Int(groups.groupOf[label])], drift)
        }
        let dimension = groups.dimension
        // Pass j sees bounds fallen by j updates' drift: a row a pruned pass does not examine
        // keeps its bounds, and they keep falling (on sentence embeddings the first pruned
        // pass computed 3% of the distances, the fourth 26%).
        var needed = [Int](repeating: 0, count: max(1, passes))
        sample.values.withUnsafeBufferPointer { buffer in
            for (slot, label) in sample.labels.enumerated() {
                let upper = Double(squaredDistance(buffer.baseAddress! + slot * dimension, centroids + label * dimension, dimension: dimension))
                    .squareRoot()
                for group in 0..<groupCount {
                    let lower = Double(sample.lowerBounds[slot * groupCount + group])
                    for pass in 0..<needed.count where lower - Double(pass + 1) * groupDrift[group] <= upper {
                        needed[pass] += groups.size(of: group)
                    }
                }
            }
        }
        return needed.map { Double($0) / Double(sample.labels.count * groups.clusterCount) }
    }

    func assignTile(
        _ tile: RowTile, context: PassContext, scratch: KernelScratch, stepScratch: GroupedScratch, counters: inout StepCounters
    ) throws {
        guard context.pruning else {
            DenseAssignment.assign(tile, context: context, scratch: scratch, counters: &counters)
            return
        }
        if !boundsValid, Bounds.buildsFromLowerScores,
           buildBoundsByScreen(of: tile, context: context, scratch: scratch, stepScratch: stepScratch, counters: &counters)
        {
            return
        }
        screenRows(of: tile, context: context, scratch: scratch, stepScratch: stepScratch, counters: &counters)
        if boundsValid {
            compareSurvivors(of: tile, context: context, scratch: scratch, stepScratch: stepScratch, counters: &counters)
        } else {
            compareEveryGroup(with: tile, context: context, scratch: scratch, stepScratch: stepScratch, counters: &counters)
        }
        settleExaminedRows(of: tile, context: context, scratch: scratch, stepScratch: stepScratch, counters: &counters)
    }

    /// The global and group filters, row by row: settles the rows whose label provably
    /// stands and marks, for the others, the groups they need.
    private func screenRows(
        of tile: RowTile, context: PassContext, scratch: KernelScratch, stepScratch: GroupedScratch, counters: inout StepCounters
    ) {
        let dimension = context.dimension
        let groupCount = groups.groupCount
        let rounding = RoundingBounds(dimension: dimension)
        for row in 0..<tile.rowCount {
            let point = tile.firstRow + row
            let label = context.previousLabel(of: point)
            let x = tile.row(row)
            let candidates = stepScratch.candidates.row(row)
            stepScratch.examined[row] = false
            if !boundsValid {
                // First pruning pass: compare with everything and build the bounds.
                candidates.update(repeating: 1, count: groupCount)
            } else {
                let ownSquared = squaredDistance(x, context.centroids.row(label), dimension: dimension)
                counters.distanceEvaluations += 1
                stepScratch.ownSquaredDistance[row] = ownSquared
                if bounds.screen(
                    x, point: point, label: label, upper: rounding.upperDistance(squared: ownSquared), context: context,
                    groups: groups, candidates: candidates, counters: &counters)
                {
                    // Skip: no centroid of any group can be closer than the own one.
                    scratch.settled.settle(row, label: Int32(label), squaredDistance: ownSquared)
                    continue
                }
            }
            stepScratch.examined[row] = true
            counters.examinedPoints += 1
            stepScratch.rowBest[row] = .infinity
            stepScratch.rowSecond[row] = .infinity
            stepScratch.rowLabel[row] = -1
            if boundsValid, candidates[Int(groups.groupOf[label])] == 0 {
                // The own centroid's group was ruled out for its other members; the own
                // centroid still takes part, with a score of the same precision.
                stepScratch.rowBest[row] = directScore(
                    x, context.centroids.row(label), centroidSquaredNorm: context.centroids.squaredNorm(label), dimension: dimension)
                stepScratch.rowLabel[row] = Int32(label)
                counters.distanceEvaluations += 1
            }
        }
    }

    /// The bound-building pass through the integer screen, where the pass screens: the screen
    /// settles the rows as a dense pass would, and its lower bounds on every centroid's score
    /// (8-bit products, over the kept prefixes where the run keeps them, about a tenth of the
    /// cost of float32 scores; over whole rows otherwise, about half: 0.9 s against 2.0 s on
    /// 262,144 token embeddings at k = 4096) become the bounds.
    /// They are looser than float32 scores would give, and the next pruned pass tightens the
    /// ones it needs. Returns `false`, doing nothing, where it does not apply.
    private func buildBoundsByScreen(
        of tile: RowTile, context: PassContext, scratch: KernelScratch, stepScratch: GroupedScratch, counters: inout StepCounters
    ) -> Bool {
        guard let quantized = context.quantizedCentroids,
              ScreenedAssignment.groupLowerScoresFit(clusterCount: context.clusterCount, scratch: scratch)
        else { return false }
        groups.groupOf.withUnsafeBufferPointer { groupOf in
            ScreenedAssignment.assignWithGroupLowerScores(
                tile, centroids: quantized, context: context, scratch: scratch, counters: &counters,
                output: GroupLowerScores(
                    groupOf: groupOf.baseAddress!, groupCount: groups.groupCount, state: stepScratch.groupState.base,
                    stateLabels: stepScratch.groupStateLabels.base, best: stepScratch.groupBest.base,
                    second: stepScratch.groupSecond.base, labels: stepScratch.groupLabel.base))
        }
        // `fk_group_lower_scores` writes `groupCount` values a row.
        assert(stepScratch.groupBest.columnCount == groups.groupCount)
        for row in 0..<tile.rowCount {
            bounds.recordLowerScores(
                point: tile.firstRow + row, label: Int(scratch.settled.labels[row]), pointSquaredNorm: scratch.pointSquaredNorms[row],
                results: stepScratch.results(ofRow: row), context: context, groups: groups)
        }
        return true
    }

    /// The bound-building pass: every row needs every group. One wide `sgemm` per run of
    /// groups that fits a centroid tile, folded group by group.
    private func compareEveryGroup(
        with tile: RowTile, context: PassContext, scratch: KernelScratch, stepScratch: GroupedScratch, counters: inout StepCounters
    ) {
        var firstGroup = 0
        while firstGroup < groups.groupCount {
            var endGroup = firstGroup + 1
            while endGroup < groups.groupCount,
                  groups.groupStart[endGroup + 1] - groups.groupStart[firstGroup] <= context.centroidTile {
                endGroup += 1
            }
            compareWithGroups(
                firstGroup..<endGroup, points: tile, rows: .wholeTile, context: context, scratch: scratch, stepScratch: stepScratch)
            counters.distanceEvaluations += tile.rowCount * (groups.groupStart[endGroup] - groups.groupStart[firstGroup])
            firstGroup = endGroup
        }
    }

    /// Compares the examined rows with the groups they need.
    ///
    /// Groups most rows need are compared with the whole tile in place, consecutive ones
    /// in one `sgemm` (each call repacks the point tile, so fewer calls is faster); copying
    /// a row costs about as much as comparing it with a 16-centroid group. Scores of groups
    /// a row does not need are discarded when merged. Groups few rows need are compared
    /// with those rows only.
    private func compareSurvivors(
        of tile: RowTile, context: PassContext, scratch: KernelScratch, stepScratch: GroupedScratch, counters: inout StepCounters
    ) {
        let groupCount = groups.groupCount
        var wholeTileRun: Range<Int>?
        func flushWholeTileRun() {
            guard let run = wholeTileRun else { return }
            compareWithGroups(run, points: tile, rows: .wholeTile, context: context, scratch: scratch, stepScratch: stepScratch)
            counters.distanceEvaluations += tile.rowCount * (groups.groupStart[run.upperBound] - groups.groupStart[run.lowerBound])
            wholeTileRun = nil
        }
        // Rows per group, in one row-major sweep of the candidate flags.
        stepScratch.groupRowCounts.fill(with: 0)
        for row in 0..<tile.rowCount where stepScratch.examined[row] {
            let flags = stepScratch.candidates.row(row)
            for group in 0..<groupCount where flags[group] != 0 {
                stepScratch.groupRows[group, stepScratch.groupRowCounts[group]] = Int32(truncatingIfNeeded: row)
                stepScratch.groupRowCounts[group] &+= 1
            }
        }
        for group in 0..<groupCount where groups.size(of: group) > 0 {
            let rowCount = stepScratch.groupRowCounts[group]
            if rowCount == 0 { continue }
            if 2 * rowCount > tile.rowCount {
                if let run = wholeTileRun, run.upperBound == group,
                   groups.groupStart[group + 1] - groups.groupStart[run.lowerBound] <= context.centroidTile {
                    wholeTileRun = run.lowerBound..<(group + 1)
                } else {
                    flushWholeTileRun()
                    wholeTileRun = group..<(group + 1)
                }
                continue
            }
            let rows = stepScratch.groupRows.row(group)
            for slot in 0..<rowCount { scratch.gathered.gather(tile, row: Int(rows[slot]), into: slot) }
            compareWithGroups(
                group..<(group + 1), points: scratch.gathered.tile(count: rowCount, like: tile), rows: .gathered,
                context: context, scratch: scratch, stepScratch: stepScratch)
            counters.distanceEvaluations += rowCount * groups.size(of: group)
        }
        flushWholeTileRun()
    }

    /// Settles the examined rows and records their bounds.
    private func settleExaminedRows(
        of tile: RowTile, context: PassContext, scratch: KernelScratch, stepScratch: GroupedScratch, counters: inout StepCounters
    ) {
        let dimension = context.dimension
        for row in 0..<tile.rowCount where stepScratch.examined[row] {
            let point = tile.firstRow + row
            let oldLabel = context.previousLabel(of: point)
            let x = tile.row(row)
            let candidates = stepScratch.candidates.row(row)
            var label = Int(stepScratch.rowLabel[row])
            if context.exactLabels.isAmbiguous(
                best: stepScratch.rowBest[row], second: stepScratch.rowSecond[row], pointSquaredNorm: scratch.pointSquaredNorms[row]
            ) {
                label = nearestCandidate(
                    x, pointSquaredNorm: scratch.pointSquaredNorms[row], oldLabel: oldLabel, candidates: candidates, context: context)
                counters.ambiguousRows += 1
            }
            let distance = label == oldLabel && boundsValid
                ? stepScratch.ownSquaredDistance[row]
                : squaredDistance(x, context.centroids.row(label), dimension: dimension)
            scratch.settled.settle(row, label: Int32(label), squaredDistance: distance)
            // Used only when the old label's group was ruled out, which needs valid bounds.
            let oldSquared = boundsValid ? stepScratch.ownSquaredDistance[row] : 0
            bounds.record(
                point: point, newLabel: label, oldLabel: oldLabel, oldSquaredDistance: oldSquared,
                pointSquaredNorm: scratch.pointSquaredNorms[row], candidates: candidates,
                results: stepScratch.results(ofRow: row), context: context, groups: groups)
        }
    }

    /// Which tile rows the kernel slots of a comparison stand for.
    private enum ComparedRows {
        /// Slot `s` is tile row `s`: the tile compared in place.
        case wholeTile
        /// Slot `s` is tile row `scratch.gathered.tileRows[s]`, already filled in.
        case gathered
    }

    /// Compares `points` with the centroids of `groupRange`, which are contiguous in group
    /// order, and folds each group's best and second-best scores into each row's running best.
    private func compareWithGroups(
        _ groupRange: Range<Int>, points: RowTile, rows: ComparedRows, context: PassContext, scratch: KernelScratch,
        stepScratch: GroupedScratch
    ) {
        if case .wholeTile = rows { scratch.gathered.useWholeTile(count: points.rowCount) }
        let rangeStart = groups.groupStart[groupRange.lowerBound]
        let rangeEnd = groups.groupStart[groupRange.upperBound]
        var tileStart = rangeStart
        // A group larger than a centroid tile takes several `sgemm` calls; at most one group
        // is unfinished at a tile boundary, and its running best stays in the scratch.
        var unfinishedGroup: Int?
        while tileStart < rangeEnd {
            let count = min(context.centroidTile, rangeEnd - tileStart)
            computeCrossProducts(
                points: points, centroids: groups.groupedCentroids + tileStart * context.dimension, count: count,
                output: scratch.crossProducts)
            bounds.observe(
                scratch: scratch, firstPosition: tileStart, count: count, slotCount: points.rowCount, firstRow: points.firstRow,
                context: context, groups: groups)
            for group in groupRange {
                let first = max(groups.groupStart[group], tileStart)
                let end = min(groups.groupStart[group + 1], tileStart + count)
                if first >= end { continue }
                if unfinishedGroup != group { scratch.nearest.reset() }
                foldMinimum(
                    crossProducts: scratch.crossProducts, firstBlockRow: first - tileStart, count: end - first,
                    squaredNorms: groups.groupedSquaredNorms + first, firstLabel: first, pointCount: points.rowCount,
                    into: scratch.nearest)
                if end < groups.groupStart[group + 1] {
                    unfinishedGroup = group
                    continue
                }
                unfinishedGroup = nil
                mergeGroupResults(group, slotCount: points.rowCount, scratch: scratch, stepScratch: stepScratch)
            }
            tileStart += count
        }
    }

    /// Stores one group's per-slot best and second best and folds them into the rows' running best.
    @inline(__always)
    private func mergeGroupResults(_ group: Int, slotCount: Int, scratch: KernelScratch, stepScratch: GroupedScratch) {
        let nearest = scratch.nearest
        for slot in 0..<slotCount {
            let row = Int(scratch.gathered.tileRows[slot])
            // A whole-tile `sgemm` also scores groups a row does not need. Those scores are
            // dropped: one of them may be the row's own centroid, already scored directly,
            // and a duplicate best would make the row look like a near tie.
            if stepScratch.candidates[row, group] == 0 { continue }
            let best = nearest.bestScores[slot]
            let second = nearest.secondScores[slot]
            let label = groups.members[Int(nearest.bestLabels[slot])]
            stepScratch.groupBest[row, group] = best
            stepScratch.groupSecond[row, group] = second
            stepScratch.groupLabel[row, group] = label
            if best < stepScratch.rowBest[row] {
                stepScratch.rowSecond[row] = min(stepScratch.rowBest[row], second)
                stepScratch.rowBest[row] = best
                stepScratch.rowLabel[row] = label
            } else {
                stepScratch.rowSecond[row] = min(stepScratch.rowSecond[row], best)
            }
        }
    }

    /// The float64 nearest among the candidate groups' centroids and the old label,
    /// ties to the lowest label. Centroids outside them are provably farther; inside,
    /// only those whose float32 score is within `2.5 E(x)` of the smallest can be nearest
    /// (as in ``ExactLabels/nearest(_:pointSquaredNorm:centroids:)``).
    private func nearestCandidate(
        _ x: UnsafePointer<Float>, pointSquaredNorm: Float, oldLabel: Int, candidates: UnsafePointer<UInt8>, context: PassContext
    ) -> Int {
        func score(_ label: Int) -> Float {
            directScore(x, context.centroids.row(label), centroidSquaredNorm: context.centroids.squaredNorm(label), dimension: context.dimension)
        }
        func forEachCandidate(_ body: (Int) -> Void) {
            if oldLabel >= 0 { body(oldLabel) }
            for group in 0..<groups.groupCount where candidates[group] != 0 {
                for position in groups.groupStart[group]..<groups.groupStart[group + 1] { body(Int(groups.members[position])) }
            }
        }
        var smallest = Float.infinity
        forEachCandidate { smallest = min(smallest, score($0)) }
        let threshold = Double(smallest) + 2.5 * context.exactLabels.scoreError(pointSquaredNorm: pointSquaredNorm)
        var best = (distance: Double.infinity, label: Int.max)
        forEachCandidate { label in
            guard Double(score(label)) <= threshold else { return }
            let distance = ExactLabels.squaredDistance64(x, context.centroids.row(label), dimension: context.dimension)
            if distance < best.distance || (distance == best.distance && label < best.label) { best = (distance, label) }
        }
        return best.label
    }
}

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
    /// label stands (returns `true`) or marks in `candidates` (one byte per group) the
    /// groups that may hold a closer centroid. `upper` bounds the distance to centroid `label`.
    func screen(
        _ x: UnsafePointer<Float>, point: Int, label: Int, upper: Double, context: PassContext, groups: CentroidGroups,
        candidates: UnsafeMutablePointer<UInt8>, counters: inout StepCounters
    ) -> Bool
    /// Scores of `count` grouped centroids starting at group position `firstPosition`,
    /// centroid-major in `scratch.crossProducts`, for the points of `slots`.
    func observe(
        scratch: KernelScratch, firstPosition: Int, count: Int, slots: UnsafePointer<Int32>, slotCount: Int,
        firstRow: Int, context: PassContext, groups: CentroidGroups)
    /// The fraction of all centroids that `screen` would compare the point with, given the
    /// pending drift, without changing the bounds; `nil` if the policy cannot tell.
    func predictedFraction(point: Int, label: Int, upper: Double, groups: CentroidGroups) -> Double?
    /// Records the bounds of an examined point once its label is settled.
    func record(
        point: Int, newLabel: Int, oldLabel: Int, oldSquaredDistance: Float, pointSquaredNorm: Float,
        candidates: UnsafePointer<UInt8>, results: GroupResults, context: PassContext, groups: CentroidGroups)
}

/// Per point and group: the best and second-best float32 score among the group's
/// centroids, and the label of the best.
struct GroupResults {
    let best: UnsafePointer<Float>
    let second: UnsafePointer<Float>
    let label: UnsafePointer<Int32>
}

/// Per-thread memory of a ``GroupedStep``.
final class GroupedScratch {
    let groupCount: Int
    /// `pointTile × t` flags: does the row need group g.
    let candidates: UnsafeMutablePointer<UInt8>
    let groupBest: UnsafeMutablePointer<Float>
    let groupSecond: UnsafeMutablePointer<Float>
    let groupLabel: UnsafeMutablePointer<Int32>
    /// Per tile row: running best and second-best score over every group compared, and the best's label.
    let rowBest: UnsafeMutablePointer<Float>
    let rowSecond: UnsafeMutablePointer<Float>
    let rowLabel: UnsafeMutablePointer<Int32>
    let ownSquaredDistance: UnsafeMutablePointer<Float>
    let examined: UnsafeMutablePointer<Bool>
    /// Per group, the tile rows that need it: `groupRowCounts[g]` rows from `groupRows + g × pointTile`.
    let groupRows: UnsafeMutablePointer<Int32>
    let groupRowCounts: UnsafeMutablePointer<Int>
    let pointTile: Int

    /// Every buffer starts zeroed (``KernelScratch/allocateZeroed(_:as:)``): bound updates
    /// read every group's slot and keep only the compared ones, so the others must hold numbers.
    init(pointTile: Int, groupCount: Int) {
        self.groupCount = groupCount
        self.pointTile = pointTile
        let perGroup = pointTile * groupCount
        candidates = KernelScratch.allocateZeroed(perGroup, as: UInt8.self)
        groupRows = KernelScratch.allocateZeroed(perGroup, as: Int32.self)
        groupRowCounts = KernelScratch.allocateZeroed(groupCount, as: Int.self)
        groupBest = KernelScratch.allocateZeroed(perGroup, as: Float.self)
        groupSecond = KernelScratch.allocateZeroed(perGroup, as: Float.self)
        groupLabel = KernelScratch.allocateZeroed(perGroup, as: Int32.self)
        rowBest = KernelScratch.allocateZeroed(pointTile, as: Float.self)
        rowSecond = KernelScratch.allocateZeroed(pointTile, as: Float.self)
        rowLabel = KernelScratch.allocateZeroed(pointTile, as: Int32.self)
        ownSquaredDistance = KernelScratch.allocateZeroed(pointTile, as: Float.self)
        examined = KernelScratch.allocateZeroed(pointTile, as: Bool.self)
    }

    deinit {
        for pointer in [UnsafeMutableRawPointer(candidates), UnsafeMutableRawPointer(groupRows),
                        UnsafeMutableRawPointer(groupRowCounts), UnsafeMutableRawPointer(groupBest),
                        UnsafeMutableRawPointer(groupSecond), UnsafeMutableRawPointer(groupLabel),
                        UnsafeMutableRawPointer(rowBest), UnsafeMutableRawPointer(rowSecond),
                        UnsafeMutableRawPointer(rowLabel), UnsafeMutableRawPointer(ownSquaredDistance),
                        UnsafeMutableRawPointer(examined)] {
            pointer.deallocate()
        }
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
        groups.load(context)
        bounds.beginPass(context, groups: groups)
    }

    func centroidsMoved(_ drifts: [Double]) { bounds.centroidsMoved(drifts, groups: groups) }

    /// Screens up to 1,024 evenly spaced rows against the new centroids.
    func predictedDistanceFraction(
        centroids: UnsafePointer<Float>, source: any EmbeddingSource, labels: UnsafeBufferPointer<Int32>
    ) throws -> Double? {
        guard boundsRecordedLastPass else { return nil }
        let rowCount = source.rowCount
        let sampleCount = min(rowCount, 1024)
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

    func assignTile(
        _ tile: RowTile, context: PassContext, scratch: KernelScratch, stepScratch: GroupedScratch, counters: inout StepCounters
    ) throws {
        guard context.pruning else {
            DenseAssignment.assign(tile, context: context, scratch: scratch, counters: &counters)
            return
        }
        let dimension = context.dimension
        let groupCount = groups.groupCount
        let rounding = RoundingBounds(dimension: dimension)

        // The global and group filters, row by row.
        for row in 0..<tile.rowCount {
            let point = tile.firstRow + row
            let label = Int(context.labels[point])
            let x = tile.row(row)
            let candidates = stepScratch.candidates + row * groupCount
            stepScratch.examined[row] = false
            if !boundsValid {
                // First pruning pass: compare with everything and build the bounds.
                candidates.update(repeating: 1, count: groupCount)
            } else {
                let ownSquared = squaredDistance(x, context.centroids + label * dimension, dimension: dimension)
                counters.distanceEvaluations += 1
                stepScratch.ownSquaredDistance[row] = ownSquared
                if bounds.screen(
                    x, point: point, label: label, upper: rounding.upperDistance(squared: ownSquared), context: context,
                    groups: groups, candidates: candidates, counters: &counters)
                {
                    // Skip: no centroid of any group can be closer than the own one.
                    scratch.finalLabels[row] = Int32(label)
                    scratch.labelDistances[row] = ownSquared
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
                    x, context.centroids + label * dimension, centroidSquaredNorm: context.centroidSquaredNorms[label], dimension: dimension)
                stepScratch.rowLabel[row] = Int32(label)
                counters.distanceEvaluations += 1
            }
        }

        if !boundsValid {
            // Every row needs every group: one wide `sgemm` per run of groups that fits a
            // centroid tile, folded group by group.
            var firstGroup = 0
            while firstGroup < groupCount {
                var endGroup = firstGroup + 1
                while endGroup < groupCount,
                      groups.groupStart[endGroup + 1] - groups.groupStart[firstGroup] <= context.centroidTile {
                    endGroup += 1
                }
                compareWithGroups(
                    firstGroup..<endGroup, points: tile, slotCount: tile.rowCount, context: context, scratch: scratch,
                    stepScratch: stepScratch)
                counters.distanceEvaluations += tile.rowCount * (groups.groupStart[endGroup] - groups.groupStart[firstGroup])
                firstGroup = endGroup
            }
        } else {
            // Groups most rows need are compared with the whole tile in place, consecutive
            // ones in one `sgemm` (each call repacks the point tile, so fewer calls is
            // faster); copying a row costs about as much as comparing it with a 16-centroid
            // group. Scores of groups a row does not need are discarded when merged. Groups
            // few rows need are compared with those rows only.
            var wholeTileRun: Range<Int>?
            func flushWholeTileRun() {
                guard let run = wholeTileRun else { return }
                compareWithGroups(
                    run, points: tile, slotCount: tile.rowCount, context: context, scratch: scratch, stepScratch: stepScratch)
                counters.distanceEvaluations += tile.rowCount * (groups.groupStart[run.upperBound] - groups.groupStart[run.lowerBound])
                wholeTileRun = nil
            }
            // Rows per group, in one row-major sweep of the candidate flags.
            stepScratch.groupRowCounts.update(repeating: 0, count: groupCount)
            for row in 0..<tile.rowCount where stepScratch.examined[row] {
                let flags = stepScratch.candidates + row * groupCount
                for group in 0..<groupCount where flags[group] != 0 {
                    stepScratch.groupRows[group &* stepScratch.pointTile &+ stepScratch.groupRowCounts[group]] = Int32(truncatingIfNeeded: row)
                    stepScratch.groupRowCounts[group] &+= 1
                }
            }
            for group in 0..<groupCount where groups.size(of: group) > 0 {
                let slotCount = stepScratch.groupRowCounts[group]
                if slotCount == 0 { continue }
                scratch.gatheredSlots.update(from: stepScratch.groupRows + group * stepScratch.pointTile, count: slotCount)
                if 2 * slotCount > tile.rowCount {
                    if let run = wholeTileRun, run.upperBound == group,
                       groups.groupStart[group + 1] - groups.groupStart[run.lowerBound] <= context.centroidTile {
                        wholeTileRun = run.lowerBound..<(group + 1)
                    } else {
                        flushWholeTileRun()
                        wholeTileRun = group..<(group + 1)
                    }
                    continue
                }
                for slot in 0..<slotCount {
                    (scratch.gatheredRows + slot * dimension).update(from: tile.row(Int(scratch.gatheredSlots[slot])), count: dimension)
                }
                let gathered = RowTile(
                    base: scratch.gatheredRows, rowStride: dimension, rowCount: slotCount, dimension: dimension, firstRow: tile.firstRow)
                compareWithGroups(
                    group..<(group + 1), points: gathered, slotCount: slotCount, context: context, scratch: scratch,
                    stepScratch: stepScratch)
                counters.distanceEvaluations += slotCount * groups.size(of: group)
            }
            flushWholeTileRun()
        }

        // Settle the examined rows and record their bounds.
        let results = GroupResults(best: stepScratch.groupBest, second: stepScratch.groupSecond, label: stepScratch.groupLabel)
        for row in 0..<tile.rowCount where stepScratch.examined[row] {
            let point = tile.firstRow + row
            let oldLabel = Int(context.labels[point])
            let x = tile.row(row)
            let candidates = stepScratch.candidates + row * groupCount
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
                : squaredDistance(x, context.centroids + label * dimension, dimension: dimension)
            scratch.finalLabels[row] = Int32(label)
            scratch.labelDistances[row] = distance
            // Used only when the old label's group was ruled out, which needs valid bounds.
            let oldSquared = boundsValid ? stepScratch.ownSquaredDistance[row] : 0
            bounds.record(
                point: point, newLabel: label, oldLabel: oldLabel, oldSquaredDistance: oldSquared,
                pointSquaredNorm: scratch.pointSquaredNorms[row], candidates: candidates,
                results: GroupResults(
                    best: results.best + row * groupCount, second: results.second + row * groupCount,
                    label: results.label + row * groupCount),
                context: context, groups: groups)
        }
    }

    /// Compares `points` (slot `s` is tile row `scratch.gatheredSlots[s]`, or row `s`
    /// when the whole tile takes part) with the centroids of `groupRange`, which are
    /// contiguous in group order, and folds each group's best and second-best scores
    /// into each row's running best.
    private func compareWithGroups(
        _ groupRange: Range<Int>, points: RowTile, slotCount: Int, context: PassContext, scratch: KernelScratch,
        stepScratch: GroupedScratch
    ) {
        if points.base != UnsafePointer(scratch.gatheredRows) {
            for slot in 0..<slotCount { scratch.gatheredSlots[slot] = Int32(slot) }
        }
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
                output: scratch.crossProducts, outputStride: scratch.blockStride)
            bounds.observe(
                scratch: scratch, firstPosition: tileStart, count: count, slots: scratch.gatheredSlots, slotCount: slotCount,
                firstRow: points.firstRow, context: context, groups: groups)
            for group in groupRange {
                let first = max(groups.groupStart[group], tileStart)
                let end = min(groups.groupStart[group + 1], tileStart + count)
                if first >= end { continue }
                if unfinishedGroup != group { scratch.resetBest() }
                foldMinimum(
                    scratch: scratch, squaredNorms: groups.groupedSquaredNorms + first, count: end - first,
                    firstLabel: first, rowCount: slotCount, firstBlockRow: first - tileStart)
                if end < groups.groupStart[group + 1] {
                    unfinishedGroup = group
                    continue
                }
                unfinishedGroup = nil
                mergeGroupResults(group, slotCount: slotCount, scratch: scratch, stepScratch: stepScratch)
            }
            tileStart += count
        }
    }

    /// Stores one group's per-slot best and second best and folds them into the rows' running best.
    @inline(__always)
    private func mergeGroupResults(_ group: Int, slotCount: Int, scratch: KernelScratch, stepScratch: GroupedScratch) {
        let groupCount = groups.groupCount
        for slot in 0..<slotCount {
            let row = Int(scratch.gatheredSlots[slot])
            // A whole-tile `sgemm` also scores groups a row does not need. Those scores are
            // dropped: one of them may be the row's own centroid, already scored directly,
            // and a duplicate best would make the row look like a near tie.
            if stepScratch.candidates[row * groupCount + group] == 0 { continue }
            let best = scratch.bestScores[slot]
            let second = scratch.secondScores[slot]
            let label = groups.members[Int(scratch.bestLabels[slot])]
            stepScratch.groupBest[row * groupCount + group] = best
            stepScratch.groupSecond[row * groupCount + group] = second
            stepScratch.groupLabel[row * groupCount + group] = label
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
    /// (as in ``ExactLabels/nearest(_:pointSquaredNorm:centroids:centroidSquaredNorms:clusterCount:dimension:)``).
    private func nearestCandidate(
        _ x: UnsafePointer<Float>, pointSquaredNorm: Float, oldLabel: Int, candidates: UnsafePointer<UInt8>, context: PassContext
    ) -> Int {
        func score(_ label: Int) -> Float {
            directScore(
                x, context.centroids + label * context.dimension, centroidSquaredNorm: context.centroidSquaredNorms[label],
                dimension: context.dimension)
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
            let distance = ExactLabels.squaredDistance64(x, context.centroids + label * context.dimension, dimension: context.dimension)
            if distance < best.distance || (distance == best.distance && label < best.label) { best = (distance, label) }
        }
        return best.label
    }
}

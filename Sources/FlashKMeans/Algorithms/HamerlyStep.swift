/// Hamerly's algorithm (G. Hamerly, "Making k-means even faster", SDM 2010), with the
/// survivors of its filter gathered into dense tiles for the fused kernel.
///
/// Per point it keeps one lower bound `l(x)` on the distance to the second-closest
/// centroid. The upper bound `u(x)` on the distance to the point's own centroid is not
/// stored: the pass computes that distance exactly for every row anyway (for inertia),
/// so `u` is always tight, as after the paper's step "tighten u(x)".
final class HamerlyStep: AssignmentStep, @unchecked Sendable {
    /// `l(x)` for every row; valid once a pass has recorded it.
    private let lowerBounds: UnsafeMutableBufferPointer<Float>
    private let clusterCount: Int
    private var boundsValid = false
    private var boundsRecordedLastPass = false
    /// The largest and second-largest centroid drift of the last update, and the
    /// centroid with the largest (the paper's step "update bounds" uses them).
    private var pendingDrift = (largest: 0.0, second: 0.0, cluster: -1)
    private var drift = (largest: 0.0, second: 0.0, cluster: -1)

    init(pointCount: Int, clusterCount: Int) {
        lowerBounds = allocateBounds(pointCount, of: Float.self)
        self.clusterCount = clusterCount
    }

    deinit { releaseBounds(lowerBounds) }

    private var boundsDiscarded = false
    var boundBytes: Int { boundsDiscarded ? 0 : lowerBounds.count * 4 }

    func discardBounds() {
        discardPages(of: lowerBounds)
        boundsDiscarded = true
    }

    func makeScratch() {}

    func beginPass(_ context: PassContext) {
        // Bounds are recorded only by pruning passes; a dense pass leaves them stale.
        boundsValid = boundsRecordedLastPass
        boundsRecordedLastPass = context.pruning
        drift = pendingDrift
        pendingDrift = (0, 0, -1)
    }

    func centroidsMoved(_ drifts: [Double]) {
        var largest = (0.0, -1)
        var second = 0.0
        for (cluster, value) in drifts.enumerated() {
            if value > largest.0 {
                second = largest.0
                largest = (value, cluster)
            } else if value > second {
                second = value
            }
        }
        // Consumed by the next pass, which follows every update.
        pendingDrift = (safeDrift(largest.0), safeDrift(second), largest.1)
    }

    func assignTile(_ tile: RowTile, context: PassContext, scratch: KernelScratch, stepScratch: Void, counters: inout StepCounters) {
        let dimension = context.dimension
        guard context.pruning else {
            DenseAssignment.assign(tile, context: context, scratch: scratch, counters: &counters)
            return
        }
        guard boundsValid else {
            // Hamerly's bound is the second-best score, which only the float32 kernel leaves.
            DenseAssignment.assignInFloat32(tile, context: context, scratch: scratch, counters: &counters)
            for row in 0..<tile.rowCount { recordBound(tileRow: row, slot: row, point: tile.firstRow + row, context: context, scratch: scratch) }
            return
        }
        let rounding = RoundingBounds(dimension: dimension)
        var survivors = 0
        for row in 0..<tile.rowCount {
            let point = tile.firstRow + row
            let label = context.previousLabel(of: point)
            let x = tile.row(row)
            // Step 1 (tighten u): the exact distance to the point's own centroid.
            let ownSquared = squaredDistance(x, context.centroids.row(label), dimension: dimension)
            let upper = rounding.upperDistance(squared: ownSquared)
            // Step "update bounds" of the previous iteration, applied lazily: the second
            // closest moved at most by the largest drift of any other centroid.
            let lower = Double(lowerBounds[point]) - (label == drift.cluster ? drift.second : drift.largest)
            checkInvariant(x, label: label, upper: upper, lower: lower, context: context, counters: &counters)
            counters.distanceEvaluations += 1
            if provablyExceeds(lower, upper) {
                // Skip: every other centroid is farther than the own one, so the label stands.
                lowerBounds[point] = roundedDown(lower)
                scratch.settled.settle(row, label: Int32(label), squaredDistance: ownSquared)
                continue
            }
            scratch.gathered.gather(tile, row: row, into: survivors)
            survivors += 1
        }
        guard survivors > 0 else { return }
        // Step 2 for the survivors: all centroids, through the same fused kernel as Lloyd.
        let gathered = scratch.gathered.tile(count: survivors, like: tile)
        findNearestCentroids(
            points: gathered, centroids: context.centroids, centroidTile: context.centroidTile,
            crossProducts: scratch.crossProducts, nearest: scratch.nearest)
        counters.distanceEvaluations += survivors * context.clusterCount
        counters.examinedPoints += survivors
        for slot in 0..<survivors {
            let row = Int(scratch.gathered.tileRows[slot])
            DenseAssignment.settle(gathered.row(slot), slot: slot, tileRow: row, context: context, scratch: scratch, counters: &counters)
            recordBound(tileRow: row, slot: slot, point: tile.firstRow + row, context: context, scratch: scratch)
        }
    }

    /// `l(x)` from a full comparison: the second-best score, unless float64 re-ranking
    /// chose another label than the float32 best, in which case the best score bounds
    /// every other centroid.
    @inline(__always)
    private func recordBound(tileRow: Int, slot: Int, point: Int, context: PassContext, scratch: KernelScratch) {
        let rounding = RoundingBounds(dimension: context.dimension)
        let nearest = scratch.nearest
        let score = scratch.settled.labels[tileRow] == nearest.bestLabels[slot] ? nearest.secondScores[slot] : nearest.bestScores[slot]
        lowerBounds[point] = roundedDown(rounding.lowerDistance(
            score: score, pointSquaredNorm: scratch.pointSquaredNorms[tileRow], exact: context.exactLabels))
    }

    /// With `KMEANS_INTERNAL_CHECKS`: the bounds about to be used really bound the distances.
    @inline(__always)
    private func checkInvariant(
        _ x: UnsafePointer<Float>, label: Int, upper: Double, lower: Double, context: PassContext, counters: inout StepCounters
    ) {
        #if KMEANS_INTERNAL_CHECKS
        let own = ExactLabels.squaredDistance64(x, context.centroids.row(label), dimension: context.dimension).squareRoot()
        precondition(upper >= own, "Hamerly upper bound \(upper) below the distance \(own)")
        for centroid in 0..<context.clusterCount where centroid != label {
            let distance = ExactLabels.squaredDistance64(x, context.centroids.row(centroid), dimension: context.dimension).squareRoot()
            precondition(lower <= distance, "Hamerly lower bound \(lower) above the distance \(distance) to centroid \(centroid)")
        }
        counters.invariantChecks += 1
        #endif
    }
}

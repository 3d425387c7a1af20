import CKMeansKernels

/// Yinyang k-means (Y. Ding, Y. Zhao, X. Shen, M. Musuvathi, T. Mytkowicz, "Yinyang
/// K-Means: A Drop-In Replacement of the Classic K-Means with Consistent Speedup",
/// ICML 2015): one lower bound per point and centroid group.
///
/// `lb(x, g)` bounds the distance from x to every centroid of group g other than x's
/// own. After an update it falls by the group's largest drift (§3.2, "group filtering"
/// bound update). The global filter (§3.2) keeps the label when every group bound
/// exceeds the distance to the own centroid; otherwise the group filter keeps only the
/// groups whose bound does not. The paper's third, local filter (per centroid) is left
/// out: survivors are compared with whole groups in one `sgemm`, which is cheaper than
/// testing centroids one by one.
final class YinyangBounds: GroupBounds {
    private let groupCount: Int
    /// `n × t` bounds, in float16 (see ``roundedDownHalf(_:)``): 128 MB for 1M points and
    /// 64 groups instead of 256 MB.
    private let lowerBounds: UnsafeMutableBufferPointer<Float16>
    private var pendingDrift: [Double]
    /// This pass's largest drift per group, rounded up to float32 for ``screen``.
    private let drift: UnsafeMutablePointer<Float>
    /// 1 for groups with members: an empty group's scores are never computed.
    private let nonEmpty: UnsafeMutablePointer<UInt8>
    /// 1 for every group: the flags of a bound-building pass.
    private let allGroups: UnsafeMutablePointer<UInt8>

    init(pointCount: Int, groups: CentroidGroups) {
        groupCount = groups.groupCount
        lowerBounds = allocateBounds(pointCount * groups.groupCount, of: Float16.self)
        pendingDrift = [Double](repeating: 0, count: groups.groupCount)
        drift = .allocate(capacity: groups.groupCount)
        drift.initialize(repeating: 0, count: groups.groupCount)
        nonEmpty = .allocate(capacity: groups.groupCount)
        for group in 0..<groups.groupCount { nonEmpty[group] = groups.size(of: group) > 0 ? 1 : 0 }
        allGroups = .allocate(capacity: groups.groupCount)
        allGroups.initialize(repeating: 1, count: groups.groupCount)
    }

    deinit {
        releaseBounds(lowerBounds)
        drift.deallocate()
        nonEmpty.deallocate()
        allGroups.deallocate()
    }

    private var discarded = false
    var boundBytes: Int { discarded ? 0 : lowerBounds.count * 2 }

    func discard() {
        discardPages(of: lowerBounds)
        discarded = true
    }

    func beginPass(_ context: PassContext, groups: CentroidGroups) {
        for group in 0..<groupCount {
            drift[group] = roundedUp(pendingDrift[group])
            pendingDrift[group] = 0
        }
    }

    func centroidsMoved(_ drifts: [Double], groups: CentroidGroups) {
        for (label, value) in drifts.enumerated() {
            let group = Int(groups.groupOf[label])
            pendingDrift[group] = max(pendingDrift[group], safeDrift(value))
        }
    }

    func screen(
        _ x: UnsafePointer<Float>, point: Int, label: Int, upper: Double, context: PassContext, groups: CentroidGroups,
        candidates: UnsafeMutablePointer<UInt8>, counters: inout StepCounters
    ) -> Bool {
        let bounds = lowerBounds.baseAddress! + point * groupCount
        // Every bound of every point, on every pass: the C kernel applies the drift and the
        // group filter 16 groups per AVX-512 instruction, with proven float32 margins.
        let anyCandidate = bounds.withMemoryRebound(to: UInt16.self, capacity: groupCount) {
            fk_yinyang_screen($0, drift, groupCount, roundedUp(upper), candidates)
        }
        #if KMEANS_INTERNAL_CHECKS
        for group in 0..<groupCount {
            checkInvariant(x, label: label, group: group, lower: widened(bounds[group]), context: context, groups: groups, counters: &counters)
        }
        #endif
        // Global filter: no group needed.
        return anyCandidate == 0
    }

    func predictedFraction(point: Int, label: Int, upper: Double, groups: CentroidGroups) -> Double? {
        let bounds = lowerBounds.baseAddress! + point * groupCount
        var needed = 0
        for group in 0..<groupCount where !provablyExceeds(widened(bounds[group]) - pendingDrift[group], upper) {
            needed += groups.size(of: group)
        }
        return Double(needed) / Double(groups.clusterCount)
    }

    func observe(
        scratch: KernelScratch, firstPosition: Int, count: Int, slotCount: Int, firstRow: Int, context: PassContext,
        groups: CentroidGroups
    ) {}

    func record(
        point: Int, newLabel: Int, oldLabel: Int, oldSquaredDistance: Float, pointSquaredNorm: Float,
        candidates: UnsafePointer<UInt8>, results: GroupResults, context: PassContext, groups: CentroidGroups
    ) {
        let rounding = RoundingBounds(dimension: context.dimension)
        let bounds = lowerBounds.baseAddress! + point * groupCount
        // True ‖x − c‖² ≥ score − E + ‖x‖²₃₂ (1 − γ_d) (``RoundingBounds``), here in float32:
        // the two constants rounded outwards, and the three roundings of the sum covered
        // by a margin of 2⁻²¹ of its terms' magnitudes. The square root and the float16
        // conversion are covered as in ``screen``. Scores are capped at 10¹⁰, above which
        // the bound is the float16 maximum anyway; capping can only lower it.
        let normFloor = roundedDown(Double(pointSquaredNorm) * (1 - rounding.normSlack))
        let scoreError = roundedUp(context.exactLabels.scoreError(pointSquaredNorm: pointSquaredNorm))
        store(point: point, label: newLabel, candidates: candidates, results: results, normFloor: normFloor, scoreError: scoreError)
        let oldGroup = Int(groups.groupOf[oldLabel])
        if newLabel != oldLabel, candidates[oldGroup] == 0 {
            // The old centroid now counts among its group's others.
            bounds[oldGroup] = min(bounds[oldGroup], roundedDownHalf(rounding.lowerDistance(squared: oldSquaredDistance)))
        }
    }

    static var buildsFromLowerScores: Bool { true }

    /// The screen's lower bounds are rigorous already: no score error to subtract.
    func recordLowerScores(
        point: Int, label: Int, pointSquaredNorm: Float, results: GroupResults, context: PassContext, groups: CentroidGroups
    ) {
        let rounding = RoundingBounds(dimension: context.dimension)
        let normFloor = roundedDown(Double(pointSquaredNorm) * (1 - rounding.normSlack))
        store(point: point, label: label, candidates: allGroups, results: results, normFloor: normFloor, scoreError: 0)
    }

    /// The point's bounds from its best and second-best scores per group, less `scoreError`.
    /// In a bound-building pass this runs for every group of every point: the C kernel
    /// vectorizes it (see `fk_yinyang_record` for the rounding argument).
    private func store(
        point: Int, label: Int, candidates: UnsafePointer<UInt8>, results: GroupResults, normFloor: Float, scoreError: Float
    ) {
        let bounds = lowerBounds.baseAddress! + point * groupCount
        bounds.withMemoryRebound(to: UInt16.self, capacity: groupCount) {
            fk_yinyang_record(
                $0, results.best, results.second, results.label, Int32(label), candidates, nonEmpty, groupCount, normFloor, scoreError)
        }
    }

    /// With `KMEANS_INTERNAL_CHECKS`: the bound really bounds the group's other centroids.
    @inline(__always)
    private func checkInvariant(
        _ x: UnsafePointer<Float>, label: Int, group: Int, lower: Double, context: PassContext, groups: CentroidGroups,
        counters: inout StepCounters
    ) {
        #if KMEANS_INTERNAL_CHECKS
        for position in groups.groupStart[group]..<groups.groupStart[group + 1] where Int(groups.members[position]) != label {
            let centroid = Int(groups.members[position])
            let distance = ExactLabels.squaredDistance64(x, context.centroids.row(centroid), dimension: context.dimension).squareRoot()
            precondition(lower <= distance, "Yinyang bound \(lower) of group \(group) above the distance \(distance) to centroid \(centroid)")
        }
        counters.invariantChecks += 1
        #endif
    }
}

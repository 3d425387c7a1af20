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
    private var drift: [Double]

    init(pointCount: Int, groups: CentroidGroups) {
        groupCount = groups.groupCount
        lowerBounds = .allocate(capacity: max(1, pointCount * groups.groupCount))
        lowerBounds.initialize(repeating: 0)
        pendingDrift = [Double](repeating: 0, count: groups.groupCount)
        drift = pendingDrift
    }

    deinit { lowerBounds.deallocate() }

    var boundBytes: Int { lowerBounds.count * 2 }

    func beginPass(_ context: PassContext, groups: CentroidGroups) {
        drift = pendingDrift
        pendingDrift = [Double](repeating: 0, count: groupCount)
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
        var anyCandidate = false
        for group in 0..<groupCount {
            let lower = widened(bounds[group]) - drift[group]
            bounds[group] = roundedDownHalf(lower)
            checkInvariant(x, label: label, group: group, lower: widened(bounds[group]), context: context, groups: groups, counters: &counters)
            // Group filter: a group whose bound exceeds the own distance holds no closer centroid.
            let needed = !provablyExceeds(widened(bounds[group]), upper)
            candidates[group] = needed ? 1 : 0
            anyCandidate = anyCandidate || needed
        }
        // Global filter: no group needed.
        return !anyCandidate
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
        scratch: KernelScratch, firstPosition: Int, count: Int, slots: UnsafePointer<Int32>, slotCount: Int,
        firstRow: Int, context: PassContext, groups: CentroidGroups
    ) {}

    func record(
        point: Int, newLabel: Int, oldLabel: Int, oldSquaredDistance: Float, pointSquaredNorm: Float,
        candidates: UnsafePointer<UInt8>, results: GroupResults, context: PassContext, groups: CentroidGroups
    ) {
        let rounding = RoundingBounds(dimension: context.dimension)
        let bounds = lowerBounds.baseAddress! + point * groupCount
        for group in 0..<groupCount where candidates[group] != 0 && groups.size(of: group) > 0 {
            // The new label is excluded from its own group's bound when it is the group's
            // float32 best; otherwise the best score bounds the whole group.
            let score = results.label[group] == Int32(newLabel) ? results.second[group] : results.best[group]
            bounds[group] = roundedDownHalf(rounding.lowerDistance(score: score, pointSquaredNorm: pointSquaredNorm, exact: context.exactLabels))
        }
        let oldGroup = Int(groups.groupOf[oldLabel])
        if newLabel != oldLabel, candidates[oldGroup] == 0 {
            // The old centroid now counts among its group's others.
            bounds[oldGroup] = min(bounds[oldGroup], roundedDownHalf(rounding.lowerDistance(squared: oldSquaredDistance)))
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
            let distance = ExactLabels.squaredDistance64(x, context.centroids + centroid * context.dimension, dimension: context.dimension).squareRoot()
            precondition(lower <= distance, "Yinyang bound \(lower) of group \(group) above the distance \(distance) to centroid \(centroid)")
        }
        counters.invariantChecks += 1
        #endif
    }
}

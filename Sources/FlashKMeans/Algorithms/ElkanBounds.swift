import CKMeansKernels
import COpenBLAS

/// Elkan's algorithm (C. Elkan, "Using the Triangle Inequality to Accelerate k-Means",
/// ICML 2003): a lower bound per point and centroid, and centroid–centroid distances.
///
/// Per iteration (the paper's steps): (1) half the distance from each centroid to its
/// nearest other centroid, `s(c)`; (2) a point whose own distance `u(x) ≤ s(c(x))` keeps
/// its label; (3) otherwise centroid j can only be closer when `u(x) > l(x, j)` and
/// `u(x) > ½ d(c(x), j)`; (5–6) after the update every `l(x, j)` falls by j's drift.
/// Survivors are compared with every group holding such a centroid, in one `sgemm` per
/// group, and each computed score refreshes `l(x, j)`.
final class ElkanBounds: GroupBounds {
    private let clusterCount: Int
    /// `n × k` bounds, by label.
    private let lowerBounds: UnsafeMutableBufferPointer<Float>
    /// `k × k` lower bounds on half the centroid–centroid distances (step 1).
    private let halfDistances: UnsafeMutableBufferPointer<Float>
    /// `k × k` scratch for the centroid cross products.
    private let crossProducts: UnsafeMutableBufferPointer<Float>
    /// `s(c)`: the smallest half distance of each centroid.
    private var halfNearest: [Double]
    /// Last update's drift per centroid, rounded up to float32.
    private let drift: UnsafeMutableBufferPointer<Float>
    private var pendingDrift: [Double]

    init(pointCount: Int, groups: CentroidGroups) {
        let k = groups.clusterCount
        clusterCount = k
        lowerBounds = allocateBounds(pointCount * k, of: Float.self)
        halfDistances = allocateBounds(k * k, of: Float.self)
        crossProducts = allocateBounds(k * k, of: Float.self)
        drift = .allocate(capacity: k + 16)
        drift.initialize(repeating: 0)
        halfNearest = [Double](repeating: 0, count: k)
        pendingDrift = [Double](repeating: 0, count: k)
    }

    deinit {
        releaseBounds(lowerBounds)
        releaseBounds(halfDistances)
        releaseBounds(crossProducts)
        drift.deallocate()
    }

    private var discarded = false
    var boundBytes: Int { discarded ? 0 : (lowerBounds.count + 2 * halfDistances.count) * 4 }

    func discard() {
        discardPages(of: lowerBounds)
        discardPages(of: halfDistances)
        discardPages(of: crossProducts)
        discarded = true
    }

    func beginPass(_ context: PassContext, groups: CentroidGroups) {
        for label in 0..<clusterCount {
            drift[label] = roundedUp(pendingDrift[label])
            pendingDrift[label] = 0
        }
        // Step 1: centroid–centroid distances from one k × k `sgemm`, made into rigorous
        // lower bounds with the same rounding allowance as point scores.
        let k = clusterCount
        let dimension = context.dimension
        let centroids = context.centroids
        cblas_sgemm(
            CblasRowMajor, CblasNoTrans, CblasTrans, blasint(k), blasint(k), blasint(dimension),
            1, centroids.values, blasint(dimension), centroids.values, blasint(dimension), 0, crossProducts.baseAddress!, blasint(k))
        let rounding = RoundingBounds(dimension: dimension)
        for a in 0..<k {
            var nearest = Double.infinity
            for j in 0..<k {
                let cross = crossProducts[a * k + j]
                let score = centroids.squaredNorm(j) - (cross + cross)
                let half = a == j ? 0 : rounding.lowerDistance(
                    score: score, pointSquaredNorm: centroids.squaredNorm(a), exact: context.exactLabels) / 2
                halfDistances[a * k + j] = roundedDown(half)
                if a != j { nearest = min(nearest, Double(halfDistances[a * k + j])) }
            }
            halfNearest[a] = nearest
        }
    }

    func centroidsMoved(_ drifts: [Double], groups: CentroidGroups) {
        for (label, value) in drifts.enumerated() { pendingDrift[label] = safeDrift(value) }
    }

    func screen(
        _ x: UnsafePointer<Float>, point: Int, label: Int, upper: Double, context: PassContext, groups: CentroidGroups,
        candidates: UnsafeMutablePointer<UInt8>, counters: inout StepCounters
    ) -> Bool {
        let bounds = lowerBounds.baseAddress! + point * clusterCount
        // Step 5: l(x, j) −= drift(j). The extra 2⁻²² relative covers the float32 subtraction.
        fk_lower_by_drift(bounds, drift.baseAddress!, clusterCount)
        checkInvariant(x, label: label, upper: upper, bounds: bounds, context: context, counters: &counters)
        // Step 2: the own centroid is within half the distance to any other.
        if provablyExceeds(halfNearest[label], upper) {
            candidates.update(repeating: 0, count: groups.groupCount)
            return true
        }
        // Step 3, by group: a group is needed if any of its centroids passes both tests.
        let halves = halfDistances.baseAddress! + label * clusterCount
        var anyCandidate = false
        for group in 0..<groups.groupCount {
            var needed = false
            for position in groups.groupStart[group]..<groups.groupStart[group + 1] {
                let centroid = Int(groups.members[position])
                if centroid != label, !provablyExceeds(Double(bounds[centroid]), upper),
                   !provablyExceeds(Double(halves[centroid]), upper) {
                    needed = true
                    break
                }
            }
            candidates[group] = needed ? 1 : 0
            anyCandidate = anyCandidate || needed
        }
        return !anyCandidate
    }

    /// Elkan's screening needs the next centroids' half distances, which are not known yet.
    func predictedFraction(point: Int, label: Int, upper: Double, groups: CentroidGroups) -> Double? { nil }

    func observe(
        scratch: KernelScratch, firstPosition: Int, count: Int, slotCount: Int, firstRow: Int, context: PassContext,
        groups: CentroidGroups
    ) {
        let rounding = RoundingBounds(dimension: context.dimension)
        for offset in 0..<count {
            let centroid = Int(groups.members[firstPosition + offset])
            let norm = groups.groupedSquaredNorms[firstPosition + offset]
            let crossRow = scratch.crossProducts.row(offset)
            for slot in 0..<slotCount {
                let row = Int(scratch.gathered.tileRows[slot])
                let cross = crossRow[slot]
                lowerBounds[(firstRow + row) * clusterCount + centroid] = roundedDown(rounding.lowerDistance(
                    score: norm - (cross + cross), pointSquaredNorm: scratch.pointSquaredNorms[row], exact: context.exactLabels))
            }
        }
    }

    func record(
        point: Int, newLabel: Int, oldLabel: Int, oldSquaredDistance: Float, pointSquaredNorm: Float,
        candidates: UnsafePointer<UInt8>, results: GroupResults, context: PassContext, groups: CentroidGroups
    ) {
        if newLabel != oldLabel, candidates[Int(groups.groupOf[oldLabel])] == 0 {
            // The old centroid was not recomputed; its exact distance is known.
            let rounding = RoundingBounds(dimension: context.dimension)
            lowerBounds[point * clusterCount + oldLabel] = roundedDown(rounding.lowerDistance(squared: oldSquaredDistance))
        }
    }

    /// With `KMEANS_INTERNAL_CHECKS`: every bound about to be used really bounds its distance.
    @inline(__always)
    private func checkInvariant(
        _ x: UnsafePointer<Float>, label: Int, upper: Double, bounds: UnsafePointer<Float>, context: PassContext,
        counters: inout StepCounters
    ) {
        #if KMEANS_INTERNAL_CHECKS
        let dimension = context.dimension
        let own = ExactLabels.squaredDistance64(x, context.centroids.row(label), dimension: dimension).squareRoot()
        precondition(upper >= own, "Elkan upper bound \(upper) below the distance \(own)")
        for centroid in 0..<clusterCount where centroid != label {
            let distance = ExactLabels.squaredDistance64(x, context.centroids.row(centroid), dimension: dimension).squareRoot()
            precondition(Double(bounds[centroid]) <= distance, "Elkan bound \(bounds[centroid]) above the distance \(distance) to \(centroid)")
            let between = ExactLabels.squaredDistance64(
                context.centroids.row(label), context.centroids.row(centroid), dimension: dimension).squareRoot()
            precondition(2 * Double(halfDistances[label * clusterCount + centroid]) <= between, "Elkan half distance above half of \(between)")
        }
        counters.invariantChecks += 1
        #endif
    }
}

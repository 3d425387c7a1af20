import CKMeansKernels

/// What every tile of one pass shares. Read-only for the steps.
struct PassContext {
    /// This pass's centroids (in).
    let centroids: CentroidTable
    /// Centroids per `sgemm` call.
    let centroidTile: Int
    let exactLabels: ExactLabels
    /// Labels from the previous pass, −1 before the first (in). The pass overwrites a
    /// tile's labels only after its step returns, so a step reads its rows' old labels here.
    let previousLabels: UnsafeBufferPointer<Int32>
    /// Whether the step may prune. While false (the first iterations, when most labels
    /// still move) it computes everything and only records its bounds.
    let pruning: Bool
    /// This pass's centroids in 8 bits when dense comparisons are screened with integer
    /// products (``TilePlan/integerScreening``); `nil` for float32 only.
    var quantizedCentroids: QuantizedCentroids?
    /// The rows' kept prefixes and this pass's centroids quantized for the prefix screen,
    /// once the run has one (``PrefixScreen``); dense comparisons of labelled rows use it.
    var prefixScreen: (rows: PrefixRows, centroids: QuantizedCentroids)? = nil

    var clusterCount: Int { centroids.count }
    var dimension: Int { centroids.dimension }

    /// Row `point`'s label from the previous pass.
    @inline(__always)
    func previousLabel(of point: Int) -> Int { Int(previousLabels[point]) }
}

/// Work counted by a step, summed over a pass.
struct StepCounters {
    /// Point–centroid distances computed (scores from `sgemm` or a direct dot product).
    var distanceEvaluations = 0
    /// Points that passed the global filter and were examined.
    var examinedPoints = 0
    /// Rows re-ranked in float64 because their best scores were within rounding.
    var ambiguousRows = 0
    /// Bound invariants verified (only with `KMEANS_INTERNAL_CHECKS`).
    var invariantChecks = 0
    /// Centroids the integer screen left to compare exactly, summed over rows.
    var screenedCandidates = 0
    /// Rows the integer screen could not narrow down, compared with every centroid in float32.
    var screeningFallbacks = 0
    /// Rows that went through the integer screen.
    var screenedRows = 0
    /// Of those, rows screened by the prefix of their rotated coordinates.
    var prefixScreenedRows = 0
    /// Rows the prefix screen could not narrow, screened again in full (and counted again
    /// in ``screenedRows``).
    var prefixOverflows = 0

    static func += (lhs: inout StepCounters, rhs: StepCounters) {
        lhs.distanceEvaluations += rhs.distanceEvaluations
        lhs.examinedPoints += rhs.examinedPoints
        lhs.ambiguousRows += rhs.ambiguousRows
        lhs.invariantChecks += rhs.invariantChecks
        lhs.screenedCandidates += rhs.screenedCandidates
        lhs.screeningFallbacks += rhs.screeningFallbacks
        lhs.screenedRows += rhs.screenedRows
        lhs.prefixScreenedRows += rhs.prefixScreenedRows
        lhs.prefixOverflows += rhs.prefixOverflows
    }
}

/// One way of finding every row's nearest centroid. The pass streams the tiles and
/// owns labels, sums and inertia; a step only decides labels, keeping whatever bounds
/// it needs between passes.
///
/// Contract of ``assignTile(_:context:scratch:stepScratch:counters:)``: it reads the tile
/// and `scratch.pointSquaredNorms` (in, one per tile row), may use every other buffer of
/// `scratch` and `stepScratch`, and must leave in `scratch.settled` (out), for every tile
/// row, the float64 nearest centroid (ties to the lowest index) and
/// ``squaredDistance(_:_:dimension:)`` to it, exactly as ``DenseAssignment`` computes
/// them. Steps that skip work may only skip centroids their bounds prove farther.
protocol AssignmentStep: AnyObject, Sendable {
    /// Per-thread working memory beyond ``KernelScratch``.
    associatedtype Scratch
    func makeScratch() -> Scratch
    /// Called once before each pass's tiles.
    func beginPass(_ context: PassContext)
    func assignTile(_ tile: RowTile, context: PassContext, scratch: KernelScratch, stepScratch: Scratch, counters: inout StepCounters) throws
    /// Called after the update with how far each centroid moved (in label order).
    func centroidsMoved(_ drifts: [Double])
    /// Bytes of bounds kept between passes.
    var boundBytes: Int { get }
    /// Frees the bounds' memory for good: the step will only run dense passes from now on.
    func discardBounds()
    /// After an update: the fraction of distances the next pruned pass is expected to
    /// compute, from the bounds of a sample of rows; `nil` when the step cannot tell.
    /// - Parameters:
    ///   - centroids: The next pass's centroids, `k × d` (in).
    ///   - labels: Every row's current label (in).
    func predictedDistanceFraction(
        centroids: UnsafePointer<Float>, source: any EmbeddingSource, labels: UnsafeBufferPointer<Int32>) throws -> Double?
    /// Before an update, while no bounds are kept: estimates for a fixed sample of rows the
    /// bounds a pruning pass would keep, so that ``predictedFractionFromSample(drifts:centroids:)``
    /// can tell what pruning would save before the bounds are paid for.
    /// - Parameters:
    ///   - centroids: The centroids `labels` were computed with, `k × d` (in).
    ///   - labels: Every row's label (in).
    func sampleBounds(centroids: UnsafePointer<Float>, source: any EmbeddingSource, labels: UnsafeBufferPointer<Int32>) throws
    /// After the update that followed ``sampleBounds(centroids:source:labels:)``: the fraction
    /// of distances each of the next `passes` pruned passes would compute, if every update
    /// moved the centroids as this one did; `nil` when the step cannot tell.
    /// - Parameters:
    ///   - drifts: How far each centroid moved (in).
    ///   - centroids: The updated centroids, `k × d` (in).
    func predictedFractionsFromSample(drifts: [Double], centroids: UnsafePointer<Float>, passes: Int) -> [Double]?
}

extension AssignmentStep {
    func discardBounds() {}

    func sampleBounds(centroids: UnsafePointer<Float>, source: any EmbeddingSource, labels: UnsafeBufferPointer<Int32>) throws {}

    func predictedFractionsFromSample(drifts: [Double], centroids: UnsafePointer<Float>, passes: Int) -> [Double]? { nil }

    func predictedDistanceFraction(
        centroids: UnsafePointer<Float>, source: any EmbeddingSource, labels: UnsafeBufferPointer<Int32>) throws -> Double? {
        nil
    }
}

/// Rounding allowances that turn float32 results into rigorous bounds on true distances.
struct RoundingBounds {
    /// Relative error of ``squaredDistance(_:_:dimension:)``: each term has a rounded
    /// difference and a rounded square, and a sum of d non-negative terms adds at most
    /// `d u` (Higham §3.1).
    let distanceSlack: Double
    /// `γ_d`, the relative error of a float32 `‖x‖²`.
    let normSlack: Double

    init(dimension: Int) {
        let unitRoundoff = 0x1p-24
        distanceSlack = Double(dimension + 4) * unitRoundoff * Self.higherOrderAllowance
        normSlack = Double(dimension) * unitRoundoff / (1 - Double(dimension) * unitRoundoff)
    }

    /// The first-order bound `(d + 4) u` omits a factor `1 / (1 − (d + 4) u)`; raising it by
    /// 1% covers that factor for any d below about 160,000.
    static let higherOrderAllowance = 1.01

    /// Covers the float64 roundings of the slack's product and the square root (a few
    /// units of 2⁻⁵³ each) when a bound is taken from a squared distance.
    static let float64Allowance = 0x1p-50

    /// An upper bound on the true distance whose float32 square is `squared`.
    @inline(__always)
    func upperDistance(squared: Float) -> Double {
        (Double(squared) * (1 + distanceSlack)).squareRoot() * (1 + Self.float64Allowance)
    }

    /// A lower bound on the true distance whose float32 square is `squared`.
    @inline(__always)
    func lowerDistance(squared: Float) -> Double {
        (Double(squared) * (1 - distanceSlack)).squareRoot() * (1 - Self.float64Allowance)
    }

    /// A lower bound on the true distance of a point (squared norm `pointSquaredNorm`)
    /// to a centroid whose float32 score (`‖c‖² − 2x·c`) is `score`.
    @inline(__always)
    func lowerDistance(score: Float, pointSquaredNorm: Float, exact: ExactLabels) -> Double {
        // True ‖x − c‖² = true score + true ‖x‖² ≥ (score − E) + ‖x‖²₃₂ (1 − γ_d).
        let squared = Double(score) + Double(pointSquaredNorm) * (1 - normSlack) - exact.scoreError(pointSquaredNorm: pointSquaredNorm)
        return max(0, squared).squareRoot() * (1 - Self.float64Allowance)
    }
}

/// The shared back end of every step: the dense kernel and the settling of labels.
enum DenseAssignment {
    /// Every row of `tile` against every centroid; settles every tile row: through the
    /// integer screen when the pass has one, else the float32 kernel.
    static func assign(_ tile: RowTile, context: PassContext, scratch: KernelScratch, counters: inout StepCounters) {
        if let quantized = context.quantizedCentroids {
            ScreenedAssignment.assign(tile, centroids: quantized, context: context, scratch: scratch, counters: &counters)
        } else {
            assignInFloat32(tile, context: context, scratch: scratch, counters: &counters)
        }
    }

    /// Every row of `tile` against every centroid through the float32 kernel, leaving each
    /// row's best and second-best scores in `scratch.nearest` (slot = tile row).
    static func assignInFloat32(_ tile: RowTile, context: PassContext, scratch: KernelScratch, counters: inout StepCounters) {
        findNearestCentroids(
            points: tile, centroids: context.centroids, centroidTile: context.centroidTile,
            crossProducts: scratch.crossProducts, nearest: scratch.nearest)
        counters.distanceEvaluations += tile.rowCount * context.clusterCount
        counters.examinedPoints += tile.rowCount
        for row in 0..<tile.rowCount {
            scratch.settled.labels[row] = settledLabel(tile.row(row), slot: row, tileRow: row, context: context, scratch: scratch, counters: &counters)
        }
        // The winners' distances in one call: per row, the call cost as much as the
        // arithmetic on short rows.
        fk_distances_to_labels(
            tile.base, tile.rowStride, tile.rowCount, tile.dimension, context.centroids.values,
            scratch.settled.labels.pointer(at: 0, length: tile.rowCount),
            scratch.settled.squaredDistances.pointer(at: 0, length: tile.rowCount))
    }

    /// The exact label of the point in kernel slot `slot` (tile row `tileRow`, values
    /// `point`), after it was compared with every centroid: the float32 winner when it is
    /// provably the exact nearest, otherwise a float64 re-ranking.
    @inline(__always)
    static func settledLabel(
        _ point: UnsafePointer<Float>, slot: Int, tileRow: Int, context: PassContext, scratch: KernelScratch,
        counters: inout StepCounters
    ) -> Int32 {
        let pointSquaredNorm = scratch.pointSquaredNorms[tileRow]
        guard context.exactLabels.isAmbiguous(
            best: scratch.nearest.bestScores[slot], second: scratch.nearest.secondScores[slot], pointSquaredNorm: pointSquaredNorm)
        else { return scratch.nearest.bestLabels[slot] }
        counters.ambiguousRows += 1
        return context.exactLabels.nearest(point, pointSquaredNorm: pointSquaredNorm, centroids: context.centroids)
    }

    /// ``settledLabel(_:slot:tileRow:context:scratch:counters:)`` with its winner's distance,
    /// written to `scratch.settled` for `tileRow`: for rows compared one at a time.
    @inline(__always)
    static func settle(
        _ point: UnsafePointer<Float>, slot: Int, tileRow: Int, context: PassContext, scratch: KernelScratch,
        counters: inout StepCounters
    ) {
        let label = settledLabel(point, slot: slot, tileRow: tileRow, context: context, scratch: scratch, counters: &counters)
        scratch.settled.settle(
            tileRow, label: label,
            squaredDistance: squaredDistance(point, context.centroids.row(Int(label)), dimension: context.dimension))
    }
}

/// Every point against every centroid (the `lloyd` algorithm).
final class DenseStep: AssignmentStep, @unchecked Sendable {
    func makeScratch() {}
    func beginPass(_ context: PassContext) {}
    func assignTile(_ tile: RowTile, context: PassContext, scratch: KernelScratch, stepScratch: Void, counters: inout StepCounters) {
        DenseAssignment.assign(tile, context: context, scratch: scratch, counters: &counters)
    }
    func centroidsMoved(_ drifts: [Double]) {}
    var boundBytes: Int { 0 }
}

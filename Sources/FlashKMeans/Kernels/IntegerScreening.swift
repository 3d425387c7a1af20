import CKMeansKernels

/// A pass's centroids quantized to 8 bits for screening, with the per-centroid terms of the
/// screened score's error bound.
///
/// For a row x ≈ x̃ = s_x q_x and a centroid c ≈ c̃ = s_c q_c, the screened score
/// `S = ‖c‖² − 2 x̃·c̃` (evaluated in float32 from exact integer products) is within
///
///     E = 2 e_x ‖c‖ + 2 ‖x̃‖ e_c + 8.1 u ‖x̃‖ ‖c̃‖ + 2.1 u ‖c‖²,   u = 2⁻²⁴,
///
/// of the true score `‖c‖² − 2 x·c`, where `e = ‖x − x̃‖`: Cauchy–Schwarz bounds
/// `|x·c − x̃·c̃| ≤ e_x ‖c‖ + ‖x̃‖ e_c`, and the other two terms cover converting the integer
/// sum, two products and the subtraction to float32, and the float32 `‖c‖²`. The screen adds
/// and subtracts `e_x α + ‖x̃‖ β + γ` with
///
///     α = 2 ‖c‖ (1 + 2⁻¹⁰),   β = (2 e_c + 12 u ‖c̃‖)(1 + 2⁻¹⁰),   γ = 4 u ‖c‖² (1 + 2⁻¹⁰),
///
/// each rounded up: the extra `3.9 u ‖c̃‖` and `1.9 u ‖c‖²` cover rounding `S ± E` (at most
/// `u (|S| + E)`, and `|S| ≤ ‖c‖² + 2.01 ‖x̃‖‖c̃‖`), and `2⁻¹⁰` the float32 evaluation of the sum.
final class QuantizedCentroids {
    let clusterCount: Int
    let dimension: Int
    /// Groups of four values per row: the integer kernel reads four at a time.
    let groups: Int
    /// `k × 4 groups` quantized rows, zero past d.
    let values: UnsafeMutablePointer<Int8>
    let sums: UnsafeMutablePointer<Int32>
    let scales: UnsafeMutablePointer<Float>
    let errors: UnsafeMutablePointer<Float>
    let norms: UnsafeMutablePointer<Float>
    let squaredNorms: UnsafeMutablePointer<Float>
    let alpha: UnsafeMutablePointer<Float>
    let beta: UnsafeMutablePointer<Float>
    let gamma: UnsafeMutablePointer<Float>
    /// The largest α, β and γ, for the screen's quick test.
    private var largest = (alpha: Float(0), beta: Float(0), gamma: Float(0))

    init(clusterCount: Int, dimension: Int) {
        self.clusterCount = clusterCount
        self.dimension = dimension
        groups = (dimension + 3) / 4
        values = .allocate(capacity: max(1, clusterCount * groups * 4))
        sums = .allocate(capacity: max(1, clusterCount))
        scales = .allocate(capacity: max(1, clusterCount))
        errors = .allocate(capacity: max(1, clusterCount))
        norms = .allocate(capacity: max(1, clusterCount))
        squaredNorms = .allocate(capacity: max(1, clusterCount))
        alpha = .allocate(capacity: max(1, clusterCount))
        beta = .allocate(capacity: max(1, clusterCount))
        gamma = .allocate(capacity: max(1, clusterCount))
    }

    deinit {
        for pointer in [UnsafeMutableRawPointer(values), UnsafeMutableRawPointer(sums), UnsafeMutableRawPointer(scales),
                        UnsafeMutableRawPointer(errors), UnsafeMutableRawPointer(norms), UnsafeMutableRawPointer(squaredNorms),
                        UnsafeMutableRawPointer(alpha), UnsafeMutableRawPointer(beta), UnsafeMutableRawPointer(gamma)] {
            pointer.deallocate()
        }
    }

    /// Bytes held.
    var byteCount: Int { clusterCount * (groups * 4 + 8 * 4) }

    /// Quantizes this pass's centroids (in) and their error terms.
    func load(_ centroids: CentroidTable) {
        precondition(centroids.count == clusterCount && centroids.dimension == dimension)
        fk_quantize_centroids(centroids.values, clusterCount, dimension, groups, values, scales, errors, norms, sums)
        let unitRoundoff = 0x1p-24
        let evaluationAllowance = 1 + 0x1p-10
        for label in 0..<clusterCount {
            let squaredNorm = Double(centroids.squaredNorm(label))
            squaredNorms[label] = centroids.squaredNorm(label)
            // ‖c‖ from the float32 ‖c‖², which is within 2⁻²⁴ of the true value.
            alpha[label] = roundedUp(2 * squaredNorm.squareRoot() * (1 + 0x1p-20) * evaluationAllowance)
            beta[label] = roundedUp((2 * Double(errors[label]) + 12 * unitRoundoff * Double(norms[label])) * evaluationAllowance)
            gamma[label] = roundedUp(4 * unitRoundoff * squaredNorm * evaluationAllowance)
        }
        largest = (0, 0, 0)
        for label in 0..<clusterCount {
            largest = (max(largest.alpha, alpha[label]), max(largest.beta, beta[label]), max(largest.gamma, gamma[label]))
        }
    }

    /// The screen's view of centroids `first…`.
    func screenTerms(from first: Int) -> fk_screen_centroids {
        fk_screen_centroids(
            sums: sums + first, scales: scales + first, squared_norms: squaredNorms + first, alpha: alpha + first,
            beta: beta + first, gamma: gamma + first, alpha_max: largest.alpha, beta_max: largest.beta, gamma_max: largest.gamma)
    }
}

/// One thread's memory for screening a tile.
final class ScreeningScratch {
    let groups: Int
    /// The tile's rows quantized and interleaved for the integer kernel.
    let packedRows: ScratchVector<UInt8>
    let rowScales: ScratchVector<Float>
    let rowErrors: ScratchVector<Float>
    let rowNorms: ScratchVector<Float>
    /// `centroidTile × blockStride` integer products, where they are not screened in registers.
    let products: ScratchMatrix<Int32>
    /// Per row: the smallest upper bound on its best true score.
    let upper: ScratchVector<Float>
    /// `blockStride × candidates`: per row, the smallest lower bounds seen and their labels.
    let lower: ScratchMatrix<Float>
    let lowerLabels: ScratchMatrix<Int32>
    /// Per row: the smallest lower bound that did not fit in the list.
    let overflow: ScratchVector<Float>
    /// Tile rows whose screen could not decide: they get the float32 kernel.
    let fallbackRows: ScratchVector<Int32>
    private let storage = ScratchStorage()

    /// The length of each row's candidate list (`FK_SCREEN_CANDIDATES`).
    static let candidates = Int(FK_SCREEN_CANDIDATES)

    init(blockStride: Int, centroidTile: Int, dimension: Int) {
        groups = (dimension + 3) / 4
        packedRows = storage.vector(blockStride * groups * 4, of: UInt8.self)
        rowScales = storage.vector(blockStride, of: Float.self)
        rowErrors = storage.vector(blockStride, of: Float.self)
        rowNorms = storage.vector(blockStride, of: Float.self)
        products = storage.matrix(rows: centroidTile, columns: blockStride, of: Int32.self)
        upper = storage.vector(blockStride, of: Float.self)
        lower = storage.matrix(rows: blockStride, columns: Self.candidates, of: Float.self)
        lowerLabels = storage.matrix(rows: blockStride, columns: Self.candidates, of: Int32.self)
        overflow = storage.vector(blockStride, of: Float.self)
        fallbackRows = storage.vector(blockStride, of: Int32.self)
    }

    /// Bytes per thread for a plan's tiles.
    static func byteCount(blockStride: Int, centroidTile: Int, dimension: Int) -> Int {
        blockStride * ((dimension + 3) / 4 * 4 + 4 * 3 + 4 + 8 * candidates + 4 + 4 + centroidTile * 4)
    }
}

/// The dense assignment with 8-bit screening: every row against every centroid through
/// exact integer products, then float32 (and float64 where rounding could decide) only for
/// the centroids the screen cannot rule out. Labels are those of ``DenseAssignment``'s
/// float32 kernel: the screen's bounds are rigorous (``QuantizedCentroids``), so the true
/// nearest centroid is always among the candidates, and candidates are settled exactly.
enum ScreenedAssignment {
    /// Settles every row of `tile` (in) into `scratch.settled` (out), as the float32 kernel would.
    static func assign(
        _ tile: RowTile, centroids quantized: QuantizedCentroids, context: PassContext, scratch: KernelScratch,
        counters: inout StepCounters
    ) {
        guard let screening = scratch.screening else { preconditionFailure("screening scratch was not allocated") }
        let paddedRows = (tile.rowCount + 15) / 16 * 16
        fk_quantize_points(
            tile.base, tile.rowStride, tile.rowCount, tile.dimension, screening.groups, screening.packedRows.base,
            screening.rowScales.base, screening.rowErrors.base, screening.rowNorms.base)
        // Padding rows quantize to zero; their bounds are computed and never read.
        for row in tile.rowCount..<paddedRows {
            screening.rowScales[row] = 0
            screening.rowErrors[row] = 0
            screening.rowNorms[row] = 0
        }
        screening.upper.fill(with: .infinity, count: paddedRows)
        screening.lower.base.update(repeating: .infinity, count: paddedRows * ScreeningScratch.candidates)
        screening.overflow.fill(with: .infinity, count: paddedRows)
        var firstCentroid = 0
        while firstCentroid < context.clusterCount {
            let count = min(context.centroidTile, context.clusterCount - firstCentroid)
            fk_screen_tile(
                screening.packedRows.base, paddedRows / 16, screening.groups, quantized.values + firstCentroid * screening.groups * 4,
                count, Int32(firstCentroid), quantized.screenTerms(from: firstCentroid), screening.rowScales.base,
                screening.rowErrors.base, screening.rowNorms.base, screening.upper.base, screening.lower.base,
                screening.lowerLabels.base, screening.overflow.base, screening.products.base, screening.products.columnCount)
            firstCentroid += count
        }
        counters.distanceEvaluations += tile.rowCount * context.clusterCount
        counters.examinedPoints += tile.rowCount
        counters.screenedRows += tile.rowCount

        var fallbacks = 0
        for row in 0..<tile.rowCount {
            let upper = screening.upper[row]
            if screening.overflow[row] <= upper {
                // More candidates than the list holds: compare this row with everything.
                screening.fallbackRows[fallbacks] = Int32(row)
                fallbacks += 1
                continue
            }
            let lower = screening.lower.row(row)
            let labels = screening.lowerLabels.row(row)
            var candidateCount = 0
            while candidateCount < ScreeningScratch.candidates, lower[candidateCount] <= upper { candidateCount += 1 }
            counters.screenedCandidates += candidateCount
            let x = tile.row(row)
            if candidateCount == 1 {
                // Every other centroid's true score exceeds an upper bound of this one's.
                let label = labels[0]
                scratch.settled.settle(
                    row, label: label, squaredDistance: squaredDistance(x, context.centroids.row(Int(label)), dimension: tile.dimension))
                continue
            }
            let label = nearest(
                x, among: labels, count: candidateCount, pointSquaredNorm: scratch.pointSquaredNorms[row], context: context,
                counters: &counters)
            scratch.settled.settle(
                row, label: label, squaredDistance: squaredDistance(x, context.centroids.row(Int(label)), dimension: tile.dimension))
        }
        counters.screeningFallbacks += fallbacks
        guard fallbacks > 0 else { return }
        for slot in 0..<fallbacks { scratch.gathered.gather(tile, row: Int(screening.fallbackRows[slot]), into: slot) }
        let gathered = scratch.gathered.tile(count: fallbacks, like: tile)
        findNearestCentroids(
            points: gathered, centroids: context.centroids, centroidTile: context.centroidTile,
            crossProducts: scratch.crossProducts, nearest: scratch.nearest)
        for slot in 0..<fallbacks {
            DenseAssignment.settle(
                gathered.row(slot), slot: slot, tileRow: Int(scratch.gathered.tileRows[slot]), context: context, scratch: scratch,
                counters: &counters)
        }
    }

    /// The exact nearest of a few candidate centroids (their labels ascending or not),
    /// ties to the lowest label: float32 scores with the kernel's error bound decide unless
    /// two are within `2.5 E(x)`, and those are compared in float64, as ``ExactLabels`` does.
    private static func nearest(
        _ x: UnsafePointer<Float>, among labels: UnsafePointer<Int32>, count: Int, pointSquaredNorm: Float, context: PassContext,
        counters: inout StepCounters
    ) -> Int32 {
        var scores = InlineArray<16, Float>(repeating: 0)
        var smallest = Float.infinity
        for index in 0..<count {
            let label = Int(labels[index])
            scores[index] = directScore(
                x, context.centroids.row(label), centroidSquaredNorm: context.centroids.squaredNorm(label), dimension: context.dimension)
            smallest = min(smallest, scores[index])
        }
        let threshold = Double(smallest) + 2.5 * context.exactLabels.scoreError(pointSquaredNorm: pointSquaredNorm)
        var close = 0
        for index in 0..<count where Double(scores[index]) <= threshold { close += 1 }
        var best = (distance: Double.infinity, label: Int32.max)
        for index in 0..<count where Double(scores[index]) <= threshold {
            let label = labels[index]
            // One centroid within rounding of the smallest is the nearest; several are ranked in float64.
            let distance = close == 1 ? 0 : ExactLabels.squaredDistance64(x, context.centroids.row(Int(label)), dimension: context.dimension)
            if distance < best.distance || (distance == best.distance && label < best.label) { best = (distance, label) }
        }
        if close > 1 { counters.ambiguousRows += 1 }
        return best.label
    }
}

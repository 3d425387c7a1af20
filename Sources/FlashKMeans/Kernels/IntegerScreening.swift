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
///
/// With a ``PrincipalPrefix``, x̃ and c̃ quantize the rotated prefixes `fl(Qx)` and `fl(Qc)`
/// instead: `e` then also carries the rotation's `η ‖x‖`, so that it bounds the distance
/// from `Q̂x`, and `|Q̂x·Q̂c − x̃·c̃| ≤ e_x ‖Q̂c‖ + ‖x̃‖ e_c ≤ e_x ‖c‖ + ‖x̃‖ e_c` keeps the form
/// above. The product past the prefix adds `2ρ_x ρ_c`: the screen adds `ρ_x` times
/// ``residuals`` (`2ρ_c (1 + 2⁻¹⁰)`, rounded up).
final class QuantizedCentroids {
    let clusterCount: Int
    /// d, the centroids' length.
    let dimension: Int
    /// The rotation whose prefix is quantized; `nil` for every coordinate as it is.
    let prefix: PrincipalPrefix?
    /// Groups of four values per quantized row: the integer kernel reads four at a time.
    let groups: Int
    /// `k × 4 groups` quantized rows, zero past their length.
    let values: UnsafeMutablePointer<Int8>
    let sums: UnsafeMutablePointer<Int32>
    let scales: UnsafeMutablePointer<Float>
    let errors: UnsafeMutablePointer<Float>
    let norms: UnsafeMutablePointer<Float>
    let squaredNorms: UnsafeMutablePointer<Float>
    let alpha: UnsafeMutablePointer<Float>
    let beta: UnsafeMutablePointer<Float>
    let gamma: UnsafeMutablePointer<Float>
    /// `2ρ_c (1 + 2⁻¹⁰)`, rounded up; zero without a prefix.
    let residuals: UnsafeMutablePointer<Float>
    /// `k × p` rotated centroids, for a prefix.
    private let rotated: UnsafeMutablePointer<Float>?
    private let storage = ScratchStorage()
    /// The largest α, β and γ, for the screen's quick test.
    private var largest = (alpha: Float(0), beta: Float(0), gamma: Float(0))

    init(clusterCount: Int, dimension: Int, prefix: PrincipalPrefix? = nil) {
        self.clusterCount = clusterCount
        self.dimension = dimension
        self.prefix = prefix
        groups = prefix?.groups ?? (dimension + 3) / 4
        let storage = storage
        func floats() -> UnsafeMutablePointer<Float> { storage.vector(clusterCount, of: Float.self).base }
        values = storage.vector(clusterCount * groups * 4, of: Int8.self).base
        sums = storage.vector(clusterCount, of: Int32.self).base
        scales = floats()
        errors = floats()
        norms = floats()
        squaredNorms = floats()
        alpha = floats()
        beta = floats()
        gamma = floats()
        residuals = floats()
        rotated = prefix.map { storage.vector(clusterCount * $0.length, of: Float.self).base }
    }

    /// Bytes held.
    var byteCount: Int { clusterCount * (groups * 4 + 9 * 4 + (prefix?.length ?? 0) * 4) }

    /// Quantizes this pass's centroids (in), or their prefixes, and their error terms.
    func load(_ centroids: CentroidTable) {
        precondition(centroids.count == clusterCount && centroids.dimension == dimension)
        if let prefix, let rotated {
            prefix.rotate(centroids.values, rowStride: dimension, count: clusterCount, into: rotated)
            fk_quantize_centroids(rotated, clusterCount, prefix.length, groups, values, scales, errors, norms, sums)
            for label in 0..<clusterCount {
                // ‖c‖² from float64 sums rounded to float32: raised by 2⁻²⁰, far over that rounding.
                let squaredNorm = Double(centroids.squaredNorm(label)) * (1 + 0x1p-20)
                let error = Double(errors[label]) + prefix.rotationError * squaredNorm.squareRoot()
                errors[label] = roundedUp(error)
                let residual = PrincipalPrefix.residualBound(squaredNorm: squaredNorm, quantizedNorm: norms[label], error: error)
                residuals[label] = roundedUp(2 * residual * (1 + 0x1p-10))
            }
        } else {
            fk_quantize_centroids(centroids.values, clusterCount, dimension, groups, values, scales, errors, norms, sums)
        }
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
            beta: beta + first, gamma: gamma + first, residuals: residuals + first, alpha_max: largest.alpha,
            beta_max: largest.beta, gamma_max: largest.gamma)
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
    /// Zero: a full screen has no coordinates past its "prefix".
    let zeroResiduals: ScratchVector<Float>
    /// `centroidTile × blockStride` integer products, where they are not screened in registers.
    let products: ScratchMatrix<Int32>
    /// Per row: the smallest upper bound on its best true score.
    let upper: ScratchVector<Float>
    /// Per row of a prefix screen: the float32 score and squared distance of its previous
    /// centroid, which seed the upper bound and are reused when that centroid is a candidate
    /// or stays the nearest (one read of the row instead of three).
    let seedScores: ScratchVector<Float>
    let seedDistances: ScratchVector<Float>
    /// `blockStride × capacity`: per row, the smallest lower bounds seen and their labels.
    let lower: ScratchVector<Float>
    let lowerLabels: ScratchVector<Int32>
    /// Per row: the smallest lower bound that did not fit in the list.
    let overflow: ScratchVector<Float>
    /// Per row, for a prefix screen: the candidates appended to its list.
    let listCounts: ScratchVector<Int32>
    /// Tile rows whose screen could not decide: they get the float32 kernel.
    let fallbackRows: ScratchVector<Int32>
    /// ``rotationRows`` rows' rotated prefixes and integer sums, while a prefix screen quantizes them.
    let rotated: ScratchVector<Float>
    let rotationSums: ScratchVector<Int32>
    private let storage = ScratchStorage()

    /// Rows rotated per `sgemm` call when their prefixes are first quantized: 64 rows of a
    /// 192-value prefix are 48 KiB, in L2 with the axes.
    static let rotationRows = 64

    /// The longest prefix a screen may use for rows of `dimension`: past half the row, the
    /// prefix products save too little over the full screen.
    static func longestPrefix(dimension: Int) -> Int { dimension / 2 / 16 * 16 }

    init(blockStride: Int, centroidTile: Int, dimension: Int) {
        groups = (dimension + 3) / 4
        let capacity = Int(FK_PREFIX_SCREEN_CANDIDATES)
        packedRows = storage.vector(blockStride * groups * 4, of: UInt8.self)
        rowScales = storage.vector(blockStride, of: Float.self)
        rowErrors = storage.vector(blockStride, of: Float.self)
        rowNorms = storage.vector(blockStride, of: Float.self)
        zeroResiduals = storage.vector(blockStride, of: Float.self)
        products = storage.matrix(rows: centroidTile, columns: blockStride, of: Int32.self)
        upper = storage.vector(blockStride, of: Float.self)
        seedScores = storage.vector(blockStride, of: Float.self)
        seedDistances = storage.vector(blockStride, of: Float.self)
        lower = storage.vector(blockStride * capacity, of: Float.self)
        lowerLabels = storage.vector(blockStride * capacity, of: Int32.self)
        overflow = storage.vector(blockStride, of: Float.self)
        listCounts = storage.vector(blockStride, of: Int32.self)
        fallbackRows = storage.vector(blockStride, of: Int32.self)
        rotated = storage.vector(Self.rotationRows * max(1, Self.longestPrefix(dimension: dimension)), of: Float.self)
        rotationSums = storage.vector(Self.rotationRows, of: Int32.self)
    }

    /// Bytes per thread for a plan's tiles.
    static func byteCount(blockStride: Int, centroidTile: Int, dimension: Int) -> Int {
        let capacity = Int(FK_PREFIX_SCREEN_CANDIDATES)
        return blockStride * ((dimension + 3) / 4 * 4 + 4 * 4 + 4 + 8 + 8 * capacity + 4 + 4 + 4 + centroidTile * 4)
            + rotationRows * (max(1, longestPrefix(dimension: dimension)) + 1) * 4
    }
}

/// The dense assignment with 8-bit screening: every row against every centroid through
/// exact integer products, then float32 (and float64 where rounding could decide) only for
/// the centroids the screen cannot rule out. Labels are those of ``DenseAssignment``'s
/// float32 kernel: the screen's bounds are rigorous (``QuantizedCentroids``), so the true
/// nearest centroid is always among the candidates, and candidates are settled exactly.
///
/// Two screens share the kernel. The full screen quantizes every coordinate. The prefix
/// screen (``PrefixScreen``), once rows have labels, quantizes only the first p rotated
/// coordinates and bounds the rest by their norms: p/d of the products, with looser bounds,
/// so each row starts from an exact upper bound, its previous centroid's score.
enum ScreenedAssignment {
    /// Whether screening every coordinate beats float32: with VNNI's 8-bit products, four
    /// times as fast as float32 ones, but not with AVX2's 16-bit ones, about as fast; there
    /// only the prefix screen, over at most half of each row, pays.
    static let fullScreenPays = fk_int8_speed() == FK_INT8_VNNI

    /// The per-row terms one screen reads: `padded` entries each.
    typealias RowTerms = (
        scales: UnsafeMutablePointer<Float>, errors: UnsafeMutablePointer<Float>, norms: UnsafeMutablePointer<Float>,
        residuals: UnsafeMutablePointer<Float>
    )

    /// Settles every row of `tile` (in) into `scratch.settled` (out), as the float32 kernel would.
    static func assign(
        _ tile: RowTile, centroids quantized: QuantizedCentroids, context: PassContext, scratch: KernelScratch,
        counters: inout StepCounters
    ) {
        guard let screening = scratch.screening else { preconditionFailure("screening scratch was not allocated") }
        guard screensByPrefix(tile, context: context), let prefix = context.prefixScreen else {
            fullScreen(tile, tileRows: nil, centroids: quantized, context: context, scratch: scratch, counters: &counters)
            return
        }
        let cache = prefix.rows
        cache.fill(tile, pointSquaredNorms: scratch.pointSquaredNorms, scratch: screening)
        let first = tile.firstRow
        fk_pack_quantized_rows(
            cache.values + first * cache.prefix.length, cache.prefix.length, tile.rowCount, cache.prefix.groups,
            screening.packedRows.base)
        seedUpperBounds(tile, context: context, scratch: scratch, screening: screening)
        counters.prefixScreenedRows += tile.rowCount
        // The cache keeps 16 zero entries past its last row, for the last tile's padding.
        let overflowing = screen(
            tile, tileRows: nil, rows: (cache.scales + first, cache.errors + first, cache.norms + first, cache.residuals + first),
            centroids: prefix.centroids, appended: true, context: context, scratch: scratch, counters: &counters)
        guard overflowing > 0 else { return }
        counters.prefixOverflows += overflowing
        // Rows the prefix could not narrow (they lie far outside the centroids' principal
        // axes) go through the full screen: three times the prefix's products, but a sixth of
        // the float32 kernel's cost.
        for slot in 0..<overflowing { scratch.gathered.gather(tile, row: Int(screening.fallbackRows[slot]), into: slot) }
        fullScreen(
            scratch.gathered.tile(count: overflowing, like: tile), tileRows: scratch.gathered.tileRows.base, centroids: quantized,
            context: context, scratch: scratch, counters: &counters)
    }

    /// The screen over every coordinate of `tile`'s rows, which are the tile's own rows
    /// (`tileRows` nil) or rows gathered from it (slot s holding tile row `tileRows[s]`);
    /// rows it cannot narrow get the float32 kernel.
    private static func fullScreen(
        _ tile: RowTile, tileRows: UnsafeMutablePointer<Int32>?, centroids quantized: QuantizedCentroids, context: PassContext,
        scratch: KernelScratch, counters: inout StepCounters, groupBounds: GroupLowerScores? = nil
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
        let fallbacks = screen(
            tile, tileRows: tileRows,
            rows: (screening.rowScales.base, screening.rowErrors.base, screening.rowNorms.base, screening.zeroResiduals.base),
            centroids: quantized, appended: false, context: context, scratch: scratch, counters: &counters, groupBounds: groupBounds)
        counters.screeningFallbacks += fallbacks
        guard fallbacks > 0 else { return }
        // Into the gathered block, slot by slot in increasing order: where the rows already
        // are that block, each moves down, never over a row still to be moved.
        for slot in 0..<fallbacks {
            let row = Int(screening.fallbackRows[slot])
            if let tileRows {
                if row != slot { scratch.gathered.values.row(slot).update(from: tile.row(row), count: tile.dimension) }
                tileRows[slot] = tileRows[row]
            } else {
                scratch.gathered.gather(tile, row: row, into: slot)
            }
        }
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

    /// Screens `tile`'s rows (packed in `scratch.screening`, upper bounds set) against every
    /// centroid and settles each row the screen narrows; returns how many it could not, listed
    /// in `screening.fallbackRows` as rows of `tile`.
    /// - Parameter appended: Whether candidates are appended as seen (a seeded upper bound)
    ///   or kept sorted.
    /// - Parameter groupBounds: Where Yinyang's bounds are wanted as well: every centroid's
    ///   integer sums are then computed once for a run of rows, screened and folded per group
    ///   (``GroupLowerScores``).
    private static func screen(
        _ tile: RowTile, tileRows: UnsafeMutablePointer<Int32>?, rows: RowTerms, centroids screen: QuantizedCentroids,
        appended: Bool, context: PassContext, scratch: KernelScratch, counters: inout StepCounters,
        groupBounds: GroupLowerScores? = nil
    ) -> Int {
        guard let screening = scratch.screening else { preconditionFailure("screening scratch was not allocated") }
        let paddedRows = (tile.rowCount + 15) / 16 * 16
        let capacity = Int(appended ? FK_PREFIX_SCREEN_CANDIDATES : FK_SCREEN_CANDIDATES)
        screening.lower.base.update(repeating: .infinity, count: paddedRows * capacity)
        screening.overflow.fill(with: .infinity, count: paddedRows)
        if appended { screening.listCounts.fill(with: 0, count: paddedRows) }
        let counts = appended ? screening.listCounts.base : nil
        if let groupBounds {
            let clusterCount = context.clusterCount
            let rowsPerCall = rowsWithEveryCentroid(screening: screening, clusterCount: clusterCount)
            var start = 0
            while start < paddedRows {
                let blocks = min(rowsPerCall, paddedRows - start) / 16
                let products = screening.products.base
                fk_int8_products(
                    screening.packedRows.base + start / 16 * screen.groups * 64, blocks, screen.groups, screen.values, clusterCount,
                    products, blocks * 16)
                fk_screen_products(
                    products, blocks * 16, clusterCount, 0, screen.screenTerms(from: 0), rows.scales + start, rows.errors + start,
                    rows.norms + start, rows.residuals + start, blocks * 16, capacity, counts.map { $0 + start },
                    screening.upper.base + start, screening.lower.base + start * capacity,
                    screening.lowerLabels.base + start * capacity, screening.overflow.base + start)
                let count = min(blocks * 16, tile.rowCount - start)
                if count > 0 {
                    groupBounds.fold(
                        products: products, stride: blocks * 16, clusterCount: clusterCount, centroids: screen,
                        rows: (rows.scales + start, rows.errors + start, rows.norms + start, rows.residuals + start),
                        firstRow: start, count: count)
                }
                start += blocks * 16
            }
        } else {
            var firstCentroid = 0
            while firstCentroid < context.clusterCount {
                let count = min(context.centroidTile, context.clusterCount - firstCentroid)
                fk_screen_tile(
                    screening.packedRows.base, paddedRows / 16, screen.groups, screen.values + firstCentroid * screen.groups * 4,
                    count, Int32(firstCentroid), screen.screenTerms(from: firstCentroid), rows.scales, rows.errors, rows.norms,
                    rows.residuals, capacity, counts, screening.upper.base, screening.lower.base, screening.lowerLabels.base,
                    screening.overflow.base, screening.products.base, screening.products.columnCount)
                firstCentroid += count
            }
        }
        counters.screenedRows += tile.rowCount
        if tileRows == nil {
            // Rows screened again after the prefix screen count once.
            counters.distanceEvaluations += tile.rowCount * context.clusterCount
            counters.examinedPoints += tile.rowCount
        }

        var fallbacks = 0
        for row in 0..<tile.rowCount {
            let upper = screening.upper[row]
            if screening.overflow[row] <= upper {
                // More candidates than the list holds.
                screening.fallbackRows[fallbacks] = Int32(row)
                fallbacks += 1
                continue
            }
            let lower = screening.lower.base + row * capacity
            let labels = screening.lowerLabels.base + row * capacity
            var candidateCount = 0
            if let counts {
                // In the order seen; entries whose bound ended above the upper one drop out.
                for index in 0..<Int(counts[row]) where lower[index] <= upper {
                    labels[candidateCount] = labels[index]
                    candidateCount += 1
                }
            } else {
                while candidateCount < capacity, lower[candidateCount] <= upper { candidateCount += 1 }
            }
            counters.screenedCandidates += candidateCount
            let x = tile.row(row)
            let tileRow = tileRows.map { Int($0[row]) } ?? row
            // With one candidate, every other centroid's true score exceeds an upper bound of its.
            // A seeded (prefix) screen has its rows in place and knows each one's previous centroid.
            let seed = appended
                ? (label: Int32(context.previousLabel(of: tile.firstRow + row)), score: screening.seedScores[row]) : nil
            let label = candidateCount == 1
                ? labels[0]
                : nearest(
                    x, among: labels, count: candidateCount, seed: seed, pointSquaredNorm: scratch.pointSquaredNorms[tileRow],
                    context: context, counters: &counters)
            let distance = label == seed?.label
                ? screening.seedDistances[row] : squaredDistance(x, context.centroids.row(Int(label)), dimension: tile.dimension)
            scratch.settled.settle(tileRow, label: label, squaredDistance: distance)
        }
        return fallbacks
    }

    /// Whether ``assign(_:centroids:context:scratch:counters:)`` screens `tile` by prefix: the
    /// run has a prefix screen and the tile's rows were labelled by an earlier pass. Only a
    /// pass's own tiles are numbered by the rows the kept prefixes and labels index.
    static func screensByPrefix(_ tile: RowTile, context: PassContext) -> Bool {
        guard let prefix = context.prefixScreen, tile.firstRow + tile.rowCount <= prefix.rows.rowCount else { return false }
        return hasPreviousLabels(tile, context: context)
    }

    /// Settles every row of `tile` as ``assign(_:centroids:context:scratch:counters:)`` does and
    /// gives Yinyang's bounds from the same screen: each row's lower bounds on every centroid's
    /// score, folded per group into the smallest, the second smallest and the label of the
    /// smallest (`output`, `groupCount` per tile row). Over the kept prefixes where the tile is
    /// screened by prefix (their integer sums computed again); otherwise over whole rows, from the
    /// very sums the screen reads. Every centroid's sums for 16 rows must fit the screen's
    /// product block (``groupLowerScoresFit(clusterCount:scratch:)``).
    static func assignWithGroupLowerScores(
        _ tile: RowTile, centroids quantized: QuantizedCentroids, context: PassContext, scratch: KernelScratch,
        counters: inout StepCounters, output: GroupLowerScores
    ) {
        guard screensByPrefix(tile, context: context), let prefix = context.prefixScreen else {
            fullScreen(
                tile, tileRows: nil, centroids: quantized, context: context, scratch: scratch, counters: &counters, groupBounds: output)
            return
        }
        assign(tile, centroids: quantized, context: context, scratch: scratch, counters: &counters)
        guard let screening = scratch.screening else { preconditionFailure("screening scratch was not allocated") }
        let clusterCount = context.clusterCount
        let rowsPerCall = rowsWithEveryCentroid(screening: screening, clusterCount: clusterCount)
        let cache = prefix.rows
        let centroids = prefix.centroids
        let first = tile.firstRow
        // Packed again: rows the prefix passed on to the full screen overwrote the block.
        fk_pack_quantized_rows(
            cache.values + first * cache.prefix.length, cache.prefix.length, tile.rowCount, cache.prefix.groups,
            screening.packedRows.base)
        var start = 0
        while start < tile.rowCount {
            let count = min(rowsPerCall, tile.rowCount - start)
            let blocks = (count + 15) / 16
            fk_int8_products(
                screening.packedRows.base + start / 16 * centroids.groups * 64, blocks, centroids.groups, centroids.values,
                clusterCount, screening.products.base, blocks * 16)
            let row = first + start
            output.fold(
                products: screening.products.base, stride: blocks * 16, clusterCount: clusterCount, centroids: centroids,
                rows: (cache.scales + row, cache.errors + row, cache.norms + row, cache.residuals + row), firstRow: start,
                count: count)
            start += count
        }
    }

    /// Whether ``assignWithGroupLowerScores(_:centroids:context:scratch:counters:output:)`` can run:
    /// the screen's product block holds every centroid's products for 16 rows.
    static func groupLowerScoresFit(clusterCount: Int, scratch: KernelScratch) -> Bool {
        guard let screening = scratch.screening else { return false }
        return productBlockRows(screening: screening, clusterCount: clusterCount) >= 16
    }

    /// Rows, in whole blocks of 16, whose products with every centroid fill the screen's
    /// product block (256 at k = 1024).
    private static func productBlockRows(screening: ScreeningScratch, clusterCount: Int) -> Int {
        screening.products.rowCount * screening.products.columnCount / max(1, clusterCount) / 16 * 16
    }

    /// ``productBlockRows(screening:clusterCount:)`` where callers checked that it is at least 16
    /// (``groupLowerScoresFit(clusterCount:scratch:)``).
    private static func rowsWithEveryCentroid(screening: ScreeningScratch, clusterCount: Int) -> Int {
        let rows = productBlockRows(screening: screening, clusterCount: clusterCount)
        precondition(rows >= 16, "the product block holds every centroid's products for fewer than 16 rows")
        return rows
    }

    /// Whether every row of `tile` was labelled by an earlier pass.
    private static func hasPreviousLabels(_ tile: RowTile, context: PassContext) -> Bool {
        for row in 0..<tile.rowCount where context.previousLabel(of: tile.firstRow + row) < 0 { return false }
        return true
    }

    /// Starts each row's screen from an upper bound on its best true score: the float32 score
    /// of its previous centroid plus that score's rounding bound (``ExactLabels``). A prefix
    /// screen's own upper bounds carry the norms of the coordinates past the prefix and are
    /// far too loose to start from.
    private static func seedUpperBounds(_ tile: RowTile, context: PassContext, scratch: KernelScratch, screening: ScreeningScratch) {
        let paddedRows = (tile.rowCount + 15) / 16 * 16
        let upper = screening.upper
        for row in 0..<tile.rowCount {
            let label = context.previousLabel(of: tile.firstRow + row)
            let score = fk_score_and_distance(
                tile.row(row), context.centroids.row(label), context.centroids.squaredNorm(label), tile.dimension,
                screening.seedDistances.base + row)
            screening.seedScores[row] = score
            let error = context.exactLabels.scoreError(pointSquaredNorm: scratch.pointSquaredNorms[row])
            let bound = Double(score) + error
            upper[row] = roundedUp(bound * (bound < 0 ? 1 - 0x1p-40 : 1 + 0x1p-40))
        }
        for row in tile.rowCount..<paddedRows { upper[row] = .infinity }
    }

    /// The exact nearest of a few candidate centroids (their labels ascending or not),
    /// ties to the lowest label: float32 scores with the kernel's error bound decide unless
    /// two are within `2.5 E(x)`, and those are compared in float64, as ``ExactLabels`` does.
    /// - Parameter seed: A centroid whose score is already known, the same value `directScore` gives.
    private static func nearest(
        _ x: UnsafePointer<Float>, among labels: UnsafePointer<Int32>, count: Int, seed: (label: Int32, score: Float)?,
        pointSquaredNorm: Float, context: PassContext, counters: inout StepCounters
    ) -> Int32 {
        var scores = InlineArray<64, Float>(repeating: 0)
        var smallest = Float.infinity
        for index in 0..<count {
            let label = Int(labels[index])
            scores[index] = labels[index] == seed?.label
                ? seed!.score
                : directScore(
                    x, context.centroids.row(label), centroidSquaredNorm: context.centroids.squaredNorm(label),
                    dimension: context.dimension)
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

/// Where a bound-building pass folds each row's lower bounds on every centroid's score per
/// group (`fk_group_lower_scores`): the smallest, the second smallest and the label of the
/// smallest, `groupCount` per tile row, and the kernel's scratch.
struct GroupLowerScores {
    let groupOf: UnsafePointer<Int32>
    let groupCount: Int
    /// `2 × groupCount × 16` floats; `stateLabels`, `groupCount × 16`.
    let state: UnsafeMutablePointer<Float>
    let stateLabels: UnsafeMutablePointer<Int32>
    let best: UnsafeMutablePointer<Float>
    let second: UnsafeMutablePointer<Float>
    let labels: UnsafeMutablePointer<Int32>

    /// Folds tile rows `firstRow..<firstRow + count` from their sums (`products`, one row of
    /// `stride` per centroid) and their screen terms (`rows`, from `firstRow`).
    func fold(
        products: UnsafePointer<Int32>, stride: Int, clusterCount: Int, centroids: QuantizedCentroids,
        rows: ScreenedAssignment.RowTerms, firstRow: Int, count: Int
    ) {
        fk_group_lower_scores(
            products, stride, clusterCount, centroids.screenTerms(from: 0), rows.scales, rows.errors, rows.norms, rows.residuals,
            count, groupOf, groupCount, state, stateLabels, best + firstRow * groupCount, second + firstRow * groupCount,
            labels + firstRow * groupCount)
    }
}

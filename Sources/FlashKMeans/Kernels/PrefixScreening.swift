import CKMeansKernels
import COpenBLAS

/// The principal axes of a set of centroids: a `p × d` matrix Q whose rows are, up to
/// float32 rounding, orthonormal, and whose span holds most of the centroids' energy.
///
/// A dense pass on real embeddings can then rank centroids by their first p rotated
/// coordinates: for an exactly orthonormal `Q̂` and its projection `P = Q̂ᵀQ̂`,
///
///     x · c = Q̂x · Q̂c + (x − Px) · (c − Pc),   |(x − Px) · (c − Pc)| ≤ ρ_x ρ_c,
///
/// with `ρ_x² = ‖x‖² − ‖Q̂x‖²` (Cauchy–Schwarz on the coordinates past the prefix). The
/// stored Q is not exactly orthonormal; ``rotationError`` bounds what that and `sgemm`'s
/// rounding cost (see ``init(axes:length:dimension:)``), so every bound stays rigorous.
final class PrincipalPrefix {
    let dimension: Int
    /// p, a multiple of 16.
    let length: Int
    /// `p × d`, row-major: the axes, most energy first.
    let axes: UnsafeMutablePointer<Float>
    /// η: for any v, `‖fl(Qv) − Q̂v‖ ≤ η ‖v‖` for some exactly orthonormal `Q̂` and the
    /// float32 product `fl(Qv)` of ``rotate(_:rowStride:count:into:)``.
    let rotationError: Double

    var groups: Int { length / 4 }

    /// The prefix length the screen uses: the fewest multiple-of-16 axes holding this
    /// fraction of the centroids' energy `Σ‖c‖²`. Measured on real 384-d sentence embeddings
    /// (100,000 rows, k = 1024, 20 Lloyd iterations, 2 threads): 93% is 128 axes, 7.8
    /// candidates a row and 2.4% of rows past the 64 a list holds, 0.135-0.15 s an iteration;
    /// 96% is 160 axes, 4.4 candidates and 0.1% of rows past 64, 0.12-0.14 s; 97% (192
    /// axes) was no faster. The full screen took 0.19 s.
    static let energyFraction = 0.96

    /// Rows of at most this many values get a prefix screen: the eigensolver takes O(d³) time
    /// and 3 d² float64 values of memory (24 MB and a fraction of a second at d = 1024, but
    /// 400 MB and seconds at d = 4096).
    static let longestRow = 1024

    /// Axes from the centroids' second moments `Σ c cᵀ` (float64, LAPACK's `dsyevd`), or `nil`
    /// when more than `longest` axes would be needed (the energy is spread too evenly
    /// for a prefix to rule centroids out) or the eigensolver fails.
    ///
    /// The centroids, not a sample of rows, choose the axes: they are at hand in every pass
    /// and on every rank, and their principal axes separate them best. On real 384-d
    /// sentence embeddings they left as few candidates as axes from 4,000 sampled rows.
    static func fromCentroids(_ centroids: CentroidTable, longest: Int) -> PrincipalPrefix? {
        let d = centroids.dimension
        guard longest >= 16, d >= 32, d <= longestRow else { return nil }
        let wide = UnsafeMutablePointer<Double>.allocate(capacity: centroids.count * d)
        defer { wide.deallocate() }
        for index in 0..<(centroids.count * d) { wide[index] = Double(centroids.values[index]) }
        // Row-major upper triangle = column-major lower triangle, as dsyevd reads it below.
        let moments = UnsafeMutablePointer<Double>.allocate(capacity: d * d)
        defer { moments.deallocate() }
        moments.initialize(repeating: 0, count: d * d)
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, blasint(d), blasint(centroids.count), 1, wide, blasint(d), 0, moments, blasint(d))
        let eigenvalues = UnsafeMutablePointer<Double>.allocate(capacity: d)
        defer { eigenvalues.deallocate() }
        var order = Int32(d), leading = Int32(d), info: Int32 = 0
        var workLength = Int32(1 + 6 * d + 2 * d * d), integerWorkLength = Int32(3 + 5 * d)
        let work = UnsafeMutablePointer<Double>.allocate(capacity: Int(workLength))
        let integerWork = UnsafeMutablePointer<Int32>.allocate(capacity: Int(integerWorkLength))
        defer {
            work.deallocate()
            integerWork.deallocate()
        }
        var job = CChar(UInt8(ascii: "V")), triangle = CChar(UInt8(ascii: "L"))
        dsyevd_(&job, &triangle, &order, moments, &leading, eigenvalues, work, &workLength, integerWork, &integerWorkLength, &info, 1, 1)
        guard info == 0 else { return nil }
        // Ascending eigenvalues; eigenvector m is column m (column-major), so row m here.
        var total = 0.0
        for index in 0..<d { total += max(0, eigenvalues[index]) }
        guard total > 0 else { return nil }
        var length = 0
        var captured = 0.0
        while length < d, captured < energyFraction * total || length % 16 != 0 {
            captured += max(0, eigenvalues[d - 1 - length])
            length += 1
        }
        guard length <= longest, length % 16 == 0 else { return nil }
        let axes = UnsafeMutablePointer<Float>.allocate(capacity: length * d)
        for axis in 0..<length {
            let vector = moments + (d - 1 - axis) * d
            for index in 0..<d { axes[axis * d + index] = Float(vector[index]) }
        }
        return PrincipalPrefix(axes: axes, length: length, dimension: d)
    }

    /// Takes ownership of `axes` and bounds its departure from orthonormality.
    ///
    /// With `G = QQᵀ` and `δ ≥ ‖G − I‖₂`, the polar factor `Q̂` of Q has orthonormal rows and
    /// `‖Q − Q̂‖₂ = max |σᵢ − 1| ≤ max |σᵢ² − 1| ≤ δ`. Each of `fl(Qv)`'s p values is a dot
    /// product of length d, off by at most `γ_d ‖Qᵢ‖ ‖v‖ ≤ γ_d √(1 + δ) ‖v‖` (Higham §3.1, as in
    /// ``ExactLabels``). So `η = δ + γ_d √p √(1 + δ)`. δ is `‖G − I‖_F` (an upper bound on
    /// the spectral norm) from float64 products of the float32 entries, which are exact, plus
    /// `p d 2⁻⁵²` for the float64 sums.
    init(axes: UnsafeMutablePointer<Float>, length: Int, dimension: Int) {
        self.axes = axes
        self.length = length
        self.dimension = dimension
        // G through `dsyrk` (a loop of its own took 7 ms at p = 176, d = 384): whatever order it
        // sums in, each entry is within `d 2⁻⁵³` of the exact one for rows of norm about 1,
        // which the `p d 2⁻⁵²` below covers.
        let wide = UnsafeMutablePointer<Double>.allocate(capacity: length * dimension)
        let gram = UnsafeMutablePointer<Double>.allocate(capacity: length * length)
        defer {
            wide.deallocate()
            gram.deallocate()
        }
        for index in 0..<(length * dimension) { wide[index] = Double(axes[index]) }
        gram.initialize(repeating: 0, count: length * length)
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, blasint(length), blasint(dimension), 1, wide, blasint(dimension), 0, gram, blasint(length))
        var squaredDeparture = 0.0
        for first in 0..<length {
            for second in first..<length {
                let departure = gram[first * length + second] - (first == second ? 1 : 0)
                squaredDeparture += (first == second ? 1 : 2) * departure * departure
            }
        }
        let unitRoundoff = 0x1p-24
        let departure = squaredDeparture.squareRoot() * (1 + 0x1p-40) + Double(length * dimension) * 0x1p-52
        let gamma = Double(dimension) * unitRoundoff / (1 - Double(dimension) * unitRoundoff)
        rotationError = (departure + gamma * Double(length).squareRoot() * (1 + departure).squareRoot()) * (1 + 0x1p-20)
    }

    deinit { axes.deallocate() }

    /// `fl(Qx)` for `count` rows: `count × p` floats into `output`, row-major.
    func rotate(_ rows: UnsafePointer<Float>, rowStride: Int, count: Int, into output: UnsafeMutablePointer<Float>) {
        cblas_sgemm(
            CblasRowMajor, CblasNoTrans, CblasTrans, blasint(count), blasint(length), blasint(dimension),
            1, rows, blasint(rowStride), axes, blasint(dimension), 0, output, blasint(length))
    }

    /// An upper bound on `ρ = √(‖v‖² − ‖Q̂v‖²)`, from an upper bound on `‖v‖²`, an upper bound
    /// `quantizedNorm` on the norm of v's quantized prefix and an upper bound `error` on that
    /// prefix's distance from `Q̂v`: `‖Q̂v‖ ≥ ‖quantized‖ − error`. The quantized norm's own
    /// upper rounding (2⁻⁴⁰) is undone with room to spare.
    static func residualBound(squaredNorm: Double, quantizedNorm: Float, error: Double) -> Double {
        let projected = max(0, Double(quantizedNorm) * (1 - 0x1p-30) - error)
        return max(0, squaredNorm - projected * projected).squareRoot() * (1 + 0x1p-40)
    }
}

/// Every row's quantized prefix, computed on the first pass that screens by prefix and kept:
/// the rows never change, so later passes read p bytes and four floats a row instead of
/// rotating d values (which would cost more than the screen saves).
///
/// Memory: `n × (p + 21)` bytes: the prefix, four floats, `‖x‖²` and a flag a row.
final class PrefixRows {
    let prefix: PrincipalPrefix
    let rowCount: Int
    /// `n × p` quantized values, row-major.
    let values: UnsafeMutablePointer<Int8>
    /// Per row, as ``fk_quantize_centroids`` gives them, the error raised by the rotation's.
    /// Sixteen entries past the end, zero, so that the screen may read whole vectors.
    let scales: UnsafeMutablePointer<Float>
    let errors: UnsafeMutablePointer<Float>
    let norms: UnsafeMutablePointer<Float>
    /// ρ_x per row.
    let residuals: UnsafeMutablePointer<Float>
    /// `‖x‖²` per row, as the pass that kept the prefix computed it (and checked it finite):
    /// later passes copy it instead of reading the whole row again.
    private let squaredNorms: UnsafeMutablePointer<Float>
    private let filled: UnsafeMutablePointer<Bool>
    private let storage = ScratchStorage()

    /// Bytes a kept row takes besides its p quantized values.
    static let bytesPastPrefix = 21
    static func byteCount(rowCount: Int, length: Int) -> Int { rowCount * (length + bytesPastPrefix) }
    var byteCount: Int { Self.byteCount(rowCount: rowCount, length: prefix.length) }

    init(prefix: PrincipalPrefix, rowCount: Int) {
        self.prefix = prefix
        self.rowCount = rowCount
        values = storage.vector(rowCount * prefix.length, of: Int8.self).base
        scales = storage.vector(rowCount + 16, of: Float.self).base
        errors = storage.vector(rowCount + 16, of: Float.self).base
        norms = storage.vector(rowCount + 16, of: Float.self).base
        residuals = storage.vector(rowCount + 16, of: Float.self).base
        filled = storage.vector(rowCount, of: Bool.self).base
        squaredNorms = storage.vector(rowCount, of: Float.self).base
    }

    /// Copies the kept `‖x‖²` of `tile`'s rows into `norms` (out) and returns `true`, or
    /// returns `false` if the prefixes of those rows were not kept yet.
    func copySquaredNorms(of tile: RowTile, into norms: ScratchVector<Float>) -> Bool {
        let first = tile.firstRow
        guard tile.rowCount > 0, first + tile.rowCount <= rowCount, filled[first] && filled[first + tile.rowCount - 1] else {
            return false
        }
        norms.base.update(from: squaredNorms + first, count: tile.rowCount)
        return true
    }

    /// Quantizes the prefixes of `tile`'s rows unless an earlier pass did. A tile is always
    /// the same rows on the same thread within a pass, and passes are separated by the
    /// engine's join, so no row is written twice or read while written.
    /// - Parameter pointSquaredNorms: `‖x‖²` of the tile's rows (in).
    func fill(_ tile: RowTile, pointSquaredNorms: ScratchVector<Float>, scratch: ScreeningScratch) {
        let first = tile.firstRow
        guard !(filled[first] && filled[first + tile.rowCount - 1]) else { return }
        let length = prefix.length
        let normSlack = Double(tile.dimension + 2) * 0x1p-23
        var start = 0
        while start < tile.rowCount {
            let count = min(ScreeningScratch.rotationRows, tile.rowCount - start)
            let row = first + start
            prefix.rotate(tile.row(start), rowStride: tile.rowStride, count: count, into: scratch.rotated.base)
            fk_quantize_centroids(
                scratch.rotated.base, count, length, prefix.groups, values + row * length, scales + row, errors + row, norms + row,
                scratch.rotationSums.base)
            for offset in 0..<count {
                let squaredNorm = Double(pointSquaredNorms[start + offset]) * (1 + normSlack)
                let error = Double(errors[row + offset]) + prefix.rotationError * squaredNorm.squareRoot()
                errors[row + offset] = roundedUp(error)
                residuals[row + offset] = roundedUp(
                    PrincipalPrefix.residualBound(squaredNorm: squaredNorm, quantizedNorm: norms[row + offset], error: error))
                squaredNorms[row + offset] = pointSquaredNorms[start + offset]
                filled[row + offset] = true
            }
            start += count
        }
    }
}

/// The prefix screen of an assignment pass: axes chosen once from the centroids of the
/// first pass that has labels to seed it, the rows' prefixes kept, and each pass's
/// centroids rotated and quantized.
final class PrefixScreen {
    /// The kept row prefixes and the centroids' quantized prefixes, once axes were found.
    private var screen: (rows: PrefixRows, centroids: QuantizedCentroids)?
    /// Whether the axes were looked for (found or not): they are chosen once per run.
    private var decided = false
    private let rowCount: Int
    private let clusterCount: Int
    private let byteBudget: Int

    /// - Parameter byteBudget: The most the kept row prefixes may take; past it, no prefix screen.
    init(rowCount: Int, clusterCount: Int, byteBudget: Int) {
        self.rowCount = rowCount
        self.clusterCount = clusterCount
        self.byteBudget = byteBudget
    }

    /// Bytes held.
    var byteCount: Int { (screen?.rows.byteCount ?? 0) + (screen?.centroids.byteCount ?? 0) }

    /// This pass's centroids, rotated and quantized, with the kept rows; `nil` when the run has
    /// no prefix screen.
    func load(_ table: CentroidTable) -> (rows: PrefixRows, centroids: QuantizedCentroids)? {
        if !decided {
            decided = true
            let longest = min(table.dimension / 2, (byteBudget / max(1, rowCount) - PrefixRows.bytesPastPrefix) / 16 * 16)
            if let prefix = PrincipalPrefix.fromCentroids(table, longest: longest) {
                screen = (
                    PrefixRows(prefix: prefix, rowCount: rowCount),
                    QuantizedCentroids(clusterCount: clusterCount, dimension: table.dimension, prefix: prefix)
                )
            }
        }
        screen?.centroids.load(table)
        return screen
    }
}

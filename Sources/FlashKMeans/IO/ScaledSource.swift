import CKMeansKernels

/// A power of two that the engine multiplies every row (and every given centroid) by, so
/// that float32 arithmetic on data at extreme scales neither overflows nor underflows.
///
/// k-means is scale-invariant, and multiplying by a power of two is exact in floating
/// point, so labels are those of the data as given and centroids, distances and inertia
/// are scaled back exactly. Without it, rows near 1e17 (squared distances near `FLT_MAX`)
/// got centroids that were not their nearest, and rows near 1e-22 or subnormal had every
/// squared distance underflow to 0, with labels that were barely better than chance.
///
/// Data whose largest magnitude lies in `[2⁻³², 2³²]` are left as they are: there, squared
/// norms of rows of up to 2²⁰ values stay below 2⁸⁴, far from overflow, and values down to
/// 2³¹ times smaller than the largest still square to normal floats. So ordinary data keep
/// their zero-copy path and give the same bits as ever; only data outside that range are
/// converted tile by tile, to a largest magnitude in `[1, 2)`.
struct DataScale: Sendable, Equatable {
    /// Rows and centroids are multiplied by `2^exponent` inside the engine.
    let exponent: Int

    static let identity = DataScale(exponent: 0)

    var isIdentity: Bool { exponent == 0 }

    /// The range of largest magnitudes computed unscaled.
    static let unscaledRange = Float(sign: .plus, exponent: -32, significand: 1)...Float(sign: .plus, exponent: 32, significand: 1)

    private init(exponent: Int) { self.exponent = exponent }

    /// The scale for data whose largest magnitude is `largest` (non-finite: none; the
    /// run's own checks refuse such rows).
    init(largestMagnitude largest: Float) {
        guard largest.isFinite, largest > 0, !Self.unscaledRange.contains(largest) else {
            self = .identity
            return
        }
        exponent = -Int(largest.exponent)
    }

    /// `2^exponent`; a `Double`, since the factor for subnormal data is beyond float32's range.
    var factor: Double { Double(sign: .plus, exponent: exponent, significand: 1) }

    /// `values` in the engine's units.
    func scaled(_ values: [Float]) -> [Float] {
        isIdentity ? values : values.map { Float(Double($0) * factor) }
    }

    /// Engine values (centroids) back in the data's units.
    func unscaled(_ values: [Float]) -> [Float] {
        isIdentity ? values : values.map { Float(Double($0) / factor) }
    }

    /// An engine distance back in the data's units.
    func unscaled(distance: Double) -> Double { isIdentity ? distance : distance / factor }

    /// An engine squared distance (or inertia) back in the data's units.
    func unscaled(squaredDistance: Double) -> Double { isIdentity ? squaredDistance : squaredDistance / factor / factor }

    /// Squared distances from the engine back in the data's units, rounded to float32.
    func unscaled(squaredDistances: [Float]) -> [Float] {
        isIdentity ? squaredDistances : squaredDistances.map { Float(unscaled(squaredDistance: Double($0))) }
    }

    /// An iteration's statistics back in the data's units.
    func unscaled(_ stats: IterationStats) -> IterationStats {
        var stats = stats
        stats.inertia = unscaled(squaredDistance: stats.inertia)
        stats.maxCentroidShift = unscaled(distance: stats.maxCentroidShift)
        return stats
    }

    /// The largest magnitude among the rows and `centroids` (`k × d`, the given ones, if any).
    ///
    /// Reads every row once where the stored type could hold extreme values; float16 and
    /// uint8 rows are not read, and count as the largest value their type holds (65,504 and
    /// 255, within ``unscaledRange``).
    static func largestMagnitude(of source: any EmbeddingSource, centroids: [Float] = [], plan: TilePlan) throws -> Float {
        var largest = centroids.withUnsafeBufferPointer { Float(bitPattern: fk_largest_magnitude_bits($0.baseAddress, $0.count)) }
        switch source.description.dataType {
        case "float16": largest = largerMagnitude(largest, 65504)
        case "uint8": largest = largerMagnitude(largest, 255)
        default:
            let operation = LargestMagnitude(sliceCount: plan.sliceCount)
            let engine = TileEngine(
                operation: operation, schedule: TileSchedule(plan: plan, rowCount: source.rowCount), threadCount: plan.threadCount,
                source: source)
            try engine.run()
            largest = largerMagnitude(largest, Float(bitPattern: operation.largestBits.max() ?? 0))
        }
        return largest
    }
}

/// The larger of two magnitudes (non-negative values), NaN above infinity above every finite
/// value, as `fk_largest_magnitude_bits` orders them: `max` would drop a NaN.
func largerMagnitude(_ first: Float, _ second: Float) -> Float {
    Float(bitPattern: max(first.bitPattern, second.bitPattern))
}

/// The largest magnitude in each slice, as float bits (see `fk_largest_magnitude_bits`).
final class LargestMagnitude: TileOperation {
    /// One slot per slice, each written by its slice's thread only. Raw memory, not an
    /// array: threads writing elements of one Swift array race on its copy-on-write check.
    let largestBits: UnsafeMutableBufferPointer<UInt32>

    init(sliceCount: Int) {
        largestBits = .allocate(capacity: sliceCount)
        largestBits.initialize(repeating: 0)
    }

    deinit { largestBits.deallocate() }

    func makeThreadScratch() {}

    func process(_ rows: Range<Int>, slice: Int, scratch: Void, reader: TileReader) throws {
        try reader.withTile(rows) { tile in
            var largest = largestBits[slice]
            for row in 0..<tile.rowCount { largest = max(largest, fk_largest_magnitude_bits(tile.row(row), tile.dimension)) }
            largestBits[slice] = largest
        }
    }
}

/// Rows multiplied by a power of two on the fly, one tile at a time (``DataScale``).
final class ScaledSource: EmbeddingSource, @unchecked Sendable {
    let description: EmbeddingDescription
    private let rows: any EmbeddingSource
    private let factor: Double

    init(_ rows: any EmbeddingSource, scale: DataScale) {
        self.rows = rows
        factor = scale.factor
        var description = rows.description
        description.layout = .converted
        self.description = description
    }

    func releaseRows(_ range: Range<Int>) { rows.releaseRows(range) }

    func withRows<R>(_ range: Range<Int>, scratch: UnsafeMutablePointer<Float>, _ body: (RowTile) throws -> R) throws -> R {
        let dimension = description.dimension
        try rows.withRows(range, scratch: scratch) { tile in
            // In place when the inner source converted into the same scratch (stride d).
            for row in 0..<tile.rowCount {
                let source = tile.row(row)
                let destination = scratch + row * dimension
                for index in 0..<dimension { destination[index] = Float(Double(source[index]) * factor) }
            }
        }
        return try body(RowTile(
            base: UnsafePointer(scratch), rowStride: dimension, rowCount: range.count, dimension: dimension, firstRow: range.lowerBound,
            storage: .scratch))
    }
}

import Foundation

/// Clustered synthetic data: rows drawn from isotropic Gaussian blobs whose centers
/// are themselves standard normal. Used by `flashkmeans demo`, the tests and the
/// benchmarks.
///
/// Rows must be generated in order (``fill(_:rows:)`` continues where the last call
/// stopped); the same seed always gives the same rows.
public final class BlobGenerator {
    public let dimension: Int
    public let blobCount: Int
    /// Standard deviation of a blob relative to the unit spread of the centers.
    public let spread: Float
    public private(set) var centers: [Float]
    private var generator: SeededGenerator
    private var nextRow = 0

    public init(dimension: Int, blobCount: Int, spread: Float, seed: UInt64) {
        self.dimension = dimension
        self.blobCount = blobCount
        self.spread = spread
        generator = SeededGenerator(seed: seed)
        centers = []
        centers = (0..<(blobCount * dimension)).map { _ in Float(normal()) }
    }

    /// A standard normal draw (Box–Muller; one of the pair is discarded for simplicity).
    private func normal() -> Double {
        let u = max(generator.nextUnitDouble(), 0x1p-60)
        let v = generator.nextUnitDouble()
        return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
    }

    /// Replaces `block` with rows `rows` (`rows.count × d`).
    public func fill(_ block: inout [Float], rows: Range<Int>) {
        precondition(rows.lowerBound == nextRow, "rows must be generated in order")
        block.removeAll(keepingCapacity: true)
        for _ in rows {
            let blob = generator.nextIndex(below: blobCount)
            for index in 0..<dimension {
                block.append(centers[blob * dimension + index] + spread * Float(normal()))
            }
        }
        nextRow = rows.upperBound
    }

    /// `count` rows at once.
    public func rows(_ count: Int) -> [Float] {
        var block: [Float] = []
        fill(&block, rows: nextRow..<(nextRow + count))
        return block
    }
}


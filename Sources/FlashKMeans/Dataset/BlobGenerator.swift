#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Clustered synthetic data: rows drawn from isotropic Gaussian blobs whose centers
/// are themselves standard normal. Used by `flashkmeans demo`, the tests and the
/// benchmarks.
///
/// Rows must be generated in order (``fill(_:rows:)`` continues where the last call
/// stopped); the same seed always gives the same rows.
public final class BlobGenerator {
    /// d, the length of every row.
    public let dimension: Int
    /// The number of blobs, each an equally likely source of a row.
    public let blobCount: Int
    /// Standard deviation of a blob relative to the unit spread of the centers.
    public let spread: Float
    /// The blob centers, `blobCount × d`, row-major: the true clusters, to compare
    /// results against.
    public private(set) var centers: [Float]
    private var generator: SeededGenerator
    private var nextRow = 0

    /// Draws the blob centers.
    ///
    /// - Parameters:
    ///   - dimension: d.
    ///   - blobCount: The number of blobs; at least 1.
    ///   - spread: Each blob's standard deviation per coordinate; the centers have 1.
    ///   - seed: Fixes the centers and every row.
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
    ///
    /// Each row picks a blob uniformly and adds Gaussian noise to its center.
    ///
    /// - Parameters:
    ///   - block: Receives the rows, row-major; its capacity is reused.
    ///   - rows: The next rows: must start where the previous call ended (at 0 at first).
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
    /// - Parameter count: Rows to generate, continuing from the last call.
    /// - Returns: `count × d` floats, row-major.
    public func rows(_ count: Int) -> [Float] {
        var block: [Float] = []
        fill(&block, rows: nextRow..<(nextRow + count))
        return block
    }
}


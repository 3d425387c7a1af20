/// Rows already in memory, lent as tiles: for clustering an array the caller holds, and
/// small internal tables (such as the centroids Yinyang groups).
public final class ArraySource: EmbeddingSource, @unchecked Sendable {
    public let description: EmbeddingDescription
    private let values: [Float]

    /// - Parameters:
    ///   - values: `n × d` rows, row-major.
    ///   - name: How errors and reports refer to the rows.
    public init(_ values: [Float], dimension: Int, name: String = "memory") {
        self.values = values
        description = EmbeddingDescription(
            path: name, format: .raw, rowCount: values.count / dimension, dimension: dimension,
            dataType: "float32", layout: .zeroCopy, byteCount: values.count * 4)
    }

    public func withRows<R>(_ rows: Range<Int>, scratch: UnsafeMutablePointer<Float>, _ body: (RowTile) throws -> R) throws -> R {
        try values.withUnsafeBufferPointer { buffer in
            try body(RowTile(
                base: buffer.baseAddress! + rows.lowerBound * dimension, rowStride: dimension,
                rowCount: rows.count, dimension: dimension, firstRow: rows.lowerBound))
        }
    }
}

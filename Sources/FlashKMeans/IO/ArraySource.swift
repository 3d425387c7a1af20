/// Rows already in memory, lent as tiles: for clustering an array the caller holds, and
/// small internal tables (such as the centroids Yinyang groups).
public final class ArraySource: EmbeddingSource, @unchecked Sendable {
    /// A `raw`, zero-copy float32 description whose path is the source's name.
    public let description: EmbeddingDescription
    private let values: [Float]

    /// Wraps rows held in memory; they are lent, never copied.
    ///
    /// - Parameters:
    ///   - values: `n × d` rows, row-major: a whole number of rows.
    ///   - dimension: d, at least 1.
    ///   - name: How errors and reports refer to the rows. The default is `memory`.
    public init(_ values: [Float], dimension: Int, name: String = "memory") {
        precondition(dimension >= 1, "an array source needs a dimension of at least 1, got \(dimension)")
        precondition(values.count % dimension == 0, "\(values.count) values are not a whole number of rows of \(dimension)")
        self.values = values
        description = EmbeddingDescription(
            path: name, format: .raw, rowCount: values.count / dimension, dimension: dimension,
            dataType: "float32", layout: .zeroCopy, byteCount: values.count * 4)
    }

    /// Lends rows `rows` of the array itself, with a stride of d.
    ///
    /// - Parameters:
    ///   - rows: A range within `0..<rowCount`.
    ///   - scratch: Ignored.
    ///   - body: Receives the tile, valid only during the call.
    /// - Returns: What `body` returns.
    /// - Throws: Whatever `body` throws.
    public func withRows<R>(_ rows: Range<Int>, scratch: UnsafeMutablePointer<Float>, _ body: (RowTile) throws -> R) throws -> R {
        precondition(rows.lowerBound >= 0 && rows.upperBound <= description.rowCount, "rows \(rows) outside 0..<\(description.rowCount)")
        return try values.withUnsafeBufferPointer { buffer in
            try body(RowTile(
                base: buffer.baseAddress! + rows.lowerBound * dimension, rowStride: dimension,
                rowCount: rows.count, dimension: dimension, firstRow: rows.lowerBound))
        }
    }
}

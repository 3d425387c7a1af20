/// Rows already in memory, lent as tiles. Used to cluster small internal tables (such
/// as the centroids Yinyang groups) with the engine itself.
final class ArraySource: EmbeddingSource, @unchecked Sendable {
    let description: EmbeddingDescription
    private let values: [Float]

    init(_ values: [Float], dimension: Int, name: String) {
        self.values = values
        description = EmbeddingDescription(
            path: name, format: .raw, rowCount: values.count / dimension, dimension: dimension,
            dataType: "float32", layout: .zeroCopy, byteCount: values.count * 4)
    }

    func withRows<R>(_ rows: Range<Int>, scratch: UnsafeMutablePointer<Float>, _ body: (RowTile) throws -> R) throws -> R {
        try values.withUnsafeBufferPointer { buffer in
            try body(RowTile(
                base: buffer.baseAddress! + rows.lowerBound * dimension, rowStride: dimension,
                rowCount: rows.count, dimension: dimension, firstRow: rows.lowerBound))
        }
    }
}

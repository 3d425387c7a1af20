/// Rows scaled to unit length on the fly, one tile at a time, for spherical k-means.
/// The file is never rewritten: every tile is normalized into the caller's scratch.
final class NormalizedSource: EmbeddingSource, @unchecked Sendable {
    let description: EmbeddingDescription
    private let rows: any EmbeddingSource

    init(_ rows: any EmbeddingSource) {
        self.rows = rows
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
                let squared = squaredLength(source)
                guard squared.isFinite else {
                    throw DatasetError(path: path, .nonFiniteValue(row: try rows.firstRow(upTo: tile.firstRow + row) { !squaredLength($0).isFinite }))
                }
                guard squared > 0 else {
                    throw DatasetError(path: path, .zeroNorm(row: try rows.firstRow(upTo: tile.firstRow + row) { squaredLength($0) == 0 }))
                }
                let scale = 1 / squared.squareRoot()
                let destination = scratch + row * dimension
                for index in 0..<dimension { destination[index] = Float(Double(source[index]) * scale) }
            }
        }
        return try body(RowTile(
            base: UnsafePointer(scratch), rowStride: dimension, rowCount: range.count, dimension: dimension, firstRow: range.lowerBound,
            storage: .scratch))
    }

    /// `‖x‖²` in float64.
    private func squaredLength(_ row: UnsafePointer<Float>) -> Double {
        var squared = 0.0
        for index in 0..<description.dimension { squared += Double(row[index]) * Double(row[index]) }
        return squared
    }
}

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

    func withRows<R>(_ range: Range<Int>, scratch: UnsafeMutablePointer<Float>, _ body: (RowTile) throws -> R) throws -> R {
        let dimension = description.dimension
        try rows.withRows(range, scratch: scratch) { tile in
            // In place when the inner source converted into the same scratch (stride d).
            for row in 0..<tile.rowCount {
                let source = tile.row(row)
                var squared = 0.0
                for index in 0..<dimension { squared += Double(source[index]) * Double(source[index]) }
                guard squared.isFinite else {
                    throw DatasetError(path: path, .nonFiniteValue(row: try firstRow(upTo: tile.firstRow + row) { !$0.isFinite }))
                }
                guard squared > 0 else {
                    throw DatasetError(path: path, .zeroNorm(row: try firstRow(upTo: tile.firstRow + row) { $0 == 0 }))
                }
                let scale = 1 / squared.squareRoot()
                let destination = scratch + row * dimension
                for index in 0..<dimension { destination[index] = Float(Double(source[index]) * scale) }
            }
        }
        return try body(RowTile(
            base: UnsafePointer(scratch), rowStride: dimension, rowCount: range.count, dimension: dimension, firstRow: range.lowerBound))
    }

    /// The lowest row in `0...last` whose squared norm (in float64) is `bad` (`last` itself is).
    private func firstRow(upTo last: Int, where bad: (Double) -> Bool) throws -> Int {
        let dimension = description.dimension
        let tileRows = 256
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: tileRows * dimension)
        defer { scratch.deallocate() }
        var start = 0
        while start < last {
            let range = start..<min(start + tileRows, last)
            let found: Int? = try rows.withRows(range, scratch: scratch) { tile in
                (0..<tile.rowCount).first { row in
                    bad((0..<dimension).reduce(0.0) { $0 + Double(tile.row(row)[$1]) * Double(tile.row(row)[$1]) })
                }.map { range.lowerBound + $0 }
            }
            if let found { return found }
            start = range.upperBound
        }
        return last
    }
}

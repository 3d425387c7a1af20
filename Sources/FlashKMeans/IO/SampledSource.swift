/// A seeded uniform sample of another source's rows, read through its mapping without
/// copying the file: a sorted index list, with each tile gathered into scratch.
final class SampledSource: EmbeddingSource, @unchecked Sendable {
    let description: EmbeddingDescription
    /// The sampled rows of `rows`, ascending.
    let sampledRows: [Int]
    private let rows: any EmbeddingSource

    init(_ rows: any EmbeddingSource, sampledRows: [Int]) {
        self.rows = rows
        self.sampledRows = sampledRows
        var description = rows.description
        description.rowCount = sampledRows.count
        description.layout = .converted
        self.description = description
    }

    func withRows<R>(_ range: Range<Int>, scratch: UnsafeMutablePointer<Float>, _ body: (RowTile) throws -> R) throws -> R {
        let dimension = description.dimension
        for slot in range {
            let row = sampledRows[slot]
            let destination = scratch + (slot - range.lowerBound) * dimension
            // Converted sources write straight into the destination row.
            try rows.withRows(row..<(row + 1), scratch: destination) { tile in
                if tile.storage == .borrowed { destination.update(from: tile.base, count: dimension) }
            }
            // Name the file's row, not the sample's, and the first bad one in the file.
            if !squaredNorm(destination, dimension: dimension).isFinite {
                throw DatasetError(path: path, .nonFiniteValue(row: try rows.firstNonFiniteRow(upTo: row)))
            }
        }
        return try body(RowTile(
            base: UnsafePointer(scratch), rowStride: dimension, rowCount: range.count, dimension: dimension, firstRow: range.lowerBound,
            storage: .scratch))
    }
}

/// A run of consecutive rows of another source, numbered from zero: one rank's share.
final class RowRangeSource: EmbeddingSource, @unchecked Sendable {
    let description: EmbeddingDescription
    let rows: Range<Int>
    private let base: any EmbeddingSource

    init(_ base: any EmbeddingSource, rows: Range<Int>) {
        self.base = base
        self.rows = rows
        var description = base.description
        description.rowCount = rows.count
        self.description = description
    }

    func withRows<R>(_ range: Range<Int>, scratch: UnsafeMutablePointer<Float>, _ body: (RowTile) throws -> R) throws -> R {
        // The base numbers its errors through the whole input already; `body` numbers them
        // from this range's start, so those are shifted back to the user's row numbers.
        try base.withRows((range.lowerBound + rows.lowerBound)..<(range.upperBound + rows.lowerBound), scratch: scratch) { tile in
            do {
                return try body(RowTile(
                    base: tile.base, rowStride: tile.rowStride, rowCount: tile.rowCount, dimension: tile.dimension,
                    firstRow: tile.firstRow - rows.lowerBound, storage: tile.storage))
            } catch let error as DatasetError {
                throw error.shiftingRows(by: rows.lowerBound)
            }
        }
    }

    func releaseRows(_ range: Range<Int>) {
        base.releaseRows((range.lowerBound + rows.lowerBound)..<(range.upperBound + rows.lowerBound))
    }
}

extension DatasetError {
    /// The error with its row numbers counted from `offset`: a rank's rows are numbered from
    /// zero, a user's from the start of the file.
    func shiftingRows(by offset: Int) -> DatasetError {
        var shifted = self
        switch problem {
        case let .inconsistentRow(row, found, expected): shifted.problem = .inconsistentRow(row: row + offset, found: found, expected: expected)
        case let .nonFiniteValue(row): shifted.problem = .nonFiniteValue(row: row + offset)
        case let .zeroNorm(row): shifted.problem = .zeroNorm(row: row + offset)
        default: break
        }
        return shifted
    }
}

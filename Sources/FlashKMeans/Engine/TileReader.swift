/// One thread's access to the rows of a pass: it lends tiles (converted into its own buffer
/// when the source must convert them) and gives a mapped file's pages back as it goes.
///
/// Pages are released every 8 MiB of rows read, so a pass holds about that much of the
/// file per thread instead of all of it. Batches this size keep the cost small (each
/// release interrupts the other threads to flush their TLBs); releasing per tile cost 5%
/// of a Lloyd iteration on 1M × 128. An input no larger than one batch is never released:
/// giving its pages back at the end of every slice and faulting them in again on the next
/// pass cost 6% of a small job's time (64k × 8, k = 32).
package final class TileReader {
    /// Bytes of rows read between two releases.
    static let releaseBatchBytes = 8 << 20

    /// Rows read between two releases: 8 MiB of float32 rows, and at least one tile.
    static func releaseRowCount(dimension: Int, tileRows: Int) -> Int {
        max(tileRows, releaseBatchBytes / max(1, dimension * 4))
    }

    private let source: (any EmbeddingSource)?
    private let tileRows: Int
    /// `tileRows × d` floats for rows the source must convert (float16, uint8, chunked HDF5…).
    private let convertedRows: UnsafeMutablePointer<Float>
    private let releaseRowCount: Int
    private let releasesPages: Bool
    /// Rows read since the last release: `unreleasedStart..<readEnd`.
    private var unreleasedStart: Int?
    private var readEnd = 0

    init(source: (any EmbeddingSource)?, tileRows: Int) {
        self.source = source
        self.tileRows = tileRows
        let dimension = source?.dimension ?? 0
        convertedRows = ScratchStorage.allocateZeroed(tileRows * dimension, as: Float.self)
        releaseRowCount = Self.releaseRowCount(dimension: dimension, tileRows: tileRows)
        releasesPages = (source?.description.byteCount ?? 0) > Self.releaseBatchBytes
    }

    deinit { convertedRows.deallocate() }

    /// Lends rows `rows` (at most one tile, read in increasing order within a slice).
    /// - Parameters:
    ///   - rows: At most `tileRows` rows, after the rows of the previous call in the slice.
    ///   - body: Receives the tile, valid only during the call.
    /// - Returns: What `body` returns.
    /// - Throws: ``DatasetError`` from the source; whatever `body` throws.
    package func withTile<R>(_ rows: Range<Int>, _ body: (RowTile) throws -> R) throws -> R {
        guard let source else { preconditionFailure("this pass reads no source") }
        assert(rows.count <= tileRows, "a tile of \(rows.count) rows exceeds the reader's \(tileRows)")
        let result = try source.withRows(rows, scratch: convertedRows, body)
        guard releasesPages else { return result }
        if unreleasedStart == nil { unreleasedStart = rows.lowerBound }
        readEnd = rows.upperBound
        if let start = unreleasedStart, readEnd - start >= releaseRowCount {
            source.releaseRows(start..<readEnd)
            unreleasedStart = nil
        }
        return result
    }

    /// Releases what was read since the last release (the engine calls it after each slice).
    func releaseRemaining() {
        guard let source, let start = unreleasedStart else { return }
        source.releaseRows(start..<readEnd)
        unreleasedStart = nil
    }
}

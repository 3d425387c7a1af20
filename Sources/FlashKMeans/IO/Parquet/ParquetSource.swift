/// The rows of one list-of-floats column of a Parquet file, decoded on the calling thread
/// into its scratch, tile by tile.
///
/// Parquet pages are compressed and encoded, so no row can be lent from the mapping: each
/// tile is decoded by a ``ParquetColumnDecoder``, a reading position that remembers where
/// the previous tile ended. Decoders not in use wait in a pool, and a read takes the one
/// that stands closest before its first row in the same row group, so the consecutive tiles
/// of a pass continue where the last one stopped, and each page is decompressed once per pass.
///
/// Memory: one decoder per thread reading at once (see ``ParquetColumnDecoder`` for what
/// each holds: about two pages and a dictionary), never a row group or the file.
final class ParquetSource: EmbeddingSource, @unchecked Sendable {
    let description: EmbeddingDescription
    private let file: MappedFile
    private let layout: ParquetLayout
    /// Decoders not in use, least recently returned first; guarded by `idleLock`. A pthread
    /// mutex (``Lock``) rather than `Synchronization.Mutex`, whose futex ThreadSanitizer cannot
    /// see: it reported every hand-over of a decoder between threads as a race.
    private var idleDecoders: [ParquetColumnDecoder] = []
    private let idleLock = Lock()

    init(file: MappedFile, layout: ParquetLayout, description: EmbeddingDescription) {
        self.file = file
        self.layout = layout
        self.description = description
    }

    func withRows<R>(
        _ rows: Range<Int>, scratch: UnsafeMutablePointer<Float>, _ body: (RowTile) throws -> R
    ) throws -> R {
        precondition(rows.lowerBound >= 0 && rows.upperBound <= description.rowCount)
        let dimension = description.dimension
        if !rows.isEmpty {
            let decoder = takeDecoder(for: rows.lowerBound)
            defer { returnDecoder(decoder) }
            do {
                try file.withBytes { bytes in
                    var row = rows.lowerBound
                    var group = groupIndex(containing: row)
                    while row < rows.upperBound {
                        let info = layout.groups[group]
                        let end = min(rows.upperBound, info.firstRow + info.rowCount)
                        try decoder.read(
                            (row - info.firstRow)..<(end - info.firstRow), ofGroup: group,
                            into: scratch + (row - rows.lowerBound) * dimension, file: bytes)
                        row = end
                        group += 1
                    }
                }
            } catch let failure as ParquetFailure {
                decoder.invalidate()
                // Zeros read from a vanished page can make anything fail; the cause comes first.
                try file.checkUnchanged()
                throw DatasetError(path: description.path, .parquet(failure.message))
            }
            try file.checkUnchanged()
        }
        return try body(RowTile(
            base: UnsafePointer(scratch), rowStride: dimension, rowCount: rows.count, dimension: dimension,
            firstRow: rows.lowerBound, storage: .scratch))
    }

    /// The group holding file row `row`.
    /// - Complexity: O(log row groups).
    private func groupIndex(containing row: Int) -> Int {
        var low = 0
        var high = layout.groups.count - 1
        while low < high {
            let middle = (low + high) / 2
            let group = layout.groups[middle]
            if group.firstRow + group.rowCount > row { high = middle } else { low = middle + 1 }
        }
        return low
    }

    /// The idle decoder standing closest before `row` in its row group, else the least
    /// recently used one, else a new one.
    private func takeDecoder(for row: Int) -> ParquetColumnDecoder {
        let group = groupIndex(containing: row)
        let groupStart = layout.groups[group].firstRow
        let taken = idleLock.withLock { () -> ParquetColumnDecoder? in
            var best: Int?
            for (index, decoder) in idleDecoders.enumerated() {
                guard let next = decoder.nextFileRow, decoder.group == group, next >= groupStart, next <= row else { continue }
                if best == nil || next > idleDecoders[best!].nextFileRow! { best = index }
            }
            if let best { return idleDecoders.remove(at: best) }
            return idleDecoders.isEmpty ? nil : idleDecoders.removeFirst()
        }
        return taken ?? ParquetColumnDecoder(layout: layout)
    }

    private func returnDecoder(_ decoder: ParquetColumnDecoder) {
        idleLock.withLock { idleDecoders.append(decoder) }
    }
}

/// Several embedding files read as one matrix, without copying them together: the first
/// shard's rows come first, then the second's, and so on, so that row numbers (and so
/// labels and ids) count through the whole set.
///
/// A tile that lies inside one shard is that shard's own tile, renumbered: zero-copy when
/// the shard is. Only a tile that straddles a boundary between shards is copied, piece by
/// piece, into the caller's scratch; with tiles of a few hundred rows and shards of many
/// thousands, that is a small fraction of the rows.
///
/// Every shard must have the same format, element type and dimension: one description
/// covers the set, and passes that depend on the element type (``DataScale`` skips
/// measuring float16 and uint8 data) must be right for every row.
public final class ShardedSource: EmbeddingSource {
    /// The set: the name it was opened by, the shards' format and type, the rows and bytes
    /// of all of them, and ``EmbeddingDescription/shards`` listing each.
    public let description: EmbeddingDescription
    /// The shards, in reading order.
    private let shards: [any EmbeddingSource]
    /// `rowOffsets[s]` is the set's index of shard `s`'s first row; the last entry is n.
    private let rowOffsets: [Int]

    /// Joins sources already open into one, in the order given.
    ///
    /// - Parameters:
    ///   - name: How the set is named in reports and errors: the pattern, directory or list
    ///     it came from.
    ///   - shards: At least one source; all of the same format, element type and dimension.
    /// - Throws: ``DatasetError`` naming the first shard that differs from the first, and
    ///   how.
    /// - Complexity: O(number of shards).
    public init(name: String, shards: [any EmbeddingSource]) throws(DatasetError) {
        precondition(!shards.isEmpty, "a set of shards needs at least one")
        let first = shards[0].description
        var offsets = [0]
        var byteCount = 0
        var described: [EmbeddingDescription.Shard] = []
        offsets.reserveCapacity(shards.count + 1)
        described.reserveCapacity(shards.count)
        for shard in shards {
            if let mismatch = Self.mismatch(of: shard.description, against: first) { throw mismatch }
            described.append(.init(path: shard.path, firstRow: offsets.last!, rowCount: shard.rowCount))
            offsets.append(offsets.last! + shard.rowCount)
            byteCount += shard.description.byteCount
        }
        self.shards = shards
        rowOffsets = offsets
        let allZeroCopy = shards.allSatisfy { $0.description.layout == .zeroCopy }
        description = EmbeddingDescription(
            path: name, format: first.format, rowCount: offsets.last!, dimension: first.dimension, dataType: first.dataType,
            layout: allZeroCopy ? .zeroCopy : .converted, byteCount: byteCount, shards: described)
    }

    /// Opens every file with ``openEmbeddings(at:options:)`` and joins them, checking each
    /// against the first as it is opened, so that a bad shard is reported before the rest
    /// of a large set is opened.
    ///
    /// - Parameters:
    ///   - paths: At least one file, in reading order.
    ///   - name: How the set is named: the input as the user gave it.
    ///   - options: How to open each file (format, raw row length, HDF5 dataset).
    /// - Returns: The set.
    /// - Throws: The error of the first shard that cannot be opened (it names the file), or a
    ///   ``DatasetError`` naming the first shard that differs from the first.
    static func open(_ paths: [String], as name: String, options: EmbeddingOpenOptions) throws -> ShardedSource {
        var shards: [any EmbeddingSource] = []
        shards.reserveCapacity(paths.count)
        for path in paths {
            let shard = try openEmbeddingFile(at: path, options: options)
            if let first = shards.first, let mismatch = mismatch(of: shard.description, against: first.description) {
                throw mismatch
            }
            shards.append(shard)
        }
        return try ShardedSource(name: name, shards: shards)
    }

    /// How `shard` differs from the first shard, as the error to report, or `nil`.
    private static func mismatch(of shard: EmbeddingDescription, against first: EmbeddingDescription) -> DatasetError? {
        if shard.format != first.format {
            return DatasetError(path: shard.path, .shardFormat(found: shard.format, expected: first.format, firstShard: first.path))
        }
        if shard.dataType != first.dataType {
            return DatasetError(
                path: shard.path, .shardDataType(found: shard.dataType, expected: first.dataType, firstShard: first.path))
        }
        if shard.dimension != first.dimension {
            return DatasetError(
                path: shard.path, .shardDimension(found: shard.dimension, expected: first.dimension, firstShard: first.path))
        }
        return nil
    }

    /// The number of shards.
    public var shardCount: Int { shards.count }

    /// The shard holding row `row` of the set (`0..<rowCount`); shards without rows hold none.
    /// - Complexity: O(log number of shards).
    private func shardIndex(containing row: Int) -> Int {
        // The first shard whose end lies beyond the row.
        var low = 0
        var high = shards.count - 1
        while low < high {
            let middle = (low + high) / 2
            if rowOffsets[middle + 1] > row { high = middle } else { low = middle + 1 }
        }
        return low
    }

    /// Lends rows `rows` of the set: the shard's own tile when they lie in one shard,
    /// otherwise a copy in `scratch` (stride d).
    ///
    /// - Parameters:
    ///   - rows: A range within `0..<rowCount`.
    ///   - scratch: Room for `rows.count × dimension` floats.
    ///   - body: Receives the tile, whose ``RowTile/firstRow`` is the set's row number.
    /// - Returns: What `body` returns.
    /// - Throws: ``DatasetError`` from a shard (naming that shard, and its own row number);
    ///   whatever `body` throws.
    public func withRows<R>(
        _ rows: Range<Int>, scratch: UnsafeMutablePointer<Float>, _ body: (RowTile) throws -> R
    ) throws -> R {
        precondition(rows.lowerBound >= 0 && rows.upperBound <= description.rowCount)
        let dimension = description.dimension
        guard !rows.isEmpty else {
            return try body(RowTile(
                base: UnsafePointer(scratch), rowStride: dimension, rowCount: 0, dimension: dimension, firstRow: rows.lowerBound,
                storage: .scratch))
        }
        var shard = shardIndex(containing: rows.lowerBound)
        if rows.upperBound <= rowOffsets[shard + 1] {
            let offset = rowOffsets[shard]
            return try shards[shard].withRows((rows.lowerBound - offset)..<(rows.upperBound - offset), scratch: scratch) { tile in
                try body(RowTile(
                    base: tile.base, rowStride: tile.rowStride, rowCount: tile.rowCount, dimension: dimension,
                    firstRow: rows.lowerBound, storage: tile.storage))
            }
        }
        // Across a boundary: each shard's part goes to its place in scratch (converting
        // shards write there directly).
        var row = rows.lowerBound
        while row < rows.upperBound {
            let end = min(rows.upperBound, rowOffsets[shard + 1])
            let offset = rowOffsets[shard]
            if end > row {
                try shards[shard].copyRows((row - offset)..<(end - offset), into: scratch + (row - rows.lowerBound) * dimension)
            }
            row = end
            shard += 1
        }
        return try body(RowTile(
            base: UnsafePointer(scratch), rowStride: dimension, rowCount: rows.count, dimension: dimension, firstRow: rows.lowerBound,
            storage: .scratch))
    }

    /// Passes the release on to each shard the rows lie in, in its own row numbers.
    /// - Parameter rows: Rows already read, within `0..<rowCount`.
    public func releaseRows(_ rows: Range<Int>) {
        guard !rows.isEmpty else { return }
        var shard = shardIndex(containing: rows.lowerBound)
        var row = rows.lowerBound
        while row < rows.upperBound {
            let end = min(rows.upperBound, rowOffsets[shard + 1])
            let offset = rowOffsets[shard]
            if end > row { shards[shard].releaseRows((row - offset)..<(end - offset)) }
            row = end
            shard += 1
        }
    }
}

/// A borrowed block of consecutive float32 rows.
///
/// Row `r` of the tile (0-based within the tile) starts at `base + r * rowStride`.
/// The stride is at least `dimension`; it is larger for zero-copy fvecs, whose rows
/// carry a 4-byte header. Valid only inside the closure that lends it.
public struct RowTile {
    /// Where the rows live.
    public enum Storage: Sendable {
        /// In the source's own memory (a mapped file or an array).
        case borrowed
        /// Converted into the scratch the caller passed to ``EmbeddingSource/withRows(_:scratch:_:)``,
        /// from its start, with a stride of `dimension`.
        case scratch
    }

    /// Row 0's first value.
    public let base: UnsafePointer<Float>
    /// Floats between the starts of consecutive rows.
    public let rowStride: Int
    /// Rows in the tile, m.
    public let rowCount: Int
    /// d, the values per row.
    public let dimension: Int
    /// Index of the tile's first row in the source (the whole file, or the sample a
    /// sampled source stands for), so that errors can name rows as the user numbers them.
    public let firstRow: Int
    /// Whether the rows are the source's own memory or a converted copy.
    public let storage: Storage

    /// Describes rows already in memory.
    ///
    /// - Parameters:
    ///   - base: Row 0's first value; the memory must stay valid while the tile is used.
    ///   - rowStride: Floats between row starts; at least `dimension`.
    ///   - rowCount: Rows in the tile.
    ///   - dimension: d.
    ///   - firstRow: The source index of row 0.
    ///   - storage: Where the rows live. The default is ``Storage/borrowed``; rows in
    ///     ``Storage/scratch`` must be contiguous (`rowStride == dimension`).
    public init(
        base: UnsafePointer<Float>, rowStride: Int, rowCount: Int, dimension: Int, firstRow: Int, storage: Storage = .borrowed
    ) {
        precondition(rowStride >= dimension, "row stride \(rowStride) is shorter than a row of \(dimension)")
        precondition(storage == .borrowed || rowStride == dimension, "rows converted into scratch are contiguous")
        self.base = base
        self.rowStride = rowStride
        self.rowCount = rowCount
        self.dimension = dimension
        self.firstRow = firstRow
        self.storage = storage
    }

    /// Rows `range` of this tile, as a tile of their own.
    public func rows(_ range: Range<Int>) -> RowTile {
        precondition(range.lowerBound >= 0 && range.upperBound <= rowCount, "rows \(range) outside a tile of \(rowCount)")
        return RowTile(
            base: base + range.lowerBound * rowStride, rowStride: rowStride, rowCount: range.count, dimension: dimension,
            firstRow: firstRow + range.lowerBound, storage: storage)
    }

    /// Row `index`'s `d` values.
    /// - Parameter index: A row of the tile, `0..<rowCount` (checked in debug builds).
    @inline(__always)
    public func row(_ index: Int) -> UnsafePointer<Float> {
        assert(index >= 0 && index < rowCount, "row \(index) outside a tile of \(rowCount)")
        return base + index * rowStride
    }
}

/// How rows reach the kernel.
public enum RowLayout: String, Sendable, Codable {
    /// Rows are pointers into the mapped file (or the caller's array): little-endian
    /// float32 at a 4-byte-aligned offset.
    case zeroCopy = "zero-copy"
    /// Each tile is converted into per-thread scratch (float16, float64, uint8, int8,
    /// unaligned data, or compressed/chunked HDF5), or normalized or sampled on the way.
    case converted
}

/// What a source holds, as `inspect` reports it.
public struct EmbeddingDescription: Sendable, Codable, Equatable {
    // Properties are `var` so that wrappers (such as on-the-fly normalization) can amend them.
    /// The file's path as given, or the name of an in-memory source; errors name it.
    public var path: String
    /// The layout the reader parsed.
    public var format: EmbeddingFormat
    /// n, the rows the source lends (for a training sample, the sample's size).
    public var rowCount: Int
    /// d, the values per row.
    public var dimension: Int
    /// The stored element type, in numpy's notation (`float32`, `float16`, `float64`, `uint8`, `int8`).
    public var dataType: String
    /// Whether tiles are lent from the mapping or converted.
    public var layout: RowLayout
    /// Size of the file on disk in bytes, header included (for an in-memory source, the
    /// bytes of its values; for a set of shards, the sum of theirs).
    public var byteCount: Int
    /// For rows read from several files as one matrix (``ShardedSource``), the files in
    /// reading order and the rows each holds, so that labels and ids, which number the rows
    /// of the whole set, can be traced back to a file; `nil` for a single file.
    public var shards: [Shard]?

    /// One file of a set of shards.
    public struct Shard: Sendable, Codable, Equatable {
        /// The file, as the pattern, directory or list named it.
        public var path: String
        /// The index, in the whole set, of the file's first row.
        public var firstRow: Int
        /// The rows the file holds.
        public var rowCount: Int

        /// Describes one shard.
        /// - Parameters:
        ///   - path: The file.
        ///   - firstRow: Its first row's index in the set.
        ///   - rowCount: Its rows.
        public init(path: String, firstRow: Int, rowCount: Int) {
            self.path = path
            self.firstRow = firstRow
            self.rowCount = rowCount
        }
    }

    /// Describes a source; readers fill it in, and wrappers amend a copy of it.
    ///
    /// - Parameters:
    ///   - path: The file, or a name for rows in memory.
    ///   - format: The on-disk layout.
    ///   - rowCount: n.
    ///   - dimension: d.
    ///   - dataType: The stored element type, in numpy's notation.
    ///   - layout: How rows reach the kernel.
    ///   - byteCount: The file's size in bytes.
    ///   - shards: The files of a set of shards. The default, `nil`, describes a single file.
    public init(
        path: String, format: EmbeddingFormat, rowCount: Int, dimension: Int, dataType: String, layout: RowLayout, byteCount: Int,
        shards: [Shard]? = nil
    ) {
        self.path = path
        self.format = format
        self.rowCount = rowCount
        self.dimension = dimension
        self.dataType = dataType
        self.layout = layout
        self.byteCount = byteCount
        self.shards = shards
    }
}

/// A matrix of embeddings that hands out tiles of float32 rows.
///
/// The kernel only ever sees ``RowTile``s, so it does not know the file format.
/// Implementations are safe to call from several threads at once, each with its
/// own scratch.
public protocol EmbeddingSource: AnyObject, Sendable {
    /// What the source holds: path, format, shape, element type and layout.
    var description: EmbeddingDescription { get }

    /// Lends rows `rows` as one tile.
    ///
    /// - Parameters:
    ///   - rows: A range within `0..<rowCount`.
    ///   - scratch: Room for `rows.count × dimension` floats, used when the rows
    ///     must be converted; zero-copy sources ignore it.
    ///   - body: Receives the tile; the tile's pointer is valid only during the call.
    /// - Returns: What `body` returns.
    /// - Throws: ``DatasetError`` for rows that are inconsistent with the header;
    ///   whatever `body` throws.
    func withRows<R>(
        _ rows: Range<Int>,
        scratch: UnsafeMutablePointer<Float>,
        _ body: (RowTile) throws -> R
    ) throws -> R

    /// Says that rows `rows` will not be read again soon, so a memory-mapped source can
    /// drop their pages from the process's resident set (they stay in the page cache).
    /// Sources that hold nothing per row ignore it.
    /// - Parameter rows: Rows already read, within `0..<rowCount`.
    func releaseRows(_ rows: Range<Int>)
}

extension EmbeddingSource {
    /// Does nothing: the default for sources that hold nothing per row.
    /// - Parameter rows: Ignored.
    public func releaseRows(_ rows: Range<Int>) {}

    /// n, the rows the source lends.
    public var rowCount: Int { description.rowCount }
    /// d, the values per row.
    public var dimension: Int { description.dimension }
    /// The file, or the name of an in-memory source, as errors name it.
    public var path: String { description.path }

    /// Copies rows `rows` into `destination` (row-major, `rows.count × dimension`).
    ///
    /// - Parameters:
    ///   - rows: A range within `0..<rowCount`.
    ///   - destination: Room for `rows.count × dimension` floats (out); converting
    ///     sources write into it directly.
    /// - Throws: ``DatasetError`` for rows that are inconsistent with the header.
    public func copyRows(_ rows: Range<Int>, into destination: UnsafeMutablePointer<Float>) throws {
        try withRows(rows, scratch: destination) { tile in
            if tile.storage == .scratch { return }
            for row in 0..<tile.rowCount {
                (destination + row * tile.dimension).update(from: tile.row(row), count: tile.dimension)
            }
        }
    }

    /// Reads the whole matrix into memory. Meant for small files such as
    /// initial centroids, never for the data being clustered.
    /// - Returns: `n × d` floats, row-major.
    /// - Throws: ``DatasetError`` for rows that are inconsistent with the header.
    public func readAll() throws -> [Float] {
        try [Float](unsafeUninitializedCapacity: rowCount * dimension) { buffer, count in
            if rowCount > 0 { try copyRows(0..<rowCount, into: buffer.baseAddress!) }
            count = rowCount * dimension
        }
    }
}

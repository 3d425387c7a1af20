/// A borrowed block of consecutive float32 rows.
///
/// Row `r` of the tile (0-based within the tile) starts at `base + r * rowStride`.
/// The stride is at least `dimension`; it is larger for zero-copy fvecs, whose rows
/// carry a 4-byte header. Valid only inside the closure that lends it.
public struct RowTile {
    public let base: UnsafePointer<Float>
    /// Floats between the starts of consecutive rows.
    public let rowStride: Int
    public let rowCount: Int
    public let dimension: Int
    /// Index of the tile's first row in the whole file.
    public let firstRow: Int

    public init(base: UnsafePointer<Float>, rowStride: Int, rowCount: Int, dimension: Int, firstRow: Int) {
        precondition(rowStride >= dimension, "row stride \(rowStride) is shorter than a row of \(dimension)")
        self.base = base
        self.rowStride = rowStride
        self.rowCount = rowCount
        self.dimension = dimension
        self.firstRow = firstRow
    }

    @inline(__always)
    public func row(_ index: Int) -> UnsafePointer<Float> {
        assert(index >= 0 && index < rowCount, "row \(index) outside a tile of \(rowCount)")
        return base + index * rowStride
    }
}

/// How rows reach the kernel.
public enum RowLayout: String, Sendable, Codable {
    /// Rows are pointers into the mapped file.
    case zeroCopy = "zero-copy"
    /// Each tile is converted into per-thread scratch (float16, float64, uint8,
    /// unaligned data, or compressed/chunked HDF5).
    case converted
}

/// What a source holds, as `inspect` reports it.
public struct EmbeddingDescription: Sendable, Codable, Equatable {
    // Properties are `var` so that wrappers (such as on-the-fly normalization) can amend them.
    public var path: String
    public var format: EmbeddingFormat
    public var rowCount: Int
    public var dimension: Int
    /// The stored element type, in numpy's notation (`float32`, `float16`, `float64`, `uint8`).
    public var dataType: String
    public var layout: RowLayout
    /// Size of the file on disk.
    public var byteCount: Int

    public init(
        path: String, format: EmbeddingFormat, rowCount: Int, dimension: Int, dataType: String, layout: RowLayout, byteCount: Int
    ) {
        self.path = path
        self.format = format
        self.rowCount = rowCount
        self.dimension = dimension
        self.dataType = dataType
        self.layout = layout
        self.byteCount = byteCount
    }
}

/// A matrix of embeddings that hands out tiles of float32 rows.
///
/// The kernel only ever sees ``RowTile``s, so it does not know the file format.
/// Implementations are safe to call from several threads at once, each with its
/// own scratch.
public protocol EmbeddingSource: AnyObject, Sendable {
    var description: EmbeddingDescription { get }

    /// Lends rows `rows` as one tile.
    ///
    /// - Parameters:
    ///   - rows: A range within `0..<rowCount`.
    ///   - scratch: Room for `rows.count × dimension` floats, used when the rows
    ///     must be converted; zero-copy sources ignore it.
    ///   - body: Receives the tile; the tile's pointer is valid only during the call.
    /// - Throws: ``DatasetError`` for rows that are inconsistent with the header.
    func withRows<R>(
        _ rows: Range<Int>,
        scratch: UnsafeMutablePointer<Float>,
        _ body: (RowTile) throws -> R
    ) throws -> R

    /// Says that rows `rows` will not be read again soon, so a memory-mapped source can
    /// drop their pages from the process's resident set (they stay in the page cache).
    /// Sources that hold nothing per row ignore it.
    func releaseRows(_ rows: Range<Int>)
}

extension EmbeddingSource {
    public func releaseRows(_ rows: Range<Int>) {}

    public var rowCount: Int { description.rowCount }
    public var dimension: Int { description.dimension }
    public var path: String { description.path }

    /// Copies rows `rows` into `destination` (row-major, `rows.count × dimension`).
    public func copyRows(_ rows: Range<Int>, into destination: UnsafeMutablePointer<Float>) throws {
        try withRows(rows, scratch: destination) { tile in
            if tile.base == UnsafePointer(destination) { return }
            for row in 0..<tile.rowCount {
                (destination + row * tile.dimension).update(from: tile.row(row), count: tile.dimension)
            }
        }
    }

    /// Reads the whole matrix into memory. Meant for small files such as
    /// initial centroids, never for the data being clustered.
    public func readAll() throws -> [Float] {
        try [Float](unsafeUninitializedCapacity: rowCount * dimension) { buffer, count in
            if rowCount > 0 { try copyRows(0..<rowCount, into: buffer.baseAddress!) }
            count = rowCount * dimension
        }
    }
}

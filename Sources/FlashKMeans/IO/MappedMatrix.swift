import CKMeansKernels

/// How one stored value is encoded.
enum StoredElement: Sendable {
    case float32, float16, float64, uint8, int8

    var byteWidth: Int {
        switch self {
        case .float32: 4
        case .float16: 2
        case .float64: 8
        case .uint8, .int8: 1
        }
    }

    var name: String {
        switch self {
        case .float32: "float32"
        case .float16: "float16"
        case .float64: "float64"
        case .uint8: "uint8"
        case .int8: "int8"
        }
    }
}

/// A row-major matrix inside a memory-mapped file: every mapped format ends up here.
///
/// Little-endian float32 at a 4-byte-aligned offset is lent zero-copy, with the
/// file's row stride (fvecs rows carry a 4-byte header, so their stride is `d + 1`).
/// Everything else is converted one tile at a time into the caller's scratch.
final class MappedMatrix: EmbeddingSource, @unchecked Sendable {
    let description: EmbeddingDescription
    private let file: MappedFile
    /// Byte offset of row 0's first value.
    private let dataOffset: Int
    private let rowStrideBytes: Int
    private let element: StoredElement
    /// For fvecs/bvecs: the int32 each row must start with (the dimension).
    private let rowHeader: Int32?

    /// - Parameter describedByteCount: The size ``EmbeddingDescription/byteCount`` reports,
    ///   when the mapped file is a copy of the user's (a parsed CSV); `nil` for the mapped file's.
    init(
        file: MappedFile, format: EmbeddingFormat, rowCount: Int, dimension: Int,
        element: StoredElement, dataOffset: Int, rowStrideBytes: Int, rowHeader: Int32? = nil,
        describedByteCount: Int? = nil
    ) {
        precondition(dataOffset + rowCount * rowStrideBytes <= file.byteCount + (rowStrideBytes - dimension * element.byteWidth))
        self.file = file
        self.dataOffset = dataOffset
        self.rowStrideBytes = rowStrideBytes
        self.element = element
        self.rowHeader = rowHeader
        let aligned = dataOffset % 4 == 0 && rowStrideBytes % 4 == 0
        description = EmbeddingDescription(
            path: file.path, format: format, rowCount: rowCount, dimension: dimension,
            dataType: element.name,
            layout: element == .float32 && aligned ? .zeroCopy : .converted,
            byteCount: describedByteCount ?? file.byteCount)
    }

    func withRows<R>(
        _ rows: Range<Int>, scratch: UnsafeMutablePointer<Float>, _ body: (RowTile) throws -> R
    ) throws -> R {
        precondition(rows.lowerBound >= 0 && rows.upperBound <= description.rowCount)
        file.populatePages(in: byteRange(of: rows))
        let result: R
        do {
            result = try read(rows, scratch: scratch, body)
        } catch {
            // Zeros read from a vanished page can make anything fail; the cause comes first.
            try file.checkUnchanged()
            throw error
        }
        try file.checkUnchanged()
        return result
    }

    private func read<R>(
        _ rows: Range<Int>, scratch: UnsafeMutablePointer<Float>, _ body: (RowTile) throws -> R
    ) throws -> R {
        let dimension = description.dimension
        return try file.withBytes { bytes in
            let first = bytes.baseAddress! + dataOffset + rows.lowerBound * rowStrideBytes
            if let rowHeader { try checkRowHeaders(first, rows: rows, expected: rowHeader) }
            if description.layout == .zeroCopy {
                let tile = RowTile(
                    base: first.assumingMemoryBound(to: Float.self), rowStride: rowStrideBytes / 4,
                    rowCount: rows.count, dimension: dimension, firstRow: rows.lowerBound)
                return try body(tile)
            }
            for row in 0..<rows.count {
                convertRow(first + row * rowStrideBytes, into: scratch + row * dimension, count: dimension)
            }
            let tile = RowTile(
                base: UnsafePointer(scratch), rowStride: dimension, rowCount: rows.count,
                dimension: dimension, firstRow: rows.lowerBound, storage: .scratch)
            return try body(tile)
        }
    }

    func releaseRows(_ rows: Range<Int>) {
        file.releasePages(in: byteRange(of: rows))
    }

    private func byteRange(of rows: Range<Int>) -> Range<Int> {
        (dataOffset + rows.lowerBound * rowStrideBytes)..<(dataOffset + rows.upperBound * rowStrideBytes)
    }

    private func checkRowHeaders(_ firstRowData: UnsafeRawPointer, rows: Range<Int>, expected: Int32) throws {
        for row in 0..<rows.count {
            let found = (firstRowData + row * rowStrideBytes - 4).loadUnaligned(as: Int32.self)
            if found != expected {
                throw DatasetError(
                    path: description.path,
                    .inconsistentRow(row: rows.lowerBound + row, found: Int(found), expected: Int(expected)))
            }
        }
    }

    private func convertRow(_ source: UnsafeRawPointer, into destination: UnsafeMutablePointer<Float>, count: Int) {
        switch element {
        case .float32:
            // Unaligned float32 (rare: an odd HDF5 offset) is copied bytewise.
            UnsafeMutableRawPointer(destination).copyMemory(from: source, byteCount: count * 4)
        case .float16:
            fk_half_to_float(source, destination, count)
        case .float64:
            for i in 0..<count {
                destination[i] = Float(source.loadUnaligned(fromByteOffset: 8 * i, as: Double.self))
            }
        case .uint8:
            let values = source.assumingMemoryBound(to: UInt8.self)
            for i in 0..<count { destination[i] = Float(values[i]) }
        case .int8:
            let values = source.assumingMemoryBound(to: Int8.self)
            for i in 0..<count { destination[i] = Float(values[i]) }
        }
    }
}

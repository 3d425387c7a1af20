/// Reads big-ann-benchmarks' binary layouts: a uint32 row count and a uint32 dimension,
/// then the rows as float32 (`.fbin`, lent zero-copy), or as uint8 (`.u8bin`), int8
/// (`.i8bin`) or float16 (`.f16bin`), converted one tile at a time.
enum FbinReader {
    /// The stored element of each of the layouts.
    static func element(of format: EmbeddingFormat) -> StoredElement {
        switch format {
        case .u8bin: .uint8
        case .i8bin: .int8
        case .f16bin: .float16
        default: .float32
        }
    }

    static func open(_ path: String, format: EmbeddingFormat) throws -> MappedMatrix {
        let element = element(of: format)
        let file = try MappedFile(path: path)
        let (rows, dimension) = try file.withBytes { bytes throws(DatasetError) -> (UInt32, UInt32) in
            guard bytes.count >= 8 else { throw DatasetError(path: path, .badHeader("shorter than the 8-byte header")) }
            return (bytes.loadUnaligned(as: UInt32.self).littleEndian, bytes.loadUnaligned(fromByteOffset: 4, as: UInt32.self).littleEndian)
        }
        guard rows > 0, dimension > 0 else {
            throw DatasetError(path: path, .badHeader("header declares \(rows) rows of dimension \(dimension)"))
        }
        // Two uint32 counts times 4 bytes reach 2⁶⁶: the product is checked before it is compared.
        guard let rowBytes = checkedProduct(Int(dimension), element.byteWidth), let dataBytes = checkedProduct(Int(rows), rowBytes),
              case let (expected, false) = dataBytes.addingReportingOverflow(8)
        else {
            throw DatasetError(
                path: path, .declaredSizeOverflow(rows: UInt64(rows), dimension: UInt64(dimension), elementBytes: element.byteWidth))
        }
        guard expected == file.byteCount else {
            throw DatasetError(path: path, .sizeMismatch(expectedBytes: expected, actualBytes: file.byteCount))
        }
        return MappedMatrix(
            file: file, format: format, rowCount: Int(rows), dimension: Int(dimension), element: element,
            dataOffset: 8, rowStrideBytes: rowBytes)
    }
}

/// Reads headerless little-endian float32 rows; the dimension must be given.
enum RawReader {
    static func open(_ path: String, dimension: Int?) throws -> MappedMatrix {
        guard let dimension else { throw DatasetError(path: path, .missingDimension) }
        guard dimension > 0 else { throw DatasetError(path: path, .invalidDimension(dimension)) }
        let file = try MappedFile(path: path)
        guard let rowBytes = checkedProduct(dimension, 4), rowBytes <= file.byteCount else {
            throw DatasetError(path: path, .rowLongerThanFile(dimension: dimension, fileBytes: file.byteCount))
        }
        guard file.byteCount % rowBytes == 0 else {
            let expected = (file.byteCount / rowBytes + 1) * rowBytes
            throw DatasetError(path: path, .sizeMismatch(expectedBytes: expected, actualBytes: file.byteCount))
        }
        return MappedMatrix(
            file: file, format: .raw, rowCount: file.byteCount / rowBytes, dimension: dimension,
            element: .float32, dataOffset: 0, rowStrideBytes: rowBytes)
    }
}

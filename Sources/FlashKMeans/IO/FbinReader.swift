/// Reads big-ann-benchmarks `.fbin`: a uint32 row count and a uint32 dimension,
/// then the rows as float32.
enum FbinReader {
    static func open(_ path: String) throws -> MappedMatrix {
        let file = try MappedFile(path: path)
        let (rows, dimension) = try file.withBytes { bytes throws(DatasetError) -> (Int, Int) in
            guard bytes.count >= 8 else { throw DatasetError(path: path, .badHeader("shorter than the 8-byte header")) }
            return (Int(bytes.loadUnaligned(as: UInt32.self).littleEndian),
                    Int(bytes.loadUnaligned(fromByteOffset: 4, as: UInt32.self).littleEndian))
        }
        guard rows > 0, dimension > 0 else {
            throw DatasetError(path: path, .badHeader("header declares \(rows) rows of dimension \(dimension)"))
        }
        let expected = 8 + rows * dimension * 4
        guard expected == file.byteCount else {
            throw DatasetError(path: path, .sizeMismatch(expectedBytes: expected, actualBytes: file.byteCount))
        }
        return MappedMatrix(
            file: file, format: .fbin, rowCount: rows, dimension: dimension, element: .float32,
            dataOffset: 8, rowStrideBytes: dimension * 4)
    }
}

/// Reads headerless little-endian float32 rows; the dimension must be given.
enum RawReader {
    static func open(_ path: String, dimension: Int?) throws -> MappedMatrix {
        guard let dimension else { throw DatasetError(path: path, .missingDimension) }
        guard dimension > 0 else { throw DatasetError(path: path, .invalidDimension(dimension)) }
        let file = try MappedFile(path: path)
        let rowBytes = dimension * 4
        guard file.byteCount % rowBytes == 0 else {
            let expected = (file.byteCount / rowBytes + 1) * rowBytes
            throw DatasetError(path: path, .sizeMismatch(expectedBytes: expected, actualBytes: file.byteCount))
        }
        return MappedMatrix(
            file: file, format: .raw, rowCount: file.byteCount / rowBytes, dimension: dimension,
            element: .float32, dataOffset: 0, rowStrideBytes: rowBytes)
    }
}

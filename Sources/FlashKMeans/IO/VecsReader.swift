/// Reads TEXMEX `.fvecs` (float32) and `.bvecs` (uint8) files.
///
/// Each row is an int32 dimension followed by the values. fvecs rows are lent
/// zero-copy with a stride of `d + 1` floats, skipping the headers. Opening checks the
/// headers of the first and last rows and of up to 1,024 evenly spaced rows; every
/// other row's header is checked when its tile is read, so a bad row is always named.
enum VecsReader {
    static func open(_ path: String, elementType: StoredElement) throws -> MappedMatrix {
        let file = try MappedFile(path: path)
        let format: EmbeddingFormat = elementType == .uint8 ? .bvecs : .fvecs
        let (rows, dimension) = try file.withBytes { bytes throws(DatasetError) -> (Int, Int) in
            guard bytes.count >= 4 else {
                throw DatasetError(path: path, .badHeader("shorter than one row header"))
            }
            let dimension = Int(bytes.loadUnaligned(as: Int32.self).littleEndian)
            guard dimension > 0 else {
                throw DatasetError(path: path, .badHeader("first row declares dimension \(dimension)"))
            }
            let rowBytes = 4 + dimension * elementType.byteWidth
            guard bytes.count % rowBytes == 0 else {
                let expected = (bytes.count / rowBytes + 1) * rowBytes
                throw DatasetError(path: path, .sizeMismatch(expectedBytes: expected, actualBytes: bytes.count))
            }
            let rows = bytes.count / rowBytes
            let step = max(1, rows / 1024)
            for row in Array(stride(from: 0, to: rows, by: step)) + [rows - 1] {
                let found = Int(bytes.loadUnaligned(fromByteOffset: row * rowBytes, as: Int32.self).littleEndian)
                if found != dimension {
                    throw DatasetError(path: path, .inconsistentRow(row: row, found: found, expected: dimension))
                }
            }
            return (rows, dimension)
        }
        let rowBytes = 4 + dimension * elementType.byteWidth
        return MappedMatrix(
            file: file, format: format, rowCount: rows, dimension: dimension, element: elementType,
            dataOffset: 4, rowStrideBytes: rowBytes, rowHeader: Int32(dimension))
    }
}

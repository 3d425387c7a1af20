/// Reads NumPy `.npy` files (format versions 1.0, 2.0 and 3.0).
///
/// Accepted: 2-D, C order, little-endian `<f4` (zero-copy), `<f2` and `<f8`
/// (converted per tile). Fortran order, big-endian and other dtypes are refused
/// with a message saying what was found.
enum NpyReader {
    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // "\x93NUMPY"

    static func open(_ path: String) throws -> MappedMatrix {
        let file = try MappedFile(path: path)
        let header = try file.withBytes { bytes throws(DatasetError) in try parseHeader(bytes, path: path) }
        let element: StoredElement
        switch header.descr {
        case "<f4": element = .float32
        case "<f2": element = .float16
        case "<f8": element = .float64
        case ">f4", ">f2", ">f8":
            throw DatasetError(path: path, .unsupportedDataType("big-endian '\(header.descr)'; convert with arr.astype('<f4')"))
        default:
            throw DatasetError(path: path, .unsupportedDataType("dtype '\(header.descr)'; expected float32, float16 or float64"))
        }
        if header.fortranOrder {
            throw DatasetError(path: path, .unsupportedDataType("Fortran-ordered array; save it with np.ascontiguousarray"))
        }
        guard header.shape.count == 2 else {
            throw DatasetError(path: path, .badHeader("expected a 2-D array, found shape \(header.shape)"))
        }
        let (rows, dimension) = (header.shape[0], header.shape[1])
        guard rows > 0, dimension > 0 else {
            throw DatasetError(path: path, .badHeader("array has no data (shape \(header.shape))"))
        }
        let expected = header.dataOffset + rows * dimension * element.byteWidth
        guard expected == file.byteCount else {
            throw DatasetError(path: path, .sizeMismatch(expectedBytes: expected, actualBytes: file.byteCount))
        }
        return MappedMatrix(
            file: file, format: .npy, rowCount: rows, dimension: dimension, element: element,
            dataOffset: header.dataOffset, rowStrideBytes: dimension * element.byteWidth)
    }

    struct Header {
        var descr: String
        var fortranOrder: Bool
        var shape: [Int]
        var dataOffset: Int
    }

    static func parseHeader(_ bytes: UnsafeRawBufferPointer, path: String) throws(DatasetError) -> Header {
        func bad(_ why: String) -> DatasetError { DatasetError(path: path, .badHeader(why)) }
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else { throw bad("not a .npy file (magic string missing)") }
        let major = bytes[6]
        let headerLength: Int
        let headerStart: Int
        switch major {
        case 1:
            headerLength = Int(bytes.loadUnaligned(fromByteOffset: 8, as: UInt16.self).littleEndian)
            headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw bad("file ends inside the header") }
            headerLength = Int(bytes.loadUnaligned(fromByteOffset: 8, as: UInt32.self).littleEndian)
            headerStart = 12
        default:
            throw bad("unsupported .npy format version \(major)")
        }
        guard headerStart + headerLength <= bytes.count else { throw bad("file ends inside the header") }
        let text = String(decoding: bytes[headerStart..<(headerStart + headerLength)], as: UTF8.self)
        guard let descr = stringValue(for: "descr", in: text) else { throw bad("no 'descr' in \(text.trimmed)") }
        guard let fortran = rawValue(for: "fortran_order", in: text) else { throw bad("no 'fortran_order'") }
        guard let shapeText = rawValue(for: "shape", in: text), shapeText.hasPrefix("(") else { throw bad("no 'shape'") }
        let inside = shapeText.dropFirst().prefix { $0 != ")" }
        var shape: [Int] = []
        for part in inside.split(separator: ",") {
            let trimmed = part.trimmingSpaces
            if trimmed.isEmpty { continue }
            guard let value = Int(trimmed), value >= 0 else { throw bad("unreadable shape \(shapeText)") }
            shape.append(value)
        }
        return Header(descr: descr, fortranOrder: fortran.hasPrefix("True"), shape: shape, dataOffset: headerStart + headerLength)
    }

    /// The text after `'key':`, up to the end of the dict.
    private static func rawValue(for key: String, in text: String) -> Substring? {
        guard let range = text.range(of: "'\(key)':") else { return nil }
        return text[range.upperBound...].drop { $0 == " " }
    }

    private static func stringValue(for key: String, in text: String) -> String? {
        guard let raw = rawValue(for: key, in: text), raw.first == "'" else { return nil }
        return String(raw.dropFirst().prefix { $0 != "'" })
    }
}

extension StringProtocol {
    var trimmingSpaces: String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
    var trimmed: String {
        String(drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }
}

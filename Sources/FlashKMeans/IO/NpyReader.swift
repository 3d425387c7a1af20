/// Reads NumPy `.npy` files (format versions 1.0, 2.0 and 3.0).
///
/// Accepted: 2-D, C order, little-endian `<f4` (zero-copy), `<f2` and `<f8`
/// (converted per tile). Fortran order, big-endian and other dtypes are refused
/// with a message saying what was found. The header is held to what numpy itself
/// accepts: a dictionary literal with exactly the keys `descr`, `fortran_order` and
/// `shape`, each once, so that no file is read differently from the way numpy reads it.
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
            throw DatasetError(path: path, .badHeader("expected a 2-D array, found shape \(pythonTuple(header.shape))"))
        }
        guard header.shape[0] > 0, header.shape[1] > 0 else {
            throw DatasetError(path: path, .badHeader("array has no data (shape \(pythonTuple(header.shape)))"))
        }
        // The shape is the file's word, not yet its bytes: every product is checked.
        guard let rows = Int(exactly: header.shape[0]), let dimension = Int(exactly: header.shape[1]),
              let rowBytes = checkedProduct(dimension, element.byteWidth),
              let dataBytes = checkedProduct(rows, rowBytes),
              case let (expected, false) = header.dataOffset.addingReportingOverflow(dataBytes)
        else {
            throw DatasetError(
                path: path, .declaredSizeOverflow(rows: header.shape[0], dimension: header.shape[1], elementBytes: element.byteWidth))
        }
        guard expected == file.byteCount else {
            throw DatasetError(path: path, .sizeMismatch(expectedBytes: expected, actualBytes: file.byteCount))
        }
        return MappedMatrix(
            file: file, format: .npy, rowCount: rows, dimension: dimension, element: element,
            dataOffset: header.dataOffset, rowStrideBytes: rowBytes)
    }

    struct Header {
        var descr: String
        var fortranOrder: Bool
        var shape: [UInt64]
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
        guard headerLength <= largestHeaderBytes else {
            throw bad("the header is \(headerLength) bytes long, more than the \(largestHeaderBytes) read here (numpy reads 10000 by default)")
        }
        let text = String(decoding: bytes[headerStart..<(headerStart + headerLength)], as: UTF8.self)
        let dictionary = try parseDictionary(text, bad: bad)

        var values: [String: PythonLiteral] = [:]
        for (key, value) in dictionary {
            guard case let .string(name, _) = key else { throw bad("unexpected key \(key.text); \(expectedKeys)") }
            guard values[name] == nil else { throw bad("duplicate key '\(name)'") }
            guard ["descr", "fortran_order", "shape"].contains(name) else { throw bad("unexpected key '\(name)'; \(expectedKeys)") }
            values[name] = value
        }
        for name in ["descr", "fortran_order", "shape"] where values[name] == nil { throw bad("no '\(name)' key") }

        let descr: String
        switch values["descr"]! {
        case let .string(value, _): descr = value
        case let .list(_, text):
            throw DatasetError(path: path, .unsupportedDataType("structured dtype \(excerpt(text)); expected float32, float16 or float64"))
        case let other: throw bad("descr must be a dtype string, found \(excerpt(other.text))")
        }
        guard case let .boolean(fortranOrder, _) = values["fortran_order"]! else {
            throw bad("fortran_order must be True or False, found \(excerpt(values["fortran_order"]!.text))")
        }
        let shapeValue = values["shape"]!
        guard case let .tuple(elements, _) = shapeValue else {
            throw bad("shape must be a tuple of non-negative integers, found \(excerpt(shapeValue.text))")
        }
        var shape: [UInt64] = []
        for element in elements {
            guard case let .integer(negative, digits, _) = element, !negative || digits.allSatisfy({ $0 == "0" }) else {
                throw bad("shape must be a tuple of non-negative integers, found \(excerpt(shapeValue.text))")
            }
            guard let value = UInt64(digits) else {
                throw bad("shape \(excerpt(shapeValue.text)) declares more data than any file can hold")
            }
            shape.append(value)
        }
        return Header(descr: descr, fortranOrder: fortranOrder, shape: shape, dataOffset: headerStart + headerLength)
    }

    /// The longest header parsed. numpy's writer pads to 64 bytes and its reader refuses
    /// more than 10,000 unless told otherwise; a longer one would only be parsed into memory
    /// in proportion to what the file claims.
    static let largestHeaderBytes = 65_536

    private static let expectedKeys = "a .npy header holds exactly 'descr', 'fortran_order' and 'shape'"

    /// The header's dictionary, as key–value pairs in the order written (duplicates kept,
    /// so that the caller can refuse them).
    private static func parseDictionary(
        _ text: String, bad: (String) -> DatasetError
    ) throws(DatasetError) -> [(key: PythonLiteral, value: PythonLiteral)] {
        var parser = PythonLiteralParser(text)
        do throws(PythonLiteralParser.Failure) {
            let value = try parser.parseValue()
            parser.skipSpaces()
            guard parser.atEnd, case let .dictionary(entries, _) = value else { throw PythonLiteralParser.Failure(key: nil, start: 0) }
            return entries
        } catch {
            if let key = error.key {
                throw bad("unreadable \(key) \(excerpt(parser.valueText(from: error.start)))")
            }
            throw bad("unreadable header \(excerpt(text))")
        }
    }

    /// Header text for a message: trimmed, and cut after 120 characters (a version 2 header
    /// may run to gigabytes).
    static func excerpt(_ text: some StringProtocol) -> String {
        let trimmed = text.trimmed
        return trimmed.count <= 120 ? trimmed : String(trimmed.prefix(120)) + "…"
    }

    /// A shape as numpy prints it: `(8,)`, `(4, 2)`.
    static func pythonTuple(_ shape: [UInt64]) -> String {
        shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
    }
}

/// `a × b`, or `nil` when it overflows `Int`.
func checkedProduct(_ a: Int, _ b: Int) -> Int? {
    let (product, overflow) = a.multipliedReportingOverflow(by: b)
    return overflow ? nil : product
}

/// A Python literal of the kinds `ast.literal_eval` reads in a `.npy` header, with the
/// source text it was read from (for messages).
indirect enum PythonLiteral {
    case string(String, text: String)
    case boolean(Bool, text: String)
    case none(text: String)
    /// Digits kept as text, so that no value is too large to parse.
    case integer(negative: Bool, digits: String, text: String)
    case tuple([PythonLiteral], text: String)
    case list([PythonLiteral], text: String)
    case dictionary([(key: PythonLiteral, value: PythonLiteral)], text: String)

    var text: String {
        switch self {
        case let .string(_, text), let .boolean(_, text), let .none(text), let .integer(_, _, text),
             let .tuple(_, text), let .list(_, text), let .dictionary(_, text):
            text
        }
    }
}

/// A recursive-descent reader of the Python literals numpy writes: strings, integers
/// (with Python 2's `L` suffix, which numpy of that era wrote), `True`, `False`, `None`,
/// tuples, lists and dictionaries.
struct PythonLiteralParser {
    /// Where reading stopped: inside the value of dictionary key `key` (when known),
    /// which starts at scalar `start`.
    struct Failure: Error {
        var key: String?
        var start: Int
    }

    private let scalars: [Unicode.Scalar]
    private var position = 0
    /// The key whose value is being read, and where that value starts.
    private var currentKey: (name: String, start: Int)?

    init(_ text: String) {
        scalars = Array(text.unicodeScalars)
    }

    var atEnd: Bool { position == scalars.count }

    mutating func skipSpaces() {
        while position < scalars.count, [" ", "\t", "\n", "\r"].contains(scalars[position]) { position += 1 }
    }

    private func failure() -> Failure {
        Failure(key: currentKey?.name, start: currentKey?.start ?? 0)
    }

    private func text(from start: Int) -> String {
        var result = ""
        result.unicodeScalars.append(contentsOf: scalars[start..<position])
        return result
    }

    /// The source of the value starting at `start`: up to the first comma or closing brace
    /// outside brackets and quotes, or the end.
    func valueText(from start: Int) -> String {
        var depth = 0
        var quote: Unicode.Scalar?
        var end = start
        while end < scalars.count {
            let scalar = scalars[end]
            if let open = quote {
                if scalar == open { quote = nil }
            } else if scalar == "'" || scalar == "\"" {
                quote = scalar
            } else if "([{".unicodeScalars.contains(scalar) {
                depth += 1
            } else if ")]}".unicodeScalars.contains(scalar) {
                if depth == 0 { break }
                depth -= 1
            } else if scalar == ",", depth == 0 {
                break
            }
            end += 1
        }
        var result = ""
        result.unicodeScalars.append(contentsOf: scalars[start..<end])
        return result
    }

    mutating func parseValue() throws(Failure) -> PythonLiteral {
        skipSpaces()
        guard position < scalars.count else { throw failure() }
        let start = position
        switch scalars[position] {
        case "'", "\"":
            let value = try parseString()
            return .string(value, text: text(from: start))
        case "(":
            let (elements, trailingComma) = try parseSequence(closing: ")")
            // `(x)` is x in parentheses; only a comma makes a tuple of one.
            if elements.count == 1, !trailingComma { return elements[0] }
            return .tuple(elements, text: text(from: start))
        case "[":
            return .list(try parseSequence(closing: "]").elements, text: text(from: start))
        case "{":
            return .dictionary(try parseEntries(), text: text(from: start))
        case "-", "+", "0"..."9":
            var negative = false
            if scalars[position] == "-" || scalars[position] == "+" {
                negative = scalars[position] == "-"
                position += 1
            }
            var digits = ""
            while position < scalars.count, ("0"..."9").contains(scalars[position]) {
                digits.unicodeScalars.append(scalars[position])
                position += 1
            }
            guard !digits.isEmpty else { throw failure() }
            if position < scalars.count, scalars[position] == "L" { position += 1 }
            try requireEndOfWord()
            return .integer(negative: negative, digits: digits, text: text(from: start))
        default:
            var word = ""
            while position < scalars.count, scalars[position].properties.isAlphabetic || scalars[position] == "_" {
                word.unicodeScalars.append(scalars[position])
                position += 1
            }
            try requireEndOfWord()
            switch word {
            case "True": return .boolean(true, text: word)
            case "False": return .boolean(false, text: word)
            case "None": return .none(text: word)
            default: throw failure()
            }
        }
    }

    /// A word or number must not run into letters or digits (`Falsey`, `4x`).
    private func requireEndOfWord() throws(Failure) {
        if position < scalars.count, scalars[position].properties.isAlphabetic || ("0"..."9").contains(scalars[position]) {
            throw failure()
        }
    }

    private mutating func parseString() throws(Failure) -> String {
        let quote = scalars[position]
        position += 1
        var value = ""
        while position < scalars.count, scalars[position] != quote {
            if scalars[position] == "\\" { position += 1 }
            guard position < scalars.count else { break }
            value.unicodeScalars.append(scalars[position])
            position += 1
        }
        guard position < scalars.count else { throw failure() }
        position += 1
        return value
    }

    private mutating func expect(_ scalar: Unicode.Scalar) -> Bool {
        skipSpaces()
        guard position < scalars.count, scalars[position] == scalar else { return false }
        position += 1
        return true
    }

    private mutating func parseSequence(closing: Unicode.Scalar) throws(Failure) -> (elements: [PythonLiteral], trailingComma: Bool) {
        position += 1
        var elements: [PythonLiteral] = []
        var trailingComma = false
        while !expect(closing) {
            elements.append(try parseValue())
            trailingComma = expect(",")
            if !trailingComma {
                guard expect(closing) else { throw failure() }
                break
            }
        }
        return (elements, trailingComma)
    }

    private mutating func parseEntries() throws(Failure) -> [(key: PythonLiteral, value: PythonLiteral)] {
        position += 1
        var entries: [(key: PythonLiteral, value: PythonLiteral)] = []
        while !expect("}") {
            let enclosingKey = currentKey
            let key = try parseValue()
            guard expect(":") else { throw failure() }
            skipSpaces()
            if case let .string(name, _) = key { currentKey = (name, position) }
            let value = try parseValue()
            currentKey = enclosingKey
            entries.append((key, value))
            if !expect(",") {
                guard expect("}") else { throw failure() }
                break
            }
        }
        return entries
    }
}

extension StringProtocol {
    var trimmed: String {
        String(drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }
}

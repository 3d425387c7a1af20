/// Reads Apache Thrift's compact protocol, in which Parquet stores its footer
/// (`FileMetaData`) and every page header.
///
/// Only what Parquet's structures use is read: structs, lists, and the scalar types; maps
/// and sets are skipped. Every length and count is the file's word and is checked against
/// the bytes left before anything is read or sized from it; nesting is limited so that a
/// crafted file cannot exhaust the stack.
struct ThriftCompactReader {
    /// Thrift's compact type codes (the low nibble of a field header).
    enum FieldType {
        static let stop: UInt8 = 0
        static let booleanTrue: UInt8 = 1
        static let booleanFalse: UInt8 = 2
        static let byte: UInt8 = 3
        static let i16: UInt8 = 4
        static let i32: UInt8 = 5
        static let i64: UInt8 = 6
        static let double: UInt8 = 7
        static let binary: UInt8 = 8
        static let list: UInt8 = 9
        static let set: UInt8 = 10
        static let map: UInt8 = 11
        static let structure: UInt8 = 12
    }

    /// Deepest nesting of structs and lists read or skipped. Parquet's own structures nest
    /// five deep (a page header's statistics); 64 leaves room for extensions.
    static let maximumDepth = 64

    private let bytes: UnsafeRawBufferPointer
    /// The next byte to read, as an index into `bytes`.
    private(set) var position: Int
    private var depth = 0

    /// Reads `bytes` from `position`.
    /// - Parameters:
    ///   - bytes: The serialized structures; borrowed for the reader's lifetime.
    ///   - position: Where the first structure starts. The default is 0.
    init(_ bytes: UnsafeRawBufferPointer, position: Int = 0) {
        self.bytes = bytes
        self.position = position
    }

    /// Bytes not yet read.
    var remaining: Int { bytes.count - position }

    private func truncated() -> ParquetFailure { ParquetFailure("Thrift metadata ends early") }

    mutating func readByte() throws -> UInt8 {
        guard position < bytes.count else { throw truncated() }
        defer { position += 1 }
        return bytes[position]
    }

    /// An unsigned LEB128 varint of at most 64 bits.
    mutating func readVarint() throws -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let byte = try readByte()
            guard shift < 64 else { throw ParquetFailure("a Thrift varint is longer than 64 bits") }
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
    }

    /// A zigzag-encoded integer (i16, i32 and i64 are all written this way).
    mutating func readInteger() throws -> Int64 {
        let raw = try readVarint()
        return Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    /// An i32 or smaller field, checked to fit.
    mutating func readInt32() throws -> Int32 {
        let value = try readInteger()
        guard let narrow = Int32(exactly: value) else { throw ParquetFailure("a Thrift i32 holds \(value)") }
        return narrow
    }

    /// A binary or string field: the range of its bytes, which are not copied.
    mutating func readBinaryRange() throws -> Range<Int> {
        let length = try readVarint()
        guard length <= UInt64(remaining) else { throw truncated() }
        let range = position..<(position + Int(length))
        position = range.upperBound
        return range
    }

    /// A string field, decoded as UTF-8 (invalid bytes replaced).
    mutating func readString() throws -> String {
        let range = try readBinaryRange()
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }

    /// A list or set header: the element count, checked against the bytes left (every
    /// element takes at least one byte), and the elements' type.
    mutating func readListHeader() throws -> (count: Int, elementType: UInt8) {
        let header = try readByte()
        var count = UInt64(header >> 4)
        if count == 15 { count = try readVarint() }
        guard count <= UInt64(remaining) else { throw ParquetFailure("a Thrift list of \(count) elements is longer than the metadata") }
        return (Int(count), header & 0x0F)
    }

    /// Reads the fields of a struct up to its stop byte. `field` is called with each field's
    /// id and type, and returns whether it read the value; values it did not read are skipped.
    mutating func readStruct(_ field: (inout ThriftCompactReader, _ id: Int16, _ type: UInt8) throws -> Bool) throws {
        try enter()
        defer { depth -= 1 }
        var lastID: Int16 = 0
        while true {
            let header = try readByte()
            let type = header & 0x0F
            if type == FieldType.stop { return }
            let delta = Int16(header >> 4)
            if delta != 0 {
                let (id, overflow) = lastID.addingReportingOverflow(delta)
                guard !overflow else { throw ParquetFailure("a Thrift field id overflows") }
                lastID = id
            } else {
                let value = try readInteger()
                guard let id = Int16(exactly: value) else { throw ParquetFailure("a Thrift field id is \(value)") }
                lastID = id
            }
            if try !field(&self, lastID, type) { try skip(type) }
        }
    }

    /// Reads each element of a list with `element`, which must consume exactly one value of
    /// the list's element type (checked: `expected`).
    mutating func readList(of expected: UInt8, _ element: (inout ThriftCompactReader) throws -> Void) throws {
        try enter()
        defer { depth -= 1 }
        let (count, type) = try readListHeader()
        guard count == 0 || type == expected else { throw ParquetFailure("a Thrift list holds type \(type), expected \(expected)") }
        for _ in 0..<count { try element(&self) }
    }

    /// Skips one value of `type`.
    mutating func skip(_ type: UInt8) throws {
        switch type {
        case FieldType.booleanTrue, FieldType.booleanFalse:
            break
        case FieldType.byte:
            _ = try readByte()
        case FieldType.i16, FieldType.i32, FieldType.i64:
            _ = try readVarint()
        case FieldType.double:
            guard remaining >= 8 else { throw truncated() }
            position += 8
        case FieldType.binary:
            _ = try readBinaryRange()
        case FieldType.list, FieldType.set:
            try enter()
            defer { depth -= 1 }
            let (count, elementType) = try readListHeader()
            for _ in 0..<count { try skipElement(elementType) }
        case FieldType.map:
            try enter()
            defer { depth -= 1 }
            let count = try readVarint()
            guard count > 0 else { return }
            guard count <= UInt64(remaining) else { throw truncated() }
            let types = try readByte()
            for _ in 0..<count {
                try skipElement(types >> 4)
                try skipElement(types & 0x0F)
            }
        case FieldType.structure:
            try readStruct { _, _, _ in false }
        default:
            throw ParquetFailure("unknown Thrift type \(type)")
        }
    }

    /// Skips one element of a list, set or map, where a boolean takes a byte (in a struct
    /// it lives in the field header).
    private mutating func skipElement(_ type: UInt8) throws {
        if type == FieldType.booleanTrue || type == FieldType.booleanFalse {
            _ = try readByte()
        } else {
            try skip(type)
        }
    }

    private mutating func enter() throws {
        guard depth < Self.maximumDepth else { throw ParquetFailure("Thrift metadata nests deeper than \(Self.maximumDepth) levels") }
        depth += 1
    }
}

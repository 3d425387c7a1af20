/// A Parquet page header (Thrift `PageHeader`), with the fields of its data page (v1 or
/// v2) or dictionary page header folded in.
struct ParquetPageHeader {
    enum Kind {
        case dataV1, dataV2, dictionary, other
    }

    var kind = Kind.other
    var uncompressedSize = 0
    var compressedSize = 0
    /// Level entries (data pages) or dictionary values (dictionary pages).
    var valueCount = 0
    /// `Encoding` of the values: 0 PLAIN, 2 PLAIN_DICTIONARY, 8 RLE_DICTIONARY, 9 BYTE_STREAM_SPLIT…
    var encoding: Int32 = 0
    /// Encodings of the levels (v1 only): 3 RLE; 4 BIT_PACKED is not read.
    var definitionLevelEncoding: Int32 = 3
    var repetitionLevelEncoding: Int32 = 3
    /// v2 only: rows in the page (pages of a v2 column start at row boundaries).
    var rowCount = 0
    /// v2 only: bytes of the (never compressed) levels before the values.
    var definitionLevelsBytes = 0
    var repetitionLevelsBytes = 0
    /// v2 only: whether the values are compressed with the chunk's codec.
    var valuesCompressed = true
    /// Bytes of the header itself.
    var headerSize = 0

    /// Parses the header at `position` of `bytes`.
    /// - Parameters:
    ///   - bytes: The column chunk, or the whole file, as far as the header may reach.
    ///   - position: Where the header starts.
    /// - Throws: ``ParquetFailure`` for a header that cannot be parsed or declares negative sizes.
    init(_ bytes: UnsafeRawBufferPointer, at position: Int) throws {
        var reader = ThriftCompactReader(bytes, position: position)
        var header = Self()
        var type: Int32 = -1
        try reader.readStruct { reader, id, fieldType in
            typealias T = ThriftCompactReader.FieldType
            switch (id, fieldType) {
            case (1, T.i32): type = try reader.readInt32()
            case (2, T.i32): header.uncompressedSize = try Self.size(reader.readInt32())
            case (3, T.i32): header.compressedSize = try Self.size(reader.readInt32())
            case (5, T.structure):
                try reader.readStruct { reader, id, fieldType in
                    switch (id, fieldType) {
                    case (1, T.i32): header.valueCount = try Self.size(reader.readInt32())
                    case (2, T.i32): header.encoding = try reader.readInt32()
                    case (3, T.i32): header.definitionLevelEncoding = try reader.readInt32()
                    case (4, T.i32): header.repetitionLevelEncoding = try reader.readInt32()
                    default: return false
                    }
                    return true
                }
            case (7, T.structure):
                try reader.readStruct { reader, id, fieldType in
                    switch (id, fieldType) {
                    case (1, T.i32): header.valueCount = try Self.size(reader.readInt32())
                    case (2, T.i32): header.encoding = try reader.readInt32()
                    default: return false
                    }
                    return true
                }
            case (8, T.structure):
                try reader.readStruct { reader, id, fieldType in
                    switch (id, fieldType) {
                    case (1, T.i32): header.valueCount = try Self.size(reader.readInt32())
                    case (3, T.i32): header.rowCount = try Self.size(reader.readInt32())
                    case (4, T.i32): header.encoding = try reader.readInt32()
                    case (5, T.i32): header.definitionLevelsBytes = try Self.size(reader.readInt32())
                    case (6, T.i32): header.repetitionLevelsBytes = try Self.size(reader.readInt32())
                    case (7, T.booleanTrue): header.valuesCompressed = true
                    case (7, T.booleanFalse): header.valuesCompressed = false
                    default: return false
                    }
                    return true
                }
            default:
                return false
            }
            return true
        }
        switch type {
        case 0: header.kind = .dataV1
        case 2: header.kind = .dictionary
        case 3: header.kind = .dataV2
        default: header.kind = .other
        }
        header.headerSize = reader.position - position
        self = header
    }

    private init() {}

    private static func size(_ value: Int32) throws -> Int {
        guard value >= 0 else { throw ParquetFailure("a page header declares a negative size (\(value))") }
        return Int(value)
    }
}

/// What the reader needs of a Parquet file's footer (Thrift `FileMetaData`): the schema,
/// and for each row group its row count and the chunk of the one column read.
///
/// The footer is parsed twice: once for the schema, skipping the row groups but noting
/// where they are, and once more for the row groups, keeping only the chosen column's
/// chunk, so that memory grows with the row groups, not with row groups × columns.
struct ParquetMetadata {
    /// One node of the schema, flattened depth first as the file stores it.
    struct SchemaElement {
        var name = ""
        /// Parquet's physical type (`Type`): 4 FLOAT, 5 DOUBLE, 7 FIXED_LEN_BYTE_ARRAY…; `nil` for a group.
        var physicalType: Int32?
        var typeLength: Int32?
        /// 0 REQUIRED, 1 OPTIONAL, 2 REPEATED; `nil` (the root) counts as required.
        var repetition: Int32?
        var childCount = 0
        /// The `FLOAT16` logical type: two-byte fixed-length values holding IEEE halves.
        var isFloat16 = false
    }

    /// The byte range and codec of one column's values in one row group.
    struct ColumnChunk {
        /// `CompressionCodec`: 0 UNCOMPRESSED, 1 SNAPPY, 2 GZIP, 6 ZSTD, others unread.
        var codec: Int32 = 0
        var physicalType: Int32?
        /// Level entries (values and nulls) the chunk declares.
        var valueCount: Int64 = 0
        var dataPageOffset: Int64?
        var dictionaryPageOffset: Int64?
        var compressedSize: Int64?
        /// Whether the chunk lives in another file (`file_path`), which is not read.
        var inOtherFile = false
    }

    struct RowGroup {
        var rowCount: Int64 = 0
        /// The chosen column's chunk; `nil` when the row group lists fewer columns.
        var chunk: ColumnChunk?
    }

    var schema: [SchemaElement] = []
    var rowCount: Int64 = 0
    /// Where the `row_groups` list starts in the footer, for ``rowGroups(column:footer:)``.
    private var rowGroupsStart: Int?

    /// Parses the footer's schema and row count, noting where the row groups are.
    /// - Parameter footer: The serialized `FileMetaData`.
    /// - Throws: ``ParquetFailure`` for metadata that cannot be parsed.
    init(footer: UnsafeRawBufferPointer) throws {
        var reader = ThriftCompactReader(footer)
        var metadata = Self()
        try reader.readStruct { reader, id, type in
            switch (id, type) {
            case (2, ThriftCompactReader.FieldType.list):
                try reader.readList(of: ThriftCompactReader.FieldType.structure) { reader in
                    metadata.schema.append(try Self.schemaElement(&reader))
                }
            case (3, ThriftCompactReader.FieldType.i64):
                metadata.rowCount = try reader.readInteger()
            case (4, ThriftCompactReader.FieldType.list):
                metadata.rowGroupsStart = reader.position
                return false
            case (8, _), (9, _):
                throw ParquetFailure("the file is encrypted")
            default:
                return false
            }
            return true
        }
        self = metadata
    }

    private init() {}

    private static func schemaElement(_ reader: inout ThriftCompactReader) throws -> SchemaElement {
        var element = SchemaElement()
        try reader.readStruct { reader, id, type in
            switch (id, type) {
            case (1, ThriftCompactReader.FieldType.i32): element.physicalType = try reader.readInt32()
            case (2, ThriftCompactReader.FieldType.i32): element.typeLength = try reader.readInt32()
            case (3, ThriftCompactReader.FieldType.i32): element.repetition = try reader.readInt32()
            case (4, ThriftCompactReader.FieldType.binary): element.name = try reader.readString()
            case (5, ThriftCompactReader.FieldType.i32):
                let count = try reader.readInt32()
                guard count >= 0 else { throw ParquetFailure("a schema node declares \(count) children") }
                element.childCount = Int(count)
            case (10, ThriftCompactReader.FieldType.structure):
                // LogicalType is a union; FLOAT16 is its field 15.
                try reader.readStruct { reader, id, type in
                    if id == 15, type == ThriftCompactReader.FieldType.structure { element.isFloat16 = true }
                    return false
                }
            default:
                return false
            }
            return true
        }
        return element
    }

    /// The row groups, each with the chunk of leaf column `column` (counted depth first).
    /// - Parameters:
    ///   - column: The leaf column's index among the schema's leaves.
    ///   - footer: The same bytes the metadata was parsed from.
    /// - Returns: Every row group in file order, empty ones included.
    /// - Throws: ``ParquetFailure`` for metadata that cannot be parsed.
    func rowGroups(column: Int, footer: UnsafeRawBufferPointer) throws -> [RowGroup] {
        guard let rowGroupsStart else { return [] }
        var reader = ThriftCompactReader(footer, position: rowGroupsStart)
        var groups: [RowGroup] = []
        try reader.readList(of: ThriftCompactReader.FieldType.structure) { reader in
            var group = RowGroup()
            try reader.readStruct { reader, id, type in
                switch (id, type) {
                case (1, ThriftCompactReader.FieldType.list):
                    var index = 0
                    try reader.readList(of: ThriftCompactReader.FieldType.structure) { reader in
                        if index == column {
                            group.chunk = try Self.columnChunk(&reader)
                        } else {
                            try reader.skip(ThriftCompactReader.FieldType.structure)
                        }
                        index += 1
                    }
                case (3, ThriftCompactReader.FieldType.i64):
                    group.rowCount = try reader.readInteger()
                default:
                    return false
                }
                return true
            }
            groups.append(group)
        }
        return groups
    }

    private static func columnChunk(_ reader: inout ThriftCompactReader) throws -> ColumnChunk {
        var chunk = ColumnChunk()
        try reader.readStruct { reader, id, type in
            switch (id, type) {
            case (1, ThriftCompactReader.FieldType.binary):
                chunk.inOtherFile = !(try reader.readBinaryRange()).isEmpty
            case (3, ThriftCompactReader.FieldType.structure):
                try reader.readStruct { reader, id, type in
                    switch (id, type) {
                    case (1, ThriftCompactReader.FieldType.i32): chunk.physicalType = try reader.readInt32()
                    case (4, ThriftCompactReader.FieldType.i32): chunk.codec = try reader.readInt32()
                    case (5, ThriftCompactReader.FieldType.i64): chunk.valueCount = try reader.readInteger()
                    case (7, ThriftCompactReader.FieldType.i64): chunk.compressedSize = try reader.readInteger()
                    case (9, ThriftCompactReader.FieldType.i64): chunk.dataPageOffset = try reader.readInteger()
                    case (11, ThriftCompactReader.FieldType.i64): chunk.dictionaryPageOffset = try reader.readInteger()
                    default: return false
                    }
                    return true
                }
            default:
                return false
            }
            return true
        }
        return chunk
    }
}

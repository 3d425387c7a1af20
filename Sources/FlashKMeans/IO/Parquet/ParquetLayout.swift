/// What every decoder of one Parquet column shares: the column's levels and element type,
/// the row length, and where each non-empty row group's chunk lies in the file.
struct ParquetLayout: Sendable {
    /// One row group holding rows, with its chunk of the column read.
    struct Group: Sendable {
        /// The row group's index in the file (empty ones counted), for messages.
        var index: Int
        /// The file's row number of the group's first row.
        var firstRow: Int
        var rowCount: Int
        /// The chunk's bytes in the file: its first page header to the end of its last page.
        var chunk: Range<Int>
        var codec: ParquetCodec
    }

    var element: StoredElement
    /// d, the values in every row.
    var dimension: Int
    var maxDefinitionLevel: Int
    var listDefinitionLevel: Int
    /// 1: lists are the only repeated node.
    var maxRepetitionLevel: Int { 1 }
    /// The non-empty row groups, in file order.
    var groups: [Group]
}

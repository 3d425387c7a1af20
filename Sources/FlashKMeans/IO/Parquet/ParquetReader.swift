/// Opens a Parquet file's column of float lists (`list<float>`, `large_list<float>` or
/// `fixed_size_list<float, d>`, of float32, float16 or float64 items) as rows of floats.
///
/// Only the footer and the first row are read here: the footer gives the schema and where
/// each row group's chunk of the column lies, and the first row gives d. Every offset,
/// length and count the footer declares is checked against the file before it is used or
/// sized from. The rows themselves are decoded later, tile by tile (``ParquetSource``).
enum ParquetReader {
    /// `PAR1`, at the start and at the end of every unencrypted Parquet file.
    static let magic: [UInt8] = Array("PAR1".utf8)
    /// The end of a file whose footer is encrypted.
    static let encryptedMagic: [UInt8] = Array("PARE".utf8)

    /// The largest footer parsed. A file of a thousand row groups and a hundred columns has
    /// a footer of a few MiB; anything beyond this is a damaged length.
    static let largestFooterBytes = 64 << 20

    /// The most float32 bytes the rows may declare per byte the column stores. Embeddings
    /// barely compress (float16 ones double in size as float32); only a column of nearly
    /// constant rows, which cannot be clustered, compresses further. A larger claim is a
    /// damaged or crafted row count, refused before anything is sized from it.
    static let largestExpansion = 4096

    /// Whether the file at `path` starts with `PAR1`: a Parquet file, whatever its name.
    /// `false` for a file that cannot be read (its reader will say why).
    static func hasMagic(_ path: String) -> Bool {
        guard let file = try? MappedFile(path: path) else { return false }
        return file.withBytes { bytes in bytes.count >= 12 && Array(bytes[0..<4]) == magic }
    }

    /// Opens `path` and chooses its column.
    ///
    /// - Parameters:
    ///   - path: The file.
    ///   - column: The column's name; `nil` chooses the only column of float lists.
    /// - Returns: A source decoding the column's rows into float32.
    /// - Throws: ``DatasetError`` naming the file: not Parquet, truncated, encrypted, no
    ///   such column (or several and none chosen), an empty or null first row, or metadata
    ///   that contradicts the file.
    static func open(_ path: String, column: String?) throws -> ParquetSource {
        let file = try MappedFile(path: path)
        do {
            let layout = try file.withBytes { bytes in try readLayout(bytes, column: column, path: path) }
            try file.checkUnchanged()
            let description = EmbeddingDescription(
                path: path, format: .parquet, rowCount: layout.groups.last.map { $0.firstRow + $0.rowCount } ?? 0,
                dimension: layout.dimension, dataType: layout.element.name, layout: .converted, byteCount: file.byteCount)
            return ParquetSource(file: file, layout: layout, description: description)
        } catch let failure as ParquetFailure {
            try file.checkUnchanged()
            throw DatasetError(path: path, .parquet(failure.message))
        }
    }

    private static func readLayout(_ bytes: UnsafeRawBufferPointer, column name: String?, path: String) throws -> ParquetLayout {
        guard bytes.count >= 4, Array(bytes[0..<4]) == magic else { throw ParquetFailure("not a Parquet file (no PAR1 at the start)") }
        guard bytes.count >= 12 else { throw ParquetFailure("the file ends before its footer (truncated?)") }
        let tail = Array(bytes[(bytes.count - 4)...])
        if tail == encryptedMagic { throw ParquetFailure("the file is encrypted") }
        guard tail == magic else { throw ParquetFailure("no PAR1 at the end: the file is truncated or still being written") }
        let footerLength = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: bytes.count - 8, as: UInt32.self)))
        guard footerLength <= bytes.count - 12 else {
            throw ParquetFailure("the footer declares \(footerLength) bytes, more than the file holds (truncated?)")
        }
        guard footerLength <= largestFooterBytes else {
            throw ParquetFailure("the footer declares \(footerLength) bytes, more than the \(largestFooterBytes) read")
        }
        let footerStart = bytes.count - 8 - footerLength
        let footer = UnsafeRawBufferPointer(rebasing: bytes[footerStart..<(bytes.count - 8)])
        let metadata = try ParquetMetadata(footer: footer)
        let column = try choose(name, among: try ParquetColumn.leaves(of: metadata.schema), path: path)
        guard let element = column.element else { preconditionFailure("a chosen column holds floats") }

        // Row groups: rows counted through the file, chunks checked to lie in the data.
        var groups: [ParquetLayout.Group] = []
        var rowCount = 0
        var storedBytes = 0
        for (index, group) in try metadata.rowGroups(column: column.index, footer: footer).enumerated() {
            guard group.rowCount >= 0, let rows = Int(exactly: group.rowCount) else {
                throw ParquetFailure("row group \(index) declares \(group.rowCount) rows")
            }
            if rows == 0 { continue }
            guard let chunk = group.chunk else { throw ParquetFailure("row group \(index) has no chunk for column '\(column.name)'") }
            guard !chunk.inOtherFile else { throw ParquetFailure("row group \(index) keeps column '\(column.name)' in another file") }
            guard chunk.physicalType == nil || chunk.physicalType == column.physicalType else {
                throw ParquetFailure("row group \(index) stores column '\(column.name)' as another type than the schema")
            }
            guard let dataPage = chunk.dataPageOffset, let size = chunk.compressedSize, size >= 0 else {
                throw ParquetFailure("row group \(index) does not say where column '\(column.name)' is stored")
            }
            // Some writers set a zero dictionary offset for chunks without a dictionary.
            var start = dataPage
            if let dictionaryPage = chunk.dictionaryPageOffset, dictionaryPage > 0, dictionaryPage < dataPage { start = dictionaryPage }
            guard start >= 4, start <= Int64(footerStart), size <= Int64(footerStart) - start else {
                throw ParquetFailure(
                    "row group \(index) declares column '\(column.name)' at bytes \(start) to \(start &+ size), outside the data (\(footerStart) bytes)")
            }
            guard chunk.valueCount >= group.rowCount else {
                throw ParquetFailure("row group \(index) declares \(rows) rows but \(chunk.valueCount) values of column '\(column.name)'")
            }
            let first = rowCount
            let (total, overflow) = rowCount.addingReportingOverflow(rows)
            guard !overflow else { throw ParquetFailure("the row groups declare more than \(Int.max) rows") }
            rowCount = total
            // Chunks may (wrongly) overlap, so the sum may exceed the file: it only bounds the rows.
            let (sum, sumOverflows) = storedBytes.addingReportingOverflow(Int(size))
            storedBytes = sumOverflows ? Int.max : sum
            groups.append(.init(
                index: index, firstRow: first, rowCount: rows, chunk: Int(start)..<Int(start + size), codec: try ParquetCodec(code: chunk.codec)))
        }
        guard !groups.isEmpty else { throw ParquetFailure("column '\(column.name)' has no rows") }

        // d is the first row's length; every other row is checked against it as it is read.
        var layout = ParquetLayout(
            element: element, dimension: 0, maxDefinitionLevel: column.maxDefinitionLevel,
            listDefinitionLevel: column.listDefinitionLevel, groups: groups)
        let backedValues = storedBytes.multipliedReportingOverflow(by: largestExpansion / 4)
        let dimension = try ParquetColumnDecoder(layout: layout).firstRowLength(
            ofGroup: 0, limit: backedValues.overflow ? Int.max : backedValues.partialValue, file: bytes)
        guard dimension > 0 else { throw ParquetFailure("row 0 is an empty list; every row must hold the same number of values") }
        layout.dimension = dimension
        let declared = rowCount.multipliedReportingOverflow(by: dimension)
        guard !declared.overflow, backedValues.overflow || declared.partialValue <= backedValues.partialValue else {
            throw ParquetFailure(
                "declares \(rowCount) rows of \(dimension) values in \(storedBytes) stored bytes, "
                    + "more than the \(largestExpansion):1 expansion real embeddings reach")
        }
        return layout
    }

    /// The column named `name`, or the only column of float lists.
    private static func choose(_ name: String?, among leaves: [ParquetColumn], path: String) throws -> ParquetColumn {
        let candidates = leaves.filter(\.isFloatList)
        let names = candidates.map(\.name)
        if let name {
            if let match = candidates.first(where: { $0.name == name || $0.path == name }) { return match }
            throw DatasetError(path: path, .parquetColumn(chosen: name, candidates: names))
        }
        guard candidates.count == 1 else { throw DatasetError(path: path, .parquetColumn(chosen: nil, candidates: names)) }
        return candidates[0]
    }
}

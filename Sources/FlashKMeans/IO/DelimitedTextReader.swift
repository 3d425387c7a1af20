/// Reads CSV and TSV files of numbers (see ``DelimitedTextParser`` for what they may hold).
///
/// Text cannot be lent tile by tile as it stands: its rows have no fixed offsets, and every
/// pass would parse it again. So it is parsed once, streaming through a fixed buffer, into
/// a float32 copy that is then mapped and read as a raw float32 file, zero-copy. The copy is
/// an unnamed file (``Syscalls/createUnnamedFile(in:for:)``) in
/// ``EmbeddingOpenOptions/temporaryDirectory``: it takes 4 bytes a value there, and vanishes
/// with the source, at exit, or when the process is killed, leaving nothing to clean.
enum DelimitedTextReader {
    /// The text is read 1 MiB at a time, whatever its size.
    static let readBufferBytes = 1 << 20

    /// Parses `path` into a mapped float32 copy.
    /// - Parameters:
    ///   - path: The CSV or TSV file.
    ///   - format: ``EmbeddingFormat/csv`` (fields separated by commas) or
    ///     ``EmbeddingFormat/tsv`` (by tabs).
    ///   - options: The header line, skipped columns and temporary directory.
    /// - Returns: The rows, lent zero-copy from the copy; the description gives the text's
    ///   path and size.
    /// - Throws: ``DatasetError`` for a missing, unreadable or empty file, a field or line
    ///   that cannot be read (naming its line and column), or a copy that cannot be written.
    /// - Complexity: O(size of the text), once.
    static func open(_ path: String, format: EmbeddingFormat, options: EmbeddingOpenOptions) throws -> MappedMatrix {
        precondition(format == .csv || format == .tsv)
        let text = try Syscalls.openReadOnly(path)
        defer { Syscalls.closeDescriptor(text) }
        let textBytes = try Syscalls.fileSize(text, path: path)
        guard textBytes > 0 else { throw DatasetError(path: path, .empty) }

        let directory = options.temporaryDirectory ?? Syscalls.temporaryDirectory
        let copy = try Syscalls.createUnnamedFile(in: directory, for: path)
        defer { Syscalls.closeDescriptor(copy) }
        let writeCopy = { (values: UnsafeBufferPointer<Float>) throws(DatasetError) in
            try Syscalls.writeAll(
                copy, UnsafeRawBufferPointer(values), operation: "writing its float32 copy in \(directory)", path: path)
        }

        var parser = DelimitedTextParser(
            path: path, separator: UInt8(ascii: format == .tsv ? "\t" : ","),
            hasHeaderLine: options.hasHeaderLine, skippedColumns: options.skippedColumns)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: readBufferBytes, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let count = try Syscalls.readBytes(text, into: buffer, path: path)
            if count == 0 { break }
            try parser.consume(UnsafeRawBufferPointer(rebasing: buffer[..<count]), flush: writeCopy)
        }
        let (rowCount, dimension) = try parser.finish(flush: writeCopy)

        let file = try MappedFile(descriptor: copy, path: path)
        return MappedMatrix(
            file: file, format: format, rowCount: rowCount, dimension: dimension, element: .float32,
            dataOffset: 0, rowStrideBytes: dimension * 4, describedByteCount: textBytes)
    }
}

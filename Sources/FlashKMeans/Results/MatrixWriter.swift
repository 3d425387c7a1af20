#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a matrix to a file row block by row block, so generated data never has
/// to fit in memory. Supports the formats FlashKMeans reads that have a fixed header:
/// `.npy` (float32, int32 or int64), `.fbin`, `.fvecs` and raw float32.
///
/// Call ``close()`` when done: it reports write errors and missing rows, which `deinit`
/// (closing silently) cannot.
public final class MatrixWriter {
    /// The element type a `.npy` header declares; the other formats are always float32.
    public enum Element: Sendable {
        /// Little-endian float32, int32 or int64 (`<f4`, `<i4` or `<i8` in the header).
        case float32, int32, int64
        var descr: String {
            switch self {
            case .float32: "<f4"
            case .int32: "<i4"
            case .int64: "<i8"
            }
        }
    }

    /// The file being written.
    public let path: String
    private let file: UnsafeMutablePointer<FILE>
    private let format: EmbeddingFormat
    private let columns: Int
    private let expectedRows: Int
    private var writtenRows = 0
    private var closed = false

    /// Opens `path` for writing and writes the header.
    ///
    /// - Parameters:
    ///   - path: The file to create or truncate.
    ///   - format: `.npy`, `.fbin`, `.fvecs` or `.raw`.
    ///   - rows: The rows that will be appended, declared in the `.npy` and `.fbin`
    ///     headers and checked by ``close()``.
    ///   - columns: Values per row; `nil` writes a 1-D `.npy` of `rows` values.
    ///   - element: The `.npy` element type; ignored by the other formats. The default is
    ///     ``Element/float32``.
    /// - Throws: ``OutputError`` when the file cannot be created or the format has no writer.
    public init(path: String, format: EmbeddingFormat, rows: Int, columns: Int?, element: Element = .float32) throws {
        guard let file = fopen(path, "wb") else {
            throw OutputError(path: path, .cannotCreateFile(Syscalls.errorMessage()))
        }
        self.path = path
        self.file = file
        self.format = format
        self.columns = columns ?? 1
        expectedRows = rows
        switch format {
        case .npy:
            let shape = columns.map { "(\(rows), \($0))" } ?? "(\(rows),)"
            var header = "{'descr': '\(element.descr)', 'fortran_order': False, 'shape': \(shape), }"
            // Pad so the data start at a multiple of 64 bytes, as numpy does.
            let unpadded = 10 + header.utf8.count + 1
            header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
            var prefix: [UInt8] = NpyReader.magic + [1, 0]
            let length = UInt16(header.utf8.count)
            prefix += [UInt8(length & 0xFF), UInt8(length >> 8)]
            try writeBytes(prefix + Array(header.utf8))
        case .fbin:
            var counts = [UInt32(rows).littleEndian, UInt32(self.columns).littleEndian]
            try counts.withUnsafeMutableBytes { try writeBytes(Array($0)) }
        case .fvecs, .raw:
            break
        case .bvecs, .u8bin, .i8bin, .f16bin, .hdf5, .parquet, .csv, .tsv:
            fclose(file)
            throw OutputError(path: path, .unsupportedFormat(format))
        }
    }

    deinit {
        if !closed { fclose(file) }
    }

    private func writeBytes(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try writeRaw($0) }
    }

    private func writeRaw(_ bytes: UnsafeRawBufferPointer) throws {
        guard bytes.count == 0 || fwrite(bytes.baseAddress, 1, bytes.count, file) == bytes.count else {
            throw OutputError(path: path, .writeFailed(Syscalls.errorMessage()))
        }
    }

    /// Appends whole rows (`values.count` must be a multiple of the column count).
    ///
    /// - Parameter values: `rows × columns` values, row-major, of the type the header
    ///   declares (not checked): `Float`, or `Int32` or `Int64` for such a `.npy`.
    /// - Throws: ``OutputError`` when a write fails.
    public func append<T: BitwiseCopyable>(_ values: UnsafeBufferPointer<T>) throws {
        precondition(values.count % columns == 0, "partial row")
        if format == .fvecs {
            var header = Int32(columns).littleEndian
            for row in 0..<(values.count / columns) {
                try withUnsafeBytes(of: &header) { try writeRaw($0) }
                try writeRaw(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(values)[(row * columns * MemoryLayout<T>.stride)..<((row + 1) * columns * MemoryLayout<T>.stride)]))
            }
        } else {
            try writeRaw(UnsafeRawBufferPointer(values))
        }
        writtenRows += values.count / columns
    }

    /// Appends whole rows from an array; see ``append(_:)-(UnsafeBufferPointer<T>)``.
    ///
    /// - Parameter values: `rows × columns` values, row-major.
    /// - Throws: ``OutputError`` when a write fails.
    public func append<T: BitwiseCopyable>(_ values: [T]) throws {
        try values.withUnsafeBufferPointer { try append($0) }
    }

    /// Flushes and closes the file, checking that every declared row was written.
    /// - Throws: ``OutputError`` when the flush fails or the rows appended differ from
    ///   the rows declared.
    public func close() throws {
        closed = true
        let flushed = fclose(file) == 0
        guard flushed else { throw OutputError(path: path, .writeFailed(Syscalls.errorMessage())) }
        guard writtenRows == expectedRows else {
            throw OutputError(path: path, .rowCountMismatch(written: writtenRows, expected: expectedRows))
        }
    }
}

/// Why results could not be written. `description` is one line, `"<path>: <problem>"`.
public struct OutputError: Error, CustomStringConvertible, Equatable, Sendable {
    /// What went wrong, independent of the path.
    public enum Problem: Equatable, Sendable {
        /// The directory already holds these result files, and replacing them was not allowed.
        case existingResults([String])
        /// The path exists and is not a directory.
        case notADirectory
        /// The output directory cannot be written; the system's reason.
        case notWritable(String)
        /// The output directory cannot be created; the reason.
        case cannotCreateDirectory(String)
        /// The file cannot be created; the system's reason.
        case cannotCreateFile(String)
        /// A write failed; the system's reason.
        case writeFailed(String)
        /// The rows written differ from the rows the header declared.
        case rowCountMismatch(written: Int, expected: Int)
        /// Renaming a finished file into place failed; the system's reason.
        case renameFailed(String)
        /// The format has no writer.
        case unsupportedFormat(EmbeddingFormat)
        /// Another run, still alive, is writing results here; its process id when it could be read.
        case busy(processID: Int32?)
        /// The directory holds entries that are not result files (directories end in `/`), which
        /// a run never replaces or deletes.
        case foreignEntries([String])
        /// Flushing a file or directory to the disk failed; the system's reason.
        case syncFailed(String)
        /// The file exists, and replacing it was not allowed.
        case fileExists
        /// The path is a directory where a file was to be written.
        case isADirectory
        /// The run was stopped (``OutputDirectory/abandon()``) before its results were in place.
        case abandoned
    }

    /// The file or directory the problem concerns.
    public var path: String
    /// What went wrong.
    public var problem: Problem

    /// An error about `path`.
    /// - Parameters:
    ///   - path: The file or directory the problem concerns.
    ///   - problem: What went wrong.
    public init(path: String, _ problem: Problem) {
        self.path = path
        self.problem = problem
    }

    /// One line for the user, `"<path>: <problem>"`.
    public var description: String {
        let detail: String
        switch problem {
        case let .existingResults(names): detail = "already holds results (\(names.joined(separator: ", ")))"
        case .notADirectory: detail = "exists and is not a directory"
        case let .notWritable(reason): detail = "output directory is not writable (\(reason))"
        case let .cannotCreateDirectory(reason): detail = "cannot create output directory: \(reason)"
        case let .cannotCreateFile(reason): detail = "cannot create file (\(reason))"
        case let .writeFailed(reason): detail = "write failed (\(reason))"
        case let .rowCountMismatch(written, expected): detail = "wrote \(written) rows, expected \(expected)"
        case let .renameFailed(reason): detail = "rename failed (\(reason))"
        case let .unsupportedFormat(format): detail = "writing \(format.rawValue) is not supported"
        case let .busy(processID):
            detail = "another run is writing results here" + (processID.map { " (process \($0))" } ?? "")
                + "; try again when it has finished"
        case let .foreignEntries(names):
            let shown = names.prefix(5).joined(separator: ", ") + (names.count > 5 ? " and \(names.count - 5) more" : "")
            detail = "holds entries that are not result files (\(shown)), which are never replaced; "
                + "give the results a directory of their own"
        case let .syncFailed(reason): detail = "cannot flush to disk (\(reason))"
        case .fileExists: detail = "already exists"
        case .isADirectory: detail = "is a directory"
        case .abandoned: detail = "stopped before the results were in place"
        }
        return "\(path): \(detail)"
    }
}

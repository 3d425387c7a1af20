/// Why an embedding file could not be read.
///
/// Every case names the file, and `description` is a single line meant for the
/// user: `"<path>: <problem>"`.
public struct DatasetError: Error, CustomStringConvertible, Equatable, Sendable {
    /// What went wrong, independent of the file.
    public enum Problem: Equatable, Sendable {
        /// A system call failed; `operation` names it and `message` is `strerror(errno)`.
        case system(operation: String, message: String)
        /// The file has no bytes.
        case empty
        /// The extension names no known format, and none was given; the extension
        /// without its dot (empty when the name has none).
        case unknownFormat(extension: String)
        /// The header is malformed or contradicts the data; what was wrong.
        case badHeader(String)
        /// The file's size does not match what its header (or the given row length) implies.
        case sizeMismatch(expectedBytes: Int, actualBytes: Int)
        /// The header declares `rows × dimension` values of `elementBytes` bytes, a byte count
        /// beyond `Int.max` that no file can hold.
        case declaredSizeOverflow(rows: UInt64, dimension: UInt64, elementBytes: Int)
        /// A headerless raw file was given a row length whose bytes exceed the whole file.
        case rowLongerThanFile(dimension: Int, fileBytes: Int)
        /// The element type or memory order cannot be read; what was found and how to convert it.
        case unsupportedDataType(String)
        /// An fvecs/bvecs row header disagrees with the first row's dimension.
        case inconsistentRow(row: Int, found: Int, expected: Int)
        /// A row holds NaN or an infinity (or values whose squared norm overflows float32).
        case nonFiniteValue(row: Int)
        /// A row of length zero, which has no direction for cosine similarity.
        case zeroNorm(row: Int)
        /// A file of centroids holds rows of `found` values; the data have `expected`.
        case centroidDimension(found: Int, expected: Int)
        /// A file of centroids holds `found` rows; k is `expected`.
        case centroidCount(found: Int, expected: Int)
        /// A headerless raw file was opened without its row length.
        case missingDimension
        /// A row length of zero or less was given for a raw file.
        case invalidDimension(Int)
        /// The HDF5 file holds no dataset of this name.
        case missingDataset(String)
        /// libhdf5 refused the file or a read; what failed.
        case hdf5(String)
        /// The file shrank (another process truncated or rewrote it) while it was read.
        case changedWhileRead
        /// A wildcard pattern given as the input matches no file.
        case noMatchingFiles
        /// A directory given as the input holds no file with an embedding extension.
        case noEmbeddingFiles
        /// A list of shard files names none (every line is blank or a comment).
        case emptyShardList
        /// A list of shard files cannot be read as one; what is wrong with it.
        case badShardList(String)
        /// A pattern, directory or list names more shard files than can be open at once.
        case tooManyShards(found: Int, limit: Int)
        /// A shard's rows have `found` values, but those of the first shard, `firstShard`, have `expected`.
        case shardDimension(found: Int, expected: Int, firstShard: String)
        /// A shard stores `found` values (numpy's notation), but the first shard stores `expected`.
        case shardDataType(found: String, expected: String, firstShard: String)
        /// A shard is in format `found`, but the first shard is in `expected`.
        case shardFormat(found: EmbeddingFormat, expected: EmbeddingFormat, firstShard: String)
        /// A Parquet file cannot be read; what is wrong with it (or with a row, named by number).
        case parquet(String)
        /// A Parquet file has no column of float lists named `chosen`, or (`chosen` is `nil`)
        /// not exactly one to choose by default; `candidates` are its columns of float lists.
        case parquetColumn(chosen: String?, candidates: [String])
        /// A CSV or TSV line holds `fieldCount` fields, but the first data line held `expected`
        /// (skipped columns included). Lines and columns count from 1.
        case raggedLine(line: Int, fieldCount: Int, expected: Int)
        /// A CSV or TSV field is not a number as a whole (`text`: its first 40 bytes; empty
        /// for an empty field).
        case notANumber(line: Int, column: Int, text: String)
        /// A field of the first CSV or TSV line is not a number: the line looks like a header,
        /// which is read only when declared (``EmbeddingOpenOptions/hasHeaderLine``).
        case headerLine(line: Int, column: Int, text: String)
        /// A CSV or TSV field is NaN, an infinity, or a number beyond float32's range.
        case nonFiniteField(line: Int, column: Int, text: String)
        /// A CSV or TSV field cannot be read as a field (a quote left open, text after a
        /// closing quote, a field too long to be a number); what is wrong.
        case malformedField(line: Int, column: Int, String)
        /// The first CSV or TSV data line has `fieldCount` fields, none left once the
        /// `skipped` leading columns are skipped.
        case noValueColumns(line: Int, fieldCount: Int, skipped: Int)
        /// A CSV or TSV file holds no line of numbers (only blank lines, or only a header).
        case noRows
    }

    /// The file the problem was found in.
    public var path: String
    /// What went wrong.
    public var problem: Problem

    /// An error about the file at `path`.
    /// - Parameters:
    ///   - path: The file the problem was found in.
    ///   - problem: What went wrong.
    public init(path: String, _ problem: Problem) {
        self.path = path
        self.problem = problem
    }

    /// One line for the user, `"<path>: <problem>"`, with control characters escaped
    /// (see ``oneLine(_:)``) so that no file name or header text can break it.
    public var description: String {
        Self.oneLine("\(path): \(problemDescription)")
    }

    /// The problem alone, as ``description`` words it after the path (not yet escaped).
    public var problemDescription: String {
        let detail: String
        switch problem {
        case let .system(operation, message):
            detail = "\(operation) failed: \(message)"
        case .empty:
            detail = "the file is empty"
        case let .unknownFormat(ext):
            detail = "cannot tell the format from \(ext.isEmpty ? "no extension" : "extension '.\(ext)'")"
        case let .badHeader(why):
            detail = "bad header: \(why)"
        case let .sizeMismatch(expected, actual):
            detail = "truncated or inconsistent file: expected \(expected) bytes, found \(actual)"
        case let .declaredSizeOverflow(rows, dimension, elementBytes):
            detail = "declares \(rows) × \(dimension) values of \(elementBytes) bytes, more than any file can hold"
        case let .rowLongerThanFile(dimension, fileBytes):
            detail = "a row of \(dimension) float32 values is longer than the whole file (\(fileBytes) bytes)"
        case let .centroidDimension(found, expected):
            detail = "centroids have dimension \(found), but the data have \(expected)"
        case let .centroidCount(found, expected):
            detail = "holds \(found) centroids, but k is \(expected)"
        case let .unsupportedDataType(why):
            detail = "unsupported data type: \(why)"
        case let .inconsistentRow(row, found, expected):
            detail = "row \(row) declares dimension \(found), but the file's dimension is \(expected)"
        case let .nonFiniteValue(row):
            detail = "row \(row) contains NaN or Inf (or values too large for float32 distances)"
        case let .zeroNorm(row):
            detail = "row \(row) is all zeros and has no direction for cosine similarity"
        case .missingDimension:
            detail = "headerless raw float32 needs its row length"
        case let .invalidDimension(dimension):
            detail = "the row length must be positive, got \(dimension)"
        case let .missingDataset(name):
            detail = "no dataset '\(name)'"
        case let .hdf5(why):
            detail = why
        case .changedWhileRead:
            detail = "changed size while being read"
        case .noMatchingFiles:
            detail = "no file matches this pattern"
        case .noEmbeddingFiles:
            let extensions = EmbeddingFormat.recognisedExtensions.map { "." + $0 }.joined(separator: ", ")
            detail = "the directory holds no embedding files (\(extensions))"
        case .emptyShardList:
            detail = "the list names no files (blank lines and lines starting with # are skipped)"
        case let .badShardList(why):
            detail = "not a list of shard files: \(why)"
        case let .tooManyShards(found, limit):
            detail = "names \(found) files, more than the \(limit) shards that can be open at once"
        case let .shardDimension(found, expected, firstShard):
            detail = "\(found) columns, but the first shard (\(firstShard)) has \(expected)"
        case let .shardDataType(found, expected, firstShard):
            detail = "\(found) values, but the first shard (\(firstShard)) holds \(expected)"
        case let .shardFormat(found, expected, firstShard):
            detail = "\(found.rawValue) format, but the first shard (\(firstShard)) is \(expected.rawValue); "
                + "every shard of a set must have the same format"
        case let .parquet(why):
            detail = why
        case let .parquetColumn(chosen, candidates):
            let listed = candidates.map { "'\($0)'" }.joined(separator: ", ")
            if let chosen {
                detail = "no column '\(chosen)' of float lists"
                    + (candidates.isEmpty ? " (the file has none)" : " (columns of float lists: \(listed))")
            } else if candidates.isEmpty {
                detail = "no column of float lists (list, large_list or fixed_size_list of float32, float16 or float64)"
            } else {
                detail = "several columns of float lists (\(listed)); name the one to read"
            }
        case let .raggedLine(line, fieldCount, expected):
            detail = "line \(line) has \(fieldCount) field\(fieldCount == 1 ? "" : "s"), expected \(expected)"
        case let .notANumber(line, column, text):
            detail = "line \(line), column \(column): " + (text.isEmpty ? "empty field, expected a number" : "'\(text)' is not a number")
        case let .headerLine(line, column, text):
            detail = "line \(line), column \(column): '\(text)' is not a number (is the line a header naming the columns?)"
        case let .nonFiniteField(line, column, text):
            detail = "line \(line), column \(column): '\(text)' is NaN, infinite or beyond float32's range; values must be finite"
        case let .malformedField(line, column, why):
            detail = "line \(line), column \(column): \(why)"
        case let .noValueColumns(line, fieldCount, skipped):
            detail = "line \(line) has \(fieldCount) field\(fieldCount == 1 ? "" : "s"), and the first \(skipped) are skipped: no values remain"
        case .noRows:
            detail = "holds no line of numbers"
        }
        return detail
    }

    /// `text` with every control character written as an escape: `\n`, `\r`, `\t`, or
    /// `\u{1B}` for the others (line and paragraph separators included), so that it prints
    /// as one line and no terminal sequence in a file name takes effect. Backslashes are
    /// left as they are, so escaping twice changes nothing.
    /// - Parameter text: A message, or a file name or header excerpt going into one.
    /// - Returns: The text on one line.
    public static func oneLine(_ text: String) -> String {
        var result = ""
        result.unicodeScalars.reserveCapacity(text.unicodeScalars.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            default:
                switch scalar.properties.generalCategory {
                case .control, .lineSeparator, .paragraphSeparator:
                    result += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
                default:
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result
    }
}

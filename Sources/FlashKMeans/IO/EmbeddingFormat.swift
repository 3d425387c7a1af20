/// The on-disk layouts FlashKMeans reads.
public enum EmbeddingFormat: String, CaseIterable, Sendable, Codable {
    /// NumPy `.npy`, versions 1–3, C order; float32 (zero-copy), float16 or float64.
    case npy
    /// TEXMEX `.fvecs`: each row is an int32 dimension followed by float32 values.
    case fvecs
    /// TEXMEX `.bvecs`: each row is an int32 dimension followed by uint8 values.
    case bvecs
    /// big-ann-benchmarks `.fbin`: uint32 row count, uint32 dimension, float32 rows.
    case fbin
    /// big-ann-benchmarks `.u8bin`: the `.fbin` header, then uint8 rows (converted per tile).
    case u8bin
    /// big-ann-benchmarks `.i8bin`: the `.fbin` header, then int8 rows (converted per tile).
    case i8bin
    /// big-ann-benchmarks `.f16bin`: the `.fbin` header, then float16 rows (converted per tile).
    case f16bin
    /// Headerless little-endian float32 rows; the dimension comes from
    /// ``EmbeddingOpenOptions/dimension`` (`--dim` on the command line).
    case raw
    /// An HDF5 file holding a 2-D float32, float16 or float64 dataset.
    case hdf5
    /// Apache Parquet: one column of float lists (float32, float16 or float64 items) read
    /// as rows; the column from ``EmbeddingOpenOptions/column``.
    case parquet
    /// Comma-separated numbers, one row a line; parsed once into a temporary float32 file
    /// (see ``EmbeddingOpenOptions/hasHeaderLine`` and ``EmbeddingOpenOptions/skippedColumns``).
    case csv
    /// Tab-separated numbers, read as ``csv`` is.
    case tsv

    /// Guesses the format from a file name's extension, ignoring case: `npy`, `fvecs`,
    /// `bvecs`, `fbin`, `u8bin`, `i8bin`, `f16bin`, `f32`/`raw`/`bin` (raw float32),
    /// `hdf5`/`h5`/`he5`, `parquet`/`pq`, `csv` and `tsv`.
    /// - Parameter pathExtension: The extension without its dot.
    /// - Returns: `nil` for any other extension.
    public init?(pathExtension: String) {
        switch pathExtension.lowercased() {
        case "npy": self = .npy
        case "fvecs": self = .fvecs
        case "bvecs": self = .bvecs
        case "fbin": self = .fbin
        case "u8bin": self = .u8bin
        case "i8bin": self = .i8bin
        case "f16bin": self = .f16bin
        case "f32", "raw", "bin": self = .raw
        case "hdf5", "h5", "he5": self = .hdf5
        case "parquet", "pq": self = .parquet
        case "csv": self = .csv
        case "tsv": self = .tsv
        default: return nil
        }
    }

    /// Every extension ``init(pathExtension:)`` recognises, for messages that list them.
    static let recognisedExtensions = [
        "npy", "fvecs", "bvecs", "fbin", "u8bin", "i8bin", "f16bin", "f32", "raw", "bin", "hdf5", "h5", "he5", "parquet", "pq",
        "csv", "tsv",
    ]
}

/// How to open an embedding file.
public struct EmbeddingOpenOptions: Sendable {
    /// Overrides the format guessed from the extension.
    public var format: EmbeddingFormat?
    /// Row length for headerless raw float32 files. Required for `.raw`, ignored otherwise.
    public var dimension: Int?
    /// Dataset to read from an HDF5 file. The default is `train`, as in ann-benchmarks files.
    public var dataset: String
    /// Column to read from a Parquet file, by name (`emb`) or leaf path (`emb.list.element`).
    /// `nil`, the default, reads the file's only column of float lists.
    public var column: String?
    /// Whether the first line of a CSV or TSV file names the columns, and is skipped unread.
    /// Never guessed: a first line that is not all numbers is refused when this is `false`
    /// (``DatasetError/Problem/headerLine(line:column:text:)``), and read as a row when it is
    /// all numbers (a pandas header of column numbers, `0,1,2`, would be a row). The default
    /// is `false`. Ignored for other formats.
    public var hasHeaderLine: Bool
    /// Leading columns of a CSV or TSV file to ignore, such as an id column; whatever they
    /// hold is skipped unparsed. The default is 0. Ignored for other formats.
    public var skippedColumns: Int
    /// Where the float32 copy of a CSV or TSV file is written: its name is removed as soon
    /// as it is open, so it never outlives the process. The default, `nil`, is `$TMPDIR`,
    /// or `/tmp` when that is unset.
    public var temporaryDirectory: String?

    /// Options for ``openEmbeddings(at:options:)``; the defaults suit every self-describing file.
    ///
    /// - Parameters:
    ///   - format: The format, overriding the extension. The default, `nil`, guesses it.
    ///   - dimension: Row length of a raw float32 file. The default is `nil`.
    ///   - dataset: The HDF5 dataset. The default is `train`.
    ///   - column: The Parquet column. The default, `nil`, reads the only column of float lists.
    ///   - hasHeaderLine: Whether a CSV or TSV file's first line names the columns. The default is `false`.
    ///   - skippedColumns: Leading CSV or TSV columns to ignore. The default is 0.
    ///   - temporaryDirectory: Where a CSV or TSV file's float32 copy goes. The default, `nil`,
    ///     is `$TMPDIR` or `/tmp`.
    public init(
        format: EmbeddingFormat? = nil, dimension: Int? = nil, dataset: String = "train", column: String? = nil,
        hasHeaderLine: Bool = false, skippedColumns: Int = 0, temporaryDirectory: String? = nil
    ) {
        self.format = format
        self.dimension = dimension
        self.dataset = dataset
        self.column = column
        self.hasHeaderLine = hasHeaderLine
        self.skippedColumns = skippedColumns
        self.temporaryDirectory = temporaryDirectory
    }
}

/// Opens an embedding file, or a set of shard files read as one matrix, as a tile source,
/// choosing each file's reader from its extension or `options.format`.
///
/// Files are memory-mapped and their headers checked (for fvecs and bvecs, a sample of row
/// headers too), but no values are read: rows are streamed tile by tile by the passes that
/// need them, so the data may be larger than memory. CSV and TSV files are the exception:
/// they are parsed once, streaming, into a float32 copy that is then mapped the same way.
///
/// `path` may name several files (see ``ShardedSource``): a directory (its files with an
/// embedding extension, sorted by name, hidden ones skipped), a `.txt` or `.list` file
/// listing paths one a line (unless `options.format` is CSV or TSV; relative to the list's directory; blank lines and `#` lines
/// skipped), or a wildcard pattern with `*`, `?` or `[…]` that names no file itself (the
/// matching files, sorted by path). Their rows are read in that order, as one matrix named
/// by `path`.
///
/// - Parameters:
///   - path: The file, directory, list or pattern to open.
///   - options: Format, raw row length, HDF5 dataset and CSV layout, for every file. The
///     default guesses each format from its extension.
/// - Returns: A source that lends the rows as float32 tiles.
/// - Throws: ``DatasetError`` for a missing, empty, truncated or unsupported file (the one
///   at fault, in a set), a CSV or TSV field that is not a finite number (naming its line
///   and column), a pattern, directory or list that names no file, or shards that
///   differ in format, element type or dimension.
public func openEmbeddings(at path: String, options: EmbeddingOpenOptions = .init()) throws -> any EmbeddingSource {
    // Tables are often kept as `.txt` (TensorBoard's vectors are `.tsv`, others' `.txt`):
    // with the format named, a file is a table, not a list of shards.
    let namedTable = [.csv, .tsv].contains(options.format) && Syscalls.fileKind(path) == .regularFile
    if !namedTable, let shards = try ShardPaths.resolve(path) {
        return try ShardedSource.open(shards, as: path, options: options)
    }
    return try openEmbeddingFile(at: path, options: options)
}

/// Opens one embedding file: ``openEmbeddings(at:options:)`` without shard sets.
func openEmbeddingFile(at path: String, options: EmbeddingOpenOptions) throws -> any EmbeddingSource {
    let format: EmbeddingFormat
    if let chosen = options.format {
        format = chosen
    } else {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        let ext = name.contains(".") ? String(name.split(separator: ".").last!) : ""
        if let guessed = EmbeddingFormat(pathExtension: ext) {
            format = guessed
        } else if ParquetReader.hasMagic(path) {
            // Parquet shards are often named without an extension (part-00000).
            format = .parquet
        } else {
            throw DatasetError(path: path, .unknownFormat(extension: ext))
        }
    }
    switch format {
    case .npy: return try NpyReader.open(path)
    case .fvecs: return try VecsReader.open(path, elementType: .float32)
    case .bvecs: return try VecsReader.open(path, elementType: .uint8)
    case .fbin, .u8bin, .i8bin, .f16bin: return try FbinReader.open(path, format: format)
    case .raw: return try RawReader.open(path, dimension: options.dimension)
    case .hdf5: return try HDF5Reader.open(path, dataset: options.dataset)
    case .parquet: return try ParquetReader.open(path, column: options.column)
    case .csv, .tsv: return try DelimitedTextReader.open(path, format: format, options: options)
    }
}

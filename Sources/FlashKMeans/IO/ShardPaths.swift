/// Turns an input argument that names many files into the shard files it names, in the
/// order their rows are read: a wildcard pattern, a directory, or a text file listing paths.
///
/// Embedding sets are often kept as many shard files (LAION's npy shards, Hugging Face
/// exports), and the order must be stable so that row numbers, and so labels and ids, mean
/// the same rows on every run: patterns and directories are sorted byte by byte, the way
/// `LC_ALL=C ls` sorts, whatever the locale; a list keeps its own order.
enum ShardPaths {
    /// The most shards one input may name.
    ///
    /// Each open shard holds a memory mapping and a slot in the guard against files that
    /// shrink while mapped (`CMappingGuard`, 16,384 slots), and Linux allows a process
    /// 65,530 mappings by default; 10,000 stays clear of both while far exceeding real sets
    /// (LAION-5B's largest part has about 2,300 embedding shards).
    static let maximumShardCount = 10_000

    /// Extensions that mark a text file listing shard paths.
    static let listExtensions: Set<String> = ["txt", "list"]

    /// The largest list file read: 10,000 paths of `PATH_MAX` bytes fit in 41 MB, so anything
    /// larger is not a list of shards (a binary file given by mistake, say), and is refused
    /// before it is scanned.
    static let maximumListBytes = 64 << 20

    /// Linux's `PATH_MAX`: a longer line cannot be a path.
    static let maximumPathBytes = 4096

    /// The shard files `input` names, in reading order, or `nil` when it names a single file.
    ///
    /// - A directory: every regular file in it (links followed) whose extension names an
    ///   embedding format, hidden files skipped, sorted by name.
    /// - A file ending in `.txt` or `.list`: the paths it lists, one a line, in order; blank
    ///   lines and lines starting with `#` are skipped, surrounding spaces trimmed, and
    ///   relative paths taken from the list's own directory.
    /// - A path that names no file and contains `*`, `?` or `[`: the files the pattern matches
    ///   (expanded by `glob`, as a shell would), sorted by path. A file whose name contains
    ///   those characters is still read as the single file it is.
    ///
    /// - Parameter input: The input as the user gave it.
    /// - Returns: At least one path, or `nil` for a single file (which may not exist: its
    ///   reader reports that).
    /// - Throws: ``DatasetError`` naming `input` when it names no shard, too many, or is a
    ///   list that cannot be read as one.
    static func resolve(_ input: String) throws(DatasetError) -> [String]? {
        let kind = Syscalls.fileKind(input)
        let paths: [String]
        if kind == .directory {
            paths = try embeddingFiles(inDirectory: input)
        } else if listExtensions.contains(pathExtension(of: input).lowercased()) {
            paths = try listedPaths(in: input)
        } else if kind == nil, input.contains(where: { "*?[".contains($0) }) {
            paths = try matchingPaths(input)
        } else {
            return nil
        }
        guard paths.count <= maximumShardCount else {
            throw DatasetError(path: input, .tooManyShards(found: paths.count, limit: maximumShardCount))
        }
        return paths
    }

    /// The extension of the last path component, without its dot; empty when it has none.
    static func pathExtension(of path: String) -> String {
        let name = path.split(separator: "/").last ?? ""
        guard let dot = name.lastIndex(of: ".") else { return "" }
        return String(name[name.index(after: dot)...])
    }

    /// Byte order, so that the order does not depend on the locale or on Unicode normalization.
    private static func sortedByBytes(_ paths: [String]) -> [String] {
        paths.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    private static func matchingPaths(_ pattern: String) throws(DatasetError) -> [String] {
        let paths = try Syscalls.matchingPaths(pattern)
        guard !paths.isEmpty else { throw DatasetError(path: pattern, .noMatchingFiles) }
        return sortedByBytes(paths)
    }

    private static func embeddingFiles(inDirectory directory: String) throws(DatasetError) -> [String] {
        let prefix = directory.hasSuffix("/") ? directory : directory + "/"
        let names = try Syscalls.directoryEntries(directory).filter { name in
            !name.hasPrefix(".") && EmbeddingFormat(pathExtension: pathExtension(of: name)) != nil
                && Syscalls.fileKind(prefix + name) == .regularFile
        }
        guard !names.isEmpty else { throw DatasetError(path: directory, .noEmbeddingFiles) }
        return sortedByBytes(names).map { prefix + $0 }
    }

    private static func listedPaths(in list: String) throws(DatasetError) -> [String] {
        let file: MappedFile
        do throws(DatasetError) {
            file = try MappedFile(path: list)
        } catch {
            throw error.problem == .empty ? DatasetError(path: list, .emptyShardList) : error
        }
        guard file.byteCount <= maximumListBytes else {
            throw DatasetError(
                path: list, .badShardList("it is \(file.byteCount) bytes, more than a list of \(maximumShardCount) paths can be"))
        }
        let directory = list.contains("/") ? String(list[...list.lastIndex(of: "/")!]) : ""
        let paths = try file.withBytes { bytes throws(DatasetError) -> [String] in
            var paths: [String] = []
            var lineNumber = 0
            var start = bytes.startIndex
            while start < bytes.endIndex {
                lineNumber += 1
                let end = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.endIndex
                let line = bytes[start..<end]
                start = end + 1
                func bad(_ why: String) -> DatasetError { DatasetError(path: list, .badShardList("line \(lineNumber) \(why)")) }
                guard line.count <= maximumPathBytes else { throw bad("is longer than any path (\(maximumPathBytes) bytes)") }
                // Tabs and the carriage returns of Windows line ends are text; other control
                // bytes mark a binary file given by mistake.
                if let control = line.first(where: { ($0 < 0x20 && $0 != 0x09 && $0 != 0x0D) || $0 == 0x7F }) {
                    let hex = String(control, radix: 16, uppercase: true)
                    throw bad("holds the control byte 0x\(hex.count == 1 ? "0" + hex : hex): is it a text file?")
                }
                guard let text = String(validating: line, as: UTF8.self) else { throw bad("is not UTF-8 text") }
                var entry = Substring(text)
                while entry.first?.isWhitespace == true { entry.removeFirst() }
                while entry.last?.isWhitespace == true { entry.removeLast() }
                if entry.isEmpty || entry.first == "#" { continue }
                let path = String(entry)
                paths.append(path.hasPrefix("/") ? path : directory + path)
            }
            return paths
        }
        guard !paths.isEmpty else { throw DatasetError(path: list, .emptyShardList) }
        return paths
    }
}

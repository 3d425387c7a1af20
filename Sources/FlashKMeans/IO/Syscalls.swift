#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The only place the library talks to the kernel directly. Each wrapper turns
/// `errno` into a ``DatasetError`` naming the path and the operation.
enum Syscalls {
    static func errorMessage(_ code: Int32 = errno) -> String {
        String(cString: strerror(code))
    }

    static func openReadOnly(_ path: String) throws(DatasetError) -> Int32 {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw DatasetError(path: path, .system(operation: "open", message: errorMessage()))
        }
        return descriptor
    }

    static func fileSize(_ descriptor: Int32, path: String) throws(DatasetError) -> Int {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            throw DatasetError(path: path, .system(operation: "fstat", message: errorMessage()))
        }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            throw DatasetError(path: path, .system(operation: "open", message: "is a directory"))
        }
        return Int(info.st_size)
    }

    static func mapReadOnly(_ descriptor: Int32, byteCount: Int, path: String) throws(DatasetError) -> UnsafeRawPointer {
        guard let address = mmap(nil, byteCount, PROT_READ, MAP_SHARED, descriptor, 0),
              address != MAP_FAILED
        else {
            throw DatasetError(path: path, .system(operation: "mmap", message: errorMessage()))
        }
        return UnsafeRawPointer(address)
    }

    static func unmap(_ address: UnsafeRawPointer, byteCount: Int) {
        munmap(UnsafeMutableRawPointer(mutating: address), byteCount)
    }

    /// Tells the kernel the mapping is read front to back, so it reads ahead
    /// aggressively and can drop pages behind us when memory is short, and in 2 MiB
    /// pages where it can.
    ///
    /// Every pass maps the file's pages and gives them back, and that costs per page. Linux
    /// reads a `MADV_HUGEPAGE` mapping ahead in 2 MiB pages where the file system allows (ext4
    /// on the 6.18 kernel we measured on), and a pass then maps and releases them 2 MiB at a
    /// time. 20 iterations on 43,742 × 384 rows, read from a cold cache and then warm, 2 threads:
    /// 0.18-0.19 s of system time and 1.38-1.40 s against 0.24-0.31 s and 1.47-1.63 s without the
    /// advice, which left most of the file in 4 KiB pages (0.43 s where all of it was). A kernel
    /// without transparent huge pages refuses the advice, which changes nothing else.
    static func adviseSequential(_ address: UnsafeRawPointer, byteCount: Int) {
        _ = madvise(UnsafeMutableRawPointer(mutating: address), byteCount, MADV_SEQUENTIAL)
        #if os(Linux)
        _ = madvise(UnsafeMutableRawPointer(mutating: address), byteCount, 14 /* MADV_HUGEPAGE */)
        #endif
    }

    /// Drops a mapped range from this process's resident set. The pages stay in the page
    /// cache, so touching them again costs a minor fault, not a read.
    static func releasePages(_ address: UnsafeRawPointer, byteCount: Int) {
        _ = madvise(UnsafeMutableRawPointer(mutating: address), byteCount, MADV_DONTNEED)
    }

    /// Maps a range's pages in one system call (Linux 5.14+), which is cheaper than
    /// taking a fault per page; older kernels refuse it and the pages fault in as read.
    static func populatePages(_ address: UnsafeRawPointer, byteCount: Int) {
        #if os(Linux)
        _ = madvise(UnsafeMutableRawPointer(mutating: address), byteCount, 22 /* MADV_POPULATE_READ */)
        #endif
    }

    static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    /// Where temporary files go: `$TMPDIR`, or `/tmp` when it is unset or empty.
    static var temporaryDirectory: String {
        guard let value = getenv("TMPDIR"), value.pointee != 0 else { return "/tmp" }
        return String(cString: value)
    }

    /// Reads up to `buffer.count` bytes from `descriptor` (`read`, retried when a signal
    /// interrupts it).
    /// - Returns: The bytes read; 0 at the end of the file.
    static func readBytes(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer, path: String) throws(DatasetError) -> Int {
        while true {
            let count = read(descriptor, buffer.baseAddress, buffer.count)
            if count >= 0 { return count }
            if errno != EINTR { throw DatasetError(path: path, .system(operation: "read", message: errorMessage())) }
        }
    }

    /// A new file in `directory`, open for reading and writing, whose name is removed at once
    /// (`mkstemp`, then `unlink`): it lives only as long as its descriptor and mappings, so
    /// no exit, signal or crash can leave it behind.
    /// - Parameters:
    ///   - directory: Where the file's blocks are taken from.
    ///   - path: The file the copy is made for, which errors name.
    static func createUnnamedFile(in directory: String, for path: String) throws(DatasetError) -> Int32 {
        var template = Array((directory.hasSuffix("/") ? directory : directory + "/").utf8CString.dropLast())
        template += Array("flashkmeans-XXXXXX".utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else {
            throw DatasetError(path: path, .system(operation: "creating a temporary file in \(directory)", message: errorMessage()))
        }
        _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        return descriptor
    }

    /// Writes all of `bytes` to `descriptor` (`write`, continued after partial writes and
    /// signals).
    /// - Parameters:
    ///   - operation: What the write is for, as the error names it.
    ///   - path: The file errors name.
    static func writeAll(
        _ descriptor: Int32, _ bytes: UnsafeRawBufferPointer, operation: String, path: String
    ) throws(DatasetError) {
        var written = 0
        while written < bytes.count {
            let count = write(descriptor, bytes.baseAddress! + written, bytes.count - written)
            if count < 0 {
                if errno == EINTR { continue }
                throw DatasetError(path: path, .system(operation: operation, message: errorMessage()))
            }
            written += count
        }
    }

    static func closeDescriptor(_ descriptor: Int32) {
        _ = close(descriptor)
    }

    /// What a path names, following symbolic links (shards are often links into a cache).
    enum FileKind {
        case regularFile, directory, other
    }

    /// What `path` names, from `stat`; `nil` when it names nothing that can be reached.
    static func fileKind(_ path: String) -> FileKind? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return .regularFile
        case S_IFDIR: return .directory
        default: return .other
        }
    }

    /// The names in directory `path` (without `.` and `..`), in the order `readdir` gives them.
    static func directoryEntries(_ path: String) throws(DatasetError) -> [String] {
        guard let directory = opendir(path) else {
            throw DatasetError(path: path, .system(operation: "opendir", message: errorMessage()))
        }
        defer { closedir(directory) }
        var names: [String] = []
        while true {
            errno = 0
            guard let entry = readdir(directory) else {
                if errno != 0 { throw DatasetError(path: path, .system(operation: "readdir", message: errorMessage())) }
                return names
            }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { bytes in
                String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
    }

    /// The paths matching the shell wildcard `pattern` (`*`, `?`, `[…]`), from `glob`, in no
    /// particular order; empty when nothing matches. As in the shell, names starting with a
    /// dot match only a pattern that spells the dot, and unreadable directories are skipped.
    static func matchingPaths(_ pattern: String) throws(DatasetError) -> [String] {
        var matches = glob_t()
        defer { globfree(&matches) }
        let status = glob(pattern, GLOB_NOSORT, nil, &matches)
        switch status {
        case 0:
            return (0..<Int(matches.gl_pathc)).compactMap { index in matches.gl_pathv[index].map { String(cString: $0) } }
        case GLOB_NOMATCH:
            return []
        case GLOB_NOSPACE:
            throw DatasetError(path: pattern, .system(operation: "glob", message: "out of memory"))
        default:
            throw DatasetError(path: pattern, .system(operation: "glob", message: "a directory could not be read"))
        }
    }
}

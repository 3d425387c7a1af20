#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The system calls that put results on disk safely: locks, renames that exchange or refuse to
/// replace, and fsync. Each failure becomes an ``OutputError`` naming the path.
extension Syscalls {
    /// How ``move(_:to:_:)`` treats an existing destination.
    enum RenameMode {
        /// Replace it, as rename(2) does (only an empty directory can be replaced by a directory).
        case replace
        /// Swap the two atomically; both must exist (Linux `RENAME_EXCHANGE`).
        case exchange
        /// Fail with EEXIST instead (Linux `RENAME_NOREPLACE`).
        case noReplace
    }

    private typealias Renameat2 = @convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32) -> Int32

    /// glibc's renameat2(2). It is declared only under `_GNU_SOURCE`, which Swift's Glibc module
    /// does not define, so it is looked up by name; nil where the C library lacks it.
    private static let renameat2: Renameat2? = {
        #if os(Linux)
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "renameat2") else { return nil }  // RTLD_DEFAULT
        return unsafeBitCast(symbol, to: Renameat2.self)
        #else
        return nil
        #endif
    }()

    /// Renames `source` to `destination`.
    ///
    /// - Returns: 0, or the errno: EINVAL or ENOSYS when the file system or kernel cannot
    ///   exchange or refuse (callers then fall back), EEXIST when `noReplace` met a destination.
    static func move(_ source: String, to destination: String, _ mode: RenameMode) -> Int32 {
        let flags: UInt32
        switch mode {
        case .replace:
            return rename(source, destination) == 0 ? 0 : errno
        case .exchange: flags = 1 << 1  // RENAME_EXCHANGE
        case .noReplace: flags = 1 << 0  // RENAME_NOREPLACE
        }
        guard let renameat2 else { return ENOSYS }
        return renameat2(AT_FDCWD, source, AT_FDCWD, destination, flags) == 0 ? 0 : errno
    }

    /// Writes `bytes` as the whole of a new (or truncated) file at `path`, with plain system
    /// calls, so that errors read like every other writer's (the system's words for errno).
    static func writeFile(_ path: String, _ bytes: [UInt8]) throws(OutputError) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw OutputError(path: path, .cannotCreateFile(errorMessage())) }
        defer { close(descriptor) }
        var written = 0
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { throw OutputError(path: path, .writeFailed(errorMessage())) }
            written += count
        }
    }

    /// Flushes a file's data and metadata to the disk (fsync), so that it survives a power cut.
    static func syncFile(_ path: String) throws(OutputError) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw OutputError(path: path, .syncFailed(errorMessage())) }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw OutputError(path: path, .syncFailed(errorMessage())) }
    }

    /// Flushes a directory's entries to the disk, so that files created or renamed in it stay.
    static func syncDirectory(_ path: String) throws(OutputError) {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw OutputError(path: path, .syncFailed(errorMessage())) }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw OutputError(path: path, .syncFailed(errorMessage())) }
    }

    /// Opens `path`, creating it, and takes an exclusive `flock` without waiting.
    ///
    /// The lock belongs to the open file, so it ends when the descriptor is closed or the process
    /// dies, however it dies. A holder removes the file before it lets go, so a lock won on a file
    /// that is no longer at `path` guards nothing; the call then starts again.
    ///
    /// - Returns: The descriptor holding the lock, or nil when another open file holds it.
    static func lockFile(_ path: String) throws(OutputError) -> Int32? {
        for _ in 0..<64 {
            let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
            guard descriptor >= 0 else { throw OutputError(path: path, .cannotCreateFile(errorMessage())) }
            guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
                let code = errno
                close(descriptor)
                if code == EWOULDBLOCK { return nil }
                throw OutputError(path: path, .cannotCreateFile(errorMessage(code)))
            }
            var opened = stat()
            var named = stat()
            if fstat(descriptor, &opened) == 0, stat(path, &named) == 0, opened.st_dev == named.st_dev, opened.st_ino == named.st_ino {
                return descriptor
            }
            close(descriptor)
        }
        throw OutputError(path: path, .cannotCreateFile("another process keeps replacing this lock file"))
    }

    /// Whether some open file holds a `flock` on `path` (a live writer); false when the file is
    /// gone or nobody holds it.
    static func isLocked(_ path: String) -> Bool {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        return flock(descriptor, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK
    }

    /// The file type bits of `path` itself (not of a symbolic link's target), or nil when it is missing.
    static func fileType(_ path: String) -> mode_t? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return info.st_mode & S_IFMT
    }
}

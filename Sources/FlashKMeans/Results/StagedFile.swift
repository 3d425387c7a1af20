#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One file written under a hidden temporary name beside its destination and renamed into
/// place only when complete and flushed to disk, so that the destination is never half written.
///
/// The temporary, `.<name>.tmp-<pid>`, carries an exclusive `flock` for as long as its writer
/// lives. A writer killed outright (SIGKILL, a power cut) cannot remove it, so creating a
/// `StagedFile` removes every temporary of the same destination that nobody holds.
public final class StagedFile: @unchecked Sendable {
    /// The file's final path.
    public let destination: String
    /// Where to write the file before ``commit()``.
    public let temporaryPath: String
    /// Called once the file is flushed to disk, just before it is renamed into place, on the
    /// thread that called ``commit()``. The command line's tests pause here. The default is nil.
    public var willReplace: (@Sendable () -> Void)?

    private let overwrite: Bool
    private let directory: String

    /// Guards the state below: ``abandon()`` may come from another thread (a signal handler's).
    private let stateLock = Lock()
    /// Holds the temporary's lock until the file is in place or abandoned.
    private var descriptor: Int32
    private var phase = Phase.open

    private enum Phase { case open, replaced, abandoned }

    /// Creates the temporary for `destination`, after removing the temporaries that dead writers
    /// left for it.
    ///
    /// - Parameters:
    ///   - destination: The file to write; its directory must exist.
    ///   - overwrite: Whether an existing file may be replaced. Without it, the rename at the end
    ///     also refuses a file that appeared while writing (`RENAME_NOREPLACE`, or a hard link where
    ///     that is not supported).
    /// - Throws: ``OutputError``: ``OutputError/Problem/fileExists`` when the file exists and
    ///   `overwrite` is false, ``OutputError/Problem/isADirectory`` for a directory, otherwise
    ///   when the temporary cannot be created.
    public init(destination: String, overwrite: Bool) throws {
        var info = stat()
        if stat(destination, &info) == 0 {
            if info.st_mode & S_IFMT == S_IFDIR { throw OutputError(path: destination, .isADirectory) }
            if !overwrite { throw OutputError(path: destination, .fileExists) }
        }
        var directory = PathComponents.parent(of: destination)
        if directory.isEmpty { directory = "." }
        let name = PathComponents.lastComponent(of: destination)
        let prefix = "." + name + ".tmp-"
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where entry.hasPrefix(prefix) {
            let suffix = entry.dropFirst(prefix.count)
            guard !suffix.isEmpty, suffix.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "-") }) else { continue }
            let stale = directory + "/" + entry
            if Syscalls.fileType(stale) == S_IFREG, !Syscalls.isLocked(stale) { unlink(stale) }
        }
        var created: (path: String, descriptor: Int32)?
        for attempt in 0..<1000 where created == nil {
            let candidate = directory + "/" + prefix + "\(getpid())" + (attempt == 0 ? "" : "-\(attempt)")
            let descriptor = open(candidate, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
            if descriptor >= 0 {
                created = (candidate, descriptor)
            } else if errno != EEXIST {
                throw OutputError(path: destination, .cannotCreateFile(Syscalls.errorMessage()))
            }
        }
        guard let created else { throw OutputError(path: destination, .cannotCreateFile("no free temporary name")) }
        // Nobody else has this new file open, so the lock is granted at once.
        flock(created.descriptor, LOCK_EX | LOCK_NB)
        self.destination = destination
        self.overwrite = overwrite
        self.directory = directory
        temporaryPath = created.path
        descriptor = created.descriptor
    }

    deinit {
        abandon()
    }

    /// Flushes the temporary to disk and renames it to the destination, then flushes the
    /// directory; on failure the temporary is removed.
    ///
    /// - Throws: ``OutputError``: ``OutputError/Problem/fileExists`` when the destination appeared
    ///   and may not be replaced; ``OutputError/Problem/abandoned`` after ``abandon()``; otherwise
    ///   when flushing or renaming fails.
    public func commit() throws {
        do {
            try stateLock.withLock { () throws in
                guard phase == .open else { throw OutputError(path: destination, .abandoned) }
                guard fsync(descriptor) == 0 else { throw OutputError(path: destination, .syncFailed(Syscalls.errorMessage())) }
            }
            willReplace?()
            try stateLock.withLock { () throws in
                guard phase == .open else { throw OutputError(path: destination, .abandoned) }
                try moveIntoPlace()
                close(descriptor)
                descriptor = -1
                phase = .replaced
            }
        } catch {
            abandon()
            throw error
        }
        do {
            try Syscalls.syncDirectory(directory)
        } catch {
            throw OutputError(path: destination, error.problem)
        }
    }

    /// Removes the temporary unless the file is already in place. Safe from any thread, at any
    /// time, more than once; a later ``commit()`` fails.
    ///
    /// - Returns: Whether the file was already in place.
    @discardableResult
    public func abandon() -> OutputDirectory.Abandonment {
        stateLock.withLock {
            switch phase {
            case .replaced:
                return .resultsInPlace
            case .abandoned:
                return .nothingChanged
            case .open:
                unlink(temporaryPath)
                close(descriptor)
                descriptor = -1
                phase = .abandoned
                return .nothingChanged
            }
        }
    }

    /// Called with `stateLock` held.
    private func moveIntoPlace() throws(OutputError) {
        if overwrite {
            let code = Syscalls.move(temporaryPath, to: destination, .replace)
            guard code == 0 else { throw OutputError(path: destination, .renameFailed(Syscalls.errorMessage(code))) }
            return
        }
        var code = Syscalls.move(temporaryPath, to: destination, .noReplace)
        if code == EINVAL || code == ENOSYS || code == ENOTSUP {
            // link(2) refuses an existing name just as atomically.
            code = link(temporaryPath, destination) == 0 ? 0 : errno
            if code == 0 { unlink(temporaryPath) }
        }
        if code == EEXIST { throw OutputError(path: destination, .fileExists) }
        guard code == 0 else { throw OutputError(path: destination, .renameFailed(Syscalls.errorMessage(code))) }
    }
}

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

/// A results directory that a reader always finds holding one complete set of results: the
/// old set until the new one is complete and on disk, then the new set alone.
///
/// ``prepare(path:fileNames:overwrite:otherResultNames:)`` checks the location before any
/// work, so a run that could not save its results fails in a second, not after an hour, and
/// takes a lock that keeps other runs out of the directory until the run ends.
/// ``commit(_:)`` writes every file into a fresh hidden sibling, `.<name>.staging-<pid>`,
/// flushes each file and that directory to the disk, and swaps it into place in one atomic
/// exchange (`renameat2` with `RENAME_EXCHANGE` on Linux); the old set is then deleted. A
/// power cut at any moment leaves the old set or the new one, and at most a staging directory
/// that the next run into the directory removes.
///
/// What may be replaced: a directory that holds only result files (``fileNames`` and
/// `otherResultNames`, regular files), and temporaries earlier runs left. A directory holding
/// anything else, even an empty subdirectory, is refused whatever `overwrite` says, since
/// replacing the set as a whole would delete those entries.
///
/// The lock is an exclusive `flock` on `.<name>.lock` beside the directory (the directory itself
/// is swapped, so it cannot carry the lock). The kernel drops it when the process dies, however
/// it dies, and the lock file is removed when the run ends.
public final class OutputDirectory: @unchecked Sendable {
    /// What ``abandon()`` found.
    public enum Abandonment: Sendable, Equatable {
        /// The directory is as it was before the run: the new results were not yet in place.
        case nothingChanged
        /// The new results were already in place when the run was stopped, and stay.
        case resultsInPlace
    }

    /// The directory, as given; it may not exist until ``commit(_:)``.
    public let path: String
    /// The names of the files this run writes.
    public let fileNames: [String]
    /// Called once every file is written and flushed to disk, just before the set is swapped
    /// into place, on the thread that called ``commit(_:)``. The command line's tests pause here.
    /// The default is nil.
    public var willReplace: (@Sendable () -> Void)?
    /// Whether this run's results are in place, readable after the directory is released: a
    /// signal's cleanup may come after the command has let go of it, results written.
    public let placement = ResultsPlacement()

    private let overwrite: Bool
    /// Every name that counts as a result, this run's and other kinds'.
    private let resultNames: Set<String>
    /// The existing directory the results directory lives in (absolute).
    private let parent: String
    /// The results directory's own name in `parent`.
    private let name: String
    /// Missing parents `prepare` created, outermost first; removed again if the run fails.
    private let createdParents: [String]
    private let lockPath: String

    /// Guards everything below: ``abandon()`` may come from another thread (a signal handler's).
    private let stateLock = Lock()
    private var lockDescriptor: Int32 = -1
    /// The staging directory while the run writes; after the swap, the old set to delete.
    private var staging: String?
    private var phase = Phase.open

    private enum Phase { case open, replaced, finished, abandoned }

    private var target: String { parent + "/" + name }

    /// Where a run that can be resumed keeps its ``Checkpoint``: `.<name>.checkpoint` beside
    /// the directory, under the same lock (the directory itself appears only with the
    /// results, and an old set in it must stay complete).
    public var checkpointPath: String { parent + "/." + name + ".checkpoint" }

    private init(
        path: String, fileNames: [String], overwrite: Bool, resultNames: Set<String>, parent: String, name: String,
        createdParents: [String]
    ) {
        self.path = path
        self.fileNames = fileNames
        self.overwrite = overwrite
        self.resultNames = resultNames
        self.parent = parent
        self.name = name
        self.createdParents = createdParents
        lockPath = parent + "/." + name + ".lock"
    }

    deinit {
        abandon()
    }

    /// Checks, before any work, that the results could be saved at `path`, and locks it.
    ///
    /// Under the lock it also cleans up after runs that were killed: staging directories they
    /// left beside the directory are deleted, temporaries of earlier versions inside it too, and
    /// a set that was moved aside for a swap (where the file system cannot exchange) and never
    /// replaced is moved back.
    ///
    /// Missing parent directories are created now, since the lock lives in the parent, and
    /// removed again when the run fails; the results directory itself appears only with the
    /// results.
    ///
    /// - Parameters:
    ///   - path: The results directory; it need not exist, but its nearest existing ancestor
    ///     must be a writable directory. A symbolic link to a directory stands for its target.
    ///   - fileNames: The files the run will write, such as ``KMeansResult/outputFileNames``.
    ///   - overwrite: Whether an existing set of results may be replaced.
    ///   - otherResultNames: Files that other kinds of run write into such a directory: they
    ///     count as results, to be replaced as part of the old set, not as foreign entries.
    ///     The default is none.
    /// - Returns: The directory, locked and ready for ``commit(_:)``.
    /// - Throws: ``OutputError``: ``OutputError/Problem/busy(processID:)`` when another run holds
    ///   the directory; ``OutputError/Problem/existingResults(_:)`` when it holds results and
    ///   `overwrite` is false; ``OutputError/Problem/foreignEntries(_:)`` when it holds anything
    ///   else; ``OutputError/Problem/notADirectory`` for a file; otherwise when it cannot be
    ///   created or written.
    public static func prepare(
        path: String, fileNames: [String], overwrite: Bool, otherResultNames: [String] = []
    ) throws -> OutputDirectory {
        let (parent, name, missingParents) = try locate(path)
        var createdParents: [String] = []
        for directory in missingParents {
            if mkdir(directory, 0o777) == 0 {
                createdParents.append(directory)
            } else if errno != EEXIST {
                let reason = Syscalls.errorMessage()
                for created in createdParents.reversed() { rmdir(created) }
                throw OutputError(path: path, .cannotCreateDirectory("\(directory): \(reason)"))
            }
        }
        let directory = OutputDirectory(
            path: path, fileNames: fileNames, overwrite: overwrite, resultNames: Set(fileNames + otherResultNames),
            parent: parent, name: name, createdParents: createdParents)
        do {
            try directory.takeLock()
            directory.removeStaleTemporaries()
            try directory.checkExistingContents()
        } catch {
            directory.abandon()
            throw error
        }
        return directory
    }

    /// Writes each file through its closure into a staging directory, flushes them all to the
    /// disk, swaps the new set into place and deletes the old one; releases the lock.
    ///
    /// On any failure the staging directory is deleted, the old set is left as it was, and the
    /// lock is released.
    ///
    /// - Parameter writers: Each file's name in the directory and the closure that writes it to
    ///   the path it is given (inside the staging directory).
    /// - Throws: ``OutputError`` when the staging directory cannot be made, a file cannot be
    ///   flushed, the directory changed so that it can no longer be replaced, or the swap fails
    ///   (errors from writers name the file in the results directory); otherwise whatever a writer
    ///   throws. When only the final flush of the parent directory fails, the new set is already
    ///   in place.
    public func commit(_ writers: [(name: String, write: (String) throws -> Void)]) throws {
        let staging = try stateLock.withLock { () throws -> String in
            guard phase == .open else { throw OutputError(path: path, .abandoned) }
            let staging = try makeSibling(kind: "staging", create: true)
            self.staging = staging
            return staging
        }
        do {
            for writer in writers {
                do {
                    try writer.write(staging + "/" + writer.name)
                } catch var error as OutputError {
                    // The staging directory is an implementation detail: name the result file.
                    if error.path.hasPrefix(staging + "/") {
                        error.path = path + "/" + error.path.dropFirst(staging.count + 1)
                    }
                    throw error
                }
            }
            for writer in writers {
                do {
                    try Syscalls.syncFile(staging + "/" + writer.name)
                } catch {
                    throw OutputError(path: path + "/" + writer.name, error.problem)
                }
            }
            try Syscalls.syncDirectory(staging)
            willReplace?()
            try stateLock.withLock { () throws in
                guard phase == .open else { throw OutputError(path: path, .abandoned) }
                // Hours may have passed since `prepare`: check again what the swap would delete.
                try checkExistingContents()
                try swapIntoPlace(staging)
                phase = .replaced
                placement.markInPlace()
            }
        } catch {
            abandon()
            throw error
        }
        defer { abandon() }
        // The exchange is atomic, but only durable once the parent's entries are on disk.
        do {
            try Syscalls.syncDirectory(parent)
        } catch {
            throw OutputError(path: path, error.problem)
        }
    }

    /// Stops the run's use of the directory: deletes the staging directory (or, once the new set
    /// is in place, the old set), the parents `prepare` created for a set that never arrived,
    /// and the lock. Safe to call from any thread, at any time, more than once; the command line
    /// calls it from its SIGINT and SIGTERM handling. A later ``commit(_:)`` fails.
    ///
    /// - Returns: Whether the new results were already in place.
    @discardableResult
    public func abandon() -> Abandonment {
        stateLock.withLock {
            switch phase {
            case .finished:
                return .resultsInPlace
            case .abandoned:
                return .nothingChanged
            case .replaced:
                if let staging { _ = removeResultDirectory(staging) }
                staging = nil
                releaseLock()
                phase = .finished
                return .resultsInPlace
            case .open:
                if let staging { removeStaging(staging) }
                staging = nil
                releaseLock()
                for directory in createdParents.reversed() { rmdir(directory) }
                phase = .abandoned
                return .nothingChanged
            }
        }
    }

    // MARK: Location and lock

    /// The existing parent, the directory's name in it, and the missing parents to create
    /// (outermost first).
    private static func locate(_ path: String) throws -> (parent: String, name: String, missing: [String]) {
        if Syscalls.fileType(path) != nil {
            var info = stat()
            guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR, let resolved = realPath(path) else {
                throw OutputError(path: path, .notADirectory)
            }
            guard resolved != "/" else { throw OutputError(path: path, .notWritable("the root directory cannot be replaced")) }
            let parent = PathComponents.parent(of: resolved)
            guard access(parent, W_OK | X_OK) == 0 else {
                throw OutputError(path: path, .notWritable("results are swapped in from beside it, and \(parent) is not writable"))
            }
            return (parent, PathComponents.lastComponent(of: resolved), [])
        }
        // Walk up to the nearest existing ancestor; everything below it is created.
        var missing: [String] = []
        var ancestor = path
        repeat {
            missing.insert(PathComponents.lastComponent(of: ancestor), at: 0)
            ancestor = PathComponents.parent(of: ancestor)
            if ancestor.isEmpty { ancestor = "." }
        } while Syscalls.fileType(ancestor) == nil
        var info = stat()
        guard stat(ancestor, &info) == 0, info.st_mode & S_IFMT == S_IFDIR, let resolved = realPath(ancestor) else {
            throw OutputError(path: path, .cannotCreateDirectory("\(ancestor) is not a directory"))
        }
        guard access(ancestor, W_OK | X_OK) == 0 else {
            throw OutputError(path: path, .cannotCreateDirectory("\(ancestor) is not writable"))
        }
        guard let name = missing.last, ![".", "..", "/"].contains(name) else {
            throw OutputError(path: path, .cannotCreateDirectory("the path does not end in a directory name"))
        }
        var parents: [String] = []
        var parent = resolved
        for component in missing.dropLast() {
            parent = parent == "/" ? "/" + component : parent + "/" + component
            parents.append(parent)
        }
        return (parent, name, parents)
    }

    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    private func takeLock() throws {
        guard let descriptor = try Syscalls.lockFile(lockPath) else {
            let holder = (try? String(contentsOfFile: lockPath, encoding: .utf8)).flatMap {
                Int32($0.filter { !$0.isWhitespace })
            }
            throw OutputError(path: path, .busy(processID: holder))
        }
        // The holder's process id, for the message a second run prints.
        let text = "\(getpid())\n"
        _ = ftruncate(descriptor, 0)
        _ = text.withCString { pwrite(descriptor, $0, strlen($0), 0) }
        stateLock.withLock { lockDescriptor = descriptor }
    }

    /// Removes the lock file, then lets go: in that order, so that a run which opened the file
    /// just before can tell that the lock it then wins guards nothing. Called with `stateLock` held.
    private func releaseLock() {
        guard lockDescriptor >= 0 else { return }
        unlink(lockPath)
        close(lockDescriptor)
        lockDescriptor = -1
    }

    // MARK: Contents

    /// A hidden sibling of the directory, `.<name>.<kind>-<pid>` (with a counter when taken).
    private func makeSibling(kind: String, create: Bool) throws(OutputError) -> String {
        for attempt in 0..<1000 {
            let candidate = parent + "/." + name + ".\(kind)-\(getpid())" + (attempt == 0 ? "" : "-\(attempt)")
            if create {
                if mkdir(candidate, 0o777) == 0 { return candidate }
                guard errno == EEXIST else {
                    throw OutputError(path: path, .cannotCreateDirectory("\(candidate): \(Syscalls.errorMessage())"))
                }
            } else if Syscalls.fileType(candidate) == nil {
                return candidate
            }
        }
        throw OutputError(path: path, .cannotCreateDirectory("no free name for a \(kind) directory in \(parent)"))
    }

    /// Whether `entry` is one of this directory's hidden siblings of `kind`, as ``makeSibling(kind:create:)`` names them.
    private func isSibling(_ entry: String, kind: String) -> Bool {
        let prefix = "." + name + "." + kind + "-"
        guard entry.hasPrefix(prefix) else { return false }
        let suffix = entry.dropFirst(prefix.count)
        return !suffix.isEmpty && suffix.allSatisfy { $0.isASCII && ($0.isNumber || $0 == "-") }
    }

    /// Whether `entry` is a temporary an earlier version wrote inside the directory,
    /// `.<result name>.tmp-<pid>`.
    private func isLeftoverTemporary(_ entry: String) -> Bool {
        guard entry.hasPrefix("."), let marker = entry.ranges(of: ".tmp-").last else { return false }
        let digits = entry[marker.upperBound...]
        return !digits.isEmpty && digits.allSatisfy { $0.isASCII && $0.isNumber }
            && resultNames.contains(String(entry[entry.index(after: entry.startIndex)..<marker.lowerBound]))
    }

    /// Cleans up after runs that died without doing so; only ever called with the lock held, so
    /// no live run owns what it finds.
    private func removeStaleTemporaries() {
        let siblings = (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? []
        // A run that swapped by two renames and died between them left the old set aside.
        if Syscalls.fileType(target) == nil, let aside = siblings.filter({ isSibling($0, kind: "previous") }).sorted().last {
            _ = Syscalls.move(parent + "/" + aside, to: target, .replace)
        }
        for entry in siblings where isSibling(entry, kind: "staging") || isSibling(entry, kind: "previous") {
            if Syscalls.fileType(parent + "/" + entry) == S_IFDIR { _ = removeResultDirectory(parent + "/" + entry) }
        }
        // A checkpoint being written when its run was killed (the checkpoint itself stays).
        for entry in siblings where isSibling(entry, kind: "checkpoint.tmp") {
            if Syscalls.fileType(parent + "/" + entry) == S_IFREG { unlink(parent + "/" + entry) }
        }
        guard Syscalls.fileType(target) == S_IFDIR else { return }
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: target)) ?? [] where isLeftoverTemporary(entry) {
            let file = target + "/" + entry
            if Syscalls.fileType(file) == S_IFREG, !Syscalls.isLocked(file) { unlink(file) }
        }
    }

    /// Refuses a path that is not a directory, one holding anything but results, and one
    /// holding results when they may not be replaced.
    private func checkExistingContents() throws(OutputError) {
        guard let type = Syscalls.fileType(target) else { return }
        guard type == S_IFDIR else { throw OutputError(path: path, .notADirectory) }
        let entries: [String]
        do {
            entries = try Syscalls.directoryEntries(target).sorted()
        } catch {
            throw OutputError(path: path, .notWritable(error.problemDescription))
        }
        var results: [String] = []
        var foreign: [String] = []
        for entry in entries {
            let type = Syscalls.fileType(target + "/" + entry)
            if type == S_IFREG && resultNames.contains(entry) {
                results.append(entry)
            } else if type == S_IFREG && isLeftoverTemporary(entry) {
                continue
            } else {
                foreign.append(type == S_IFDIR ? entry + "/" : entry)
            }
        }
        if !foreign.isEmpty { throw OutputError(path: path, .foreignEntries(foreign)) }
        if !results.isEmpty && !overwrite { throw OutputError(path: path, .existingResults(results)) }
    }

    /// Puts `staging` where the directory is; afterwards `staging` names the old set, if any.
    /// Called with `stateLock` held.
    private func swapIntoPlace(_ staging: String) throws(OutputError) {
        var existing = stat()
        guard stat(target, &existing) == 0 else {
            // Nothing to replace; rename(2) would replace only an empty directory that appeared meanwhile.
            let code = Syscalls.move(staging, to: target, .replace)
            guard code == 0 else { throw OutputError(path: path, .renameFailed(Syscalls.errorMessage(code))) }
            self.staging = nil
            return
        }
        // The new directory takes the old one's permissions, as files replaced in place would have kept them.
        chmod(staging, existing.st_mode & 0o7777)
        let code = Syscalls.move(staging, to: target, .exchange)
        if code == 0 { return }
        guard code == EINVAL || code == ENOSYS || code == ENOTSUP else {
            throw OutputError(path: path, .renameFailed(Syscalls.errorMessage(code)))
        }
        // No exchange here: move the old set aside, then the new one in. A crash between the two
        // leaves the old set at `.<name>.previous-<pid>`, and the next run moves it back.
        let aside = try makeSibling(kind: "previous", create: false)
        let first = Syscalls.move(target, to: aside, .replace)
        guard first == 0 else { throw OutputError(path: path, .renameFailed(Syscalls.errorMessage(first))) }
        let second = Syscalls.move(staging, to: target, .replace)
        guard second == 0 else {
            _ = Syscalls.move(aside, to: target, .replace)
            throw OutputError(path: path, .renameFailed(Syscalls.errorMessage(second)))
        }
        self.staging = aside
    }

    /// Deletes a staging directory this run made: only the files it wrote are in it. Renamed
    /// first, so that a writer still running on another thread cannot create files in it meanwhile.
    private func removeStaging(_ staging: String) {
        var doomed = staging
        if let renamed = try? makeSibling(kind: "staging", create: false), Syscalls.move(staging, to: renamed, .noReplace) == 0 {
            doomed = renamed
        }
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: doomed)) ?? [] { unlink(doomed + "/" + entry) }
        rmdir(doomed)
    }

    /// Deletes a directory of results: its result files and leftover temporaries, then the
    /// directory. Anything else stays, and so does the directory.
    /// - Returns: Whether the directory is gone.
    private func removeResultDirectory(_ directory: String) -> Bool {
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        where resultNames.contains(entry) || isLeftoverTemporary(entry) {
            let file = directory + "/" + entry
            if Syscalls.fileType(file) == S_IFREG { unlink(file) }
        }
        return rmdir(directory) == 0
    }
}

/// Renames `temporary` to `destination`, replacing it; removes `temporary` on failure.
///
/// For a single file written under a temporary name, so that readers never see it half
/// written. ``StagedFile`` also flushes the file to disk, refuses to replace when asked to, and
/// cleans up after interrupted runs.
///
/// - Parameters:
///   - temporary: The finished file, on the same file system as `destination`.
///   - destination: Its final path.
/// - Throws: ``OutputError/Problem/renameFailed(_:)`` naming `destination`.
public func renameIntoPlace(_ temporary: String, _ destination: String) throws {
    guard rename(temporary, destination) == 0 else {
        let message = String(cString: strerror(errno))
        unlink(temporary)
        throw OutputError(path: destination, .renameFailed(message))
    }
}

/// Whether an ``OutputDirectory``'s new results went into place (see ``OutputDirectory/placement``).
public final class ResultsPlacement: @unchecked Sendable {
    private let lock = Lock()
    private var inPlace = false

    public var resultsInPlace: Bool { lock.withLock { inPlace } }

    func markInPlace() { lock.withLock { inPlace = true } }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A results directory that receives all its files at once or none of them.
///
/// ``prepare(path:fileNames:overwrite:)`` checks the location before any work, so a
/// run that could not save its results fails in a second, not after an hour.
/// ``commit(_:)`` writes every file under a temporary name and renames them into place
/// only when all have been written.
public struct OutputDirectory: Sendable {
    /// The directory, as given; it may not exist until ``commit(_:)``.
    public let path: String
    /// The names of the files a run will write into it.
    public let fileNames: [String]

    /// Checks, before any work, that the results could be saved at `path`.
    ///
    /// Creates nothing: a missing directory is created by ``commit(_:)``, so a run that
    /// fails leaves no empty directory behind.
    ///
    /// - Parameters:
    ///   - path: The results directory; it need not exist, but its nearest existing
    ///     ancestor must be a writable directory.
    ///   - fileNames: The files the run will write, such as ``KMeansResult/outputFileNames``.
    ///   - overwrite: Whether files of these names already in the directory may be replaced.
    /// - Returns: The directory, ready for ``commit(_:)``.
    /// - Throws: ``OutputError`` when the path is not a writable directory (or cannot
    ///   become one), or already holds results and `overwrite` is false.
    public static func prepare(path: String, fileNames: [String], overwrite: Bool) throws -> OutputDirectory {
        var isDirectory: ObjCBool = false
        let manager = FileManager.default
        if manager.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw OutputError(path: path, .notADirectory) }
            guard access(path, W_OK | X_OK) == 0 else {
                throw OutputError(path: path, .notWritable(Syscalls.errorMessage()))
            }
            let existing = fileNames.filter { manager.fileExists(atPath: path + "/" + $0) }
            if !existing.isEmpty && !overwrite {
                throw OutputError(path: path, .existingResults(existing))
            }
        } else {
            // The directory is created only when results are ready; check that it can be.
            var ancestor = (path as NSString).deletingLastPathComponent
            if ancestor.isEmpty { ancestor = "." }
            while !manager.fileExists(atPath: ancestor, isDirectory: &isDirectory) {
                ancestor = (ancestor as NSString).deletingLastPathComponent
                if ancestor.isEmpty { ancestor = "." }
            }
            guard isDirectory.boolValue else {
                throw OutputError(path: path, .cannotCreateDirectory("\(ancestor) is not a directory"))
            }
            guard access(ancestor, W_OK | X_OK) == 0 else {
                throw OutputError(path: path, .cannotCreateDirectory("\(ancestor) is not writable"))
            }
        }
        return OutputDirectory(path: path, fileNames: fileNames)
    }

    /// Writes each file through its closure (which receives the temporary path to
    /// write), then renames them all into place. On any failure the temporary files
    /// are removed and nothing is left behind.
    ///
    /// Temporary files are hidden (`.<name>.tmp-<pid>`) and live in the directory itself,
    /// so each rename stays on one file system and is atomic.
    ///
    /// - Parameter writers: Each file's name in the directory and the closure that writes
    ///   it to the path it is given.
    /// - Throws: ``OutputError`` when the directory cannot be created or a rename fails;
    ///   otherwise whatever a writer throws. A directory this call created is removed again.
    public func commit(_ writers: [(name: String, write: (String) throws -> Void)]) throws {
        let manager = FileManager.default
        let createdDirectory = !manager.fileExists(atPath: path)
        do {
            try manager.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw OutputError(path: path, .cannotCreateDirectory(error.localizedDescription))
        }
        let suffix = ".tmp-\(getpid())"
        var temporaries: [String] = []
        do {
            for writer in writers {
                let temporary = "\(path)/.\(writer.name)\(suffix)"
                temporaries.append(temporary)
                try writer.write(temporary)
            }
            for (writer, temporary) in zip(writers, temporaries) {
                guard rename(temporary, "\(path)/\(writer.name)") == 0 else {
                    throw OutputError(path: "\(path)/\(writer.name)", .renameFailed(Syscalls.errorMessage()))
                }
            }
        } catch {
            for temporary in temporaries { unlink(temporary) }
            if createdDirectory { try? manager.removeItem(atPath: path) }
            throw error
        }
    }
}

/// Renames `temporary` to `destination`, replacing it; removes `temporary` on failure.
///
/// For a single file written under a temporary name, so that readers never see it half written.
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

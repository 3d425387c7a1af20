import FlashKMeans
import Foundation
import Testing
import _FlashKMeansTestSupport

/// A results directory is locked while a run owns it and replaced as a whole, and nothing a
/// failed or abandoned run made stays behind (issue 11, defects 4 to 6).
@Suite struct OutputDirectoryTests {
    let directory = TemporaryDirectory()

    func contents(_ path: String) -> Set<String> {
        Set((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [])
    }

    func text(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }

    func writeText(_ text: String) -> (String) throws -> Void {
        { path in Fixtures.writeBytes(path, Array(text.utf8)) }
    }

    func expectProblem(_ expected: (OutputError.Problem) -> Bool, _ body: () throws -> Void) {
        do {
            try body()
            Issue.record("no error")
        } catch let error as OutputError {
            #expect(expected(error.problem), "\(error)")
        } catch {
            Issue.record("\(error)")
        }
    }

    @Test func aSecondOwnerIsRefusedUntilTheFirstIsDone() throws {
        let target = directory.file("out")
        let first = try OutputDirectory.prepare(path: target, fileNames: ["a"], overwrite: false)
        expectProblem({ if case let .busy(process) = $0 { process == getpid() } else { false } }) {
            _ = try OutputDirectory.prepare(path: target, fileNames: ["a"], overwrite: true)
        }
        try first.commit([("a", writeText("first"))])
        let second = try OutputDirectory.prepare(path: target, fileNames: ["a"], overwrite: true)
        try second.commit([("a", writeText("second"))])
        #expect(text(target + "/a") == "second")
        #expect(contents(directory.path) == ["out"])
    }

    @Test func commitReplacesTheWholeSet() throws {
        let target = directory.file("out")
        try OutputDirectory.prepare(path: target, fileNames: ["a", "b"], overwrite: false)
            .commit([("a", writeText("a1")), ("b", writeText("b1"))])
        expectProblem({ $0 == .existingResults(["a", "b"]) }) {
            _ = try OutputDirectory.prepare(path: target, fileNames: ["c"], overwrite: false, otherResultNames: ["a", "b"])
        }
        let output = try OutputDirectory.prepare(path: target, fileNames: ["c"], overwrite: true, otherResultNames: ["a", "b"])
        try output.commit([("c", writeText("c2"))])
        #expect(contents(target) == ["c"])
        #expect(text(target + "/c") == "c2")
        #expect(contents(directory.path) == ["out"])
    }

    /// A writer that fails after another has written: the old files are all still there.
    @Test func failedCommitKeepsTheOldSet() throws {
        let target = directory.file("out")
        try OutputDirectory.prepare(path: target, fileNames: ["a", "b"], overwrite: false)
            .commit([("a", writeText("a1")), ("b", writeText("b1"))])
        let output = try OutputDirectory.prepare(path: target, fileNames: ["a", "b"], overwrite: true)
        expectProblem({ $0 == .writeFailed("disk full") }) {
            try output.commit([
                ("a", writeText("a2")),
                ("b", { path in throw OutputError(path: path, .writeFailed("disk full")) }),
            ])
        }
        #expect(text(target + "/a") == "a1" && text(target + "/b") == "b1")
        #expect(contents(target) == ["a", "b"])
        #expect(contents(directory.path) == ["out"])
    }

    /// Errors name the file in the results directory, not in the hidden staging directory.
    @Test func writeErrorsNameTheResultFile() throws {
        let target = directory.file("out")
        let output = try OutputDirectory.prepare(path: target, fileNames: ["a"], overwrite: false)
        do {
            try output.commit([("a", { path in throw OutputError(path: path, .writeFailed("disk full")) })])
        } catch let error as OutputError {
            #expect(error.path == target + "/a")
        }
        #expect(contents(directory.path).isEmpty)
    }

    @Test func entriesThatAreNotResultsAreNeverReplaced() throws {
        let target = directory.file("mine")
        try FileManager.default.createDirectory(atPath: target + "/a", withIntermediateDirectories: true)
        Fixtures.writeBytes(target + "/notes.txt", [1])
        for overwrite in [false, true] {
            expectProblem({ $0 == .foreignEntries(["a/", "notes.txt"]) }) {
                _ = try OutputDirectory.prepare(path: target, fileNames: ["a"], overwrite: overwrite)
            }
        }
        #expect(contents(target) == ["a", "notes.txt"])
        #expect(contents(directory.path) == ["mine"])
        for message in [OutputError(path: target, .foreignEntries(["notes.txt"])), OutputError(path: target, .busy(processID: 7))] {
            #expect(!message.description.contains("--"))
        }
    }

    @Test func aFileIsNotADirectory() throws {
        let file = directory.file("plain")
        Fixtures.writeBytes(file, [1])
        for overwrite in [false, true] {
            expectProblem({ $0 == .notADirectory }) {
                _ = try OutputDirectory.prepare(path: file, fileNames: ["a"], overwrite: overwrite)
            }
        }
        #expect(contents(directory.path) == ["plain"])
    }

    /// Abandoning (as on SIGINT) removes the staging directory, the lock and the parents the
    /// run created, and lets the next owner in.
    @Test func abandonLeavesNothing() throws {
        let target = directory.file("x/y/out")
        let output = try OutputDirectory.prepare(path: target, fileNames: ["a"], overwrite: false)
        // Weak: the directory holds this closure, which would otherwise keep it alive.
        output.willReplace = { [weak output] in #expect(output?.abandon() == .nothingChanged) }
        #expect(throws: OutputError.self) { try output.commit([("a", writeText("a"))]) }
        #expect(contents(directory.path).isEmpty)
        #expect(output.abandon() == .nothingChanged)
        try OutputDirectory.prepare(path: target, fileNames: ["a"], overwrite: false).commit([("a", writeText("a"))])
        #expect(text(target + "/a") == "a")
    }

    @Test func abandonAfterCommitChangesNothing() throws {
        let target = directory.file("out")
        let output = try OutputDirectory.prepare(path: target, fileNames: ["a"], overwrite: false)
        try output.commit([("a", writeText("a"))])
        #expect(output.abandon() == .resultsInPlace)
        #expect(contents(target) == ["a"])
    }

    /// Staging directories of killed runs and temporaries of earlier builds are removed by the
    /// next owner; a staging directory that holds anything else is left alone.
    @Test func staleTemporariesAreRemoved() throws {
        let target = directory.file("out")
        try OutputDirectory.prepare(path: target, fileNames: ["a"], overwrite: false).commit([("a", writeText("a1"))])
        for stale in [".out.staging-999999", ".out.staging-999998-2"] {
            try FileManager.default.createDirectory(atPath: directory.file(stale), withIntermediateDirectories: false)
            Fixtures.writeBytes(directory.file(stale + "/a"), [1])
        }
        try FileManager.default.createDirectory(atPath: directory.file(".out.staging-999997"), withIntermediateDirectories: false)
        Fixtures.writeBytes(directory.file(".out.staging-999997/keep.txt"), [1])
        Fixtures.writeBytes(target + "/.a.tmp-999999", [1])
        let output = try OutputDirectory.prepare(path: target, fileNames: ["a"], overwrite: true)
        #expect(contents(directory.path) == ["out", ".out.staging-999997", ".out.lock"])
        #expect(contents(target) == ["a"])
        try output.commit([("a", writeText("a2"))])
        #expect(contents(directory.path) == ["out", ".out.staging-999997"])
    }

    /// A set moved aside by a run killed halfway through a swap without exchange comes back.
    @Test func setMovedAsideIsRestored() throws {
        let aside = directory.file(".out.previous-999999")
        try FileManager.default.createDirectory(atPath: aside, withIntermediateDirectories: false)
        Fixtures.writeBytes(aside + "/a", Array("a1".utf8))
        let target = directory.file("out")
        expectProblem({ $0 == .existingResults(["a"]) }) {
            _ = try OutputDirectory.prepare(path: target, fileNames: ["a"], overwrite: false)
        }
        #expect(text(target + "/a") == "a1")
        #expect(contents(directory.path) == ["out"])
    }

    // MARK: StagedFile

    @Test func stagedFileIsInPlaceOnlyWhenCommitted() throws {
        let destination = directory.file("rows.npy")
        let staged = try StagedFile(destination: destination, overwrite: false)
        Fixtures.writeBytes(staged.temporaryPath, [1, 2])
        #expect(!FileManager.default.fileExists(atPath: destination))
        try staged.commit()
        #expect(try Data(contentsOf: URL(fileURLWithPath: destination)) == Data([1, 2]))
        #expect(contents(directory.path) == ["rows.npy"])
        #expect(staged.abandon() == .resultsInPlace)
    }

    @Test func stagedFileNeverReplacesWithoutOverwrite() throws {
        let destination = directory.file("rows.npy")
        Fixtures.writeBytes(destination, [9])
        expectProblem({ $0 == .fileExists }) { _ = try StagedFile(destination: destination, overwrite: false) }
        // The file may also appear while the run writes: it is still not replaced.
        try FileManager.default.removeItem(atPath: destination)
        let staged = try StagedFile(destination: destination, overwrite: false)
        Fixtures.writeBytes(staged.temporaryPath, [1])
        Fixtures.writeBytes(destination, [9])
        expectProblem({ $0 == .fileExists }) { try staged.commit() }
        #expect(try Data(contentsOf: URL(fileURLWithPath: destination)) == Data([9]))
        #expect(contents(directory.path) == ["rows.npy"])
        let replacing = try StagedFile(destination: destination, overwrite: true)
        Fixtures.writeBytes(replacing.temporaryPath, [1])
        try replacing.commit()
        #expect(try Data(contentsOf: URL(fileURLWithPath: destination)) == Data([1]))
        try FileManager.default.createDirectory(atPath: directory.file("dir.npy"), withIntermediateDirectories: false)
        expectProblem({ $0 == .isADirectory }) { _ = try StagedFile(destination: directory.file("dir.npy"), overwrite: true) }
    }

    @Test func abandonedStagedFileLeavesNothing() throws {
        let destination = directory.file("rows.npy")
        let staged = try StagedFile(destination: destination, overwrite: false)
        Fixtures.writeBytes(staged.temporaryPath, [1])
        #expect(staged.abandon() == .nothingChanged)
        #expect(contents(directory.path).isEmpty)
        #expect(throws: OutputError.self) { try staged.commit() }
        #expect(contents(directory.path).isEmpty)
    }

    /// A temporary nobody holds is a dead run's and is removed; one a live writer holds is kept.
    @Test func staleStagedTemporariesAreRemoved() throws {
        let destination = directory.file("rows.npy")
        Fixtures.writeBytes(directory.file(".rows.npy.tmp-999999"), [1])
        Fixtures.writeBytes(directory.file(".other.npy.tmp-999999"), [1])
        let live = try StagedFile(destination: destination, overwrite: true)
        #expect(contents(directory.path) == [".other.npy.tmp-999999", (live.temporaryPath as NSString).lastPathComponent])
        let second = try StagedFile(destination: destination, overwrite: true)
        #expect(FileManager.default.fileExists(atPath: live.temporaryPath))
        second.abandon()
        live.abandon()
        #expect(contents(directory.path) == [".other.npy.tmp-999999"])
    }
}

/// Regression: Foundation's path functions trap on one-character relative names.
@Suite struct PathComponentsTests {
    @Test(arguments: [
        ("o", "", "o"), ("o/", "", "o"), ("a/b", "a", "b"), ("a/b/", "a", "b"), ("/a", "/", "a"), ("/", "/", "/"),
        ("//a//b//", "//a", "b"), ("./c", ".", "c"), ("", "", ""), ("/tmp/x/run1", "/tmp/x", "run1"),
    ])
    func parentAndLastComponent(path: String, parent: String, last: String) {
        #expect(PathComponents.parent(of: path) == parent)
        #expect(PathComponents.lastComponent(of: path) == last)
    }
}

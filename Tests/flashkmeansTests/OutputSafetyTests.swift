import Foundation
import Testing
import _FlashKMeansTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// A `flashkmeans` process that the test can signal while it runs; its standard output and
/// error go to files, so that a full pipe can never stall it.
///
/// It is started with `posix_spawn` and no blocked signals, as from a shell: a process that
/// `Process` starts inherits the test runner's blocked signals, so SIGINT and SIGTERM would
/// wait instead of arriving.
final class RunningCommand {
    let pid: pid_t
    private let outputFile: String
    private let errorFile: String
    private var waitStatus: Int32?

    /// The variable that makes a run wait, with its results written and synced, just before they
    /// are moved into place, until the file it names is removed (for tests only).
    static let pauseVariable = "FLASHKMEANS_TEST_PAUSE_BEFORE_SWAP"

    /// - Parameter prelude: Shell commands run in `sh` before `flashkmeans` replaces it.
    init(_ arguments: [String], environment: [String: String] = [:], prelude: String = "", logs: String) throws {
        outputFile = logs + ".out"
        errorFile = logs + ".err"
        let argv = ["/bin/sh", "-c", prelude + " exec \"$0\" \"$@\"", CommandRun.binary.path] + arguments
        let environ = ProcessInfo.processInfo.environment.merging(environment) { $1 }.map { "\($0)=\($1)" }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, outputFile, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, errorFile, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGINT)
        sigaddset(&defaults, SIGTERM)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let cArguments = argv.map { strdup($0) } + [nil]
        let cEnvironment = environ.map { strdup($0) } + [nil]
        defer { (cArguments + cEnvironment).forEach { free($0) } }
        var child: pid_t = 0
        let result = posix_spawn(&child, "/bin/sh", &actions, &attributes, cArguments, cEnvironment)
        guard result == 0 else { throw POSIXError(POSIXErrorCode(rawValue: result) ?? .EIO) }
        pid = child
    }

    /// Waits for `marker` to appear; false when the process ended first or a minute passed.
    func waitForPause(marker: String) -> Bool {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if FileManager.default.fileExists(atPath: marker) { return true }
            var status: Int32 = 0
            if waitStatus == nil, waitpid(pid, &status, WNOHANG) == pid { waitStatus = status }
            if waitStatus != nil { return FileManager.default.fileExists(atPath: marker) }
            usleep(5_000)
        }
        return false
    }

    func signal(_ number: Int32) { if waitStatus == nil { kill(pid, number) } }

    /// Waits for the end; `status` is the exit code, or the signal when `killed`.
    func finish() -> (status: Int32, killed: Bool, standardOutput: String, standardError: String) {
        if waitStatus == nil {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
            waitStatus = status
        }
        let status = waitStatus!
        let output = (try? String(contentsOfFile: outputFile, encoding: .utf8)) ?? ""
        let error = (try? String(contentsOfFile: errorFile, encoding: .utf8)) ?? ""
        // WIFSIGNALED and friends are macros Swift cannot import.
        let signal = status & 0x7F
        return signal == 0 ? ((status >> 8) & 0xFF, false, output, error) : (signal, true, output, error)
    }
}

/// What a directory holds: every entry, hidden ones included, with the bytes of each file
/// (a directory is recorded by a trailing slash).
func snapshot(_ directory: String) -> [String: Data] {
    var entries: [String: Data] = [:]
    for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
        var isDirectory: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: directory + "/" + name, isDirectory: &isDirectory)
        if isDirectory.boolValue {
            entries[name + "/"] = Data()
        } else {
            entries[name] = (try? Data(contentsOf: URL(fileURLWithPath: directory + "/" + name))) ?? Data()
        }
    }
    return entries
}

/// Defects 4, 5 and 6 of issue 11: concurrent runs, interrupted and failed writes, and the
/// result set replaced as a whole.
@Suite struct OutputSafetyTests {
    let directory = TemporaryDirectory()

    func demoFile(points: Int = 3000, dimension: Int = 16, name: String = "demo.npy") throws -> String {
        let path = directory.file(name)
        let run = try CommandRun(["demo", "-o", path, "--points", "\(points)", "--dim", "\(dimension)", "--blobs", "10"])
        #expect(run.status == 0, "\(run.standardError)")
        return path
    }

    /// Runs `flashkmeans` under `sh` with writes limited to `blocks` 512-byte blocks, as a full
    /// disk would stop them (`SIGXFSZ` ignored, so a write fails with EFBIG instead).
    func runWithFileSizeLimit(_ arguments: [String], blocks: Int, logs: String) throws -> (status: Int32, standardError: String) {
        let run = try RunningCommand(arguments, prelude: "trap '' XFSZ; ulimit -f \(blocks);", logs: logs)
        let result = run.finish()
        try? FileManager.default.removeItem(atPath: logs + ".out")
        try? FileManager.default.removeItem(atPath: logs + ".err")
        return (result.status, result.standardError)
    }

    /// The one `error:` line of a failed run.
    func errorLines(_ standardError: String) -> [Substring] {
        standardError.split(separator: "\n").filter { $0.hasPrefix("error: ") }
    }

    /// The names in `parent` other than the ones the test made itself: temporaries, lock files
    /// and staging directories left behind would show up here.
    func strayEntries(in parent: String, expected: Set<String>) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: parent).filter { !expected.contains($0) }.sorted()
    }

    /// A set `cluster` wrote agrees with itself: k rows of centroids, the report's k, n labels below k.
    func expectConsistentClusterSet(_ output: String, rows: Int) throws -> Int {
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: output + "/report.json"))) as! [String: Any]
        let k = try #require((report["parameters"] as? [String: Any])?["clusterCount"] as? Int)
        let centroids = try Data(contentsOf: URL(fileURLWithPath: output + "/centroids.npy"))
        #expect(centroids.count == 128 + k * 16 * 4)
        let labels = try Data(contentsOf: URL(fileURLWithPath: output + "/labels.npy"))
        #expect(labels.count == 128 + rows * 4)
        let values = labels[128...].withUnsafeBytes { Array($0.bindMemory(to: Int32.self)) }
        #expect(values.allSatisfy { $0 >= 0 && $0 < k })
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: output)) == ["centroids.npy", "labels.npy", "report.json"])
        return k
    }

    // MARK: Defect 4: two runs into one directory

    /// While one run holds the directory, a second fails at once naming it, and the first
    /// finishes with its own complete set.
    @Test func secondRunIntoABusyDirectoryFailsAtOnce() throws {
        let input = try demoFile()
        let output = directory.file("shared")
        let marker = directory.file("paused")
        let first = try RunningCommand(
            ["cluster", input, "-k", "10", "-o", output, "--quiet", "--seed", "1"],
            environment: [RunningCommand.pauseVariable: marker], logs: directory.file("first"))
        let paused = first.waitForPause(marker: marker)
        #expect(paused, "the first run never reached the point before its results are moved into place")
        if !paused { _ = first.finish(); return }

        let started = Date()
        let second = try CommandRun(["cluster", input, "-k", "7", "-o", output, "--force", "--quiet", "--seed", "2"])
        #expect(Date().timeIntervalSince(started) < 10)
        #expect(second.status != 0)
        let errors = errorLines(second.standardError)
        #expect(errors.count == 1, "\(second.standardError)")
        #expect(errors.first?.contains(output) == true, "\(second.standardError)")
        #expect(errors.first?.contains("another") == true, "\(second.standardError)")

        try FileManager.default.removeItem(atPath: marker)
        let result = first.finish()
        #expect(result.status == 0 && !result.killed, "\(result.standardError)")
        #expect(try expectConsistentClusterSet(output, rows: 3000) == 10)
        #expect(try strayEntries(in: directory.path, expected: ["demo.npy", "shared", "first.out", "first.err"]).isEmpty)
    }

    /// Two runs started together: exactly one succeeds, and the directory holds its set alone.
    @Test func simultaneousRunsLeaveOneConsistentSet() throws {
        let input = try demoFile()
        for trial in 0..<4 {
            let output = directory.file("race-\(trial)")
            let runs = try [6, 9].map { k in
                try RunningCommand(
                    ["cluster", input, "-k", "\(k)", "-o", output, "--quiet"], logs: directory.file("race-\(trial)-\(k)"))
            }
            let results = runs.map { $0.finish() }
            let succeeded = results.enumerated().filter { $0.element.status == 0 && !$0.element.killed }
            #expect(succeeded.count == 1, "trial \(trial): \(results.map(\.standardError))")
            for failed in results where failed.status != 0 {
                #expect(errorLines(failed.standardError).first?.contains(output) == true, "\(failed.standardError)")
            }
            if succeeded.count == 1 {
                let k = try expectConsistentClusterSet(output, rows: 3000)
                #expect(k == [6, 9][succeeded[0].offset])
            }
        }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix(".") }
        #expect(leftovers.isEmpty, "\(leftovers)")
    }

    // MARK: Defect 5: interrupted and failed writes leave nothing behind

    /// SIGINT or SIGTERM with every file written: exit 130 or 143 with one line, the old set
    /// untouched, no temporary anywhere.
    @Test(arguments: [("assign", SIGINT), ("ivf", SIGTERM), ("cluster", SIGTERM)])
    func interruptBeforeTheSwapKeepsTheOldSet(command: String, signal: Int32) throws {
        let input = try demoFile()
        let clustered = directory.file("clustered")
        #expect(try CommandRun(["cluster", input, "-k", "8", "-o", clustered, "--quiet"]).status == 0)
        let output = directory.file("out")
        let arguments: [String] = switch command {
        case "assign": ["assign", input, "--centroids", clustered + "/centroids.npy", "-o", output, "--quiet"]
        case "ivf": ["ivf", input, "-k", "12", "-o", output, "--quiet"]
        default: ["cluster", input, "-k", "12", "-o", output, "--quiet", "--seed", "5"]
        }
        #expect(try CommandRun(arguments).status == 0)
        let before = snapshot(output)
        #expect(!before.isEmpty)

        let marker = directory.file("paused")
        // The new run's results differ from the old, so a swap would show.
        let run = try RunningCommand(
            arguments + (command == "assign" ? ["--force", "--top", "2"] : ["--force", "--seed", "9"]),
            environment: [RunningCommand.pauseVariable: marker], logs: directory.file("run"))
        let paused = run.waitForPause(marker: marker)
        #expect(paused, "the run never reached the point before its results are moved into place")
        run.signal(signal)
        let result = run.finish()
        #expect(!result.killed, "died of the signal instead of cleaning up")
        #expect(result.status == 128 + signal, "\(result.standardError)")
        let errors = errorLines(result.standardError)
        #expect(errors.count == 1, "\(result.standardError)")
        #expect(errors.first?.contains(signal == SIGINT ? "SIGINT" : "SIGTERM") == true, "\(result.standardError)")
        #expect(errors.first?.contains(output) == true, "\(result.standardError)")
        #expect(snapshot(output) == before)
        try? FileManager.default.removeItem(atPath: marker)
        // A training run keeps its checkpoint to be resumed, and says so.
        let training = command != "assign"
        #expect(errors.first?.contains("--resume") == training, "\(result.standardError)")
        #expect(try strayEntries(in: directory.path, expected: ["demo.npy", "clustered", "out", "run.out", "run.err", ".out.checkpoint"]).isEmpty)
        #expect(FileManager.default.fileExists(atPath: directory.file(".out.checkpoint")) == training)
    }

    /// A signal at a random moment of an `ivf --force` run: afterwards the directory holds the
    /// old set or the new one, byte for byte, and nothing else anywhere but a checkpoint, from
    /// which `--resume` ends with the new set, byte for byte.
    @Test func interruptAtRandomMomentsLeavesOneCompleteSet() throws {
        // Large enough that writing the index (about 8 MB) is a good part of the run.
        let input = try demoFile(points: 30_000, dimension: 64)
        let output = directory.file("ivf")
        let reference = directory.file("reference")
        let old = ["ivf", input, "-k", "16", "--seed", "1", "--quiet", "--max-iter", "5", "--algorithm", "lloyd"]
        let new = ["ivf", input, "-k", "24", "--seed", "2", "--quiet", "--max-iter", "5", "--algorithm", "lloyd"]
        let timed = Date()
        #expect(try CommandRun(new + ["-o", reference]).status == 0)
        // Signals land anywhere from start-up to just after the end of such a run.
        let runMicroseconds = UInt32(min(2, Date().timeIntervalSince(timed)) * 1.2e6)
        let newSet = snapshot(reference)
        try FileManager.default.removeItem(atPath: reference)

        var generator = SystemRandomNumberGenerator()
        var outcomes: [String] = []
        for trial in 0..<10 {
            try? FileManager.default.removeItem(atPath: output)
            // --force: the last trial may have left a checkpoint, which a fresh run would not discard unasked.
            #expect(try CommandRun(old + ["-o", output, "--force"]).status == 0)
            let oldSet = snapshot(output)
            let started = Date()
            let run = try RunningCommand(new + ["-o", output, "--force"], logs: directory.file("trial"))
            let delay = UInt32.random(in: 0...runMicroseconds, using: &generator)
            usleep(delay)
            let signal = trial % 2 == 0 ? SIGINT : SIGTERM
            run.signal(signal)
            let result = run.finish()
            let seconds = Date().timeIntervalSince(started)
            let after = snapshot(output)
            let which = after == oldSet ? "old" : after == newSet ? "new" : "mixed"
            outcomes.append("signal after \(delay / 1000) ms: \(which) after \(String(format: "%.2f", seconds)) s, status \(result.status)\(result.killed ? " (signal)" : "")")
            #expect(which != "mixed", "trial \(trial): \(after.keys.sorted()) \(result.standardError)")
            if !result.killed { #expect([0, 128 + signal].contains(result.status), "\(result.standardError)") }
            let strays = try strayEntries(in: directory.path, expected: ["demo.npy", "ivf", "trial.out", "trial.err", ".ivf.checkpoint"])
            #expect(strays.isEmpty, "trial \(trial), \(outcomes.last!): \(strays) \(result.standardError)")
            if FileManager.default.fileExists(atPath: directory.file(".ivf.checkpoint")) {
                #expect(which == "old")
                let resumed = try CommandRun(new + ["-o", output, "--force", "--resume"])
                #expect(resumed.status == 0, "\(resumed.standardError)")
                #expect(snapshot(output) == newSet)
                #expect(!FileManager.default.fileExists(atPath: directory.file(".ivf.checkpoint")))
                outcomes[outcomes.count - 1] += ", resumed to the new set"
            }
        }
        print(outcomes.joined(separator: "\n"))
    }

    /// A run killed outright (no chance to clean up) leaves its staging behind; the next run
    /// into that directory removes it.
    @Test func nextRunCleansUpAfterAKilledOne() throws {
        let input = try demoFile()
        let output = directory.file("ivf")
        #expect(try CommandRun(["ivf", input, "-k", "8", "-o", output, "--quiet"]).status == 0)
        let marker = directory.file("paused")
        let run = try RunningCommand(
            ["ivf", input, "-k", "12", "-o", output, "--quiet", "--force"],
            environment: [RunningCommand.pauseVariable: marker], logs: directory.file("run"))
        #expect(run.waitForPause(marker: marker), "the run never reached the point before its results are moved into place")
        run.signal(SIGKILL)
        #expect(run.finish().killed)
        try? FileManager.default.removeItem(atPath: marker)
        let expected: Set<String> = ["demo.npy", "ivf", "run.out", "run.err"]
        #expect(!(try strayEntries(in: directory.path, expected: expected)).isEmpty, "kill -9 should have left its staging")

        let again = try CommandRun(["ivf", input, "-k", "12", "-o", output, "--quiet", "--force"])
        #expect(again.status == 0, "\(again.standardError)")
        #expect(try strayEntries(in: directory.path, expected: expected).isEmpty)
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: output))
            == ["centroids.npy", "list_offsets.npy", "ids.npy", "index.ivfflat.faiss"])
    }

    /// Temporaries an older build left inside the directory (`.<name>.tmp-<pid>`) go with the old set.
    @Test func leftoverTemporariesOfEarlierBuildsAreRemoved() throws {
        let input = try demoFile()
        let output = directory.file("out")
        #expect(try CommandRun(["assign", input, "--centroids", input, "-o", output, "--quiet", "--top", "2"]).status == 0)
        Fixtures.writeBytes(output + "/.index.ivfflat.faiss.tmp-999999", [1, 2, 3])
        Fixtures.writeBytes(output + "/.labels.npy.tmp-999998", [1, 2, 3])
        let run = try CommandRun(["ivf", input, "-k", "8", "-o", output, "--quiet", "--force"])
        #expect(run.status == 0, "\(run.standardError)")
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: output))
            == ["centroids.npy", "list_offsets.npy", "ids.npy", "index.ivfflat.faiss"])
    }

    /// A write that fails (here the file-size limit, as a full disk would) leaves the old set
    /// and no temporary.
    @Test func failedWriteKeepsTheOldSet() throws {
        let input = try demoFile()
        let output = directory.file("ivf")
        #expect(try CommandRun(["ivf", input, "-k", "8", "-o", output, "--quiet"]).status == 0)
        let before = snapshot(output)
        // The index is about 200 kB; the limit (in 512-byte blocks for sh) lets the small files through.
        let run = try runWithFileSizeLimit(
            ["ivf", input, "-k", "12", "-o", output, "--quiet", "--force"], blocks: 100, logs: NSTemporaryDirectory() + "limited-\(getpid())")
        #expect(run.status != 0)
        let errors = errorLines(run.standardError)
        #expect(errors.count == 1, "\(run.standardError)")
        #expect(errors.first?.contains(output) == true, "\(run.standardError)")
        #expect(errors.first?.contains("File too large") == true, "\(run.standardError)")
        #expect(snapshot(output) == before)
        // The training's checkpoint stays: after freeing space, --resume saves the iterations done.
        #expect(try strayEntries(in: directory.path, expected: ["demo.npy", "ivf", ".ivf.checkpoint"]).isEmpty)
    }

    // MARK: Defect 6: the result set is replaced as a whole

    /// `--force` replaces the earlier set entirely: no file of another command's run stays.
    @Test func forceReplacesTheWholeSet() throws {
        let input = try demoFile()
        let output = directory.file("out")
        #expect(try CommandRun(["cluster", input, "-k", "8", "-o", output, "--quiet"]).status == 0)
        let assign = try CommandRun(["assign", input, "--centroids", output + "/centroids.npy", "-o", output, "--quiet", "--force"])
        #expect(assign.status == 0, "\(assign.standardError)")
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: output)) == ["labels.npy", "distances.npy"])
        let ivf = try CommandRun(["ivf", input, "-k", "8", "-o", output, "--quiet", "--force"])
        #expect(ivf.status == 0, "\(ivf.standardError)")
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: output))
            == ["centroids.npy", "list_offsets.npy", "ids.npy", "index.ivfflat.faiss"])
        // Without --force another command's results are not silently mixed in either.
        let refused = try CommandRun(["assign", input, "--centroids", output + "/centroids.npy", "-o", output, "--quiet"])
        #expect(refused.status != 0)
        #expect(errorLines(refused.standardError).first?.contains("--force") == true, "\(refused.standardError)")
        #expect(try strayEntries(in: directory.path, expected: ["demo.npy", "out"]).isEmpty)
    }

    /// A forced run that cannot replace the set (one name is a directory) fails before writing
    /// and leaves every old file as it was.
    @Test func forcedRunThatCannotReplaceLeavesTheOldSet() throws {
        let input = try demoFile()
        let output = directory.file("out")
        #expect(try CommandRun(["cluster", input, "-k", "8", "-o", output, "--quiet", "--seed", "1"]).status == 0)
        try FileManager.default.removeItem(atPath: output + "/labels.npy")
        try FileManager.default.createDirectory(atPath: output + "/labels.npy", withIntermediateDirectories: false)
        Fixtures.writeBytes(output + "/labels.npy/keep", [7])
        let before = snapshot(output)
        let run = try CommandRun(["cluster", input, "-k", "9", "-o", output, "--quiet", "--force", "--seed", "2"])
        #expect(run.status != 0)
        let errors = errorLines(run.standardError)
        #expect(errors.count == 1, "\(run.standardError)")
        #expect(errors.first?.contains("labels.npy") == true, "\(run.standardError)")
        #expect(snapshot(output) == before)
        #expect(FileManager.default.fileExists(atPath: output + "/labels.npy/keep"))
        #expect(try strayEntries(in: directory.path, expected: ["demo.npy", "out"]).isEmpty)
    }

    /// Files that are not results are never replaced or deleted, with or without `--force`.
    @Test func directoryWithOtherFilesIsRefused() throws {
        let input = try demoFile()
        let output = directory.file("mine")
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: false)
        Fixtures.writeBytes(output + "/notes.txt", Array("keep me".utf8))
        for force in [false, true] {
            let run = try CommandRun(["cluster", input, "-k", "8", "-o", output, "--quiet"] + (force ? ["--force"] : []))
            #expect(run.status != 0)
            let errors = errorLines(run.standardError)
            #expect(errors.count == 1, "\(run.standardError)")
            #expect(errors.first?.contains(output) == true && errors.first?.contains("notes.txt") == true, "\(run.standardError)")
            #expect(snapshot(output) == ["notes.txt": Data("keep me".utf8)])
        }
        // An empty directory is fine, and keeps its permissions.
        let empty = directory.file("empty")
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o750])
        #expect(try CommandRun(["cluster", input, "-k", "8", "-o", empty, "--quiet"]).status == 0)
        let permissions = try FileManager.default.attributesOfItem(atPath: empty)[.posixPermissions] as? Int
        #expect(permissions == 0o750)
        #expect(try strayEntries(in: directory.path, expected: ["demo.npy", "mine", "empty"]).isEmpty)
    }

    /// An output path that is a file is refused, `--force` or not, and the file is kept.
    @Test func outputThatIsAFileIsRefused() throws {
        let input = try demoFile()
        let file = directory.file("results")
        Fixtures.writeBytes(file, [1, 2, 3])
        for force in [false, true] {
            let run = try CommandRun(["cluster", input, "-k", "8", "-o", file, "--quiet"] + (force ? ["--force"] : []))
            #expect(run.status != 0)
            #expect(errorLines(run.standardError).first?.contains("not a directory") == true, "\(run.standardError)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: file)) == Data([1, 2, 3]))
        }
        #expect(try strayEntries(in: directory.path, expected: ["demo.npy", "results"]).isEmpty)
    }

    /// A missing parent is created for the results and removed again when the run fails.
    @Test func missingParentsAreRemovedOnFailure() throws {
        let input = try demoFile()
        let output = directory.file("a/b/out")
        let run = try CommandRun(["cluster", input, "-k", "3001", "-o", output, "--quiet"])
        #expect(run.status != 0)
        #expect(try strayEntries(in: directory.path, expected: ["demo.npy"]).isEmpty)
        #expect(try CommandRun(["cluster", input, "-k", "3", "-o", output, "--quiet"]).status == 0)
        #expect(try strayEntries(in: directory.file("a/b"), expected: ["out"]).isEmpty)
    }

    // MARK: demo

    /// `demo` interrupted before its file is in place: exit 143, one line, no file, no temporary.
    @Test func interruptedDemoLeavesNothing() throws {
        let output = directory.file("blobs.npy")
        let marker = directory.file("paused")
        let run = try RunningCommand(
            ["demo", "-o", output, "--points", "50000", "--dim", "16"],
            environment: [RunningCommand.pauseVariable: marker], logs: directory.file("run"))
        #expect(run.waitForPause(marker: marker), "demo never reached the point before its file is moved into place")
        run.signal(SIGTERM)
        let result = run.finish()
        #expect(!result.killed && result.status == 143, "\(result.standardError)")
        #expect(errorLines(result.standardError).count == 1, "\(result.standardError)")
        try? FileManager.default.removeItem(atPath: marker)
        #expect(try strayEntries(in: directory.path, expected: ["run.out", "run.err"]).isEmpty)
    }

    /// A write error (full disk, or here the file-size limit) leaves no temporary.
    @Test func demoWriteErrorLeavesNothing() throws {
        let output = directory.file("blobs.npy")
        let run = try runWithFileSizeLimit(
            ["demo", "-o", output, "--points", "50000", "--dim", "16"], blocks: 100, logs: NSTemporaryDirectory() + "limited-\(getpid())")
        #expect(run.status != 0)
        #expect(errorLines(run.standardError).first?.contains("File too large") == true, "\(run.standardError)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
    }

    /// A `demo` killed outright leaves its temporary; the next `demo` into that directory removes it.
    @Test func killedDemoTemporaryIsRemovedByTheNextRun() throws {
        let output = directory.file("blobs.npy")
        let marker = directory.file("paused")
        let run = try RunningCommand(
            ["demo", "-o", output, "--points", "20000", "--dim", "16"],
            environment: [RunningCommand.pauseVariable: marker], logs: directory.file("run"))
        #expect(run.waitForPause(marker: marker), "demo never reached the point before its file is moved into place")
        run.signal(SIGKILL)
        #expect(run.finish().killed)
        try? FileManager.default.removeItem(atPath: marker)
        #expect(!(try strayEntries(in: directory.path, expected: ["run.out", "run.err"])).isEmpty)
        let again = try CommandRun(["demo", "-o", output, "--points", "100", "--dim", "4"])
        #expect(again.status == 0, "\(again.standardError)")
        #expect(try strayEntries(in: directory.path, expected: ["run.out", "run.err", "blobs.npy"]).isEmpty)
    }

    /// `demo` never replaces a file without `--force`, and replaces it with `--force`.
    @Test func demoRefusesToOverwrite() throws {
        let output = directory.file("blobs.npy")
        Fixtures.writeBytes(output, [9, 9])
        let run = try CommandRun(["demo", "-o", output, "--points", "100", "--dim", "4"])
        #expect(run.status != 0)
        #expect(errorLines(run.standardError).first?.contains("--force") == true, "\(run.standardError)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: output)) == Data([9, 9]))
        let forced = try CommandRun(["demo", "-o", output, "--points", "100", "--dim", "4", "--force"])
        #expect(forced.status == 0, "\(forced.standardError)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: output)).count == 128 + 100 * 4 * 4)
        #expect(try strayEntries(in: directory.path, expected: ["blobs.npy"]).isEmpty)
    }
}

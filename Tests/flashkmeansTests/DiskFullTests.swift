import Foundation
import Testing
import _FlashKMeansTestSupport

/// Writes that fail part-way (a full disk, a file-size limit) leave the earlier state, one
/// line naming the file, and the training's checkpoint; never a partial result, a staging
/// directory or a lock.
@Suite(.serialized) struct DiskFullTests {
    let directory = TemporaryDirectory()

    /// 100,000 rows: labels.npy alone is about 400 KB.
    func input() throws -> String {
        let path = directory.file("data.npy")
        let run = try CommandRun(["demo", "-o", path, "--points", "100000", "--dim", "8", "--blobs", "4"])
        #expect(run.status == 0, "\(run.standardError)")
        return path
    }

    /// Runs the binary through `sh -c` with `prefix` before it (limits, ignored signals).
    func shell(_ prefix: String, _ arguments: [String]) throws -> CommandRun {
        let quoted = ([CommandRun.binary.path] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        return try CommandRun(executable: "/bin/sh", ["-c", prefix + " exec " + quoted.joined(separator: " ")])
    }

    func errorLines(_ text: String) -> [Substring] { text.split(separator: "\n").filter { $0.hasPrefix("error: ") } }

    /// A real full disk: a 256 KB tmpfs, where one can be mounted (root with the capability).
    @Test func fullDiskLeavesNothing() throws {
        let data = try input()
        let mountPoint = directory.file("tiny")
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        let mounted = try CommandRun(executable: "/bin/mount", ["-t", "tmpfs", "-o", "size=256k", "tmpfs", mountPoint])
        guard mounted.status == 0 else {
            print("skipped: cannot mount a tmpfs here (\(mounted.standardError.trimmingCharacters(in: .whitespacesAndNewlines)))")
            return
        }
        defer { _ = try? CommandRun(executable: "/bin/umount", [mountPoint]) }
        do {
            let output = mountPoint + "/out"
            let run = try CommandRun(["cluster", data, "-k", "4", "--max-iter", "3", "-o", output, "--quiet"])
            #expect(run.status == 1, "\(run.standardError)")
            let errors = errorLines(run.standardError)
            #expect(errors.count == 1, "\(run.standardError)")
            #expect(errors.first?.contains("No space left on device") == true, "\(run.standardError)")
            #expect(errors.first?.contains(output) == true, "\(run.standardError)")
            // Training finished, so its checkpoint stays for `--resume` once there is room, and the line says so.
            #expect(errors.first?.contains(".out.checkpoint: once the problem is solved") == true, "\(run.standardError)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: mountPoint).filter { $0 != ".out.checkpoint" }.isEmpty)
        }
        // With room again, the same run succeeds: nothing left behind stands in its way.
        let roomy = directory.file("out")
        #expect(try CommandRun(["cluster", data, "-k", "4", "--max-iter", "3", "-o", roomy, "--quiet"]).status == 0)
    }

    /// A file-size limit (RLIMIT_FSIZE) that the results exceed: writes fail with EFBIG,
    /// and the earlier results stay as they were.
    @Test func fileSizeLimitKeepsTheEarlierResults() throws {
        let data = try input()
        let output = directory.file("out")
        #expect(try CommandRun(["cluster", data, "-k", "4", "--max-iter", "3", "--seed", "1", "-o", output, "--quiet"]).status == 0)
        let before = snapshot(output)
        // SIGXFSZ ignored, as a shell does for its jobs, so that the write fails instead.
        let run = try shell("trap '' XFSZ; ulimit -f 200;", ["cluster", data, "-k", "5", "--max-iter", "3", "-o", output, "--force", "--quiet"])
        #expect(run.status == 1, "\(run.standardError)")
        let errors = errorLines(run.standardError)
        #expect(errors.count == 1, "\(run.standardError)")
        #expect(errors.first?.contains("File too large") == true, "\(run.standardError)")
        #expect(errors.first?.contains("run the same command with --resume") == true, "\(run.standardError)")
        #expect(snapshot(output) == before)
        let strays = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { !["data.npy", "out", ".out.checkpoint"].contains($0) }
        #expect(strays.isEmpty, "\(strays)")
        // Without the limit, --resume finishes with what an undisturbed run writes.
        let reference = directory.file("reference")
        #expect(try CommandRun(["cluster", data, "-k", "5", "--max-iter", "3", "-o", reference, "--quiet"]).status == 0)
        let resumed = try CommandRun(["cluster", data, "-k", "5", "--max-iter", "3", "-o", output, "--force", "--resume", "--quiet"])
        #expect(resumed.status == 0, "\(resumed.standardError)")
        #expect(snapshot(output).filter { $0.key != "report.json" } == snapshot(reference).filter { $0.key != "report.json" })
    }
}

import Foundation
import Testing
import _FlashKMeansTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// `cluster` interrupted at any moment leaves either its complete results or a checkpoint
/// (never partial files), and `--resume` from that checkpoint ends with the results of a run
/// never interrupted, byte for byte, with another thread count and algorithm.
@Suite struct ResumeCommandTests {
    let directory = TemporaryDirectory()

    func input() throws -> String {
        let path = directory.file("data.npy")
        // Overlapping blobs: many iterations before the labels settle.
        let run = try CommandRun(["demo", "-o", path, "--points", "6000", "--dim", "16", "--blobs", "3", "--spread", "3"])
        #expect(run.status == 0, "\(run.standardError)")
        return path
    }

    func arguments(_ input: String, output: String) -> [String] {
        ["cluster", input, "-k", "48", "--tol", "0", "--max-iter", "400", "--seed", "4", "-o", output, "--quiet"]
    }

    func results(_ output: String) -> [String: Data] { snapshot(output).filter { $0.key != "report.json" } }

    @Test func interruptedAtRandomMomentsEveryRunResumesToTheSameResults() throws {
        let data = try input()
        let reference = directory.file("reference")
        let started = Date()
        let full = try CommandRun(arguments(data, output: reference))
        #expect(full.status == 0, "\(full.standardError)")
        let runMicroseconds = UInt32(Date().timeIntervalSince(started) * 1e6)
        let expected = results(reference)
        #expect(expected.keys.sorted() == ["centroids.npy", "labels.npy"])

        var generator = SystemRandomNumberGenerator()
        var outcomes: [String] = []
        for trial in 0..<20 {
            let output = directory.file("out\(trial)")
            let checkpoint = directory.file(".out\(trial).checkpoint")
            let run = try RunningCommand(
                arguments(data, output: output) + ["--threads", "\(1 + trial % 2)"], logs: directory.file("trial"))
            // Within the first 70% of the reference time: the reference may have run on a busier machine than a
            // trial (under ThreadSanitizer, 11 of 20 trials once finished before a signal drawn over
            // the whole reference time).
            usleep(UInt32.random(in: 0...(runMicroseconds * 7 / 10), using: &generator))
            run.signal(trial % 3 == 0 ? SIGTERM : SIGINT)
            let result = run.finish()
            var outcome = "trial \(trial): status \(result.status)"
            if result.killed {
                // A signal that arrives before the run has touched anything stops it the
                // default way; it must then have left nothing at all.
                #expect(!FileManager.default.fileExists(atPath: output), "\(result.standardError)")
                #expect(!FileManager.default.fileExists(atPath: checkpoint))
                outcome += ", stopped before starting"
            } else if result.status == 0 {
                #expect(results(output) == expected)
                #expect(!FileManager.default.fileExists(atPath: checkpoint))
            } else {
                #expect([130, 143].contains(result.status), "\(result.standardError)")
                if FileManager.default.fileExists(atPath: output) {
                    // Stopped just after its results were swapped in: they are complete, the
                    // message says so, and no checkpoint is left. Never partial results.
                    #expect(results(output) == expected, "\(snapshot(output).keys.sorted())")
                    #expect(result.standardError.contains("the results were already in"), "\(result.standardError)")
                    #expect(!FileManager.default.fileExists(atPath: checkpoint))
                    outcome += ", complete"
                } else if FileManager.default.fileExists(atPath: checkpoint) {
                    #expect(result.standardError.contains("--resume"), "\(result.standardError)")
                    let resumed = try CommandRun(
                        arguments(data, output: output) + ["--resume", "--threads", "\(2 - trial % 2)", "--algorithm", trial % 2 == 0 ? "lloyd" : "yinyang"])
                    #expect(resumed.status == 0, "\(resumed.standardError)")
                    #expect(results(output) == expected)
                    #expect(!FileManager.default.fileExists(atPath: checkpoint))
                    outcome += ", resumed"
                }
            }
            let strays = try FileManager.default.contentsOfDirectory(atPath: directory.path)
                .filter { !["data.npy", "reference", "trial.out", "trial.err"].contains($0) && !$0.hasPrefix("out") }
            #expect(strays.isEmpty, "\(strays)")
            outcomes.append(outcome)
        }
        // Most trials should have stopped a run under way, not one that had finished.
        #expect(outcomes.filter { $0.hasSuffix("resumed") }.count >= 5, "\(outcomes)")
    }

    @Test func resumeRefusesWhatItCannotContinue() throws {
        let data = try input()
        let output = directory.file("out")
        let missing = try CommandRun(arguments(data, output: output) + ["--resume"])
        #expect(missing.status == 1)
        #expect(missing.standardError.contains("no interrupted run to resume"), "\(missing.standardError)")

        let run = try RunningCommand(arguments(data, output: output), logs: directory.file("run"))
        // Wait for a checkpoint, then stop the run.
        let checkpoint = directory.file(".out.checkpoint")
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: checkpoint), Date() < deadline { usleep(2_000) }
        run.signal(SIGINT)
        let result = run.finish()
        try #require(result.status == 130, "\(result.standardError)")
        #expect(FileManager.default.fileExists(atPath: checkpoint))

        let otherSeed = try CommandRun(
            ["cluster", data, "-k", "48", "--tol", "0", "--max-iter", "400", "--seed", "5", "-o", output, "--resume"])
        #expect(otherSeed.status == 1)
        #expect(otherSeed.standardError.split(separator: "\n").last?.contains("--seed 4, not 5") == true, "\(otherSeed.standardError)")

        let fresh = try CommandRun(arguments(data, output: output))
        #expect(fresh.status == 1)
        #expect(fresh.standardError.contains("pass --resume to continue it, or --force to start afresh"), "\(fresh.standardError)")
        #expect(FileManager.default.fileExists(atPath: checkpoint))

        let forced = try CommandRun(arguments(data, output: output) + ["--force"])
        #expect(forced.status == 0, "\(forced.standardError)")
        #expect(!FileManager.default.fileExists(atPath: checkpoint))
    }
}

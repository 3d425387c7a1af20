import Foundation
import Testing
import _FlashKMeansTestSupport

/// Another process truncates the input while `cluster` reads it: the run once died of
/// SIGBUS (exit 135, a backtrace, and once a hang behind the backtracer). It must stop
/// with one line naming the file, a non-zero exit, and no results.
@Suite struct ShrinkingInputTests {
    @Test func truncatingTheInputDuringARunStopsItWithOneLine() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let input = directory.file("isotropic.npy")
        let demo = try CommandRun(["demo", "-o", input, "--points", "200000", "--dim", "32", "--blobs", "1"])
        #expect(demo.status == 0, "\(demo.standardError)")
        let output = directory.file("out")

        let process = Process()
        process.executableURL = CommandRun.binary
        // Isotropic data with many clusters converge slowly: the run outlasts the truncation.
        process.arguments = ["cluster", input, "-k", "256", "--max-iter", "100000", "--tol", "0", "--algorithm", "lloyd", "-o", output, "--quiet"]
        let error = Pipe()
        process.standardError = error
        process.standardOutput = Pipe()
        try process.run()
        Thread.sleep(forTimeInterval: 1.5)
        let stillRunning = process.isRunning
        #expect(truncate(input, 4096) == 0)

        // Never hang: give it a minute, then kill it and fail.
        let deadline = Date().addingTimeInterval(60)
        while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning { process.terminate() }
        #expect(!process.isRunning)
        process.waitUntilExit()
        let message = String(decoding: error.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)

        #expect(stillRunning, "the run ended before the file was cut: \(message)")
        #expect(process.terminationReason == .exit, "\(message)")
        #expect(process.terminationStatus == 1, "\(message)")
        let lines = message.split(separator: "\n")
        #expect(lines == ["error: \(input): changed size while being read"])
        #expect(!FileManager.default.fileExists(atPath: output))
    }
}

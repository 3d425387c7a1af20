import ArgumentParser
import FlashKMeans
import Foundation

/// Where results go and how much is said while they are made: `cluster`, `assign`, `ivf`,
/// `elbow` and `sweep`, which all write a directory of results at once or not at all.
struct OutputOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "Directory for the results.")
    var output: String

    @Flag(help: "Replace results already in the output directory.")
    var force = false

    @Flag(help: "Print nothing on standard error while running.")
    var quiet = false

    /// Every file any command writes into a results directory: `--force` replaces a set of
    /// these as a whole (an `assign` over a `cluster` leaves no stale centroids), and a directory
    /// holding anything else is refused.
    static let resultFileNames = KMeansResult.outputFileNames + Assign.fileNames + IVF.fileNames + [Sweep.csvName, Sweep.plotName]
        + Elbow.fileNames + [Elbow.plotName]

    /// Checks and locks the directory before any work, so that a run that could not save its
    /// results fails at once, and a second run into it fails at once too. SIGINT and SIGTERM
    /// from here on leave the directory as it was.
    func prepare(fileNames: [String]) throws -> OutputDirectory {
        try Interruption.registering {
            let directory = try OutputDirectory.prepare(
                path: output, fileNames: fileNames, overwrite: force, otherResultNames: Self.resultFileNames)
            directory.willReplace = Self.pauseBeforeReplacing
            Interruption.protect(directory)
            return directory
        }
    }

    /// For tests only: with `FLASHKMEANS_TEST_PAUSE_BEFORE_SWAP=FILE` set, a run creates FILE when its
    /// results are written and flushed, just before they replace the old ones, and waits there (up
    /// to a minute) until FILE is removed, so that a test can signal or race it at that moment.
    static let pauseBeforeReplacing: (@Sendable () -> Void)? = {
        guard let marker = ProcessInfo.processInfo.environment["FLASHKMEANS_TEST_PAUSE_BEFORE_SWAP"], !marker.isEmpty else {
            return nil
        }
        return {
            _ = FileManager.default.createFile(atPath: marker, contents: nil)
            let deadline = Date().addingTimeInterval(60)
            while FileManager.default.fileExists(atPath: marker), Date() < deadline { usleep(10_000) }
        }
    }()
}

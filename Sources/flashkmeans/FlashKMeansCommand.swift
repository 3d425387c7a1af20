import ArgumentParser
import FlashKMeans
import Foundation


@main
struct FlashKMeansCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flashkmeans",
        abstract: "Exact k-means for large float32 embedding files, streamed from disk.",
        version: FlashKMeansVersion.current,
        subcommands: [Cluster.self, Inspect.self, Sweep.self, Demo.self]
    )
}

/// Writes text to standard error as is.
func writeToStandardError(_ text: String) {
    FileHandle.standardError.write(Data(text.utf8))
}

/// Prints one line to standard error.
func printError(_ message: String) {
    writeToStandardError(message + "\n")
}

/// Reports a library error as one line and returns the exit code to throw: every
/// subcommand treats bad input this way.
func fail(_ error: any Error, input: String? = nil) -> ExitCode {
    switch error {
    case let error as KMeansError:
        printError("error: \(input.map { "\($0): " } ?? "")\(error)")
    case let error as CocoaError:
        printError("error: \(error.localizedDescription)")
    default:
        printError("error: \(error)")
    }
    return ExitCode.failure
}

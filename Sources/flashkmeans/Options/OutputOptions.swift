import ArgumentParser
import FlashKMeans

/// Where results go and how much is said while they are made: `cluster`, `assign`, `ivf`
/// and `sweep`, which all write a directory of results at once or not at all.
struct OutputOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "Directory for the results.")
    var output: String

    @Flag(help: "Replace results already in the output directory.")
    var force = false

    @Flag(help: "Print nothing on standard error while running.")
    var quiet = false

    /// Checks the directory before any work, so that a run that could not save its results fails at once.
    func prepare(fileNames: [String]) throws -> OutputDirectory {
        try OutputDirectory.prepare(path: output, fileNames: fileNames, overwrite: force)
    }
}

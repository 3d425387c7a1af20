import ArgumentParser
import FlashKMeans
import Foundation
#if canImport(Glibc)
import Glibc
#endif


@main
struct FlashKMeansCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flashkmeans",
        abstract: "Exact k-means for large float32 embedding files, streamed from disk.",
        version: FlashKMeansVersion.current,
        subcommands: [Cluster.self, Assign.self, IVF.self, Inspect.self, Sweep.self, Demo.self]
    )

    static func main() {
        selectBLASCore()
        main(nil)
    }

    /// Asks OpenBLAS for its AVX-512 kernels where it would otherwise run AVX2 ones on an
    /// AVX-512 CPU (see ``BLASCoreSelection``). OpenBLAS reads `OPENBLAS_CORETYPE` only
    /// when it loads, so the process sets it and replaces itself with a fresh copy.
    private static func selectBLASCore() {
        let cpu = BLASCoreSelection.cpuInformation()
        guard let core = BLASCoreSelection.recommendedCoreType(
            currentCore: BLAS.coreName, cpuVendor: cpu.vendor, cpuFlags: cpu.flags,
            environment: ProcessInfo.processInfo.environment)
        else { return }
        setenv("OPENBLAS_CORETYPE", core, 1)
        let arguments = CommandLine.arguments.map { strdup($0) } + [nil]
        execv("/proc/self/exe", arguments)
        // execv returns only on failure: carry on with OpenBLAS's own choice.
    }
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

/// Validates `configuration` against `source` before any work, as a one-line error naming the input.
func checkRunnable(_ configuration: KMeans.Configuration, on source: any EmbeddingSource, input: String) throws {
    do {
        try configuration.validate(pointCount: source.rowCount, dimension: source.dimension)
    } catch {
        throw fail(error, input: input)
    }
}

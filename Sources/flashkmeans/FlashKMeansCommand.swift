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

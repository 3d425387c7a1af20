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
        subcommands: [Cluster.self, Assign.self, IVF.self, Elbow.self, Inspect.self, Sweep.self, Demo.self]
    )

    static func main() {
        refuseRanksWhereUnsupported()
        selectBLASCore()
        main(nil)
    }

    /// The commands that split their work over the ranks of an `mpirun` job.
    static let commandsAcrossRanks: Set = ["cluster", "assign", "ivf"]

    /// Any other command started by `mpirun` would run once per rank, each writing the same
    /// output, so it stops with one line.
    private static func refuseRanksWhereUnsupported() {
        let environment = ProcessInfo.processInfo.environment
        guard environment["OMPI_COMM_WORLD_SIZE"] != nil || environment["PMIX_RANK"] != nil,
              environment["FLASHKMEANS_SINGLE_PROCESS"] == nil,
              let command = CommandLine.arguments.dropFirst().first, !command.hasPrefix("-"),
              !commandsAcrossRanks.contains(command)
        else { return }
        if (environment["OMPI_COMM_WORLD_RANK"] ?? environment["PMIX_RANK"]) == "0" {
            printError("error: \(command) does not run across MPI ranks; run it without mpirun (cluster, assign and ivf do)")
        }
        Glibc.exit(1)
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

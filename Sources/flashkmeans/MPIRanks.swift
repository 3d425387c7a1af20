import ArgumentParser
import CMPILoader
import FlashKMeans
import Foundation

/// The ranks of the job when `mpirun` (or `srun` with PMIx) started this process; `nil`
/// otherwise, and then MPI is never loaded.
final class MPIRanks: RankGroup {
    let rank: Int
    let size: Int

    /// Started on first use; a process that should be a rank but cannot start MPI exits
    /// at once with one line, rather than run alone as if it were the whole job.
    nonisolated(unsafe) static let current: MPIRanks? = {
        let environment = ProcessInfo.processInfo.environment
        guard environment["OMPI_COMM_WORLD_SIZE"] != nil || environment["PMIX_RANK"] != nil,
              environment["FLASHKMEANS_SINGLE_PROCESS"] == nil
        else { return nil }
        var rank: Int32 = 0
        var size: Int32 = 0
        var error = [CChar](repeating: 0, count: 512)
        guard fk_mpi_start(&rank, &size, &error, error.count) == 0 else {
            printError("error: " + String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
            exit(1)
        }
        atexit { _ = fk_mpi_finish() }
        return MPIRanks(rank: Int(rank), size: Int(size))
    }()

    private init(rank: Int, size: Int) {
        self.rank = rank
        self.size = size
    }

    var isFirst: Bool { rank == 0 }

    func allGather(_ local: [UInt8]) throws -> [[UInt8]] {
        var counts = [Int](repeating: 0, count: size)
        guard fk_mpi_allgather_long(local.count, &counts) == 0 else { throw MPIError(call: "MPI_Allgather") }
        var gathered = [UInt8](repeating: 0, count: counts.reduce(0, +))
        let status = local.withUnsafeBytes { mine in
            gathered.withUnsafeMutableBytes { all in
                fk_mpi_allgather(mine.baseAddress, mine.count, all.baseAddress, counts)
            }
        }
        guard status == 0 else { throw MPIError(call: "MPI_Allgatherv") }
        var parts: [[UInt8]] = []
        var start = 0
        for count in counts {
            parts.append(Array(gathered[start..<(start + count)]))
            start += count
        }
        return parts
    }

    func allReduceSum(_ local: UnsafeBufferPointer<Int64>, into total: UnsafeMutableBufferPointer<Int64>) throws {
        precondition(local.count == total.count)
        guard fk_mpi_allreduce_sum(local.baseAddress, total.baseAddress, local.count) == 0 else {
            throw MPIError(call: "MPI_Allreduce")
        }
    }

    /// ``RankGroup/agree(_:describe:)`` with the command's one-line messages.
    func agree(_ failure: (any Error)?, context: ErrorContext) throws {
        try agree(failure) { ErrorMessages.line(for: $0, context: context) }
    }

    /// Runs a command's set-up (opening the input, preparing the output) on this rank,
    /// then stops every rank if any failed, so that none waits in a collective for a rank
    /// that has already given up. Without ranks, just runs `body`.
    static func agreeing<Prepared>(
        _ ranks: MPIRanks?, context: ErrorContext, _ body: () throws -> Prepared
    ) throws -> Prepared {
        guard let ranks else { return try body() }
        var prepared: Prepared?
        var failure: (any Error)?
        do { prepared = try body() } catch { failure = error }
        try ranks.agree(failure, context: context)
        return prepared!
    }

    /// What a command run by `mpirun` throws for `error`: rank 0 prints the one line (every
    /// rank fails together, with the same cause), the others exit quietly.
    static func failure(_ error: any Error, ranks: MPIRanks?, context: ErrorContext) -> any Error {
        ranks?.isFirst == false ? ExitCode.failure : fail(error, context: context)
    }
}

struct MPIError: Error, CustomStringConvertible {
    var call: String
    var description: String { "\(call) failed; the job cannot go on" }
}

import ArgumentParser
import FlashKMeans
import Foundation

/// The checkpoint of a `cluster` or `ivf` run: kept beside the output directory during
/// training (see ``save(_:)``), read back by `--resume`, removed once the results are in place.
///
/// A checkpoint records the settings that decide the result; `--resume` refuses one made
/// with other settings (naming the first that differs) and starting afresh over one is
/// refused without `--force`, so that an hour of work is not thrown away by a forgotten flag.
final class Resumption: @unchecked Sendable {
    let path: String
    let parameters: [String: String]
    /// The checkpoint to continue from, with `--resume`.
    let checkpoint: Checkpoint?
    private let lock = NSLock()
    private var savedIteration: Int?
    /// When the latest checkpoint was written (only the training thread reads or sets it).
    private var lastSave: UInt64?
    /// Nanoseconds between checkpoints. A checkpoint holds every iteration's statistics, so
    /// writing one after each of a small job's millisecond iterations took 15% of its time
    /// (64k × 8, k = 32); an interrupted run now repeats at most a second of work.
    static let saveInterval: UInt64 = 1_000_000_000

    /// Settings that change the result, by their flag; `--max-iter` is not one (a run
    /// continued with more iterations is the longer run), nor are threads, tiles or the algorithm.
    static func parameters(command: String, configuration: KMeans.Configuration) -> [String: String] {
        var initialization = configuration.initialization.name
        if case let .centroids(values) = configuration.initialization {
            // The file's values, not its name: the same start from another file is the same run.
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for value in values {
                withUnsafeBytes(of: value.bitPattern.littleEndian) { for byte in $0 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 } }
            }
            initialization += " (values hashed to \(String(hash, radix: 16)))"
        }
        return [
            "command": command,
            "-k": "\(configuration.clusterCount)",
            "--init": initialization,
            "--init-sample": configuration.initializationSampleSize.map(String.init) ?? "default",
            "--tol": "\(configuration.tolerance)",
            "--seed": "\(configuration.seed)",
            "--metric": configuration.metric.rawValue,
            "--max-points-per-centroid": configuration.maxPointsPerCentroid.map(String.init) ?? "none",
        ]
    }

    /// - Throws: ``CommandError`` without a checkpoint to resume, for one made with other
    ///   settings, or for one that starting afresh would discard without `--force`.
    init(directory: OutputDirectory, command: String, configuration: KMeans.Configuration, resume: Bool, force: Bool) throws {
        path = directory.checkpointPath
        parameters = Self.parameters(command: command, configuration: configuration)
        let exists = FileManager.default.fileExists(atPath: path)
        if resume {
            guard exists else { throw CommandError(path: directory.path, message: "no interrupted run to resume (no \(path))") }
            let found = try Checkpoint.read(from: path)
            for key in parameters.keys.sorted() where found.parameters[key] != parameters[key] {
                let was = found.parameters[key] ?? "nothing"
                let setting = key == "command" ? "the command" : key
                throw CommandError(
                    path: path,
                    message: "the interrupted run had \(setting) \(was), not \(parameters[key]!); run without --resume to start afresh")
            }
            checkpoint = found
            savedIteration = found.completedIterations
        } else {
            if exists, !force {
                let iteration = (try? Checkpoint.read(from: path)).map { " after iteration \($0.completedIterations)" } ?? ""
                throw CommandError(
                    path: directory.path,
                    message: "an interrupted run left a checkpoint\(iteration); pass --resume to continue it, or --force to start afresh")
            }
            if exists { unlink(path) }
            checkpoint = nil
        }
        let placement = directory.placement
        Interruption.onInterrupt { [weak self, weak directory] in
            guard let self else { return nil }
            // A signal just after the results were swapped in (the command may have let go of the
            // directory already): the run is complete, and a checkpoint left behind would only
            // make the next run refuse to start.
            if directory?.abandon() == .resultsInPlace || placement.resultsInPlace {
                self.finish()
                return nil
            }
            return self.interruptionNote
        }
    }

    /// Trains from the checkpoint when there is one to resume (saying so), else afresh,
    /// saving checkpoints as it goes.
    func fit(_ source: any EmbeddingSource, configuration: KMeans.Configuration, progress: ProgressPrinter) throws -> KMeansResult {
        if let checkpoint {
            progress.message("resuming after iteration \(checkpoint.completedIterations) from \(path)")
        }
        let result = try KMeans.fit(
            progress.watching(source, firstIteration: (checkpoint?.completedIterations ?? 0) + 1), configuration: configuration, progress: progress.iteration, resumingFrom: checkpoint,
            checkpoint: save)
        progress.finish()
        return result
    }

    /// Trains as one rank of an `mpirun` job. Rank 0 holds the job's resumption (the others
    /// pass `nil`): it sends the checkpoint it resumes from to every rank, and it alone saves
    /// checkpoints, at the moments a single process would.
    static func fit(
        _ source: any EmbeddingSource, configuration: KMeans.Configuration, across ranks: MPIRanks, resumption: Resumption?,
        resume: Bool, progress: ProgressPrinter
    ) throws -> KMeansResult {
        var checkpoint: Checkpoint?
        if resume {
            // Every rank takes part, rank 0 with the bytes of what it read (empty if it could
            // not encode them, which every rank then refuses alike).
            let sent = ranks.isFirst ? ((try? resumption?.checkpoint?.encoded()) ?? []) : []
            let parts = try ranks.allGather(sent)
            checkpoint = try Checkpoint.decoded(from: parts[0], path: resumption?.path ?? "the checkpoint rank 0 sent")
            progress.message("resuming after iteration \(checkpoint!.completedIterations) from \(resumption?.path ?? "rank 0")")
        }
        progress.message("\(ranks.size) MPI ranks")
        let result = try KMeans.fit(
            progress.watching(source, firstIteration: (checkpoint?.completedIterations ?? 0) + 1, countsReads: false),
            configuration: configuration, across: ranks, progress: progress.iteration, resumingFrom: checkpoint,
            checkpoint: resumption.map { resumption in { try resumption.save($0) } })
        progress.finish()
        return result
    }

    /// Saves `checkpoint` with this run's settings: after the first iteration, then at most
    /// once per ``saveInterval``. A signal waits for the write to end, so the file on disk is
    /// always a whole checkpoint.
    func save(_ checkpoint: Checkpoint) throws {
        let now = DispatchTime.now().uptimeNanoseconds
        if let lastSave, now - lastSave < Self.saveInterval { return }
        lastSave = now
        var checkpoint = checkpoint
        checkpoint.parameters = parameters
        try Interruption.registering { try checkpoint.write(to: path) }
        lock.withLock { savedIteration = checkpoint.completedIterations }
    }

    /// `error` with a note of how to resume, when this run's checkpoint is still saved: a run
    /// whose results could not be written (a full disk) need not train again.
    func noting(_ error: any Error) -> any Error {
        guard !(error is ExitCode), lock.withLock({ savedIteration }) != nil else { return error }
        return ResumableFailure(
            underlying: error,
            note: "the training is saved in \(path): once the problem is solved, run the same command with --resume to write the results")
    }

    /// Removes the checkpoint once the results are in place.
    func finish() {
        Interruption.registering {
            _ = unlink(path)
            lock.withLock { savedIteration = nil }
        }
    }

    private var interruptionNote: String? {
        lock.withLock { savedIteration }.map {
            "iteration \($0) is saved in \(path); run the same command with --resume to continue"
        }
    }
}

/// A failure after training whose checkpoint is kept, with the note saying how to resume.
struct ResumableFailure: Error {
    var underlying: any Error
    var note: String
}

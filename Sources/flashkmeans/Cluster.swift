import ArgumentParser
import FlashKMeans
import Foundation

struct Cluster: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Cluster an embedding file with exact k-means (Lloyd iterations).",
        discussion: """
            Writes centroids.npy (k x d float32), labels.npy (n int32) and report.json to the \
            output directory, all at once when the run succeeds and nothing otherwise.
            """
    )

    /// `--max-iter` when not given.
    static let defaultMaxIterations = 100

    @OptionGroup var input: InputOptions
    @OptionGroup var training: TrainingOptions
    @OptionGroup var metric: MetricOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var threads: ThreadOptions
    @OptionGroup var tiles: TileOptions
    @OptionGroup var seed: SeedOptions

    func validate() throws {
        if training.k == nil, training.initializationFile == nil {
            throw ValidationError("-k is required unless --init names a file of centroids")
        }
    }

    func run() throws {
        if let ranks = MPIRanks.current { return try run(across: ranks) }
        var context = ErrorContext(input: input.input, centroids: training.initializationFile)
        let progress = ProgressPrinter(quiet: output.quiet, maxIterations: training.maxIter ?? Self.defaultMaxIterations)
        defer { progress.finish() }
        do {
            let source = try input.open()
            context.shards = source.description.shards
            let directory = try output.prepare(fileNames: KMeansResult.outputFileNames)
            let configuration = try training.configuration(
                for: source, input: input, threads: threads, tiles: tiles, metric: metric, seed: seed,
                defaultMaxIterations: Self.defaultMaxIterations)
            try configuration.validate(pointCount: source.rowCount, dimension: source.dimension)
            let choice = try configuration.chooseAlgorithm(pointCount: source.rowCount, dimension: source.dimension)
            announce(source, configuration: configuration, choice: choice, progress: progress)
            let resumption = try Resumption(
                directory: directory, command: "cluster", configuration: configuration, resume: training.resume, force: output.force)
            let result = try resumption.fit(source, configuration: configuration, progress: progress)
            do {
                try write(result, source: source, configuration: configuration, to: directory)
            } catch {
                throw resumption.noting(error)
            }
            resumption.finish()
        } catch {
            throw fail(error, context: context)
        }
    }

    /// One rank of an `mpirun` job: every rank reads its share of the rows; rank 0 alone
    /// prints and writes the results. A failure on any rank stops them all, and rank 0
    /// reports it.
    private func run(across ranks: MPIRanks) throws {
        let context = ErrorContext(input: input.input, centroids: training.initializationFile)
        let progress = ProgressPrinter(
            quiet: output.quiet || !ranks.isFirst, maxIterations: training.maxIter ?? Self.defaultMaxIterations)
        defer { progress.finish() }
        do {
            let (source, directory, configuration, resumption) = try MPIRanks.agreeing(ranks, context: context) {
                let source = try input.open()
                let directory = ranks.isFirst ? try output.prepare(fileNames: KMeansResult.outputFileNames) : nil
                let configuration = try training.configuration(
                    for: source, input: input, threads: threads, tiles: tiles, metric: metric, seed: seed,
                    defaultMaxIterations: Self.defaultMaxIterations)
                try configuration.validate(pointCount: source.rowCount, dimension: source.dimension)
                let resumption = try directory.map {
                    try Resumption(directory: $0, command: "cluster", configuration: configuration, resume: training.resume, force: output.force)
                }
                return (source, directory, configuration, resumption)
            }
            let choice = try configuration.chooseAlgorithm(pointCount: source.rowCount, dimension: source.dimension)
            announce(source, configuration: configuration, choice: choice, progress: progress)
            let result = try Resumption.fit(
                source, configuration: configuration, across: ranks, resumption: resumption, resume: training.resume, progress: progress)
            if let directory, let resumption {
                do {
                    try write(result, source: source, configuration: configuration, to: directory)
                } catch {
                    throw resumption.noting(error)
                }
                resumption.finish()
            }
        } catch {
            throw MPIRanks.failure(error, ranks: ranks, context: context)
        }
    }

    private func announce(
        _ source: any EmbeddingSource, configuration: KMeans.Configuration, choice: AlgorithmChoice, progress: ProgressPrinter
    ) {
        let file = source.description
        progress.message(
            "\(file.path): \(file.rowCount) × \(file.dimension) \(file.dataType) (\(file.format.rawValue), \(file.layout.rawValue)), "
                + "k = \(configuration.clusterCount), init \(training.initialization.defaultValueDescription), "
                + "algorithm \(choice.algorithm.rawValue) (\(choice.reason))")
    }

    private func write(
        _ result: KMeansResult, source: any EmbeddingSource, configuration: KMeans.Configuration, to directory: OutputDirectory
    ) throws {
        let file = source.description
        let report = RunReport(
            input: file, configuration: configuration, initializationFile: training.initializationFile, result: result)
        try result.write(to: directory, report: report)
        var line = summary(result, report: report)
        if report.trainingRows < file.rowCount { line += " (trained on a sample of \(report.trainingRows) rows, then every row labelled)" }
        if let ranks = result.ranks {
            line += String(format: "; %d MPI ranks, %.2f s exchanging on rank 0", ranks.ranks, ranks.communicationSeconds)
        }
        print(line)
    }

    private func summary(_ result: KMeansResult, report: RunReport) -> String {
        let megabyte = 1_048_576.0
        return String(
            format: "%d iterations (%@), inertia %.6e, %@, %.2f s total (init %.2f s, median %.3f s/iteration), "
                + "cluster sizes %d / %d / %d (min / median / max, imbalance %.3f), "
                + "%d empty clusters re-seeded, peak RSS %.0f MB, RssAnon %.0f MB, %d threads, tiles %d × %d -> %@",
            result.iterations.count, result.stopReason.rawValue, result.inertia, result.algorithm.algorithm.rawValue, result.totalSeconds,
            result.initializationSeconds, report.timing.medianIterationSeconds,
            report.balance.smallest, report.balance.median, report.balance.largest, report.balance.imbalanceFactor,
            result.emptyClustersReseeded,
            Double(result.memory.peakResidentBytes) / megabyte, Double(result.memory.peakAnonymousBytes) / megabyte,
            result.plan.threadCount, result.plan.pointTile, result.plan.centroidTile, output.output)
    }
}

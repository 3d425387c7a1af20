import ArgumentParser
import FlashKMeans
import Foundation

struct Cluster: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Cluster an embedding file with exact k-means (Lloyd iterations).",
        discussion: """
            Writes centroids.npy (k × d float32), labels.npy (n int32) and report.json to the \
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
            let file = source.description
            progress.message(
                "\(file.path): \(file.rowCount) × \(file.dimension) \(file.dataType) (\(file.format.rawValue), \(file.layout.rawValue)), "
                    + "k = \(configuration.clusterCount), init \(training.initialization.defaultValueDescription), "
                    + "algorithm \(choice.algorithm.rawValue) (\(choice.reason))")
            let resumption = try Resumption(
                directory: directory, command: "cluster", configuration: configuration, resume: training.resume, force: output.force)
            if let checkpoint = resumption.checkpoint {
                progress.message("resuming after iteration \(checkpoint.completedIterations) from \(resumption.path)")
            }
            let result = try KMeans.fit(
                source, configuration: configuration, progress: progress.iteration, resumingFrom: resumption.checkpoint,
                checkpoint: resumption.save)
            progress.finish()
            let report = RunReport(
                input: file, configuration: configuration, initializationFile: training.initializationFile, result: result)
            try result.write(to: directory, report: report)
            resumption.finish()
            var line = summary(result, report: report)
            if report.trainingRows < file.rowCount { line += " (trained on a sample of \(report.trainingRows) rows, then every row labelled)" }
            print(line)
        } catch {
            throw fail(error, context: context)
        }
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

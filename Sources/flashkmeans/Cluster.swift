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

    @OptionGroup var input: InputOptions

    @Option(name: .short, help: "Number of clusters. With --init FILE it defaults to the file's row count.")
    var k: Int?

    @Option(name: .shortAndLong, help: "Directory for the results.")
    var output: String

    @Option(name: .customLong("init"), help: "kmeans++, random, or a file of k × d initial centroids in any supported format.")
    var initialization: InitializationChoice = .kMeansPlusPlus

    @Option(help: "Rows k-means++ runs on (default: n/24, at least 16 per cluster; about two Lloyd iterations of work).")
    var initSample: Int?

    @Option(help: "Random seed; the same seed and input give the same result for any thread count.")
    var seed: UInt64 = 0

    @Option(help: "Most Lloyd iterations.")
    var maxIter: Int = 100

    @Option(help: "Stop when the inertia falls by less than this fraction in one iteration (0: run until labels stop changing).")
    var tol: Double = 1e-4

    @Option(help: "Worker threads (default: all cores).")
    var threads: Int?

    @Option(help: "Rows per point tile (default \(TilePlan.defaultPointTile)).")
    var tilePoints: Int?

    @Option(help: "Centroids per centroid tile (default \(TilePlan.defaultCentroidTile)).")
    var tileCentroids: Int?

    @Option(help: "l2 (squared Euclidean) or cosine (spherical k-means: rows normalized on the fly, unit centroids).")
    var metric: Metric = .l2

    @Option(help: ArgumentHelp(
        "Train on a seeded sample of k × this many rows (as faiss does), then label every row.",
        discussion: "Off by default: training then uses every row and stays exact Lloyd."))
    var maxPointsPerCentroid: Int?

    @Option(help: "lloyd, hamerly, elkan, yinyang or auto. All give identical results; they differ in the distance work they skip.")
    var algorithm: Algorithm = .auto

    @Option(help: ArgumentHelp(
        "Most memory for pruning bounds, in MB (default: a quarter of physical memory).",
        discussion: "auto picks an algorithm whose bounds fit; an explicit algorithm that does not fit is refused."))
    var memoryBudget: Int?

    @Flag(help: "Replace results already in the output directory.")
    var force = false

    @Flag(help: "Print nothing on standard error while running.")
    var quiet = false

    func validate() throws {
        if let k, k < 1 { throw ValidationError("-k must be at least 1, got \(k)") }
        if k == nil, case .file = initialization {} else if k == nil {
            throw ValidationError("-k is required unless --init names a file of centroids")
        }
        guard maxIter >= 1 else { throw ValidationError("--max-iter must be at least 1") }
        guard tol >= 0, tol.isFinite else { throw ValidationError("--tol must be a non-negative number") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if let tilePoints, tilePoints < 1 { throw ValidationError("--tile-points must be at least 1") }
        if let tileCentroids, tileCentroids < 1 { throw ValidationError("--tile-centroids must be at least 1") }
        if let initSample, initSample < 1 { throw ValidationError("--init-sample must be at least 1") }
        if let memoryBudget, memoryBudget < 0 { throw ValidationError("--memory-budget must not be negative") }
        if let maxPointsPerCentroid, maxPointsPerCentroid < 1 { throw ValidationError("--max-points-per-centroid must be at least 1") }
    }

    func run() throws {
        let progress = ProgressPrinter(quiet: quiet, maxIterations: maxIter)
        do {
            let source = try input.open()
            let directory = try OutputDirectory.prepare(path: output, fileNames: KMeansResult.outputFileNames, overwrite: force)
            var configuration = try makeConfiguration(for: source)
            configuration.seed = seed
            let choice: AlgorithmChoice
            do {
                try configuration.validate(pointCount: source.rowCount, dimension: source.dimension)
                choice = try configuration.chooseAlgorithm(pointCount: source.rowCount, dimension: source.dimension)
            } catch {
                throw fail(error, input: input.input)
            }
            let file = source.description
            progress.message(
                "\(file.path): \(file.rowCount) × \(file.dimension) \(file.dataType) (\(file.format.rawValue), \(file.layout.rawValue)), "
                    + "k = \(configuration.clusterCount), init \(initialization.defaultValueDescription), "
                    + "algorithm \(choice.algorithm.rawValue) (\(choice.reason))")
            let result: KMeansResult
            do {
                result = try KMeans.fit(source, configuration: configuration, progress: progress.iteration)
            } catch let error as KMeansError {
                throw fail(error, input: input.input)
            }
            progress.finish()
            let initializationFile: String? = if case let .file(path) = initialization { path } else { nil }
            let report = RunReport(input: file, configuration: configuration, initializationFile: initializationFile, result: result)
            try result.write(to: directory, report: report)
            var line = summary(result, report: report)
            if report.trainingRows < file.rowCount { line += " (trained on a sample of \(report.trainingRows) rows, then every row labelled)" }
            print(line)
        } catch let exit as ExitCode {
            progress.finish()
            throw exit
        } catch {
            progress.finish()
            throw fail(error, input: input.input)
        }
    }

    private func makeConfiguration(for source: any EmbeddingSource) throws -> KMeans.Configuration {
        switch initialization {
        case let .file(path):
            let loaded = try loadInitialCentroids(
                at: path, options: EmbeddingOpenOptions(dataset: input.dataset),
                dimension: source.dimension, clusterCount: k)
            var configuration = KMeans.Configuration(clusterCount: loaded.count)
            configuration.initialization = .centroids(loaded.centroids)
            return apply(to: configuration)
        case .kMeansPlusPlus:
            return apply(to: KMeans.Configuration(clusterCount: k!))
        case .random:
            var configuration = KMeans.Configuration(clusterCount: k!)
            configuration.initialization = .random
            return apply(to: configuration)
        }
    }

    private func apply(to base: KMeans.Configuration) -> KMeans.Configuration {
        var configuration = base
        configuration.initializationSampleSize = initSample
        configuration.maxIterations = maxIter
        configuration.tolerance = tol
        configuration.threadCount = threads
        configuration.pointTile = tilePoints
        configuration.centroidTile = tileCentroids
        configuration.algorithm = algorithm
        configuration.metric = metric
        configuration.maxPointsPerCentroid = maxPointsPerCentroid
        configuration.memoryBudget = memoryBudget.map { $0 << 20 }
        return configuration
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
            result.plan.threadCount, result.plan.pointTile, result.plan.centroidTile, output)
    }
}

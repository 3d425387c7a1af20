import ArgumentParser
import FlashKMeans
import Foundation

struct Elbow: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fit several values of k and mark the knee of inertia against k.",
        discussion: """
            Fits every k of -k on the same input in one process, each from its own k-means++ \
            start: the same k and seed give the same centroids and inertia as cluster. Writes \
            elbow.csv (k, inertia, iterations, seconds, silhouette, knee) and elbow-centroids.npy \
            (every k's centroids stacked in the order of k: sum of k rows x d) to the output \
            directory, all at once, and prints the table.

            The silhouette score is computed exactly, from every pairwise distance (Euclidean, \
            or 1 - cos under --metric cosine), on one seeded sample of rows shared by every k; \
            it is undefined, and left empty, for k = 1.

            The knee is the k whose inertia lies farthest below the straight line joining the \
            first and last points, with k and inertia each scaled to [0, 1] (the difference \
            curve of Kneedle, Satopaa et al. 2011); a curve with fewer than three points, or \
            none below that line, has no knee.
            """
    )

    static let csvName = "elbow.csv"
    static let centroidsName = "elbow-centroids.npy"
    static let startsName = "elbow-starts.npy"
    /// The name the plot usually takes: a result file, should it be written into an output directory.
    static let plotName = "elbow.png"
    static let fileNames = [csvName, centroidsName, startsName]

    @OptionGroup var input: InputOptions

    @Option(name: .short, help: ArgumentHelp(
        "Values of k: a list such as 2,4,8,16, a range 1...32, or a range with a step 2...32:2.",
        valueName: "list"))
    var k: String

    @Option(help: ArgumentHelp(
        "Also draw inertia and silhouette against k into this PNG file, once the results are in place.",
        valueName: "file.png"))
    var plot: String?

    @Option(help: "Rows the silhouette score is computed on, sampled with the seed; 0 leaves it out.")
    var silhouetteSample: Int = SilhouetteSample.defaultSize

    @Flag(help: ArgumentHelp(
        "Also write elbow-starts.npy: each k's k-means++ start, stacked as in elbow-centroids.npy.",
        discussion: "For comparisons that start another engine from the same centroids; chosen again for the file, so each k's initialization runs twice."))
    var saveStarts = false

    @Option(help: "Rows k-means++ runs on (default: n/24, at least 16 per cluster; about two Lloyd iterations of work).")
    var initSample: Int?

    @Option(help: "Most Lloyd iterations for each k (default: \(Cluster.defaultMaxIterations), as for cluster).")
    var maxIter: Int?

    @Option(help: "Stop when the inertia falls by less than this fraction in one iteration (0: run until labels stop changing).")
    var tol: Double = 1e-4

    @Option(help: "lloyd, hamerly, elkan, yinyang or auto. All give identical results; they differ in the distance work they skip.")
    var algorithm: Algorithm = .auto

    @Option(help: "Most memory for pruning bounds, in MB (default: a quarter of physical memory).")
    var memoryBudget: Int?

    @Option(help: "Train each k on a seeded sample of k x this many rows (as cluster does), then label every row.")
    var maxPointsPerCentroid: Int?

    @OptionGroup var metric: MetricOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var threads: ThreadOptions
    @OptionGroup var tiles: TileOptions
    @OptionGroup var seed: SeedOptions

    func validate() throws {
        do {
            _ = try ClusterCountList(parsing: k)
        } catch {
            // The library's message starts with "k": here, the flag.
            throw ValidationError("-" + error.description)
        }
        if let plot, !plot.lowercased().hasSuffix(".png") { throw ValidationError("--plot must name a .png file, got '\(plot)'") }
        guard silhouetteSample == 0 || silhouetteSample >= 2 else { throw ValidationError("--silhouette-sample must be 0 or at least 2") }
        try TrainingOptions.validateFit(
            maxIter: maxIter, tol: tol, initSample: initSample, memoryBudget: memoryBudget, maxPointsPerCentroid: maxPointsPerCentroid)
    }

    /// The configuration `cluster` builds for `-k clusterCount` with these options and
    /// `--init kmeans++` (``TrainingOptions/configuration(for:input:threads:tiles:metric:seed:defaultMaxIterations:)``),
    /// so that each fit is that run's.
    func configuration(clusterCount: Int) -> KMeans.Configuration {
        var configuration = KMeans.Configuration(clusterCount: clusterCount)
        configuration.applyTraining(
            initSample: initSample, maxIterations: maxIter ?? Cluster.defaultMaxIterations, tolerance: tol, algorithm: algorithm,
            memoryBudgetMB: memoryBudget, maxPointsPerCentroid: maxPointsPerCentroid,
            threads: threads, tiles: tiles, metric: metric, seed: seed)
        return configuration
    }

    func run() throws {
        var context = ErrorContext(input: input.input)
        // Checked in validate().
        let list = try! ClusterCountList(parsing: k)
        let clusterCounts = list.values
        do {
            let source = try input.open()
            context.shards = source.description.shards
            let directory = try output.prepare(fileNames: [Self.csvName, Self.centroidsName] + (saveStarts ? [Self.startsName] : []))
            if let plot, FileManager.default.fileExists(atPath: plot), !output.force {
                throw CommandError(path: plot, message: "already exists; pass --force to replace it")
            }
            // Every k is checked before the first is fitted: a k above the row count fails now.
            let configurations = clusterCounts.map(configuration(clusterCount:))
            for configuration in configurations {
                try configuration.validate(pointCount: source.rowCount, dimension: source.dimension)
                _ = try configuration.chooseAlgorithm(pointCount: source.rowCount, dimension: source.dimension)
            }
            let sample = silhouetteSample == 0
                ? nil : try SilhouetteSample(source: source, size: silhouetteSample, seed: seed.seed, metric: metric.metric)
            let file = source.description
            if !output.quiet {
                printError(
                    "\(file.path): \(file.rowCount) × \(file.dimension) \(file.dataType) (\(file.format.rawValue)), "
                        + "k = \(list), silhouette on \(sample.map { "\($0.rows.count) rows" } ?? "no rows")")
            }

            var points: [ElbowCurve.Point] = []
            var sampleLabels: [[Int32]] = []
            var centroids: [Float] = []
            var starts: [Float] = []
            for (index, configuration) in configurations.enumerated() {
                let progress = ProgressPrinter(quiet: output.quiet, maxIterations: configuration.maxIterations)
                progress.message("k = \(configuration.clusterCount) (\(index + 1) of \(configurations.count))")
                if saveStarts { starts += try KMeans.initialCentroids(for: source, configuration: configuration) }
                let result = try KMeans.fit(source, configuration: configuration, progress: progress.iteration)
                progress.finish()
                points.append(ElbowCurve.Point(
                    clusterCount: configuration.clusterCount, inertia: result.inertia, iterations: result.iterations.count,
                    seconds: result.totalSeconds, silhouette: nil))
                if let sample { sampleLabels.append(sample.rows.map { result.labels[$0] }) }
                centroids += result.centroids
            }
            if let sample {
                let started = Date()
                let scores = sample.scores(sampleLabels: sampleLabels, threadCount: threads.threads)
                for index in points.indices { points[index].silhouette = scores[index] }
                if !output.quiet {
                    printError(String(format: "silhouettes of %d clusterings on %d rows: %.2f s",
                                      points.count, sample.rows.count, Date().timeIntervalSince(started)))
                }
            }
            let curve = ElbowCurve(points: points)

            func stacked(_ values: [Float]) -> (String) throws -> Void {
                { path in
                    let writer = try MatrixWriter(path: path, format: .npy, rows: clusterCounts.reduce(0, +), columns: source.dimension)
                    try writer.append(values)
                    try writer.close()
                }
            }
            var files: [(name: String, write: (String) throws -> Void)] = [
                (Self.csvName, { path in
                    guard FileManager.default.createFile(atPath: path, contents: Data(curve.csv.utf8)) else {
                        throw OutputError(path: path, .cannotCreateFile("cannot write the CSV here"))
                    }
                }),
                (Self.centroidsName, stacked(centroids)),
            ]
            if saveStarts { files.append((Self.startsName, stacked(starts))) }
            try directory.commit(files)
            if let plot { try writePlot(curve, to: plot) }
            print(curve.table, terminator: "")
            let knee = curve.kneeClusterCount.map { "knee at k = \($0)" } ?? "no knee"
            print("\(knee); wrote \(Self.csvName) and \(Self.centroidsName) to \(output.output)" + (plot.map { ", the plot to \($0)" } ?? ""))
        } catch {
            throw fail(error, context: context)
        }
    }

    /// Writes the plot under a temporary name and renames it into place.
    private func writePlot(_ curve: ElbowCurve, to path: String) throws {
        let staged = try Interruption.registering {
            let staged = try StagedFile(destination: path, overwrite: output.force)
            staged.willReplace = OutputOptions.pauseBeforeReplacing
            Interruption.protect(staged)
            return staged
        }
        do {
            // Written through a handle of its own: the staged file keeps its name and its lock.
            guard let handle = FileHandle(forWritingAtPath: staged.temporaryPath) else {
                throw OutputError(path: path, .cannotCreateFile("cannot write the plot here"))
            }
            do {
                try handle.write(contentsOf: curve.png())
                try handle.close()
            } catch {
                throw OutputError(path: path, .writeFailed(error.localizedDescription))
            }
            try staged.commit()
        } catch {
            staged.abandon()
            throw error
        }
    }
}

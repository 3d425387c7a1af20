import ArgumentParser
import FlashKMeans

/// How centroids are trained: `cluster` and `ivf` share every option and build their
/// configuration here.
struct TrainingOptions: ParsableArguments {
    @Option(name: .short, help: "Number of clusters. With --init FILE it defaults to the file's row count.")
    var k: Int?

    @Option(name: .customLong("init"), help: "kmeans++, random, or a file of k x d initial centroids in any supported format.")
    var initialization: InitializationChoice = .kMeansPlusPlus

    @Option(help: "Rows k-means++ runs on (default: n/24, at least 16 per cluster; about two Lloyd iterations of work).")
    var initSample: Int?

    @Option(help: ArgumentHelp(
        "Most Lloyd iterations (default: 100 for cluster, 25 for ivf).",
        discussion: "ivf stops earlier by default, as faiss does when it trains IVF quantizers: list quality settles within a few dozen iterations."))
    var maxIter: Int?

    @Option(help: "Stop when the inertia falls by less than this fraction in one iteration (0: run until labels stop changing).")
    var tol: Double = 1e-4

    @Option(help: "lloyd, hamerly, elkan, yinyang or auto. All give identical results; they differ in the distance work they skip.")
    var algorithm: Algorithm = .auto

    @Option(help: ArgumentHelp(
        "Most memory for pruning bounds, in MB (default: a quarter of physical memory).",
        discussion: "auto picks an algorithm whose bounds fit; an explicit algorithm that does not fit is refused."))
    var memoryBudget: Int?

    @Option(help: ArgumentHelp(
        "Train on a seeded sample of k x this many rows (as faiss does), then label every row.",
        discussion: "Off by default: training then uses every row and stays exact Lloyd."))
    var maxPointsPerCentroid: Int?

    @Flag(help: ArgumentHelp(
        "Continue an interrupted run of the same command from its checkpoint.",
        discussion: "The result is the same, bit for bit, as if the run had not been interrupted. --max-iter, --algorithm, --threads and the tile sizes may differ."))
    var resume = false

    func validate() throws {
        if let k, k < 1 { throw ValidationError("-k must be at least 1, got \(k)") }
        try Self.validateFit(
            maxIter: maxIter, tol: tol, initSample: initSample, memoryBudget: memoryBudget, maxPointsPerCentroid: maxPointsPerCentroid)
    }

    /// The checks of the fitting options that `cluster`, `ivf` and `elbow` share.
    static func validateFit(maxIter: Int?, tol: Double, initSample: Int?, memoryBudget: Int?, maxPointsPerCentroid: Int?) throws {
        if let maxIter, maxIter < 1 { throw ValidationError("--max-iter must be at least 1") }
        guard tol >= 0, tol.isFinite else { throw ValidationError("--tol must be a non-negative number") }
        if let initSample, initSample < 1 { throw ValidationError("--init-sample must be at least 1") }
        if let memoryBudget {
            guard memoryBudget >= 0 else { throw ValidationError("--memory-budget must not be negative") }
            guard memoryBudget <= Int.max >> 20 else {
                throw ValidationError("--memory-budget is too large: at most \(Int.max >> 20) MB, got \(memoryBudget)")
            }
        }
        if let maxPointsPerCentroid, maxPointsPerCentroid < 1 { throw ValidationError("--max-points-per-centroid must be at least 1") }
    }

    /// The file of initial centroids, if `--init` names one.
    var initializationFile: String? {
        if case let .file(path) = initialization { path } else { nil }
    }

    /// The run's configuration: k from `-k` or the `--init` file, every training option,
    /// and the shared thread, tile, metric and seed options.
    /// - Throws: ``DatasetError`` for an unreadable or mismatched `--init` file.
    func configuration(
        for source: any EmbeddingSource, input: InputOptions, threads: ThreadOptions, tiles: TileOptions, metric: MetricOptions,
        seed: SeedOptions, defaultMaxIterations: Int
    ) throws -> KMeans.Configuration {
        var configuration: KMeans.Configuration
        switch initialization {
        case let .file(path):
            let loaded = try input.loadCentroids(at: path, dimension: source.dimension, count: k)
            configuration = KMeans.Configuration(clusterCount: loaded.count)
            configuration.initialization = .centroids(loaded.centroids)
        case .kMeansPlusPlus:
            configuration = KMeans.Configuration(clusterCount: k!)
        case .random:
            configuration = KMeans.Configuration(clusterCount: k!)
            configuration.initialization = .random
        }
        configuration.applyTraining(
            initSample: initSample, maxIterations: maxIter ?? defaultMaxIterations, tolerance: tol, algorithm: algorithm,
            memoryBudgetMB: memoryBudget, maxPointsPerCentroid: maxPointsPerCentroid,
            threads: threads, tiles: tiles, metric: metric, seed: seed)
        return configuration
    }
}

extension KMeans.Configuration {
    /// The training, thread, tile, metric and seed options, as `cluster`, `ivf` and `elbow`
    /// all set them: one place, so that `elbow`'s fit of a k stays `cluster`'s.
    mutating func applyTraining(
        initSample: Int?, maxIterations: Int, tolerance: Double, algorithm: Algorithm, memoryBudgetMB: Int?,
        maxPointsPerCentroid: Int?, threads: ThreadOptions, tiles: TileOptions, metric: MetricOptions, seed: SeedOptions
    ) {
        initializationSampleSize = initSample
        self.maxIterations = maxIterations
        self.tolerance = tolerance
        self.algorithm = algorithm
        memoryBudget = memoryBudgetMB.map { $0 << 20 }
        self.maxPointsPerCentroid = maxPointsPerCentroid
        threadCount = threads.threads
        pointTile = tiles.tilePoints
        centroidTile = tiles.tileCentroids
        self.metric = metric.metric
        self.seed = seed.seed
    }
}

import ArgumentParser
import FlashKMeans
import Foundation

struct IVF: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ivf",
        abstract: "Train an IVF coarse quantizer and write the inverted lists and a faiss IndexIVFFlat.",
        discussion: """
            Trains k centroids (or takes --centroids), assigns every row, and writes centroids.npy, \
            list_offsets.npy (k + 1 int64), ids.npy (row ids grouped by list, int64) and \
            index.ivfflat.faiss, which faiss.read_index opens and searches (L2, or inner product with \
            --metric cosine, whose stored vectors are normalized).
            """
    )

    /// `--max-iter` when not given: faiss trains its IVF quantizers with 25 iterations.
    static let defaultMaxIterations = 25

    @OptionGroup var input: InputOptions

    @Option(help: "Use these k x d centroids instead of training.")
    var centroids: String?

    @OptionGroup var training: TrainingOptions
    @OptionGroup var metric: MetricOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var threads: ThreadOptions
    @OptionGroup var tiles: TileOptions
    @OptionGroup var seed: SeedOptions

    static let fileNames = ["centroids.npy", "list_offsets.npy", "ids.npy", "index.ivfflat.faiss"]

    func validate() throws {
        switch (training.k != nil || training.initializationFile != nil, centroids != nil) {
        case (true, true): throw ValidationError("give either -k (or --init FILE) to train, or --centroids to use trained centroids, not both")
        case (false, false):
            throw ValidationError("give -k (or --init FILE) to train centroids, or --centroids to use trained ones: one of them is required")
        default: break
        }
        if training.resume, centroids != nil { throw ValidationError("--resume continues training, which --centroids skips") }
    }

    func run() throws {
        // Under `mpirun` the ranks train (or assign) together on their shares of the rows;
        // rank 0 alone writes the lists and the index.
        let ranks = MPIRanks.current
        let writes = ranks?.isFirst ?? true
        var context = ErrorContext(input: input.input, centroids: centroids ?? training.initializationFile)
        let progress = ProgressPrinter(
            quiet: output.quiet || !writes, maxIterations: training.maxIter ?? Self.defaultMaxIterations)
        defer { progress.finish() }
        do {
            let (source, directory, configuration) = try MPIRanks.agreeing(ranks, context: context) {
                let source = try input.open()
                context.shards = source.description.shards
                let directory = writes ? try output.prepare(fileNames: Self.fileNames) : nil
                var configuration: KMeans.Configuration?
                if centroids == nil {
                    configuration = try training.configuration(
                        for: source, input: input, threads: threads, tiles: tiles, metric: metric, seed: seed,
                        defaultMaxIterations: Self.defaultMaxIterations)
                    try configuration!.validate(pointCount: source.rowCount, dimension: source.dimension)
                }
                return (source, directory, configuration)
            }
            var finishTraining: () -> Void = {}
            var notingResume: (any Error) -> any Error = { $0 }
            let trained: [Float]
            let labels: [Int32]
            if let centroids {
                trained = try MPIRanks.agreeing(ranks, context: context) {
                    try input.loadCentroids(at: centroids, dimension: source.dimension, count: nil).centroids
                }
                labels = try {
                    if let ranks {
                        return try KMeans.assign(
                            source, centroids: trained, metric: metric.metric, threadCount: threads.threads,
                            pointTile: tiles.tilePoints, centroidTile: tiles.tileCentroids, across: ranks)
                    }
                    return try KMeans.assign(
                        source, centroids: trained, metric: metric.metric, threadCount: threads.threads,
                        pointTile: tiles.tilePoints, centroidTile: tiles.tileCentroids)
                }().labels
            } else if let ranks, let configuration {
                let resumption = try MPIRanks.agreeing(ranks, context: context) {
                    try directory.map {
                        try Resumption(directory: $0, command: "ivf", configuration: configuration, resume: training.resume, force: output.force)
                    }
                }
                let result = try Resumption.fit(
                    source, configuration: configuration, across: ranks, resumption: resumption, resume: training.resume,
                    progress: progress)
                (trained, labels) = (result.centroids, result.labels)
                if let resumption {
                    finishTraining = resumption.finish
                    notingResume = resumption.noting
                }
            } else if let directory, let configuration {
                let resumption = try Resumption(
                    directory: directory, command: "ivf", configuration: configuration, resume: training.resume, force: output.force)
                let result = try resumption.fit(source, configuration: configuration, progress: progress)
                (trained, labels) = (result.centroids, result.labels)
                finishTraining = resumption.finish
                notingResume = resumption.noting
            } else {
                preconditionFailure("one process always writes")
            }
            progress.finish()
            guard let directory else { return }
            let dimension = source.dimension
            let clusterCount = trained.count / dimension
            let lists = InvertedLists(labels: labels, clusterCount: clusterCount)
            let stored = metric.metric.rows(of: source)
            do {
                try directory.commit([
                    ("centroids.npy", { path in
                        let writer = try MatrixWriter(path: path, format: .npy, rows: clusterCount, columns: dimension)
                        try writer.append(trained)
                        try writer.close()
                    }),
                    ("list_offsets.npy", { path in
                        let writer = try MatrixWriter(path: path, format: .npy, rows: clusterCount + 1, columns: nil, element: .int64)
                        try writer.append(lists.offsets)
                        try writer.close()
                    }),
                    ("ids.npy", { path in
                        let writer = try MatrixWriter(path: path, format: .npy, rows: lists.ids.count, columns: nil, element: .int64)
                        try writer.append(lists.ids)
                        try writer.close()
                    }),
                    ("index.ivfflat.faiss", { path in
                        try FaissIndexFile.writeIVFFlat(
                            to: path, dimension: dimension, metric: metric.metric, centroids: trained, lists: lists
                        ) { id, vector in
                            try stored.copyRows(id..<(id + 1), into: vector)
                        }
                    }),
                ])
            } catch {
                throw notingResume(error)
            }
            finishTraining()
            let balance = ClusterBalance(labels: labels, clusterCount: clusterCount)
            print(String(
                format: "%d rows in %d lists (sizes %d / %d / %d min / median / max, imbalance %.3f) -> %@",
                labels.count, clusterCount, balance.smallest, balance.median, balance.largest, balance.imbalanceFactor, output.output))
        } catch {
            throw MPIRanks.failure(error, ranks: ranks, context: context)
        }
    }
}

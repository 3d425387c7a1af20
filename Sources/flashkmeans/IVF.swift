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

    @OptionGroup var input: InputOptions

    @Option(name: .short, help: "Number of lists (clusters) to train.")
    var k: Int?

    @Option(help: "Use these k × d centroids instead of training.")
    var centroids: String?

    @Option(name: .shortAndLong, help: "Directory for the results.")
    var output: String

    @Option(help: "l2 or cosine.")
    var metric: Metric = .l2

    @Option(help: "Train on a seeded sample of k × this many rows (faiss trains on 256 per list by default).")
    var maxPointsPerCentroid: Int?

    @Option(help: "Most Lloyd iterations.")
    var maxIter: Int = 25

    @Option(help: "Random seed.")
    var seed: UInt64 = 0

    @Option(help: "Worker threads (default: all cores).")
    var threads: Int?

    @Flag(help: "Replace results already in the output directory.")
    var force = false

    @Flag(help: "Print nothing on standard error while training.")
    var quiet = false

    static let fileNames = ["centroids.npy", "list_offsets.npy", "ids.npy", "index.ivfflat.faiss"]

    func validate() throws {
        guard (k == nil) != (centroids == nil) else { throw ValidationError("give either -k to train or --centroids, not both") }
        if let k, k < 1 { throw ValidationError("-k must be at least 1") }
        guard maxIter >= 1 else { throw ValidationError("--max-iter must be at least 1") }
    }

    func run() throws {
        let progress = ProgressPrinter(quiet: quiet, maxIterations: maxIter)
        do {
            let source = try input.open()
            let directory = try OutputDirectory.prepare(path: output, fileNames: Self.fileNames, overwrite: force)
            let trained: [Float]
            let labels: [Int32]
            if let centroids {
                trained = try loadInitialCentroids(
                    at: centroids, options: EmbeddingOpenOptions(dataset: input.dataset), dimension: source.dimension, clusterCount: nil
                ).centroids
                labels = try KMeans.assign(source, centroids: trained, metric: metric, threadCount: threads).labels
            } else {
                var configuration = KMeans.Configuration(clusterCount: k!)
                configuration.metric = metric
                configuration.maxPointsPerCentroid = maxPointsPerCentroid
                configuration.maxIterations = maxIter
                configuration.seed = seed
                configuration.threadCount = threads
                try checkRunnable(configuration, on: source, input: input.input)
                let result = try KMeans.fit(source, configuration: configuration, progress: progress.iteration)
                progress.finish()
                (trained, labels) = (result.centroids, result.labels)
            }
            let dimension = source.dimension
            let clusterCount = trained.count / dimension
            let lists = InvertedLists(labels: labels, clusterCount: clusterCount)
            let stored = metric.rows(of: source)
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
                        to: path, dimension: dimension, metric: metric, centroids: trained, lists: lists
                    ) { id, vector in
                        try stored.copyRows(id..<(id + 1), into: vector)
                    }
                }),
            ])
            let balance = ClusterBalance(labels: labels, clusterCount: clusterCount)
            print(String(
                format: "%d rows in %d lists (sizes %d / %d / %d min / median / max, imbalance %.3f) -> %@",
                labels.count, clusterCount, balance.smallest, balance.median, balance.largest, balance.imbalanceFactor, output))
        } catch let exit as ExitCode {
            progress.finish()
            throw exit
        } catch {
            progress.finish()
            throw fail(error, input: input.input)
        }
    }
}


import ArgumentParser
import FlashKMeans
import Foundation

struct Assign: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Assign every row to its nearest centroids.",
        discussion: """
            Streams the input through the fused kernel and writes labels.npy (int32) and distances.npy \
            (float32 squared L2) to the output directory; with --top M, the M nearest centroids of every \
            row (n x M, nearest first, ties to the lower label), as IVF multi-probe assignment needs.
            """
    )

    static let fileNames = ["labels.npy", "distances.npy"]

    @OptionGroup var input: InputOptions

    @Option(help: "k x d centroids, in any supported format.")
    var centroids: String

    @Option(help: "How many nearest centroids to write per row.")
    var top: Int = 1

    @OptionGroup var metric: MetricOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var threads: ThreadOptions
    @OptionGroup var tiles: TileOptions

    func validate() throws {
        guard top >= 1 else { throw ValidationError("--top must be at least 1") }
    }

    func run() throws {
        // Under `mpirun` every rank labels its share of the rows and rank 0 writes them all.
        let ranks = MPIRanks.current
        let writes = ranks?.isFirst ?? true
        var context = ErrorContext(input: input.input, centroids: centroids)
        do {
            let (source, loaded, directory) = try MPIRanks.agreeing(ranks, context: context) {
                let source = try input.open()
                context.shards = source.description.shards
                let loaded = try input.loadCentroids(at: centroids, dimension: source.dimension, count: nil)
                guard top <= loaded.count else {
                    throw CommandError(path: centroids, message: "holds \(loaded.count) centroids, fewer than --top \(top)")
                }
                return (source, loaded, writes ? try output.prepare(fileNames: Self.fileNames) : nil)
            }
            if !output.quiet, writes {
                let split = ranks.map { " over \($0.size) MPI ranks" } ?? ""
                printError("\(source.path): \(source.rowCount) × \(source.dimension), the \(top) nearest of \(loaded.count) centroids\(split)")
            }
            let started = Date()
            let labels: [Int32]
            let distances: [Float]
            if top == 1 {
                let assignment = if let ranks {
                    try KMeans.assign(
                        source, centroids: loaded.centroids, metric: metric.metric, threadCount: threads.threads,
                        pointTile: tiles.tilePoints, centroidTile: tiles.tileCentroids, across: ranks)
                } else {
                    try KMeans.assign(
                        source, centroids: loaded.centroids, metric: metric.metric, threadCount: threads.threads,
                        pointTile: tiles.tilePoints, centroidTile: tiles.tileCentroids)
                }
                (labels, distances) = (assignment.labels, assignment.cosineSimilarities ?? assignment.squaredDistances)
            } else {
                let nearest = if let ranks {
                    try KMeans.nearest(
                        source, centroids: loaded.centroids, count: top, metric: metric.metric, threadCount: threads.threads,
                        pointTile: tiles.tilePoints, across: ranks)
                } else {
                    try KMeans.nearest(
                        source, centroids: loaded.centroids, count: top, metric: metric.metric, threadCount: threads.threads,
                        pointTile: tiles.tilePoints)
                }
                (labels, distances) = (nearest.labels, nearest.cosineSimilarities ?? nearest.squaredDistances)
            }
            guard let directory else { return }
            let rows = source.rowCount
            let columns: Int? = top == 1 ? nil : top
            try directory.commit([
                ("labels.npy", { path in
                    let writer = try MatrixWriter(path: path, format: .npy, rows: rows, columns: columns, element: .int32)
                    try writer.append(labels)
                    try writer.close()
                }),
                ("distances.npy", { path in
                    let writer = try MatrixWriter(path: path, format: .npy, rows: rows, columns: columns)
                    try writer.append(distances)
                    try writer.close()
                }),
            ])
            print(String(
                format: "assigned %d rows to the %d nearest of %d centroids in %.2f s%@ -> %@",
                rows, top, loaded.count, Date().timeIntervalSince(started), ranks.map { " on \($0.size) MPI ranks" } ?? "",
                output.output))
        } catch {
            throw MPIRanks.failure(error, ranks: ranks, context: context)
        }
    }
}

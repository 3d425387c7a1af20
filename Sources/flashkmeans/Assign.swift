import ArgumentParser
import FlashKMeans
import Foundation

struct Assign: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Assign every row to its nearest centroids.",
        discussion: """
            Streams the input through the fused kernel and writes labels.npy (int32) and distances.npy \
            (float32 squared L2) to the output directory; with --top M, the M nearest centroids of every \
            row (n × M, nearest first, ties to the lower label), as IVF multi-probe assignment needs.
            """
    )

    @OptionGroup var input: InputOptions

    @Option(help: "k × d centroids, in any supported format.")
    var centroids: String

    @Option(name: .shortAndLong, help: "Directory for the results.")
    var output: String

    @Option(help: "l2, or cosine (rows and centroids normalized; distances.npy then holds cosine similarities).")
    var metric: Metric = .l2

    @Option(help: "How many nearest centroids to write per row.")
    var top: Int = 1

    @Option(help: "Worker threads (default: all cores).")
    var threads: Int?

    @Flag(help: "Replace results already in the output directory.")
    var force = false

    func validate() throws {
        guard top >= 1 else { throw ValidationError("--top must be at least 1") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        do {
            let source = try input.open()
            let loaded = try loadInitialCentroids(
                at: centroids, options: EmbeddingOpenOptions(dataset: input.dataset), dimension: source.dimension, clusterCount: nil)
            guard top <= loaded.count else {
                throw OutputError(path: centroids, problem: "holds \(loaded.count) centroids, fewer than --top \(top)")
            }
            let directory = try OutputDirectory.prepare(path: output, fileNames: ["labels.npy", "distances.npy"], overwrite: force)
            let started = Date()
            let labels: [Int32]
            let distances: [Float]
            if top == 1 {
                let assignment = try KMeans.assign(source, centroids: loaded.centroids, metric: metric, threadCount: threads)
                (labels, distances) = (assignment.labels, assignment.squaredDistances)
            } else {
                let nearest = try KMeans.nearest(source, centroids: loaded.centroids, count: top, metric: metric, threadCount: threads)
                (labels, distances) = (nearest.labels, nearest.squaredDistances)
            }
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
                format: "assigned %d rows to the %d nearest of %d centroids in %.2f s -> %@",
                rows, top, loaded.count, Date().timeIntervalSince(started), output))
        } catch {
            throw fail(error, input: input.input)
        }
    }
}

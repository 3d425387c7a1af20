import ArgumentParser
import FlashKMeans

/// Threads: every command that computes.
struct ThreadOptions: ParsableArguments {
    @Option(help: "Worker threads (default: all cores).")
    var threads: Int?

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }
}

/// The seed of everything random in a run: initialization and sampling.
struct SeedOptions: ParsableArguments {
    @Option(help: "Random seed; the same seed and input give the same result for any thread count.")
    var seed: UInt64 = 0
}

/// Tile sizes of the fused kernel.
struct TileOptions: ParsableArguments {
    @Option(help: "Rows per point tile (default \(TilePlan.defaultPointTile)).")
    var tilePoints: Int?

    @Option(help: "Centroids per centroid tile (default \(TilePlan.defaultCentroidTile)).")
    var tileCentroids: Int?

    func validate() throws {
        if let tilePoints, tilePoints < 1 { throw ValidationError("--tile-points must be at least 1") }
        if let tileCentroids, tileCentroids < 1 { throw ValidationError("--tile-centroids must be at least 1") }
    }
}

/// What "nearest" means: `cluster`, `assign` and `ivf`.
struct MetricOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "l2 (squared Euclidean) or cosine (spherical k-means: rows normalized on the fly, unit centroids).",
        discussion: "With cosine, assign's distances.npy holds cosine similarities."))
    var metric: Metric = .l2
}

extension Algorithm: ExpressibleByArgument {}
extension Metric: ExpressibleByArgument {}

@testable import FlashKMeans
import _FlashKMeansTestSupport

/// One iteration as the engine saw it.
struct RecordedIteration {
    var stats: IterationStats
    var labels: [Int32]
    var centroids: [Float]
}

/// Runs the engine and records every iteration's labels and centroids.
func fitRecording(_ source: any EmbeddingSource, _ configuration: KMeans.Configuration) throws -> (KMeansResult, [RecordedIteration]) {
    var recorded: [RecordedIteration] = []
    let result = try KMeans.fit(source, configuration: configuration, progress: { _ in }) { stats, labels, centroids in
        recorded.append(RecordedIteration(stats: stats, labels: Array(labels), centroids: centroids))
    }
    return (result, recorded)
}

func configuration(
    k: Int, initial: [Float]? = nil, maxIterations: Int = 100, tolerance: Double = 0,
    threads: Int = 2, pointTile: Int? = nil, centroidTile: Int? = nil, screening: Screening = .auto
) -> KMeans.Configuration {
    var configuration = KMeans.Configuration(clusterCount: k)
    if let initial { configuration.initialization = .centroids(initial) }
    configuration.maxIterations = maxIterations
    configuration.tolerance = tolerance
    configuration.threadCount = threads
    configuration.pointTile = pointTile
    configuration.centroidTile = centroidTile
    configuration.screening = screening
    return configuration
}

/// Largest `|a − b| / max(1, |b|)` over paired values.
func largestRelativeDifference(_ engine: [Float], _ reference: [Double]) -> Double {
    zip(engine, reference).map { abs(Double($0) - $1) / max(1, abs($1)) }.max() ?? 0
}

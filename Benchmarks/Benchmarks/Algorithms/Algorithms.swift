import Benchmark
import FlashKMeans
import Foundation

/// Lloyd iterations per algorithm on clustered data, from the same start; then real sentence
/// embeddings (when ../shared/data is present) and a large k.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .peakMemoryResident, .mallocCountTotal],
        warmupIterations: 0, maxDuration: .seconds(30), maxIterations: 3)

    let dimension = 128
    let generator = BlobGenerator(dimension: dimension, blobCount: 128, spread: 1.5, seed: 2)
    let points = generator.rows(100_000)
    let source = ArraySource(points, dimension: dimension)
    let start = Array(points[0..<(512 * dimension)])
    let distanceFraction = BenchmarkMetric.custom("distances computed (%)", polarity: .prefersSmaller, useScalingFactor: false)

    for algorithm in Algorithm.allCases {
        // Steady state: the difference between 10 and 20 iterations is 10 iterations'
        // worth of time and allocations, free of start-up.
        // Peak resident memory is measured by the harness from a sampling thread that
        // allocates as it runs, so it is left out of these two: their malloc counts are the
        // engine's alone. The third run records peak memory.
        for (iterations, metrics) in [
            (10, [BenchmarkMetric.wallClock, .mallocCountTotal, distanceFraction]),
            (20, [.wallClock, .mallocCountTotal, distanceFraction]),
            (20, [.wallClock, .peakMemoryResident, distanceFraction]),
        ] {
            let label = metrics.contains(.peakMemoryResident) ? ", peak memory" : ""
            Benchmark(
                "\(algorithm.rawValue), \(iterations) iterations, 100000x128, k=512\(label)",
                configuration: .init(metrics: metrics)
            ) { benchmark in
                var configuration = KMeans.Configuration(clusterCount: 512)
                configuration.initialization = .centroids(start)
                configuration.maxIterations = iterations
                configuration.tolerance = 0
                configuration.algorithm = algorithm
                for _ in benchmark.scaledIterations {
                    let result = try KMeans.fit(source, configuration: configuration)
                    let fraction = result.iterations.map(\.distanceFraction).reduce(0, +) / Double(result.iterations.count)
                    benchmark.measurement(distanceFraction, Int(100 * fraction))
                    blackHole(result.inertia)
                }
            }
        }
    }

    realEmbeddingBenchmarks()
    largeClusterCountBenchmarks()
}

/// The median seconds of one dense float32 Lloyd iteration of `source` from `start`: the unit
/// in which the other cases report their iterations.
func denseIterationSeconds(_ source: any EmbeddingSource, start: [Float], clusterCount: Int) -> Double {
    var configuration = KMeans.Configuration(clusterCount: clusterCount)
    configuration.initialization = .centroids(start)
    configuration.maxIterations = 3
    configuration.tolerance = 0
    configuration.algorithm = .lloyd
    configuration.screening = .off
    guard let result = try? KMeans.fit(source, configuration: configuration) else { return .nan }
    return result.iterations.map(\.seconds).sorted()[1]
}

/// 43,742 real 384-d sentence embeddings (all-MiniLM-L6-v2), k = 1024, 20 iterations from the
/// same start, per algorithm and with the integer screen on and off: wall time, the fraction
/// of distances computed, the mean iteration against a dense float32 one, and the share of
/// rows the prefix screen took (the rest of the screened rows took the full screen).
func realEmbeddingBenchmarks() {
    let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("shared/data/minilm_dev_43742x384.f16.npy").path
    guard let source = try? openEmbeddings(at: path) else { return }
    let clusterCount = 1024
    guard let start = try? KMeans.initialCentroids(for: source, configuration: KMeans.Configuration(clusterCount: clusterCount)) else { return }
    let dense = denseIterationSeconds(source, start: start, clusterCount: clusterCount)
    let distanceFraction = BenchmarkMetric.custom("distances computed (%)", polarity: .prefersSmaller, useScalingFactor: false)
    let relative = BenchmarkMetric.custom("iteration / dense float32 (%)", polarity: .prefersSmaller, useScalingFactor: false)
    let prefixShare = BenchmarkMetric.custom("rows screened by prefix (%)", polarity: .prefersLarger, useScalingFactor: false)
    for algorithm in [Algorithm.lloyd, .yinyang, .auto] {
        for screening in [Screening.auto, .off] {
            Benchmark(
                "sentence embeddings 43742x384, k=1024, 20 iterations, \(algorithm.rawValue), screening \(screening.rawValue)",
                configuration: .init(metrics: [.wallClock, distanceFraction, relative, prefixShare], maxIterations: 3)
            ) { benchmark in
                var configuration = KMeans.Configuration(clusterCount: clusterCount)
                configuration.initialization = .centroids(start)
                configuration.maxIterations = 20
                configuration.tolerance = 0
                configuration.algorithm = algorithm
                configuration.screening = screening
                for _ in benchmark.scaledIterations {
                    let result = try KMeans.fit(source, configuration: configuration)
                    let fraction = result.iterations.map(\.distanceFraction).reduce(0, +) / Double(result.iterations.count)
                    let mean = result.iterations.map(\.seconds).reduce(0, +) / Double(result.iterations.count)
                    benchmark.measurement(distanceFraction, Int(100 * fraction))
                    benchmark.measurement(relative, Int(100 * mean / dense))
                    let prefixRows = result.iterations.reduce(0) { $0 + ($1.prefixScreenedRows ?? 0) }
                    let rows = result.iterations.count * source.rowCount
                    benchmark.measurement(prefixShare, 100 * prefixRows / rows)
                    blackHole(result.inertia)
                }
            }
        }
    }
}

/// k = 4096 on 262,144 × 128 blobs (64 rows per centroid, as ColBERT-style indexes have): the
/// default start and 10 iterations, with the start's cost in dense float32 iterations.
func largeClusterCountBenchmarks() {
    let dimension = 128
    let clusterCount = 4096
    let points = BlobGenerator(dimension: dimension, blobCount: 2048, spread: 2, seed: 6).rows(262_144)
    let source = ArraySource(points, dimension: dimension)
    // Every 64th row: distinct, spread over the blobs, for the dense float32 reference.
    let start = (0..<clusterCount).flatMap { points[($0 * 64 * dimension)..<(($0 * 64 + 1) * dimension)] }
    let dense = denseIterationSeconds(source, start: start, clusterCount: clusterCount)
    let startCost = BenchmarkMetric.custom("start / dense float32 iteration (%)", polarity: .prefersSmaller, useScalingFactor: false)
    Benchmark(
        "large k: 262144x128, k=4096, default start and 10 iterations",
        configuration: .init(metrics: [.wallClock, .peakMemoryResident, startCost], maxIterations: 2)
    ) { benchmark in
        var configuration = KMeans.Configuration(clusterCount: clusterCount)
        configuration.maxIterations = 10
        configuration.tolerance = 0
        for _ in benchmark.scaledIterations {
            let result = try KMeans.fit(source, configuration: configuration)
            benchmark.measurement(startCost, Int(100 * result.initializationSeconds / dense))
            blackHole(result.inertia)
        }
    }
}

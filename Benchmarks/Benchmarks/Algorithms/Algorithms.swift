import Benchmark
import FlashKMeans

/// Lloyd iterations per algorithm on clustered data, from the same start.
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
}

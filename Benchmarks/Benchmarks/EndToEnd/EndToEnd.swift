import Benchmark
import FlashKMeans

/// The whole `cluster` job on generated data: k-means++ and Lloyd to convergence; and the
/// release binary's start-up (StartUp.swift).
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .peakMemoryResident, .mallocCountTotal],
        warmupIterations: 0, maxDuration: .seconds(60), maxIterations: 3)

    let generator = BlobGenerator(dimension: 96, blobCount: 200, spread: 1, seed: 4)
    let source = ArraySource(generator.rows(200_000), dimension: 96)
    let iterationCount = BenchmarkMetric.custom("iterations", polarity: .prefersSmaller, useScalingFactor: false)

    Benchmark("cluster 200000x96, k=256", configuration: .init(metrics: [.wallClock, .peakMemoryResident, .mallocCountTotal, iterationCount])) { benchmark in
        for _ in benchmark.scaledIterations {
            let result = try KMeans.fit(source, configuration: KMeans.Configuration(clusterCount: 256))
            benchmark.measurement(iterationCount, result.iterations.count)
            blackHole(result.inertia)
        }
    }

    startUpBenchmarks()
}

import Benchmark
import FlashKMeans
import _FlashKMeansBenchmarkSupport

/// The fused assignment kernel against plain `sgemm` of the same shape, in the same run.
/// The figure that matters is the ratio: the fused kernel does the `sgemm` work plus the
/// argmin sweep, exact-label checks and distances.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .peakMemoryResident, .mallocCountTotal],
        warmupIterations: 1, maxDuration: .seconds(20), maxIterations: 5)

    for (pointCount, dimension, clusterCount) in [(65_536, 128, 1024), (32_768, 384, 1024)] {
        let generator = BlobGenerator(dimension: dimension, blobCount: clusterCount / 4, spread: 1, seed: 1)
        let points = generator.rows(pointCount)
        let centroids = Array(points[0..<(clusterCount * dimension)])
        let source = ArraySource(points, dimension: dimension)
        let flop = 2 * Double(pointCount) * Double(clusterCount) * Double(dimension)
        let fusedRate = BenchmarkMetric.custom("fused GFLOP/s", polarity: .prefersLarger, useScalingFactor: false)
        let sgemmRate = BenchmarkMetric.custom("best sgemm GFLOP/s", polarity: .prefersLarger, useScalingFactor: false)
        let ratio = BenchmarkMetric.custom("fused / best sgemm (%)", polarity: .prefersLarger, useScalingFactor: false)

        Benchmark(
            "Fused assignment \(pointCount)x\(dimension), k=\(clusterCount)",
            configuration: .init(metrics: [.wallClock, .peakMemoryResident, .mallocCountTotal, fusedRate, sgemmRate, ratio])
        ) { benchmark in
            for _ in benchmark.scaledIterations {
                let assignment = try KMeans.assign(source, centroids: centroids)
                let tiled = try KernelBaselines.tiledProducts(points: points, centroids: centroids, dimension: dimension, plan: assignment.plan)
                let whole = KernelBaselines.wholeProduct(
                    points: points, centroids: centroids, dimension: dimension, threadCount: assignment.plan.threadCount)
                let best = min(tiled, whole)
                benchmark.measurement(fusedRate, Int(flop / assignment.seconds / 1e9))
                benchmark.measurement(sgemmRate, Int(flop / best / 1e9))
                benchmark.measurement(ratio, Int(100 * best / assignment.seconds))
                blackHole(assignment.inertia)
            }
        }
    }
}

import Benchmark
import FlashKMeans
import _FlashKMeansBenchmarkSupport

/// The fused assignment kernel against plain `sgemm` of the same shape, in the same run.
/// The figure that matters is the ratio: the fused kernel does the `sgemm` work plus the
/// argmin sweep, exact-label checks and distances. Each sample runs the kernel and both
/// `sgemm` baselines three times, interleaved, and keeps the best of each, so that a
/// neighbour's load on a shared machine hits both sides of the ratio alike.
///
/// "float32" is the fused kernel alone (`Screening.off`); "screened" is a dense pass as
/// `auto` runs it, with 8-bit integer products first where the CPU has VNNI, so its rate
/// (in float32-equivalent GFLOP/s) can exceed `sgemm`'s.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .peakMemoryResident, .mallocCountTotal],
        warmupIterations: 1, maxDuration: .seconds(30), maxIterations: 5)

    for (pointCount, dimension, clusterCount) in [(65_536, 128, 1024), (32_768, 384, 1024)] {
        let generator = BlobGenerator(dimension: dimension, blobCount: clusterCount / 4, spread: 1, seed: 1)
        let points = generator.rows(pointCount)
        let centroids = Array(points[0..<(clusterCount * dimension)])
        let source = ArraySource(points, dimension: dimension)
        let flop = 2 * Double(pointCount) * Double(clusterCount) * Double(dimension)

        for (name, screening) in [("float32", Screening.off), ("screened", Screening.auto)] {
            let fusedRate = BenchmarkMetric.custom("fused GFLOP/s", polarity: .prefersLarger, useScalingFactor: false)
            let sgemmRate = BenchmarkMetric.custom("best sgemm GFLOP/s", polarity: .prefersLarger, useScalingFactor: false)
            let ratio = BenchmarkMetric.custom("fused / best sgemm (%)", polarity: .prefersLarger, useScalingFactor: false)
            Benchmark(
                "Fused assignment, \(name), \(pointCount)x\(dimension), k=\(clusterCount)",
                configuration: .init(metrics: [.wallClock, .peakMemoryResident, .mallocCountTotal, fusedRate, sgemmRate, ratio])
            ) { benchmark in
                for _ in benchmark.scaledIterations {
                    var fused = Double.infinity
                    var best = Double.infinity
                    var inertia = 0.0
                    for _ in 0..<3 {
                        let assignment = try KMeans.assign(source, centroids: centroids, screening: screening)
                        fused = min(fused, assignment.seconds)
                        inertia = assignment.inertia
                        let tiled = try KernelBaselines.tiledProducts(
                            points: points, centroids: centroids, dimension: dimension, plan: assignment.plan)
                        let whole = KernelBaselines.wholeProduct(
                            points: points, centroids: centroids, dimension: dimension, threadCount: assignment.plan.threadCount)
                        best = min(best, tiled, whole)
                    }
                    benchmark.measurement(fusedRate, Int(flop / fused / 1e9))
                    benchmark.measurement(sgemmRate, Int(flop / best / 1e9))
                    benchmark.measurement(ratio, Int(100 * best / fused))
                    blackHole(inertia)
                }
            }
        }
    }
}

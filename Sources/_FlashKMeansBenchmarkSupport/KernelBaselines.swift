import COpenBLAS
import Dispatch
import FlashKMeans

/// Plain `sgemm` baselines for the benchmarks: the same products as the fused kernel,
/// without the argmin sweep, the exact-label checks or the sums, so that the fused
/// kernel's rate can be quoted against the best this machine's BLAS gives. Not part of
/// the `FlashKMeans` library: the `Benchmarks` package depends on this target alone.
public enum KernelBaselines {
    /// One `sgemm` of the whole `n × k` cross-product matrix, with OpenBLAS's own threads.
    ///
    /// - Parameters:
    ///   - points: `n × d`, row-major.
    ///   - centroids: `k × d`, row-major.
    ///   - threadCount: OpenBLAS threads for this call (restored to 1 afterwards).
    /// - Returns: Seconds taken.
    public static func wholeProduct(points: [Float], centroids: [Float], dimension: Int, threadCount: Int) -> Double {
        let n = points.count / dimension
        let k = centroids.count / dimension
        var output = [Float](repeating: 0, count: n * k)
        openblas_set_num_threads(Int32(threadCount))
        defer { openblas_set_num_threads(1) }
        let started = DispatchTime.now().uptimeNanoseconds
        cblas_sgemm(
            CblasRowMajor, CblasNoTrans, CblasTrans, blasint(n), blasint(k), blasint(dimension),
            1, points, blasint(dimension), centroids, blasint(dimension), 0, &output, blasint(k))
        return Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
    }

    /// The fused kernel's `sgemm` calls alone, streamed through the same tile engine, tiles,
    /// threads and L2 block as ``KMeans/assign(_:centroids:metric:threadCount:pointTile:centroidTile:screening:)``.
    /// - Returns: Seconds taken.
    public static func tiledProducts(points: [Float], centroids: [Float], dimension: Int, plan: TilePlan) throws -> Double {
        BLAS.useSingleThreadedKernels()
        let source = ArraySource(points, dimension: dimension)
        let operation = TiledProducts(centroids: centroids, dimension: dimension, plan: plan)
        let engine = TileEngine(
            operation: operation, schedule: TileSchedule(plan: plan, rowCount: source.rowCount), threadCount: plan.threadCount,
            source: source)
        let started = DispatchTime.now().uptimeNanoseconds
        try engine.run()
        return Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
    }
}

/// Every point tile against every centroid tile, products only.
final class TiledProducts: TileOperation {
    let centroids: [Float]
    let dimension: Int
    let plan: TilePlan

    init(centroids: [Float], dimension: Int, plan: TilePlan) {
        self.centroids = centroids
        self.dimension = dimension
        self.plan = plan
    }

    func makeThreadScratch() -> KernelScratch { KernelScratch(plan: plan, dimension: dimension) }

    func process(_ rows: Range<Int>, slice: Int, scratch: KernelScratch, reader: TileReader) throws {
        let clusterCount = centroids.count / dimension
        try reader.withTile(rows) { points in
            centroids.withUnsafeBufferPointer { centroidBuffer in
                var firstCentroid = 0
                while firstCentroid < clusterCount {
                    let count = min(plan.centroidTile, clusterCount - firstCentroid)
                    computeCrossProducts(
                        points: points, centroids: centroidBuffer.baseAddress! + firstCentroid * dimension, count: count,
                        output: scratch.crossProducts)
                    firstCentroid += count
                }
            }
        }
    }
}

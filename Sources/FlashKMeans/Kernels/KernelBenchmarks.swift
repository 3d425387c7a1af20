import COpenBLAS
import Dispatch

/// Plain `sgemm` baselines for the benchmarks: the same products as the fused kernel,
/// without the argmin sweep, the exact-label checks or the sums, so that the fused
/// kernel's rate can be quoted against the best this machine's BLAS gives.
public enum KernelBenchmarks {
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

    /// The fused kernel's `sgemm` calls alone: the same tiles, threads and block as
    /// ``KMeans/assign(_:centroids:threadCount:pointTile:centroidTile:)``.
    /// - Returns: Seconds taken.
    public static func tiledProducts(points: [Float], centroids: [Float], dimension: Int, plan: TilePlan) -> Double {
        let n = points.count / dimension
        let k = centroids.count / dimension
        BLAS.useSingleThreadedKernels()
        let scratches = (0..<plan.threadCount).map { _ in KernelScratch(plan: plan, dimension: dimension) }
        let started = DispatchTime.now().uptimeNanoseconds
        points.withUnsafeBufferPointer { pointBuffer in
            centroids.withUnsafeBufferPointer { centroidBuffer in
                nonisolated(unsafe) let pointBase = pointBuffer.baseAddress!
                nonisolated(unsafe) let centroidBase = centroidBuffer.baseAddress!
                let tiles = (n + plan.pointTile - 1) / plan.pointTile
                DispatchQueue.concurrentPerform(iterations: plan.threadCount) { thread in
                    var tile = thread
                    while tile < tiles {
                        let first = tile * plan.pointTile
                        let rows = RowTile(
                            base: pointBase + first * dimension, rowStride: dimension, rowCount: min(plan.pointTile, n - first),
                            dimension: dimension, firstRow: first)
                        var firstCentroid = 0
                        while firstCentroid < k {
                            let count = min(plan.centroidTile, k - firstCentroid)
                            computeCrossProducts(
                                points: rows, centroids: centroidBase + firstCentroid * dimension, count: count,
                                output: scratches[thread].crossProducts, outputStride: scratches[thread].blockStride)
                            firstCentroid += count
                        }
                        tile += plan.threadCount
                    }
                }
            }
        }
        return Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
    }
}

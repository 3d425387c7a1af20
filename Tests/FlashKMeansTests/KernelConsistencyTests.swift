import Testing
@testable import FlashKMeans
import _FlashKMeansTestSupport

/// `sgemm` rounds differently for different tile shapes (OpenBLAS switches kernels
/// for small products), so the engine never relies on its exact bits: ``ExactLabels``
/// re-ranks rows whose scores are within the proven error bound. These tests check that
/// bound against float64 on the kernel's real output.
@Suite struct KernelConsistencyTests {
    @Test(arguments: [(16, Float(0)), (100, 0), (384, 0), (768, 0), (128, 1000)])
    func scoreErrorStaysWithinTheBound(dimension: Int, offset: Float) throws {
        let rows = 200
        let clusterCount = 37
        let points = Fixtures.gaussian(pointCount: rows, dimension: dimension, seed: 1).map { $0 + offset }
        let centroids = Fixtures.gaussian(pointCount: clusterCount, dimension: dimension, seed: 2).map { $0 * 0.5 + offset }
        let plan = TilePlan(pointCount: rows, clusterCount: clusterCount, dimension: dimension, pointTile: rows, centroidTile: clusterCount, threadCount: 1)
        let scratch = KernelScratch(plan: plan, dimension: dimension)
        var norms = [Float](repeating: 0, count: clusterCount)
        centroids.withUnsafeBufferPointer { computeCentroidSquaredNorms($0.baseAddress!, count: clusterCount, dimension: dimension, into: &norms) }
        let largest = Double(norms.max()!).squareRoot() * (1 + 0x1p-20)
        let exact = ExactLabels(dimension: dimension, largestCentroidNorm: largest)
        var worstRatio = 0.0
        points.withUnsafeBufferPointer { pointBuffer in
            centroids.withUnsafeBufferPointer { centroidBuffer in
                let tile = RowTile(base: pointBuffer.baseAddress!, rowStride: dimension, rowCount: rows, dimension: dimension, firstRow: 0)
                computeCrossProducts(points: tile, centroids: centroidBuffer.baseAddress!, count: clusterCount, output: scratch.crossProducts)
                for row in 0..<rows {
                    var pointNorm = 0.0
                    for index in 0..<dimension { pointNorm += Double(points[row * dimension + index]) * Double(points[row * dimension + index]) }
                    let allowed = exact.scoreError(pointSquaredNorm: Float(pointNorm))
                    for centroid in 0..<clusterCount {
                        var trueScore = 0.0
                        for index in 0..<dimension {
                            let c = Double(centroids[centroid * dimension + index])
                            trueScore += c * c - 2 * Double(points[row * dimension + index]) * c
                        }
                        let cross = scratch.crossProducts[centroid, row]
                        let score = Double(norms[centroid] - (cross + cross))
                        worstRatio = max(worstRatio, abs(score - trueScore) / allowed)
                    }
                }
            }
        }
        #expect(worstRatio <= 1)
        #expect(worstRatio > 0)
    }

    /// Two centroids at (almost exactly) the same distance: float32 may order them
    /// either way; the label must be the float64 nearest.
    @Test func nearTieFollowsFloat64() throws {
        let dimension = 384
        let x = Fixtures.gaussian(pointCount: 1, dimension: dimension, seed: 3)
        let direction = Fixtures.gaussian(pointCount: 1, dimension: dimension, seed: 4)
        // c0 = x + v and c1 = x − v are equidistant from x; list them as c1, c0 with decoys around.
        var centroids: [Float] = []
        for decoy in 0..<20 { centroids += direction.map { $0 * Float(decoy + 5) } }
        centroids += zip(x, direction).map { $0 - $1 }
        centroids += zip(x, direction).map { $0 + $1 }
        let source = ArraySource(Array([[Float]](repeating: x, count: 22).joined()), dimension: dimension)
        let (_, iterations) = try fitRecording(source, configuration(k: 22, initial: centroids, maxIterations: 1))
        let exactNearest = ReferenceLloyd.assign(points: x, dimension: dimension, centroids: centroids.map(Double.init), previous: nil)
        #expect(iterations[0].labels == [Int32](repeating: exactNearest.labels[0], count: 22))
        #expect(exactNearest.labels[0] == 20 || exactNearest.labels[0] == 21)
        #expect(iterations[0].stats.ambiguousRows == 22)
    }
}

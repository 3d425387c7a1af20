import Testing
@testable import FlashKMeans
import _FlashKMeansTestSupport

/// Cluster sums are accumulated in float64. Rows near (1000, …, 1000) would lose
/// several digits summed in float32; here every centroid must be the float64 mean
/// rounded to float32, within 2 float32 ulps at 1000 (1.2e-4).
@Suite struct AccumulationPrecisionTests {
    @Test func centroidsAreAccurateUnderALargeCommonOffset() throws {
        let dimension = 32
        let (points, firstRows) = Fixtures.separatedBlobs(
            pointCount: 40_000, dimension: dimension, blobCount: 4, offset: 1000, scale: 20, spread: 0.5, seed: 31)
        let initial = Fixtures.rows(firstRows, of: points, dimension: dimension)
        let result = try KMeans.fit(
            ArraySource(points, dimension: dimension), configuration: configuration(k: 4, initial: initial, maxIterations: 5))
        // Exact means of the final clusters in float64.
        var sums = [Double](repeating: 0, count: 4 * dimension)
        var counts = [Double](repeating: 0, count: 4)
        for point in 0..<40_000 {
            let label = Int(result.labels[point])
            counts[label] += 1
            for index in 0..<dimension { sums[label * dimension + index] += Double(points[point * dimension + index]) }
        }
        #expect(counts.allSatisfy { $0 == 10_000 })
        let worst = (0..<(4 * dimension)).map { abs(Double(result.centroids[$0]) - sums[$0] / counts[$0 / dimension]) }.max()!
        #expect(worst <= 1.2e-4)
        // Float32 accumulation of the same rows misses the bound: the test can tell.
        var floatErrors: [Double] = []
        for index in 0..<dimension {
            var floatSum: Float = 0
            for point in 0..<10_000 { floatSum += points[point * dimension + index] }
            floatErrors.append(abs(Double(floatSum / 10_000) - sums[index] / counts[0]))
        }
        #expect(floatErrors.max()! > 1.2e-4)
    }
}

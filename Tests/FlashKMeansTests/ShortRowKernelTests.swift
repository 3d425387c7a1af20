import CKMeansKernels
import Testing
@testable import FlashKMeans
import _FlashKMeansTestSupport

/// Rows of up to 16 values skip `sgemm`: `fk_nearest_short_rows` must leave exactly what the
/// cross-product block and `fk_fold_minimum` would, and the batched per-tile helpers exactly
/// what their one-row versions give, bit for bit. (OracleTests and AlgorithmTests run short rows
/// through the whole engine against the float64 reference.)
@Suite struct ShortRowKernelTests {
    /// Every dimension up to the limit, centroid counts around the kernel's groups of four,
    /// row counts around its blocks of 16, and a row stride wider than the row.
    @Test(arguments: [1, 2, 3, 5, 8, 11, 16])
    func nearestMatchesAScalarFoldInLabelOrder(dimension: Int) {
        for (rowCount, clusterCount) in [(1, 1), (15, 3), (16, 4), (37, 9), (64, 32)] {
            let stride = dimension + 3
            let points = Fixtures.gaussian(pointCount: rowCount, dimension: stride, seed: UInt64(dimension))
            var centroids = Fixtures.gaussian(pointCount: clusterCount, dimension: dimension, seed: 99)
            // A duplicated centroid makes exact ties, which must keep the lower label.
            if clusterCount > 2 { for index in 0..<dimension { centroids[2 * dimension + index] = centroids[index] } }
            var norms = [Float](repeating: 0, count: clusterCount)
            computeCentroidSquaredNorms(centroids, count: clusterCount, dimension: dimension, into: &norms)
            let padded = (rowCount + 15) / 16 * 16
            var best = [Float](repeating: .nan, count: padded)
            var second = [Float](repeating: .nan, count: padded)
            var labels = [Int32](repeating: -7, count: padded)
            fk_nearest_short_rows(points, stride, rowCount, dimension, centroids, norms, clusterCount, &best, &second, &labels)
            for row in 0..<rowCount {
                var expectedBest = Float.infinity, expectedSecond = Float.infinity
                var expectedLabel: Int32 = 0
                for centroid in 0..<clusterCount {
                    var dot: Float = 0
                    for index in 0..<dimension { dot += points[row * stride + index] * centroids[centroid * dimension + index] }
                    let score = norms[centroid] - (dot + dot)
                    if score < expectedBest {
                        expectedSecond = expectedBest
                        expectedBest = score
                        expectedLabel = Int32(centroid)
                    } else if score < expectedSecond {
                        expectedSecond = score
                    }
                }
                #expect(labels[row] == expectedLabel, "d = \(dimension), k = \(clusterCount), row \(row)")
                #expect(best[row].bitPattern == expectedBest.bitPattern, "d = \(dimension), k = \(clusterCount), row \(row)")
                #expect(second[row].bitPattern == expectedSecond.bitPattern, "d = \(dimension), k = \(clusterCount), row \(row)")
            }
        }
    }

    /// The batched norms and distances give the bits of the one-row functions, which
    /// follow the documented order: 16 lane sums over whole blocks, the lanes in order from
    /// −0, then the tail one by one.
    @Test(arguments: [1, 7, 15, 16, 17, 40])
    func batchedHelpersMatchTheDocumentedOrder(dimension: Int) {
        let rowCount = 21, clusterCount = 5, stride = dimension + 2
        let rows = Fixtures.gaussian(pointCount: rowCount, dimension: stride, seed: 5).map { $0 * 3 + 0.1 }
        let centroids = Fixtures.gaussian(pointCount: clusterCount, dimension: dimension, seed: 6)
        let labels = (0..<rowCount).map { Int32(($0 * 7) % clusterCount) }

        func documentedSquaredNorm(_ values: [Float]) -> Float {
            var lanes = [Float](repeating: 0, count: 16)
            var index = 0
            while index + 16 <= values.count {
                for lane in 0..<16 { lanes[lane] += values[index + lane] * values[index + lane] }
                index += 16
            }
            var total: Float = -0.0
            for lane in lanes { total += lane }
            while index < values.count {
                total += values[index] * values[index]
                index += 1
            }
            return total
        }

        var norms = [Float](repeating: .nan, count: rowCount)
        fk_squared_norms(rows, stride, rowCount, dimension, &norms)
        var distances = [Float](repeating: .nan, count: rowCount)
        fk_distances_to_labels(rows, stride, rowCount, dimension, centroids, labels, &distances)
        for row in 0..<rowCount {
            let values = Array(rows[(row * stride)..<(row * stride + dimension)])
            let centroid = Int(labels[row])
            let differences = (0..<dimension).map { values[$0] - centroids[centroid * dimension + $0] }
            #expect(norms[row].bitPattern == documentedSquaredNorm(values).bitPattern, "d = \(dimension), row \(row)")
            #expect(norms[row].bitPattern == fk_squared_norm(values, dimension).bitPattern)
            #expect(distances[row].bitPattern == documentedSquaredNorm(differences).bitPattern, "d = \(dimension), row \(row)")
        }
    }
}

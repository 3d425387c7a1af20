import Testing
@testable import FlashKMeans
import _FlashKMeansTestSupport

@Suite struct HandComputedTests {
    /// Four points in two pairs; worked out by hand:
    /// iteration 1 (centroids (0,0), (10,0)): labels 0 0 1 1, inertia 0 + 4 + 0 + 4 = 8;
    /// update: centroids (0,1), (10,1); iteration 2: no label changes, inertia 4 × 1 = 4.
    @Test func twoPairs() throws {
        let points: [Float] = [0, 0, 0, 2, 10, 0, 10, 2]
        let source = ArraySource(points, dimension: 2)
        let (result, iterations) = try fitRecording(source, configuration(k: 2, initial: [0, 0, 10, 0], threads: 1))
        #expect(result.labels == [0, 0, 1, 1])
        #expect(result.centroids == [0, 1, 10, 1])
        #expect(result.inertia == 4)
        #expect(result.stopReason == .converged)
        #expect(iterations.map(\.stats.inertia) == [8, 4])
        #expect(iterations.map(\.stats.reassigned) == [4, 0])
        #expect(iterations[0].labels == [0, 0, 1, 1])
    }

    /// Sizes 1, 2, 3 and an empty cluster: k Σnᵢ²/n² = 4 · 14 / 36.
    @Test func balanceByHand() {
        let balance = ClusterBalance(labels: [0, 1, 1, 2, 2, 2], clusterCount: 4)
        #expect(balance == ClusterBalance(labels: [2, 1, 0, 2, 1, 2], clusterCount: 4))
        #expect(balance.smallest == 0 && balance.median == 2 && balance.largest == 3 && balance.emptyClusters == 1)
        #expect(abs(balance.imbalanceFactor - 56.0 / 36.0) < 1e-12)
        #expect(ClusterBalance(labels: [0, 1, 2, 3], clusterCount: 4).imbalanceFactor == 1)
    }

    /// A point equidistant from two centroids goes to the lower index, as a plain scan would.
    @Test func tiesGoToTheLowestCentroid() throws {
        let source = ArraySource([5, 0, 10], dimension: 1)
        let (result, iterations) = try fitRecording(source, configuration(k: 2, initial: [0, 10], maxIterations: 1, threads: 1))
        #expect(iterations[0].labels == [0, 0, 1])
        #expect(result.centroids == [2.5, 10])
    }

    /// An initial centroid far from every point gets no points; it is re-seeded with
    /// the point farthest from its centroid.
    @Test func emptyClusterIsReseededWithFarthestPoint() throws {
        let points: [Float] = [0, 1, 2, 9]
        let source = ArraySource(points, dimension: 1)
        let (result, iterations) = try fitRecording(source, configuration(k: 2, initial: [1, 100], threads: 1))
        // Iteration 1: all points go to centroid 1.0 (point 9 is at distance 64 vs 8281);
        // cluster 1 is empty and takes point 9 (distance 64, the farthest).
        #expect(result.iterations[0].emptyClustersReseeded == 1)
        #expect(iterations[1].centroids == [1, 9])
        #expect(result.labels == [0, 0, 0, 1])
        #expect(result.centroids == [1, 9])
        #expect(result.emptyClustersReseeded == 1)
    }
}

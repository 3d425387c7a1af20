import Testing
@testable import FlashKMeans
import _FlashKMeansTestSupport

@Suite struct AssignTests {
    /// Assigning with the centroids `fit` returned gives `fit`'s last labels and inertia.
    @Test func assignReproducesTheLastLabelsOfFit() throws {
        let points = Fixtures.gaussian(pointCount: 3000, dimension: 20, seed: 41)
        let source = ArraySource(points, dimension: 20)
        let result = try KMeans.fit(source, configuration: configuration(k: 60, maxIterations: 7))
        let assignment = try KMeans.assign(source, centroids: result.centroids, threadCount: 3, pointTile: 100, centroidTile: 17)
        #expect(assignment.labels == result.labels)
        #expect(assignment.inertia == result.inertia)
        let exact = ReferenceLloyd.assign(points: points, dimension: 20, centroids: result.centroids.map(Double.init), previous: nil)
        #expect(assignment.labels == exact.labels)
        #expect(zip(assignment.squaredDistances, exact.squaredDistances).allSatisfy { abs(Double($0) - $1) <= 1e-5 * max(1, $1) })
    }

    @Test func centroidsMustBeWholeRows() {
        #expect(throws: KMeansError.self) { try KMeans.assign(ArraySource([1, 2, 3, 4], dimension: 2), centroids: [1, 2, 3]) }
        #expect(throws: KMeansError.self) { try KMeans.assign(ArraySource([1, 2, 3, 4], dimension: 2), centroids: []) }
    }
}

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

@Suite struct NearestCentroidsTests {
    /// Top-M equals a brute-force float64 search, ties (duplicate centroids) ordered by label.
    @Test(arguments: [1, 3, 8])
    func topMatchesBruteForce(count: Int) throws {
        let dimension = 24
        let points = Fixtures.gaussian(pointCount: 1500, dimension: dimension, seed: 51)
        var centroids = Fixtures.rows(Fixtures.distinctRows(40, of: 1500, seed: 52), of: points, dimension: dimension)
        // Exact ties: centroid 40 repeats centroid 3, centroid 41 repeats centroid 17.
        centroids += Array(centroids[(3 * dimension)..<(4 * dimension)]) + Array(centroids[(17 * dimension)..<(18 * dimension)])
        let k = centroids.count / dimension
        let nearest = try KMeans.nearest(ArraySource(points, dimension: dimension), centroids: centroids, count: count, threadCount: 2, pointTile: 100)
        var tiesSeen = 0
        for point in 0..<1500 {
            var ranked: [(distance: Double, label: Int32)] = []
            for centroid in 0..<k {
                var distance = 0.0
                for index in 0..<dimension {
                    let difference = Double(points[point * dimension + index]) - Double(centroids[centroid * dimension + index])
                    distance += difference * difference
                }
                ranked.append((distance, Int32(centroid)))
            }
            ranked.sort { $0.distance != $1.distance ? $0.distance < $1.distance : $0.label < $1.label }
            let expected = ranked.prefix(count).map { $0.label }
            #expect(Array(nearest.labels[(point * count)..<((point + 1) * count)]) == expected, "row \(point)")
            #expect(nearest.squaredDistances[point * count] == Float(ranked[0].distance))
            if count > 1, ranked[0].distance == ranked[1].distance { tiesSeen += 1 }
        }
        if count > 1 { #expect(tiesSeen > 0) }
    }

    @Test func topOneIsTheAssignment() throws {
        let points = Fixtures.gaussian(pointCount: 700, dimension: 9, seed: 53)
        let centroids = Fixtures.rows(Fixtures.distinctRows(30, of: 700, seed: 54), of: points, dimension: 9)
        let source = ArraySource(points, dimension: 9)
        #expect(try KMeans.nearest(source, centroids: centroids, count: 1).labels == KMeans.assign(source, centroids: centroids).labels)
        #expect(throws: KMeansError.self) { try KMeans.nearest(source, centroids: centroids, count: 31) }
    }
}

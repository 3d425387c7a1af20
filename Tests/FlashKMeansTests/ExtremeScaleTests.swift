import Testing
@testable import FlashKMeans
import _FlashKMeansTestSupport

/// k-means is scale-invariant, and multiplying by a power of two is exact: data scaled by
/// 2^e must give the same labels, centroids scaled by exactly 2^e, and inertia by 2^2e.
/// (Rows near 1e17 once got centroids that were not their nearest, and rows near 1e-22 or
/// subnormal had every distance underflow to 0.)
@Suite struct ExtremeScaleTests {
    /// Overlapping clusters (spread 3 around centres 10 apart), so that labels depend on
    /// every distance, not only on which blob a row came from.
    static let dimension = 16
    static let points = Fixtures.separatedBlobs(pointCount: 1200, dimension: dimension, blobCount: 6, spread: 3, seed: 17).points

    static func power(_ exponent: Int) -> Float { Float(sign: .plus, exponent: exponent, significand: 1) }

    static func configuration(_ algorithm: Algorithm) -> KMeans.Configuration {
        var configuration = KMeans.Configuration(clusterCount: 12)
        configuration.maxIterations = 40
        configuration.tolerance = 0
        configuration.threadCount = 2
        configuration.pointTile = 128
        configuration.algorithm = algorithm
        configuration.pruningStartFraction = 0.5
        configuration.seed = 5
        return configuration
    }

    @Test(arguments: [60, 100, -75, -110], [Algorithm.lloyd, .hamerly, .yinyang, .elkan])
    func aPowerOfTwoScaleGivesTheSameRun(exponent: Int, algorithm: Algorithm) throws {
        let factor = Self.power(exponent)
        let scaled = Self.points.map { $0 * factor }
        let expected = try KMeans.fit(ArraySource(Self.points, dimension: Self.dimension), configuration: Self.configuration(algorithm))
        let result = try KMeans.fit(ArraySource(scaled, dimension: Self.dimension), configuration: Self.configuration(algorithm))
        #expect(result.labels == expected.labels)
        #expect(result.centroids == expected.centroids.map { $0 * factor })
        #expect(result.iterations.count == expected.iterations.count)
        #expect(result.inertia == expected.inertia * Double(factor) * Double(factor))
        #expect(result.iterations.last?.inertia == expected.iterations.last.map { $0.inertia * Double(factor) * Double(factor) })
    }

    /// Given initial centroids are scaled with the data.
    @Test(arguments: [64, -90])
    func givenCentroidsAreScaledWithTheRows(exponent: Int) throws {
        let factor = Self.power(exponent)
        let start = Fixtures.rows(Fixtures.distinctRows(12, of: 1200, seed: 3), of: Self.points, dimension: Self.dimension)
        var plain = Self.configuration(.lloyd)
        plain.initialization = .centroids(start)
        var large = plain
        large.initialization = .centroids(start.map { $0 * factor })
        let expected = try KMeans.fit(ArraySource(Self.points, dimension: Self.dimension), configuration: plain)
        let result = try KMeans.fit(ArraySource(Self.points.map { $0 * factor }, dimension: Self.dimension), configuration: large)
        #expect(result.labels == expected.labels)
        #expect(result.centroids == expected.centroids.map { $0 * factor })
    }

    /// Subnormal rows lose bits when they are stored, so they are a slightly different data
    /// set; the labels must still be the float64 nearest centroids of the returned ones.
    @Test func subnormalRowsGetTheirNearestCentroids() throws {
        let scaled = Self.points.map { $0 * Self.power(-135) }
        #expect(scaled.contains { $0 != 0 && !$0.isNormal })
        let result = try KMeans.fit(ArraySource(scaled, dimension: Self.dimension), configuration: Self.configuration(.yinyang))
        let exact = ReferenceLloyd.assign(
            points: scaled, dimension: Self.dimension, centroids: result.centroids.map(Double.init), previous: nil)
        #expect(result.labels == exact.labels)
        #expect(result.inertia > 0)
        let expected = try KMeans.fit(ArraySource(Self.points, dimension: Self.dimension), configuration: Self.configuration(.yinyang))
        let agreement = zip(result.labels, expected.labels).filter { $0 == $1 }.count
        #expect(agreement > 1200 * 9 / 10)
    }

    /// `assign` and the M nearest centroids, with distances scaled back.
    @Test(arguments: [62, -100])
    func assignmentAndNearestCentroidsAtAnyScale(exponent: Int) throws {
        let factor = Self.power(exponent)
        let centroids = Fixtures.rows(Fixtures.distinctRows(30, of: 1200, seed: 8), of: Self.points, dimension: Self.dimension)
        let plain = ArraySource(Self.points, dimension: Self.dimension)
        let scaled = ArraySource(Self.points.map { $0 * factor }, dimension: Self.dimension)
        let scaledCentroids = centroids.map { $0 * factor }

        let expected = try KMeans.assign(plain, centroids: centroids)
        let assigned = try KMeans.assign(scaled, centroids: scaledCentroids)
        #expect(assigned.labels == expected.labels)
        #expect(assigned.squaredDistances == expected.squaredDistances.map { $0 * factor * factor })

        let nearest = try KMeans.nearest(scaled, centroids: scaledCentroids, count: 3)
        let expectedNearest = try KMeans.nearest(plain, centroids: centroids, count: 3)
        #expect(nearest.labels == expectedNearest.labels)
        #expect(nearest.squaredDistances == expectedNearest.squaredDistances.map { $0 * factor * factor })
    }

    /// Ordinary data keep their zero-copy path: the scale is 1 from 2⁻³² to 2³².
    @Test func ordinaryDataAreNotRescaled() {
        #expect(DataScale(largestMagnitude: 255).isIdentity)
        #expect(DataScale(largestMagnitude: 1e-9).isIdentity)
        #expect(DataScale(largestMagnitude: 4e9).isIdentity)
        #expect(DataScale(largestMagnitude: 0).isIdentity)
        #expect(DataScale(largestMagnitude: .infinity).isIdentity)
        #expect(DataScale(largestMagnitude: 1e17).exponent == -56)
        #expect(DataScale(largestMagnitude: Float(sign: .plus, exponent: -140, significand: 1)).exponent == 140)
    }
}

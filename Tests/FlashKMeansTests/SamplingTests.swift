import Testing
@testable import FlashKMeans
import _FlashKMeansTestSupport

/// `maxPointsPerCentroid`: train on a seeded sample, then label every row.
@Suite struct SamplingTests {
    static let points = Fixtures.separatedBlobs(pointCount: 6000, dimension: 8, blobCount: 30, scale: 2, spread: 1, seed: 71).points

    func sampledConfiguration(seed: UInt64) -> KMeans.Configuration {
        var config = configuration(k: 20, maxIterations: 30)
        config.initialization = .kMeansPlusPlus
        config.maxPointsPerCentroid = 50
        config.seed = seed
        return config
    }

    @Test func sampleIsSeededSortedAndSized() throws {
        let source = ArraySource(Self.points, dimension: 8)
        let a = try #require(KMeans.trainingRows(of: source, configuration: sampledConfiguration(seed: 1)))
        let b = try #require(KMeans.trainingRows(of: source, configuration: sampledConfiguration(seed: 1)))
        let c = try #require(KMeans.trainingRows(of: source, configuration: sampledConfiguration(seed: 2)))
        #expect(a.sampledRows.count == 20 * 50)
        #expect(a.sampledRows == b.sampledRows)
        #expect(a.sampledRows != c.sampledRows)
        #expect(a.sampledRows == a.sampledRows.sorted() && Set(a.sampledRows).count == 1000)
        // A sample as large as the input is no sample.
        var whole = sampledConfiguration(seed: 1)
        whole.maxPointsPerCentroid = 300
        #expect(KMeans.trainingRows(of: source, configuration: whole) == nil)
    }

    @Test func everyRowIsLabelledWithTheFinalCentroids() throws {
        let source = ArraySource(Self.points, dimension: 8)
        let result = try KMeans.fit(source, configuration: sampledConfiguration(seed: 3))
        #expect(result.trainingRowCount == 1000)
        #expect(result.labels.count == 6000)
        let assignment = try KMeans.assign(source, centroids: result.centroids)
        #expect(result.labels == assignment.labels)
        #expect(result.inertia == assignment.inertia)
        // Same seed, same result.
        let again = try KMeans.fit(source, configuration: sampledConfiguration(seed: 3))
        #expect(again.centroids == result.centroids)
    }

    /// The sample is read through the source: the training equals Lloyd on the sampled rows.
    @Test func trainingEqualsLloydOnTheSampledRows() throws {
        let source = ArraySource(Self.points, dimension: 8)
        let config = sampledConfiguration(seed: 4)
        let sample = try #require(KMeans.trainingRows(of: source, configuration: config))
        let sampledPoints = Fixtures.rows(sample.sampledRows, of: Self.points, dimension: 8)
        var plain = config
        plain.maxPointsPerCentroid = nil
        let onSample = try KMeans.fit(ArraySource(sampledPoints, dimension: 8), configuration: plain)
        let sampled = try KMeans.fit(source, configuration: config)
        #expect(sampled.centroids == onSample.centroids)
        #expect(sampled.iterations.map(\.inertia) == onSample.iterations.map(\.inertia))
    }
}

import Testing
@testable import FlashKMeans
import _FlashKMeansTestSupport

@Suite struct InitializationTests {
    @Test func generatorIsReproducible() {
        var a = SeededGenerator(seed: 9)
        var b = SeededGenerator(seed: 9)
        let first = (0..<100).map { _ in a.next() }
        #expect(first == (0..<100).map { _ in b.next() })
        #expect(Set(first).count == 100)
        var c = SeededGenerator(seed: 10)
        #expect(first[0] != c.next())
    }

    @Test(arguments: [(0, 10), (10, 10), (3, 1000), (500, 1000)])
    func sortedSampleIsSortedDistinctAndSized(count: Int, population: Int) {
        var generator = SeededGenerator(seed: 1)
        let sample = generator.sortedSample(count: count, from: population)
        #expect(sample.count == count)
        #expect(sample == sample.sorted())
        #expect(Set(sample).count == count)
        #expect(sample.allSatisfy { $0 >= 0 && $0 < population })
    }

    @Test func indicesStayInRangeAndCoverIt() {
        var generator = SeededGenerator(seed: 2)
        let draws = (0..<5000).map { _ in generator.nextIndex(below: 7) }
        #expect(Set(draws) == Set(0..<7))
    }

    /// k-means++ on well-separated blobs puts one centroid in each blob, and every centroid
    /// is an exact row of the data (the sample is quantized in 16-row blocks while seeding;
    /// 1,001 rows leave a partial last block).
    @Test(arguments: [nil, 1001])
    func kMeansPlusPlusFindsEveryBlob(sampleSize requested: Int?) throws {
        let (points, firstRows) = Fixtures.separatedBlobs(pointCount: 2000, dimension: 8, blobCount: 20, seed: 3)
        let source = ArraySource(points, dimension: 8)
        var configuration = configuration(k: 20, maxIterations: 1)
        configuration.initialization = .kMeansPlusPlus
        configuration.initializationSampleSize = requested
        let plan = TilePlan(pointCount: 2000, clusterCount: 20, dimension: 8, pointTile: 64, centroidTile: nil, threadCount: 2)
        let (centroids, sampleSize, _) = try InitialCentroids.choose(for: source, configuration: configuration, plan: plan)
        #expect(sampleSize == requested ?? min(2000, max(16 * 20, 2000 / 24)))
        let blobOf = { (row: Int) in firstRows.lastIndex { $0 <= row }! }
        var blobs = Set<Int>()
        for centroid in 0..<20 {
            let row = (0..<2000).first { row in (0..<8).allSatisfy { points[row * 8 + $0] == centroids[centroid * 8 + $0] } }
            blobs.insert(blobOf(try #require(row)))
        }
        #expect(blobs.count == 20)
    }

    /// Random initialization picks k distinct rows.
    @Test func randomPicksDistinctRows() throws {
        let points = (0..<300).map(Float.init)
        var configuration = configuration(k: 50, maxIterations: 1)
        configuration.initialization = .random
        let plan = TilePlan(pointCount: 300, clusterCount: 50, dimension: 1, pointTile: nil, centroidTile: nil, threadCount: 1)
        let (centroids, _, _) = try InitialCentroids.choose(
            for: ArraySource(points, dimension: 1), configuration: configuration, plan: plan)
        #expect(Set(centroids).count == 50)
    }

    /// k-means++ on duplicated rows still returns k centroids (repeating rows once
    /// every distinct row is taken) and the run completes.
    @Test func kMeansPlusPlusCopesWithDuplicates() throws {
        let points = [Float](repeating: 1, count: 40) + [Float](repeating: 5, count: 40)
        var configuration = configuration(k: 5)
        configuration.initialization = .kMeansPlusPlus
        let result = try KMeans.fit(ArraySource(points, dimension: 1), configuration: configuration)
        #expect(result.centroids.count == 5)
        #expect(Set(result.labels.map { result.centroids[Int($0)] }) == [1, 5])
        #expect(result.inertia == 0)
    }
}

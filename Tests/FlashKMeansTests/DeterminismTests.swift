import Testing
@testable import FlashKMeans
import _FlashKMeansTestSupport

@Suite struct DeterminismTests {
    static let points = Fixtures.gaussian(pointCount: 3000, dimension: 24, seed: 21)

    /// Sums and inertia are exact, and labels are exact, so any thread count gives
    /// bit-identical labels, centroids and inertia.
    @Test(arguments: [2, 3, 5])
    func threadCountDoesNotChangeTheResult(threads: Int) throws {
        let source = ArraySource(Self.points, dimension: 24)
        var base = configuration(k: 40, maxIterations: 20, threads: 1, pointTile: 64, centroidTile: 16)
        base.initialization = .kMeansPlusPlus
        var other = base
        other.threadCount = threads
        let one = try KMeans.fit(source, configuration: base)
        let many = try KMeans.fit(source, configuration: other)
        #expect(one.labels == many.labels)
        #expect(one.centroids == many.centroids)
        #expect(one.inertia == many.inertia)
        #expect(one.iterations.map(\.reassigned) == many.iterations.map(\.reassigned))
    }

    /// Tile sizes change every `sgemm` shape but neither the labels (re-ranked in float64
    /// wherever float32 rounding could matter) nor the sums (exact): results are
    /// bit-identical, even on overlapping data.
    @Test(arguments: [(7, 5), (64, 64), (256, 256), (1000, 33), (3000, 1)])
    func tileSizesDoNotChangeTheResult(pointTile: Int, centroidTile: Int) throws {
        let source = ArraySource(Self.points, dimension: 24)
        let initial = Fixtures.rows(Fixtures.distinctRows(30, of: 3000, seed: 23), of: Self.points, dimension: 24)
        let reference = try KMeans.fit(source, configuration: configuration(k: 30, initial: initial, maxIterations: 15, threads: 1))
        let tiled = try KMeans.fit(
            source, configuration: configuration(
                k: 30, initial: initial, maxIterations: 15, pointTile: pointTile, centroidTile: centroidTile))
        #expect(tiled.plan.pointTile == pointTile)
        #expect(tiled.labels == reference.labels)
        #expect(tiled.centroids == reference.centroids)
        #expect(tiled.iterations.map(\.inertia) == reference.iterations.map(\.inertia))
    }

    /// k-means++ works in fixed 512-row tiles of 16-row blocks, whatever the engine's tiles
    /// and threads: a sample of 1,001 rows (a partial last block) seeds identically.
    @Test(arguments: [(7, 5, 1), (64, 64, 3), (3000, 1, 2)])
    func kMeansPlusPlusStartDoesNotDependOnTilesOrThreads(pointTile: Int, centroidTile: Int, threads: Int) throws {
        let source = ArraySource(Self.points, dimension: 24)
        var base = configuration(k: 37, maxIterations: 1, threads: 1)
        base.initialization = .kMeansPlusPlus
        base.initializationSampleSize = 1001
        var other = configuration(k: 37, maxIterations: 1, threads: threads, pointTile: pointTile, centroidTile: centroidTile)
        other.initialization = .kMeansPlusPlus
        other.initializationSampleSize = 1001
        let reference = try KMeans.fit(source, configuration: base)
        let tiled = try KMeans.fit(source, configuration: other)
        #expect(tiled.initializationSampleSize == 1001)
        #expect(tiled.centroids == reference.centroids)
        #expect(tiled.labels == reference.labels)
    }

    /// Slices depend on the row count alone: one per 1,024 rows, at most 16, whatever k, d
    /// and the threads.
    @Test func slicesFollowRows() {
        func slices(_ rows: Int, _ k: Int, _ d: Int, threads: Int = 2) -> Int {
            TilePlan(pointCount: rows, clusterCount: k, dimension: d, pointTile: nil, centroidTile: nil, threadCount: threads)
                .sliceCount
        }
        #expect(slices(3000, 40, 24) == 3)
        #expect(slices(43_742, 256, 384) == 16)
        #expect(slices(43_742, 1024, 384) == 16)
        #expect(slices(43_742, 1024, 384, threads: 1) == slices(43_742, 1024, 384, threads: 8))
        #expect(slices(1000, 1024, 8) == 1)
        // Sums no longer live in slices, so huge k × d keeps every slice (and thread).
        #expect(slices(1_000_000, 262_144, 128) == 16)
    }

    @Test func sameSeedSameResultOtherSeedOtherStart() throws {
        let source = ArraySource(Self.points, dimension: 24)
        var first = configuration(k: 16, maxIterations: 3)
        first.initialization = .kMeansPlusPlus
        first.seed = 42
        let a = try KMeans.fit(source, configuration: first)
        let b = try KMeans.fit(source, configuration: first)
        first.seed = 43
        let c = try KMeans.fit(source, configuration: first)
        #expect(a.centroids == b.centroids)
        #expect(a.labels == b.labels)
        #expect(a.centroids != c.centroids)
    }
}

@Suite struct InertiaOrderTests {
    /// Inertia is summed row by row in each slice, so the point tile cannot change where
    /// float64 rounds: rows far from their centroid (squared distances near 10¹⁴) mixed with
    /// rows almost on theirs make partial sums round, which per-tile subtotals would do
    /// differently for each tile size.
    @Test(arguments: [1, 7, 100])
    func pointTileDoesNotChangeTheInertia(pointTile: Int) throws {
        var values: [Float] = []
        for row in 0..<900 {
            let far = row % 3 == 0
            values += [far ? 1e7 + Float(row) : 0.001 * Float(row % 17), far ? -3e6 : 0.0001 * Float(row % 5)]
        }
        let source = ArraySource(values, dimension: 2)
        let initial: [Float] = [0, 0, 5e6, 1e6]
        let reference = try KMeans.fit(source, configuration: configuration(k: 2, initial: initial, maxIterations: 1, threads: 1))
        let tiled = try KMeans.fit(
            source, configuration: configuration(k: 2, initial: initial, maxIterations: 1, threads: 1, pointTile: pointTile))
        #expect(tiled.iterations.map(\.inertia) == reference.iterations.map(\.inertia))
        #expect(tiled.inertia == reference.inertia)
    }
}

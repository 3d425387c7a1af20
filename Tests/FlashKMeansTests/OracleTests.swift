import Testing
@testable import FlashKMeans
import _FlashKMeansTestSupport

/// The engine against the float64 reference Lloyd, started from the same centroids.
@Suite struct OracleTests {
    /// Shapes around the tile sizes used here (64 × 64): 1, tile − 1, tile, tile + 1,
    /// and k spanning more than one centroid tile.
    static let shapes: [(n: Int, k: Int, d: Int)] = [
        (1, 1, 1), (2, 1, 3), (5, 5, 2), (63, 7, 1), (64, 8, 16), (65, 9, 17),
        (129, 65, 8), (200, 64, 33), (300, 130, 5), (257, 63, 64), (150, 150, 3), (400, 3, 129),
    ]

    /// Every iteration's labels and centroids are identical to the reference's, and the
    /// run stops at the same iteration for the same reason, on blobs and on overlapping
    /// Gaussian data alike. Up to 1,024 rows the engine sums in one slice, in row order,
    /// exactly as the reference does, so even the centroids agree bit for bit. With the
    /// integer screen on or off alike.
    @Test(arguments: shapes, [Screening.on, .off])
    func identicalTrajectory(shape: (n: Int, k: Int, d: Int), screening: Screening) throws {
        let blobs = Fixtures.separatedBlobs(pointCount: shape.n, dimension: shape.d, blobCount: max(1, shape.k / 2), scale: 2, seed: 1).points
        let gaussian = Fixtures.gaussian(pointCount: shape.n, dimension: shape.d, seed: 2)
        for points in [blobs, gaussian] {
            let initial = Fixtures.rows(Fixtures.distinctRows(shape.k, of: shape.n, seed: 3), of: points, dimension: shape.d)
            let reference = ReferenceLloyd(points: points, dimension: shape.d, initialCentroids: initial, maxIterations: 50, tolerance: 0)
            let source = ArraySource(points, dimension: shape.d)
            let (result, iterations) = try fitRecording(
                source, configuration(
                    k: shape.k, initial: initial, maxIterations: 50, pointTile: 64, centroidTile: 64, screening: screening))
            #expect(result.plan.integerScreening == (screening == .on))
            #expect(iterations.count == reference.iterations.count)
            for (engine, judge) in zip(iterations, reference.iterations) {
                #expect(engine.labels == judge.labels, "iteration \(engine.stats.iteration)")
                #expect(engine.stats.reassigned == judge.reassigned)
                #expect(engine.centroids.map(Double.init) == judge.centroids)
                #expect(abs(engine.stats.inertia - judge.inertia) <= 1e-5 * max(1, judge.inertia))
            }
            #expect(result.labels == reference.labels)
            #expect(result.stopReason == reference.stopReason)
            #expect(result.centroids.map(Double.init) == reference.centroids)
        }
    }

    /// Larger, overlapping data summed in several slices: each engine step is judged on
    /// its own. Given the engine's centroids, every label is the float64 argmin, the
    /// inertia matches float64, and the next centroids are the float64 means of the labels.
    @Test(arguments: [(5000, 20, 32), (3000, 70, 16), (300, 300, 4), (2500, 129, 65), (1500, 200, 384)], [Screening.on, .off])
    func everyStepIsExact(dimensions: (n: Int, k: Int, d: Int), screening: Screening) throws {
        let (n, k, d) = dimensions
        let points = Fixtures.gaussian(pointCount: n, dimension: d, seed: 7)
        let initial = Fixtures.rows(Fixtures.distinctRows(k, of: n, seed: 8), of: points, dimension: d)
        let source = ArraySource(points, dimension: d)
        let (result, iterations) = try fitRecording(
            source, configuration(k: k, initial: initial, maxIterations: 8, pointTile: 64, centroidTile: 64, screening: screening))
        var previousLabels: [Int32]?
        for (index, step) in iterations.enumerated() {
            let exact = ReferenceLloyd.assign(
                points: points, dimension: d, centroids: step.centroids.map(Double.init), previous: previousLabels)
            #expect(step.labels == exact.labels, "iteration \(index + 1)")
            #expect(step.stats.reassigned == exact.reassigned)
            #expect(abs(step.stats.inertia - exact.inertia) <= 1e-5 * exact.inertia)
            if index + 1 < iterations.count {
                let expected = ReferenceLloyd.update(
                    points: points, dimension: d, clusterCount: k, labels: step.labels,
                    squaredDistances: exact.squaredDistances, previous: step.centroids.map(Double.init))
                #expect(largestRelativeDifference(iterations[index + 1].centroids, expected) <= 1e-6)
            }
            previousLabels = step.labels
        }
        #expect(result.iterations.count == iterations.count)
    }

    /// k = 1, k = n, duplicate rows, all-equal rows and d = 1 all match the reference.
    @Test(arguments: ["k=1", "k=n", "duplicates", "all-equal", "d=1"], [Screening.on, .off])
    func degenerateInputs(kind: String, screening: Screening) throws {
        let (points, dimension, k): ([Float], Int, Int)
        switch kind {
        case "k=1": (points, dimension, k) = (Fixtures.gaussian(pointCount: 100, dimension: 5, seed: 1), 5, 1)
        case "k=n": (points, dimension, k) = (Fixtures.separatedBlobs(pointCount: 40, dimension: 3, blobCount: 40, seed: 2).points, 3, 40)
        case "duplicates":
            let base = Fixtures.separatedBlobs(pointCount: 30, dimension: 4, blobCount: 3, seed: 3).points
            (points, dimension, k) = (base + base + base, 4, 6)
        case "all-equal": (points, dimension, k) = ([Float](repeating: 3.5, count: 50 * 2), 2, 4)
        default: (points, dimension, k) = (Fixtures.separatedBlobs(pointCount: 90, dimension: 1, blobCount: 3, seed: 4).points, 1, 3)
        }
        let n = points.count / dimension
        let initial = Fixtures.rows(Array(0..<k).map { $0 * n / k }, of: points, dimension: dimension)
        let reference = ReferenceLloyd(points: points, dimension: dimension, initialCentroids: initial, maxIterations: 30, tolerance: 0)
        let (result, iterations) = try fitRecording(
            ArraySource(points, dimension: dimension), configuration(k: k, initial: initial, maxIterations: 30, screening: screening))
        #expect(iterations.map(\.labels) == reference.iterations.map(\.labels))
        #expect(result.labels == reference.labels)
        #expect(largestRelativeDifference(result.centroids, reference.centroids) <= 1e-5)
        #expect(abs(result.inertia - reference.inertia) <= 1e-5 * max(1, reference.inertia))
    }

    /// Max-iterations: the last labels are recomputed with the returned centroids.
    @Test func labelsMatchReturnedCentroidsAfterIterationLimit() throws {
        let points = Fixtures.gaussian(pointCount: 400, dimension: 8, seed: 11)
        let initial = Fixtures.rows(Fixtures.distinctRows(10, of: 400, seed: 12), of: points, dimension: 8)
        let (result, _) = try fitRecording(ArraySource(points, dimension: 8), configuration(k: 10, initial: initial, maxIterations: 2))
        #expect(result.stopReason == .maxIterations)
        let exact = ReferenceLloyd.assign(points: points, dimension: 8, centroids: result.centroids.map(Double.init), previous: nil)
        #expect(result.labels == exact.labels)
        #expect(abs(result.inertia - exact.inertia) <= 1e-5 * exact.inertia)
    }

    /// The relative-inertia tolerance stops early, exactly where the reference does.
    @Test func toleranceStopsWhereReferenceDoes() throws {
        let (points, _) = Fixtures.separatedBlobs(pointCount: 600, dimension: 6, blobCount: 12, spread: 3, seed: 5)
        let initial = Fixtures.rows(Fixtures.distinctRows(12, of: 600, seed: 6), of: points, dimension: 6)
        let reference = ReferenceLloyd(points: points, dimension: 6, initialCentroids: initial, maxIterations: 100, tolerance: 1e-2)
        let (result, _) = try fitRecording(
            ArraySource(points, dimension: 6), configuration(k: 12, initial: initial, tolerance: 1e-2))
        #expect(result.iterations.count == reference.iterations.count)
        #expect(result.stopReason == reference.stopReason)
    }
}

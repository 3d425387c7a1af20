import Testing
@testable import FlashKMeans
import _FlashKMeansTestSupport

/// The integer screen ranks centroids with 8-bit products and leaves only those its proven
/// error bound cannot rule out; the labels must still be the float64 nearest centroids,
/// identical to the float32 kernel's, in the hard cases too.
@Suite struct ScreeningTests {
    func assignments(_ points: [Float], dimension: Int, centroids: [Float]) throws -> (screened: Assignment, plain: Assignment) {
        let source = ArraySource(points, dimension: dimension)
        let k = centroids.count / dimension
        var on = KMeans.Configuration(clusterCount: k)
        on.screening = .on
        on.pointTile = 64
        var off = on
        off.screening = .off
        let screened = try KMeans.assignEveryRow(of: source, to: centroids, plan: on.tilePlan(for: source))
        let plain = try KMeans.assignEveryRow(of: source, to: centroids, plan: off.tilePlan(for: source))
        #expect(screened.plan.integerScreening && !plain.plan.integerScreening)
        return (screened, plain)
    }

    /// Equidistant centroids (exact ties, and ties broken only in float64) keep the lowest label.
    @Test func tiesGoToTheLowestLabel() throws {
        let dimension = 24
        var points: [Float] = []
        var centroids: [Float] = []
        let direction = Fixtures.gaussian(pointCount: 1, dimension: dimension, seed: 1)
        for copy in 0..<40 { centroids += direction.map { $0 * Float(copy % 10 + 2) } }
        // Centroids 40 and 41 mirror each other about every point on the line through the origin.
        centroids += direction.map { $0 + 1 }
        centroids += direction.map { $0 - 1 }
        for scale in 0..<300 { points += direction.map { $0 * Float(scale) * 0.01 } }
        let (screened, plain) = try assignments(points, dimension: dimension, centroids: centroids)
        #expect(screened.labels == plain.labels)
        let exact = ReferenceLloyd.assign(points: points, dimension: dimension, centroids: centroids.map(Double.init), previous: nil)
        #expect(screened.labels == exact.labels)
        #expect(screened.squaredDistances == plain.squaredDistances)
    }

    /// More than four centroids within the screen's error of the best (a row at the
    /// centre of a sphere of centroids) overflow the candidate list: such rows go to the
    /// float32 kernel and are still exact.
    @Test func crowdedRowsFallBackToFloat32() throws {
        let dimension = 8
        let centroids = Fixtures.gaussian(pointCount: 64, dimension: dimension, seed: 5).enumerated().map { index, value in
            value + (index % dimension == 0 ? 0 : 0)
        }
        // Put every centroid on the unit sphere: a row at the origin is equidistant from all.
        var sphere: [Float] = []
        for row in 0..<64 {
            let values = centroids[(row * dimension)..<((row + 1) * dimension)]
            let norm = values.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
            sphere += values.map { $0 / norm }
        }
        var points = [Float](repeating: 0, count: 10 * dimension)
        points += Fixtures.gaussian(pointCount: 200, dimension: dimension, seed: 6).map { $0 * 1e-4 }
        let source = ArraySource(points, dimension: dimension)
        var configuration = configuration(k: 64, initial: sphere, maxIterations: 1, screening: .on)
        configuration.pointTile = 64
        let (result, iterations) = try fitRecording(source, configuration)
        #expect(iterations[0].stats.screeningFallbacks > 0)
        let exact = ReferenceLloyd.assign(points: points, dimension: dimension, centroids: sphere.map(Double.init), previous: nil)
        #expect(iterations[0].labels == exact.labels)
        #expect(result.plan.integerScreening)
    }

    /// Where almost every row falls back (rows at the centre of a sphere of centroids, like
    /// isotropic Gaussian data in high dimensions), each slice gives the screen up after its
    /// first rows, unless screening is forced on; the labels are exact either way. (The
    /// screen once ran on for every row there, and a pass took 1.9 times a float32 one.)
    @Test func slicesGiveUpAScreenThatDoesNotNarrow() throws {
        let dimension = 8
        var sphere: [Float] = []
        let directions = Fixtures.gaussian(pointCount: 64, dimension: dimension, seed: 5)
        for row in 0..<64 {
            let values = directions[(row * dimension)..<((row + 1) * dimension)]
            let norm = values.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
            sphere += values.map { $0 / norm }
        }
        // Every row at the centre: all 64 centroids tie, far more than the screen's 16 candidates.
        let points = [Float](repeating: 0, count: 4096 * dimension)
        let source = ArraySource(points, dimension: dimension)
        let exact = ReferenceLloyd.assign(points: points, dimension: dimension, centroids: sphere.map(Double.init), previous: nil)
        for givesUp in [true, false] {
            var plan = TilePlan(pointCount: 4096, clusterCount: 64, dimension: dimension, pointTile: 64, centroidTile: nil, threadCount: 2)
            plan.integerScreening = true
            plan.screeningGivesUp = givesUp
            let pass = AssignmentPass(source: source, step: DenseStep(), clusterCount: 64, plan: plan)
            let outcome = try sphere.withUnsafeBufferPointer { try pass.run(centroids: $0.baseAddress!, accumulateSums: false, pruning: false) }
            #expect(Array(pass.labels) == exact.labels)
            #expect(outcome.counters.screeningFallbacks > outcome.counters.screenedRows / 2)
            let probed = plan.sliceCount * Screening.giveUpProbeRows
            #expect(outcome.counters.screenedRows == (givesUp ? probed : 4096))
        }
    }

    /// Rows with large offsets, negative values, zero rows and every small dimension.
    @Test(arguments: [1, 2, 3, 4, 5, 7, 15, 16, 17, 33])
    func awkwardRowsAreExact(dimension: Int) throws {
        var points = Fixtures.gaussian(pointCount: 700, dimension: dimension, seed: UInt64(dimension)).enumerated().map { index, value in
            index / dimension % 3 == 0 ? value + 1000 : (index / dimension % 3 == 1 ? -value * 50 : value)
        }
        points += [Float](repeating: 0, count: 5 * dimension)
        let centroids = Fixtures.rows(Fixtures.distinctRows(40, of: 705, seed: 9), of: points, dimension: dimension)
        let (screened, plain) = try assignments(points, dimension: dimension, centroids: centroids)
        let exact = ReferenceLloyd.assign(points: points, dimension: dimension, centroids: centroids.map(Double.init), previous: nil)
        #expect(screened.labels == exact.labels)
        #expect(screened.labels == plain.labels)
        #expect(screened.squaredDistances == plain.squaredDistances)
        #expect(screened.inertia == plain.inertia)
    }

    /// A whole run with every algorithm gives the same bytes with the screen on and off
    /// (dense passes screen; pruned passes compare their survivors in float32).
    @Test(arguments: [Algorithm.lloyd, .yinyang, .elkan, .hamerly])
    func screeningNeverChangesARun(algorithm: Algorithm) throws {
        let points = Fixtures.gaussian(pointCount: 3000, dimension: 48, seed: 31)
        let source = ArraySource(points, dimension: 48)
        var on = configuration(k: 60, maxIterations: 25, screening: .on)
        on.initialization = .kMeansPlusPlus
        on.algorithm = algorithm
        on.pruningStartFraction = 0.3
        var off = on
        off.screening = .off
        let screened = try KMeans.fit(source, configuration: on)
        let plain = try KMeans.fit(source, configuration: off)
        #expect(screened.labels == plain.labels)
        #expect(screened.centroids == plain.centroids)
        #expect(screened.iterations.map(\.inertia) == plain.iterations.map(\.inertia))
        // Every dense pass screens, Hamerly's too (it once ran them all in float32, at half
        // the speed, though only a pass that records its bounds needs the second-best scores).
        let dense = screened.iterations.filter { !$0.pruning }
        #expect(!dense.isEmpty)
        #expect(dense.allSatisfy { $0.screenedCandidates > 0 })
    }
}

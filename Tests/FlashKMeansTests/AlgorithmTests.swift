import Testing
@testable import FlashKMeans
import _FlashKMeansTestSupport

/// Every pruning algorithm against plain Lloyd from the same centroids: identical labels
/// at every iteration, identical centroids and inertia, the same number of iterations.
@Suite struct AlgorithmTests {
    enum DataKind: String, CaseIterable {
        case separated, overlapping, isotropic, duplicated
    }

    static func data(_ kind: DataKind, n: Int, d: Int, k: Int) -> [Float] {
        switch kind {
        case .separated: Fixtures.separatedBlobs(pointCount: n, dimension: d, blobCount: max(1, k / 2), scale: 10, spread: 0.5, seed: 11).points
        case .overlapping: Fixtures.separatedBlobs(pointCount: n, dimension: d, blobCount: max(1, k / 2), scale: 1, spread: 0.6, seed: 12).points
        case .isotropic: Fixtures.gaussian(pointCount: n, dimension: d, seed: 13)
        case .duplicated:
            Array([[Float]](repeating: Fixtures.separatedBlobs(pointCount: n / 3, dimension: d, blobCount: max(1, k / 3), scale: 2, seed: 14).points, count: 3).joined())
                + Fixtures.gaussian(pointCount: n - 3 * (n / 3), dimension: d, seed: 15)
        }
    }

    static let shapes: [(n: Int, k: Int, d: Int)] = [(600, 70, 8), (900, 20, 33), (300, 3, 5), (200, 200, 4), (2500, 40, 16)]

    static func run(
        _ algorithm: Algorithm, points: [Float], d: Int, k: Int, initial: [Float], startFraction: Double, threads: Int = 2,
        screening: Screening = .auto
    ) throws -> (KMeansResult, [RecordedIteration]) {
        var configuration = configuration(
            k: k, initial: initial, maxIterations: 40, threads: threads, pointTile: 64, centroidTile: 32, screening: screening)
        configuration.algorithm = algorithm
        configuration.pruningStartFraction = startFraction
        return try fitRecording(ArraySource(points, dimension: d), configuration)
    }

    @Test(arguments: [Algorithm.hamerly, .elkan, .yinyang, .auto], DataKind.allCases)
    func sameAsLloyd(algorithm: Algorithm, kind: DataKind) throws {
        var prunedIterations = 0
        var checks = 0
        for shape in Self.shapes {
            let points = Self.data(kind, n: shape.n, d: shape.d, k: shape.k)
            let initial = Fixtures.rows(Fixtures.distinctRows(shape.k, of: shape.n, seed: 5), of: points, dimension: shape.d)
            let (lloyd, lloydIterations) = try Self.run(.lloyd, points: points, d: shape.d, k: shape.k, initial: initial, startFraction: 1)
            // Start pruning as early as possible (1.0), and at the default threshold.
            for startFraction in [1.0, 0.1] {
                let (pruned, iterations) = try Self.run(
                    algorithm, points: points, d: shape.d, k: shape.k, initial: initial, startFraction: startFraction)
                #expect(iterations.count == lloydIterations.count, "\(shape)")
                for (ours, reference) in zip(iterations, lloydIterations) {
                    #expect(ours.labels == reference.labels, "\(shape) iteration \(ours.stats.iteration)")
                    #expect(ours.centroids == reference.centroids)
                }
                #expect(pruned.labels == lloyd.labels)
                #expect(pruned.centroids == lloyd.centroids)
                #expect(pruned.inertia == lloyd.inertia)
                #expect(pruned.iterations.map(\.inertia) == lloyd.iterations.map(\.inertia))
                #expect(pruned.stopReason == lloyd.stopReason)
                prunedIterations += pruned.iterations.filter(\.pruning).count
                checks += pruned.iterations.map(\.invariantChecks).reduce(0, +)
            }
        }
        if algorithm != .auto {
            // The comparison is not vacuous: pruning ran, and every bound it used was verified.
            #expect(prunedIterations > 0)
            #expect(checks > 0)
        }
    }

    /// Where bounds would prune little (isotropic Gaussian data), `auto` never pays for them:
    /// a sample predicts the saving, every pass runs dense, the report says why, and the run
    /// ends exactly where Lloyd does. On separated blobs the same prediction starts pruning.
    /// (The isotropic run screens, as `auto` does for long rows and many centroids, so that
    /// its dense passes are as cheap as on the data where the prediction matters.)
    @Test func autoPrunesOnlyWhereASamplePredictsItPays() throws {
        let (n, d, k) = (4000, 64, 64)
        let points = Fixtures.gaussian(pointCount: n, dimension: d, seed: 12)
        let initial = Fixtures.rows(Fixtures.distinctRows(k, of: n, seed: 13), of: points, dimension: d)
        let (lloyd, _) = try Self.run(.lloyd, points: points, d: d, k: k, initial: initial, startFraction: 1)
        let (auto, _) = try Self.run(.auto, points: points, d: d, k: k, initial: initial, startFraction: 1, screening: .on)
        #expect(auto.algorithm.reason.contains("predicted too little saving"), "\(auto.algorithm.reason)")
        #expect(!auto.iterations.contains { $0.pruning })
        #expect(auto.labels == lloyd.labels)
        #expect(auto.centroids == lloyd.centroids)
        #expect(auto.inertia == lloyd.inertia)

        let blobs = Self.data(.separated, n: 3000, d: 32, k: 64)
        let start = Fixtures.rows(Fixtures.distinctRows(64, of: 3000, seed: 6), of: blobs, dimension: 32)
        let (separated, _) = try Self.run(.auto, points: blobs, d: 32, k: 64, initial: start, startFraction: 1)
        #expect(separated.algorithm.algorithm == .yinyang)
        #expect(separated.iterations.contains { $0.pruning && $0.distanceFraction < 0.5 }, "\(separated.algorithm.reason) \(separated.iterations.map { ($0.pruning, $0.distanceFraction) })")
    }

    /// On separated data pruning really skips work once labels settle.
    @Test(arguments: [Algorithm.hamerly, .elkan, .yinyang])
    func pruningSkipsWorkOnSeparatedData(algorithm: Algorithm) throws {
        let points = Self.data(.separated, n: 3000, d: 16, k: 64)
        let initial = Fixtures.rows(Fixtures.distinctRows(64, of: 3000, seed: 6), of: points, dimension: 16)
        let (result, _) = try Self.run(algorithm, points: points, d: 16, k: 64, initial: initial, startFraction: 1)
        let pruned = result.iterations.filter(\.pruning)
        #expect(pruned.count >= 2)
        // From the second pruned iteration on, bounds exist and cut the distance work
        // (Hamerly least: its one bound per point is the loosest).
        #expect(pruned.dropFirst().allSatisfy { $0.distanceFraction < 0.8 })
        #expect(pruned.last!.distanceFraction < 0.5)
        #expect(pruned.dropFirst().contains { $0.examinedPoints < 3000 })
        #expect(result.iterations.allSatisfy { $0.boundBytes == result.algorithm.boundBytes })
    }

    /// Stopped by the iteration limit while pruning: the final assignment (which may prune
    /// too) gives Lloyd's labels for the returned centroids.
    @Test(arguments: [Algorithm.hamerly, .elkan, .yinyang])
    func finalAssignmentAfterIterationLimit(algorithm: Algorithm) throws {
        let points = Self.data(.overlapping, n: 2000, d: 10, k: 40)
        let initial = Fixtures.rows(Fixtures.distinctRows(40, of: 2000, seed: 9), of: points, dimension: 10)
        var configuration = configuration(k: 40, initial: initial, maxIterations: 6, pointTile: 64, centroidTile: 32)
        configuration.algorithm = .lloyd
        let lloyd = try KMeans.fit(ArraySource(points, dimension: 10), configuration: configuration)
        configuration.algorithm = algorithm
        configuration.pruningStartFraction = 1
        let pruned = try KMeans.fit(ArraySource(points, dimension: 10), configuration: configuration)
        #expect(lloyd.stopReason == .maxIterations)
        #expect(pruned.iterations.last!.pruning)
        #expect(pruned.labels == lloyd.labels)
        #expect(pruned.inertia == lloyd.inertia)
    }

    @Test func threadCountDoesNotChangePrunedResults() throws {
        let points = Self.data(.overlapping, n: 3000, d: 12, k: 50)
        let initial = Fixtures.rows(Fixtures.distinctRows(50, of: 3000, seed: 7), of: points, dimension: 12)
        for algorithm in [Algorithm.hamerly, .yinyang, .elkan] {
            let (one, _) = try Self.run(algorithm, points: points, d: 12, k: 50, initial: initial, startFraction: 1, threads: 1)
            let (three, _) = try Self.run(algorithm, points: points, d: 12, k: 50, initial: initial, startFraction: 1, threads: 3)
            #expect(one.labels == three.labels)
            #expect(one.centroids == three.centroids)
            #expect(one.iterations.map(\.distanceFraction) == three.iterations.map(\.distanceFraction))
        }
    }

    @Test func memoryBudgetDecidesTheAlgorithm() throws {
        let planner = { (budget: Int) in
            AlgorithmPlanner(pointCount: 10_000, clusterCount: 256, dimension: 64, memoryBudget: budget)
        }
        // Yinyang needs 10,000 × 16 × 2 bytes; Hamerly 10,000 × 4; Elkan 10,000 × 256 × 4 plus 2 × 256² × 4.
        #expect(try planner(1 << 30).choose(.auto).algorithm == .yinyang)
        #expect(try planner(100_000).choose(.auto).algorithm == .hamerly)
        #expect(try planner(1000).choose(.auto).algorithm == .lloyd)
        #expect(try planner(1 << 30).choose(.elkan).boundBytes == (10_000 * 256 + 2 * 256 * 256) * 4)
        #expect(throws: KMeansError.self) { try planner(1_000_000).choose(.elkan) }
        #expect(try AlgorithmPlanner(pointCount: 100, clusterCount: 4, dimension: 2, memoryBudget: 1 << 30).choose(.auto).algorithm == .lloyd)
        // Cheap rows: too few products per row for any bounds, and short rows take Hamerly's.
        #expect(try AlgorithmPlanner(pointCount: 100, clusterCount: 32, dimension: 32, memoryBudget: 1 << 30).choose(.auto).algorithm == .lloyd)
        #expect(try AlgorithmPlanner(pointCount: 100, clusterCount: 512, dimension: 8, memoryBudget: 1 << 30).choose(.auto).algorithm == .hamerly)
        #expect(try AlgorithmPlanner(pointCount: 100, clusterCount: 512, dimension: 32, memoryBudget: 1 << 30).choose(.auto).algorithm == .yinyang)

        // Through fit: an explicit Elkan over budget is refused with a clear message.
        let points = Fixtures.gaussian(pointCount: 500, dimension: 64, seed: 8)
        var configuration = configuration(k: 20)
        configuration.algorithm = .elkan
        configuration.memoryBudget = 1000
        do {
            _ = try KMeans.fit(ArraySource(points, dimension: 64), configuration: configuration)
            Issue.record("expected the budget to refuse Elkan")
        } catch let error as KMeansError {
            #expect(error == .boundsExceedBudget(algorithm: .elkan, boundBytes: (500 * 20 + 2 * 20 * 20) * 4, budgetBytes: 1000))
            #expect(error.description.contains("elkan needs"))
        }
        configuration.algorithm = .auto
        let result = try KMeans.fit(ArraySource(points, dimension: 64), configuration: configuration)
        #expect(result.algorithm.algorithm == .lloyd)
        #expect(result.algorithm.reason.contains("exceeds"))
    }
}

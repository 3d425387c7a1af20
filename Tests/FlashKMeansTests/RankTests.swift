import Foundation
import Testing
@testable import FlashKMeans
import _FlashKMeansTestSupport

/// A job split over ranks gives what one process gives, bit for bit: the ranks here are
/// threads exchanging in memory (``ThreadRanks``); `Scripts/test.sh` runs the same through
/// `mpirun`.
@Suite struct RankTests {
    /// Overlapping data, 9 slices of about 1,000 rows.
    static let points = Fixtures.gaussian(pointCount: 9500, dimension: 12, seed: 31)

    static func fitAcross(_ ranks: Int, _ configuration: KMeans.Configuration, points: [Float] = points) -> [Result<KMeansResult, any Error>] {
        let group = ThreadRanks(size: ranks)
        return group.run { rank in
            Result { try KMeans.fit(ArraySource(points, dimension: 12), configuration: configuration, across: rank) }
        }
    }

    @Test(arguments: [Algorithm.lloyd, .yinyang, .hamerly, .auto], [1, 2, 3, 4])
    func ranksGiveTheResultOfOneProcess(algorithm: Algorithm, ranks: Int) throws {
        var configuration = configuration(k: 24, maxIterations: 30, threads: 1 + ranks % 2)
        configuration.initialization = .kMeansPlusPlus
        configuration.algorithm = algorithm
        configuration.seed = 5
        let single = try KMeans.fit(ArraySource(Self.points, dimension: 12), configuration: configuration)
        #expect(single.iterations.count > 5)
        for (rank, outcome) in Self.fitAcross(ranks, configuration).enumerated() {
            let result = try outcome.get()
            #expect(result.centroids == single.centroids, "rank \(rank)")
            #expect(result.labels == single.labels, "rank \(rank)")
            #expect(result.inertia == single.inertia, "rank \(rank)")
            #expect(result.iterations.map(\.inertia) == single.iterations.map(\.inertia), "rank \(rank)")
            #expect(result.iterations.map(\.reassigned) == single.iterations.map(\.reassigned), "rank \(rank)")
            let report = try #require(result.ranks)
            #expect(report.ranks == ranks)
            #expect(report.rowsPerRank.reduce(0, +) == 9500)
            // Each iteration's exchange time is its own part of the run's.
            let exchanges = result.iterations.compactMap(\.exchangeSeconds)
            #expect(exchanges.count == result.iterations.count)
            #expect(exchanges.allSatisfy { $0 >= 0 } && exchanges.reduce(0, +) <= report.communicationSeconds)
        }
        #expect(single.iterations.allSatisfy { $0.exchangeSeconds == nil })
    }

    /// A sampled training set, and empty clusters re-seeded from rows of several ranks.
    @Test(arguments: [2, 3])
    func samplingAndReseedingGiveTheResultOfOneProcess(ranks: Int) throws {
        // Every other row the same point: a random start picks duplicates, whose clusters empty.
        var points = Self.points
        for row in stride(from: 0, to: 9500, by: 2) { for column in 0..<12 { points[row * 12 + column] = 1 } }
        var configuration = configuration(k: 40, maxIterations: 20)
        configuration.initialization = .random
        configuration.seed = 3
        configuration.maxPointsPerCentroid = 200
        let single = try KMeans.fit(ArraySource(points, dimension: 12), configuration: configuration)
        #expect(single.emptyClustersReseeded > 0)
        #expect(single.trainingRowCount == 8000)
        for outcome in Self.fitAcross(ranks, configuration, points: points) {
            let result = try outcome.get()
            #expect(result.centroids == single.centroids)
            #expect(result.labels == single.labels)
            #expect(result.inertia == single.inertia)
            #expect(result.emptyClustersReseeded == single.emptyClustersReseeded)
        }
    }

    /// A bad row in one rank's share stops every rank, with that row's error, instead of
    /// leaving the others waiting for it.
    @Test func aFailingRankStopsEveryRank() throws {
        var points = Self.points
        points[8000 * 12 + 3] = .nan
        var configuration = configuration(k: 8, maxIterations: 5)
        configuration.initialization = .centroids(Array(Self.points[0..<(8 * 12)]))
        let outcomes = Self.fitAcross(3, configuration, points: points)
        let messages = outcomes.map { outcome -> String in
            guard case let .failure(error) = outcome else { return "no error" }
            return "\(error)"
        }
        #expect(messages.allSatisfy { $0.contains("row 8000") }, "\(messages)")
        #expect(messages.filter { $0.hasPrefix("rank 2: ") }.count == 2, "\(messages)")
    }

    /// A job stopped after iteration 4 on 2 ranks (rank 0 keeping checkpoints) and resumed on
    /// 3 ranks, from the checkpoint rank 0 saved, ends with the result of one uninterrupted
    /// process, bit for bit.
    @Test func resumedOnOtherRanksGivesTheResultOfOneProcess() throws {
        var configuration = configuration(k: 24, maxIterations: 25, threads: 2)
        configuration.initialization = .kMeansPlusPlus
        configuration.algorithm = .yinyang
        configuration.seed = 9
        let source = ArraySource(Self.points, dimension: 12)
        let single = try KMeans.fit(source, configuration: configuration)
        let settings = configuration
        #expect(single.iterations.count > 8)

        struct Stop: Error {}
        final class Saved: @unchecked Sendable {
            let lock = Lock()
            var checkpoints: [Checkpoint] = []
        }
        let saved = Saved()
        let stopped = ThreadRanks(size: 2).run { rank in
            Result {
                try KMeans.fit(
                    ArraySource(Self.points, dimension: 12), configuration: settings, across: rank,
                    checkpoint: rank.rank == 0 ? { checkpoint in
                        saved.lock.withLock { saved.checkpoints.append(checkpoint) }
                        if checkpoint.completedIterations == 4 { throw Stop() }
                    } : nil)
            }
        }
        // The save that threw stopped both ranks, not only the one that saves.
        #expect(stopped.allSatisfy { if case .failure = $0 { true } else { false } })
        let checkpoints = saved.lock.withLock { saved.checkpoints }
        #expect(checkpoints.map(\.completedIterations) == [1, 2, 3, 4])
        let checkpoint = try Checkpoint.decoded(from: try checkpoints.last!.encoded(), path: "sent")

        let resumed = ThreadRanks(size: 3).run { rank in
            Result { try KMeans.fit(ArraySource(Self.points, dimension: 12), configuration: settings, across: rank, resumingFrom: checkpoint) }
        }
        for (rank, outcome) in resumed.enumerated() {
            let result = try outcome.get()
            #expect(result.centroids == single.centroids, "rank \(rank)")
            #expect(result.labels == single.labels, "rank \(rank)")
            #expect(result.iterations.map(\.inertia) == single.iterations.map(\.inertia), "rank \(rank)")
        }
    }

    /// Labelling and multi-probe search with given centroids, split over ranks: every rank
    /// ends with every row's labels and distances, those of one process bit for bit.
    @Test(arguments: [Metric.l2, .cosine], [2, 3, 4])
    func assignAndNearestGiveTheResultOfOneProcess(metric: Metric, ranks: Int) throws {
        let centroids = Array(Self.points[(100 * 12)..<(130 * 12)])
        let source = ArraySource(Self.points, dimension: 12)
        let single = try KMeans.assign(source, centroids: centroids, metric: metric, threadCount: 2)
        let singleNearest = try KMeans.nearest(source, centroids: centroids, count: 3, metric: metric, threadCount: 2)
        let group = ThreadRanks(size: ranks)
        let outcomes = group.run { rank in
            Result {
                let source = ArraySource(Self.points, dimension: 12)
                return (try KMeans.assign(source, centroids: centroids, metric: metric, threadCount: 1, across: rank),
                        try KMeans.nearest(source, centroids: centroids, count: 3, metric: metric, threadCount: 1, across: rank))
            }
        }
        for (rank, outcome) in outcomes.enumerated() {
            let (assignment, nearest) = try outcome.get()
            #expect(assignment.labels == single.labels, "rank \(rank)")
            #expect(assignment.squaredDistances == single.squaredDistances, "rank \(rank)")
            #expect(assignment.cosineSimilarities == single.cosineSimilarities, "rank \(rank)")
            #expect(assignment.inertia == single.inertia, "rank \(rank)")
            #expect(nearest.labels == singleNearest.labels, "rank \(rank)")
            #expect(nearest.squaredDistances == singleNearest.squaredDistances, "rank \(rank)")
            let report = try #require(assignment.ranks)
            #expect(report.ranks == ranks)
            #expect(report.rowsPerRank.reduce(0, +) == 9500)
            #expect(report.rowsPerRank.allSatisfy { $0 > 0 })
        }
    }

    /// A bad row in one rank's share of a multi-probe search stops every rank with its error.
    @Test func aFailingRankStopsEveryRankOfASearch() throws {
        var bad = Self.points
        bad[7000 * 12 + 5] = .infinity
        let points = bad
        let centroids = Array(Self.points[0..<(8 * 12)])
        let outcomes = ThreadRanks(size: 2).run { rank in
            Result { try KMeans.nearest(ArraySource(points, dimension: 12), centroids: centroids, count: 2, across: rank) }
        }
        let messages = outcomes.map { outcome -> String in
            guard case let .failure(error) = outcome else { return "no error" }
            return "\(error)"
        }
        #expect(messages.allSatisfy { $0.contains("row 7000") }, "\(messages)")
    }

    /// Regression: a bad row met in a sampled training set was named by its file row plus the
    /// rank's offset in the sample. Every rank must name the row one process names.
    @Test(arguments: [2, 3])
    func aBadRowInASampleIsNamedAsOneProcessNamesIt(ranks: Int) throws {
        var points = Self.points
        for row in 8000..<8100 { points[row * 12 + 7] = .nan }
        var configuration = configuration(k: 40, maxIterations: 5)
        configuration.maxPointsPerCentroid = 200
        configuration.initialization = .centroids(Array(Self.points[0..<(40 * 12)]))
        let single = try #require(throws: DatasetError.self) {
            try KMeans.fit(ArraySource(points, dimension: 12), configuration: configuration)
        }
        #expect("\(single)".contains("row 8000"), "\(single)")
        for outcome in Self.fitAcross(ranks, configuration, points: points) {
            guard case let .failure(error) = outcome else {
                Issue.record("a rank finished despite the bad rows")
                continue
            }
            #expect("\(error)".hasSuffix("\(single)"), "\(error) against \(single)")
        }
    }

    /// Sums and inertia are exact, so ranks need not take whole slices of the split one process
    /// makes: more ranks than its 10 slices still give its result, bit for bit.
    @Test(arguments: [11, 16])
    func moreRanksThanSlicesGiveTheResultOfOneProcess(ranks: Int) throws {
        var configuration = configuration(k: 24, maxIterations: 15, threads: 2)
        configuration.initialization = .kMeansPlusPlus
        configuration.algorithm = .yinyang
        #expect(configuration.tilePlan(for: ArraySource(Self.points, dimension: 12)).sliceCount == 10)
        let single = try KMeans.fit(ArraySource(Self.points, dimension: 12), configuration: configuration)
        for (rank, outcome) in Self.fitAcross(ranks, configuration).enumerated() {
            let result = try outcome.get()
            #expect(result.centroids == single.centroids, "rank \(rank)")
            #expect(result.labels == single.labels, "rank \(rank)")
            #expect(result.iterations.map(\.inertia) == single.iterations.map(\.inertia), "rank \(rank)")
            #expect(result.ranks?.rowsPerRank.count == ranks)
        }
    }

    /// More ranks than rows: some ranks hold none, and still take part in every exchange.
    @Test func ranksWithoutRowsGiveTheResultOfOneProcess() throws {
        let points = Array(Self.points[0..<(5 * 12)])
        var configuration = configuration(k: 2, maxIterations: 10, threads: 1)
        configuration.initialization = .kMeansPlusPlus
        let single = try KMeans.fit(ArraySource(points, dimension: 12), configuration: configuration)
        for outcome in Self.fitAcross(7, configuration, points: points) {
            let result = try outcome.get()
            #expect(result.centroids == single.centroids)
            #expect(result.labels == single.labels)
            #expect(result.ranks?.rowsPerRank.filter { $0 == 0 }.count == 2)
        }
        let centroids = single.centroids
        let assigned = try KMeans.assign(ArraySource(points, dimension: 12), centroids: centroids, threadCount: 1)
        let outcomes = ThreadRanks(size: 7).run { rank in
            Result { try KMeans.assign(ArraySource(points, dimension: 12), centroids: centroids, threadCount: 1, across: rank) }
        }
        for outcome in outcomes {
            let assignment = try outcome.get()
            #expect(assignment.labels == assigned.labels)
            #expect(assignment.inertia == assigned.inertia)
        }
    }
}

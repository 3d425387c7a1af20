import Foundation
import Testing
@testable import FlashKMeans
import _FlashKMeansTestSupport

/// A run stopped after any iteration and continued from its checkpoint ends with exactly
/// the result of a run never stopped: labels, centroids, inertia, iteration count and the
/// inertia of every iteration, with any algorithm and thread count.
@Suite struct ResumeTests {
    struct Stop: Error {}

    static let dimension = 12
    static let points = Fixtures.separatedBlobs(pointCount: 3000, dimension: dimension, blobCount: 15, spread: 4, seed: 23).points

    static func configuration(_ algorithm: Algorithm, threads: Int) -> KMeans.Configuration {
        var configuration = KMeans.Configuration(clusterCount: 40)
        configuration.algorithm = algorithm
        configuration.threadCount = threads
        configuration.maxIterations = 60
        configuration.tolerance = 0
        configuration.pruningStartFraction = 0.5
        configuration.pointTile = 256
        configuration.seed = 9
        return configuration
    }

    /// Runs until the checkpoint after `stopAfter`, saved to and read back from a file.
    static func interrupted(
        _ source: any EmbeddingSource, _ configuration: KMeans.Configuration, stopAfter: Int, file: String
    ) throws -> Checkpoint {
        #expect(throws: Stop.self) {
            _ = try KMeans.fit(source, configuration: configuration, resumingFrom: nil) { checkpoint in
                try checkpoint.write(to: file)
                if checkpoint.completedIterations == stopAfter { throw Stop() }
            }
        }
        return try Checkpoint.read(from: file)
    }

    static func expectSame(_ resumed: KMeansResult, _ expected: KMeansResult) {
        #expect(resumed.labels == expected.labels)
        #expect(resumed.centroids == expected.centroids)
        #expect(resumed.inertia == expected.inertia)
        #expect(resumed.stopReason == expected.stopReason)
        #expect(resumed.iterations.map(\.inertia) == expected.iterations.map(\.inertia))
        #expect(resumed.iterations.map(\.reassigned) == expected.iterations.map(\.reassigned))
    }

    @Test(arguments: [Algorithm.lloyd, .hamerly, .yinyang, .elkan, .auto], [1, 4, 9])
    func aResumedRunEndsAsAnUninterruptedOne(algorithm: Algorithm, stopAfter: Int) throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let source = ArraySource(Self.points, dimension: Self.dimension)
        let expected = try KMeans.fit(source, configuration: Self.configuration(algorithm, threads: 2))
        #expect(expected.iterations.count > 9)
        let checkpoint = try Self.interrupted(
            source, Self.configuration(algorithm, threads: 2), stopAfter: stopAfter, file: directory.file("checkpoint"))
        #expect(checkpoint.completedIterations == stopAfter)
        // Another thread count and another algorithm may resume it.
        let other: Algorithm = algorithm == .yinyang ? .lloyd : .yinyang
        let resumed = try KMeans.fit(
            source, configuration: Self.configuration(other, threads: 3), resumingFrom: checkpoint, checkpoint: nil)
        Self.expectSame(resumed, expected)
    }

    /// Data rescaled by a power of two and a run trained on a sample resume exactly too.
    @Test func scaledDataAndSampledTrainingResumeExactly() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let large = ArraySource(Self.points.map { $0 * Float(sign: .plus, exponent: 70, significand: 1) }, dimension: Self.dimension)
        var configuration = Self.configuration(.auto, threads: 2)
        configuration.maxPointsPerCentroid = 40
        let expected = try KMeans.fit(large, configuration: configuration)
        let checkpoint = try Self.interrupted(large, configuration, stopAfter: 3, file: directory.file("checkpoint"))
        let resumed = try KMeans.fit(large, configuration: configuration, resumingFrom: checkpoint, checkpoint: nil)
        Self.expectSame(resumed, expected)
    }

    @Test func aCheckpointOfOtherDataIsRefused() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let source = ArraySource(Self.points, dimension: Self.dimension)
        let checkpoint = try Self.interrupted(source, Self.configuration(.lloyd, threads: 2), stopAfter: 2, file: directory.file("checkpoint"))
        var changed = Self.points
        changed[0] += 1
        #expect(throws: KMeansError.self) {
            _ = try KMeans.fit(
                ArraySource(changed, dimension: Self.dimension), configuration: Self.configuration(.lloyd, threads: 2),
                resumingFrom: checkpoint, checkpoint: nil)
        }
        var fewer = Self.configuration(.lloyd, threads: 2)
        fewer.clusterCount = 30
        #expect(throws: KMeansError.checkpointMismatch("it has k = 40 and d = 12")) {
            _ = try KMeans.fit(source, configuration: fewer, resumingFrom: checkpoint, checkpoint: nil)
        }
    }

    @Test func aDamagedCheckpointIsRefused() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let file = directory.file("checkpoint")
        let source = ArraySource(Self.points, dimension: Self.dimension)
        _ = try Self.interrupted(source, Self.configuration(.lloyd, threads: 2), stopAfter: 2, file: file)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
        bytes[bytes.count / 2] ^= 1
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        #expect(throws: DatasetError.self) { _ = try Checkpoint.read(from: file) }
        try Data(bytes[0..<100]).write(to: URL(fileURLWithPath: file))
        #expect(throws: DatasetError.self) { _ = try Checkpoint.read(from: file) }
    }
}

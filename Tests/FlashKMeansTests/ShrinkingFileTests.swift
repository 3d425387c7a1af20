import Foundation
import Testing
@testable import FlashKMeans
import _FlashKMeansTestSupport

/// A file that another process truncates while it is mapped: reading the vanished pages
/// once raised SIGBUS and killed the run with a backtrace. Now the run stops with an error
/// that names the file and says it changed.
@Suite struct ShrinkingFileTests {
    static let rows = 8192
    static let dimension = 64

    /// Writes a 2 MiB float32 `.npy` file, opens it, then cuts it to a quarter.
    func shrunkenSource(_ directory: TemporaryDirectory, format: EmbeddingFormat) throws -> any EmbeddingSource {
        let points = Fixtures.gaussian(pointCount: Self.rows, dimension: Self.dimension, seed: 4)
        let path: String
        switch format {
        case .fvecs:
            path = directory.file("shrinking.fvecs")
            var bytes: [UInt8] = []
            for row in 0..<Self.rows {
                bytes += Fixtures.bytes(of: [Int32(Self.dimension)])
                bytes += Fixtures.bytes(of: Array(points[(row * Self.dimension)..<((row + 1) * Self.dimension)]))
            }
            Fixtures.writeBytes(path, bytes)
        default:
            path = directory.file("shrinking.npy")
            Fixtures.writeNpy(path, descr: "<f4", shape: [Self.rows, Self.dimension], payload: Fixtures.bytes(of: points))
        }
        let source = try openEmbeddings(at: path)
        #expect(truncate(path, off_t(Self.rows * Self.dimension)) == 0)
        return source
    }

    @Test(arguments: [EmbeddingFormat.npy, .fvecs], [Algorithm.lloyd, .yinyang])
    func aRunOverAShrunkenFileFailsWithAClearError(format: EmbeddingFormat, algorithm: Algorithm) throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let source = try shrunkenSource(directory, format: format)
        var configuration = KMeans.Configuration(clusterCount: 16)
        configuration.algorithm = algorithm
        configuration.threadCount = 2
        #expect {
            _ = try KMeans.fit(source, configuration: configuration)
        } throws: { error in
            guard let error = error as? DatasetError, case .changedWhileRead = error.problem else { return false }
            return error.description == "\(source.path): changed size while being read"
        }
    }

    @Test func assigningFromAShrunkenFileFails() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let source = try shrunkenSource(directory, format: .npy)
        let centroids = Fixtures.gaussian(pointCount: 8, dimension: Self.dimension, seed: 9)
        #expect(throws: DatasetError.self) { _ = try KMeans.assign(source, centroids: centroids) }
        #expect(throws: DatasetError.self) { _ = try KMeans.nearest(source, centroids: centroids, count: 2) }
    }
}

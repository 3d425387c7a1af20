import Foundation
import Testing
@testable import FlashKMeans
import _FlashKMeansTestSupport

/// Each bad input raises the specific error, whose one-line message names the file.
@Suite struct BadInputTests {
    let directory = TemporaryDirectory()

    func expectProblem(
        _ expected: DatasetError.Problem, path: String, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void
    ) {
        expectDatasetError(expected, path: path, sourceLocation: sourceLocation, body)
    }

    func npy(_ name: String, descr: String = "<f4", shape: [Int] = [4, 2], payloadBytes: Int = 32, fortran: Bool = false) -> String {
        let path = directory.file(name)
        Fixtures.writeNpy(path, descr: descr, shape: shape, payload: [UInt8](repeating: 0, count: payloadBytes), fortranOrder: fortran)
        return path
    }

    @Test func missingFile() {
        let path = directory.file("absent.npy")
        expectProblem(.system(operation: "open", message: "No such file or directory"), path: path) { _ = try openEmbeddings(at: path) }
    }

    /// A directory is read as a set of shards (its embedding files), so one without any is
    /// refused as such, whatever its name.
    @Test func directoryInsteadOfFile() {
        let path = directory.file("folder.npy")
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        expectProblem(.noEmbeddingFiles, path: path) { _ = try openEmbeddings(at: path) }
    }

    @Test(arguments: ["npy", "fvecs", "bvecs", "fbin", "hdf5"])
    func emptyFile(ext: String) {
        let path = directory.file("empty.\(ext)")
        Fixtures.writeBytes(path, [])
        expectProblem(.empty, path: path) { _ = try openEmbeddings(at: path) }
    }

    /// (Not `.txt`, which names a list of shard files.)
    @Test func unknownExtension() {
        let path = directory.file("vectors.json")
        Fixtures.writeBytes(path, [1, 2, 3, 4])
        expectProblem(.unknownFormat(extension: "json"), path: path) { _ = try openEmbeddings(at: path) }
    }

    @Test func truncatedNpy() {
        let path = npy("short.npy", payloadBytes: 28)
        expectProblem(.sizeMismatch(expectedBytes: 128 + 32, actualBytes: 128 + 28), path: path) { _ = try openEmbeddings(at: path) }
    }

    @Test func notAnNpy() {
        let path = directory.file("fake.npy")
        Fixtures.writeBytes(path, Array("hello, world".utf8))
        expectProblem(.badHeader("not a .npy file (magic string missing)"), path: path) { _ = try openEmbeddings(at: path) }
    }

    @Test func unsupportedNpyTypes() {
        let integers = npy("i.npy", descr: "<i4")
        expectProblem(.unsupportedDataType("dtype '<i4'; expected float32, float16 or float64"), path: integers) {
            _ = try openEmbeddings(at: integers)
        }
        let bigEndian = npy("b.npy", descr: ">f4")
        expectProblem(.unsupportedDataType("big-endian '>f4'; convert with arr.astype('<f4')"), path: bigEndian) {
            _ = try openEmbeddings(at: bigEndian)
        }
        let fortran = npy("f.npy", fortran: true)
        expectProblem(.unsupportedDataType("Fortran-ordered array; save it with np.ascontiguousarray"), path: fortran) {
            _ = try openEmbeddings(at: fortran)
        }
        let objects = npy("o.npy", descr: "|O")
        expectProblem(.unsupportedDataType("dtype '|O'; expected float32, float16 or float64"), path: objects) {
            _ = try openEmbeddings(at: objects)
        }
        let flat = npy("flat.npy", shape: [8])
        expectProblem(.badHeader("expected a 2-D array, found shape (8,)"), path: flat) { _ = try openEmbeddings(at: flat) }
    }

    @Test func fvecsWithPartialRow() {
        let path = directory.file("a.fvecs")
        Fixtures.writeBytes(path, Fixtures.bytes(of: [Int32(2)]) + Fixtures.bytes(of: [Float(1), 2]) + [0, 0])
        expectProblem(.sizeMismatch(expectedBytes: 24, actualBytes: 14), path: path) { _ = try openEmbeddings(at: path) }
    }

    /// A bad row header outside the rows checked at open time is found when its tile is read.
    @Test func fvecsWithInconsistentRowHeader() throws {
        let path = directory.file("bad.fvecs")
        var bytes: [UInt8] = []
        for row in 0..<3000 { bytes += Fixtures.bytes(of: [Int32(row == 1037 ? 3 : 2)]) + Fixtures.bytes(of: [Float(row), 1]) }
        Fixtures.writeBytes(path, bytes)
        let source = try openEmbeddings(at: path)
        expectProblem(.inconsistentRow(row: 1037, found: 3, expected: 2), path: path) {
            _ = try KMeans.fit(source, configuration: configuration(k: 2, maxIterations: 1))
        }
        let sampled = directory.file("bad-first-sample.fvecs")
        bytes.replaceSubrange(24..<28, with: Fixtures.bytes(of: [Int32(7)]))  // row 2, one of the rows checked at open
        Fixtures.writeBytes(sampled, bytes)
        expectProblem(.inconsistentRow(row: 2, found: 7, expected: 2), path: sampled) { _ = try openEmbeddings(at: sampled) }
    }

    @Test func fbinSizeMismatchAndRawWithoutDimension() {
        let fbin = directory.file("a.fbin")
        Fixtures.writeBytes(fbin, Fixtures.bytes(of: [UInt32(10), 4]) + [UInt8](repeating: 0, count: 100))
        expectProblem(.sizeMismatch(expectedBytes: 168, actualBytes: 108), path: fbin) { _ = try openEmbeddings(at: fbin) }
        let raw = directory.file("a.f32")
        Fixtures.writeBytes(raw, [UInt8](repeating: 0, count: 20))
        expectProblem(.missingDimension, path: raw) { _ = try openEmbeddings(at: raw) }
        expectProblem(.sizeMismatch(expectedBytes: 24, actualBytes: 20), path: raw) { _ = try openEmbeddings(at: raw, options: .init(dimension: 3)) }
    }

    /// The first non-finite row is reported, whichever row initialization met first.
    @Test(arguments: [Initialization.kMeansPlusPlus, .random])
    func nonFiniteValues(initialization: Initialization) throws {
        var values = Fixtures.gaussian(pointCount: 2000, dimension: 4, seed: 5)
        values[1234 * 4 + 2] = .nan
        values[1500 * 4] = .infinity
        for row in stride(from: 1600, to: 2000, by: 7) { values[row * 4 + 1] = -.infinity }
        let path = directory.file("nan.npy")
        Fixtures.writeNpy(path, descr: "<f4", shape: [2000, 4], payload: Fixtures.bytes(of: values))
        let source = try openEmbeddings(at: path)
        var configuration = configuration(k: 300, maxIterations: 2)
        configuration.initialization = initialization
        expectProblem(.nonFiniteValue(row: 1234), path: path) { _ = try KMeans.fit(source, configuration: configuration) }
    }

    @Test func clusterCountOutOfRange() throws {
        let source = ArraySource([1, 2, 3], dimension: 1)
        #expect(throws: KMeansError.invalidSetting(.clusterCount, value: .integer(0), requirement: .atLeast(1))) {
            try KMeans.fit(source, configuration: configuration(k: 0))
        }
        #expect(throws: KMeansError.tooManyClusters(clusterCount: 4, pointCount: 3)) {
            try KMeans.fit(source, configuration: configuration(k: 4))
        }
        #expect(KMeansError.tooManyClusters(clusterCount: 4, pointCount: 3).description == "k (4) is larger than the number of rows (3)")
    }

    @Test func initialCentroidsMustMatchTheData() throws {
        let path = npy("init.npy", shape: [4, 2])
        expectProblem(.centroidDimension(found: 2, expected: 3), path: path) {
            _ = try loadInitialCentroids(at: path, options: .init(), dimension: 3, clusterCount: 4)
        }
        expectProblem(.centroidCount(found: 4, expected: 5), path: path) {
            _ = try loadInitialCentroids(at: path, options: .init(), dimension: 2, clusterCount: 5)
        }
        let loaded = try loadInitialCentroids(at: path, options: .init(), dimension: 2, clusterCount: nil)
        #expect(loaded.count == 4)
    }

    @Test func hdf5Problems() {
        let path = directory.file("a.hdf5")
        Fixtures.writeHDF5(path, dataset: "train", values: (0..<24).map(Float.init), shape: [2, 3, 4])
        expectProblem(.missingDataset("test"), path: path) {
            _ = try openEmbeddings(at: path, options: .init(dataset: "test"))
        }
        expectProblem(.hdf5("dataset 'train' is 3-D; expected a 2-D array of rows"), path: path) { _ = try openEmbeddings(at: path) }
        let notHDF5 = directory.file("b.h5")
        Fixtures.writeBytes(notHDF5, Array("definitely not hdf5".utf8))
        expectProblem(.hdf5("not an HDF5 file"), path: notHDF5) { _ = try openEmbeddings(at: notHDF5) }
    }

    @Test func outputDirectoryChecks() throws {
        let file = directory.file("plain-file")
        Fixtures.writeBytes(file, [1])
        #expect(throws: OutputError.self) {
            try OutputDirectory.prepare(path: file + "/out", fileNames: ["a"], overwrite: false)
        }
        #expect(throws: OutputError.self) { try OutputDirectory.prepare(path: file, fileNames: ["a"], overwrite: false) }
        let existing = directory.file("results")
        try FileManager.default.createDirectory(atPath: existing, withIntermediateDirectories: true)
        Fixtures.writeBytes(existing + "/a", [1])
        #expect(throws: OutputError.self) { try OutputDirectory.prepare(path: existing, fileNames: ["a"], overwrite: false) }
        #expect(try OutputDirectory.prepare(path: existing, fileNames: ["a"], overwrite: true).path == existing)
    }

    /// A writer that fails leaves neither its files nor a new directory behind.
    @Test func failedCommitLeavesNothing() throws {
        let target = directory.file("new-results")
        let output = try OutputDirectory.prepare(path: target, fileNames: ["a", "b"], overwrite: false)
        #expect(throws: OutputError.self) {
            try output.commit([
                ("a", { path in Fixtures.writeBytes(path, [1]) }),
                ("b", { path in throw OutputError(path: path, .writeFailed("disk full")) }),
            ])
        }
        #expect(!FileManager.default.fileExists(atPath: target))
    }
}

import Foundation
import Testing
@testable import FlashKMeans
import _FlashKMeansTestSupport

/// Headers and settings that declare sizes no file backs: each must give one line naming
/// the file and the problem, never an arithmetic trap or an allocation of the declared size.
@Suite struct CraftedSizeTests {
    let directory = TemporaryDirectory()

    /// The one-line contract of every ``DatasetError``: the exact problem, the path first, no line break.
    func expectProblem(
        _ expected: DatasetError.Problem, path: String, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void
    ) {
        expectDatasetError(expected, path: path, sourceLocation: sourceLocation, body)
    }

    // MARK: Declared sizes

    @Test(arguments: [(UInt64(1) << 62, UInt64(4)), (UInt64(1) << 32, UInt64(1) << 32)])
    func npyShapeWhoseByteCountOverflows(rows: UInt64, dimension: UInt64) {
        let path = directory.file("huge.npy")
        Fixtures.writeNpy(path, descr: "<f4", shape: [Int(rows), Int(dimension)], payload: [UInt8](repeating: 0, count: 32))
        expectProblem(.declaredSizeOverflow(rows: rows, dimension: dimension, elementBytes: 4), path: path) {
            _ = try openEmbeddings(at: path)
        }
        #expect(DatasetError(path: path, .declaredSizeOverflow(rows: rows, dimension: dimension, elementBytes: 4)).description
            == "\(path): declares \(rows) × \(dimension) values of 4 bytes, more than any file can hold")
    }

    @Test func npyShapeLargerThanTheFile() {
        let path = directory.file("large.npy")
        Fixtures.writeNpy(path, descr: "<f4", shape: [1 << 40, 4], payload: [UInt8](repeating: 0, count: 32))
        expectProblem(.sizeMismatch(expectedBytes: 128 + (1 << 44), actualBytes: 160), path: path) { _ = try openEmbeddings(at: path) }
    }

    @Test func fbinHeaderWhoseByteCountOverflows() {
        let path = directory.file("huge.fbin")
        Fixtures.writeBytes(path, Fixtures.bytes(of: [UInt32(1) << 31, UInt32(1) << 31]) + [UInt8](repeating: 0, count: 32))
        expectProblem(.declaredSizeOverflow(rows: 1 << 31, dimension: 1 << 31, elementBytes: 4), path: path) {
            _ = try openEmbeddings(at: path)
        }
        let largest = directory.file("largest.fbin")
        Fixtures.writeBytes(largest, Fixtures.bytes(of: [UInt32.max, UInt32.max]) + [UInt8](repeating: 0, count: 32))
        expectProblem(.declaredSizeOverflow(rows: UInt64(UInt32.max), dimension: UInt64(UInt32.max), elementBytes: 4), path: largest) {
            _ = try openEmbeddings(at: largest)
        }
    }

    /// A row length whose byte count overflows, or that no row of the file can have.
    @Test(arguments: [1 << 61, Int.max, 1 << 40, 801])
    func rawDimensionLongerThanTheFile(dimension: Int) {
        let path = directory.file("rows.f32")
        Fixtures.writeBytes(path, [UInt8](repeating: 0, count: 3200))
        expectProblem(.rowLongerThanFile(dimension: dimension, fileBytes: 3200), path: path) {
            _ = try openEmbeddings(at: path, options: .init(dimension: dimension))
        }
    }

    /// A few kilobytes declaring 2⁴⁰ rows: nothing may be sized from the declaration before it
    /// is checked against what the file stores.
    @Test func hdf5ChunkedDatasetWithNoChunksWritten() {
        let path = directory.file("unwritten.h5")
        CraftedFiles.declareHDF5(path, dataset: "train", shape: [1 << 40, 8], chunkRows: 1024)
        expectProblem(.hdf5("dataset 'train' declares 1099511627776 × 8 values, but only 0 of its 1073741824 chunks are written"), path: path) {
            _ = try openEmbeddings(at: path)
        }
    }

    @Test func hdf5ChunkedDatasetPartlyWritten() {
        let path = directory.file("partial.h5")
        CraftedFiles.declareHDF5(path, dataset: "train", shape: [4096, 4], chunkRows: 1024, deflate: true, writtenRows: 1000)
        expectProblem(.hdf5("dataset 'train' declares 4096 × 4 values, but only 1 of its 4 chunks are written"), path: path) {
            _ = try openEmbeddings(at: path)
        }
    }

    @Test func hdf5ContiguousDatasetNeverWritten() {
        let path = directory.file("contiguous.h5")
        CraftedFiles.declareHDF5(path, dataset: "train", shape: [1 << 40, 8], chunkRows: nil)
        expectProblem(.hdf5("dataset 'train' declares 1099511627776 × 8 values, but none are written"), path: path) {
            _ = try openEmbeddings(at: path)
        }
    }

    @Test(arguments: [(UInt64(1) << 60, UInt64(8)), (UInt64(1) << 62, UInt64(2))])
    func hdf5ShapeWhoseByteCountOverflows(rows: UInt64, dimension: UInt64) {
        let path = directory.file("huge.h5")
        CraftedFiles.declareHDF5(path, dataset: "train", shape: [rows, dimension], chunkRows: 1024)
        expectProblem(.declaredSizeOverflow(rows: rows, dimension: dimension, elementBytes: 4), path: path) {
            _ = try openEmbeddings(at: path)
        }
    }

    /// Initial centroids come through the same readers: a crafted file is refused before
    /// anything is allocated for it.
    @Test func craftedCentroidFile() {
        let path = directory.file("centroids.fbin")
        Fixtures.writeBytes(path, Fixtures.bytes(of: [UInt32(1) << 31, UInt32(1) << 31]) + [UInt8](repeating: 0, count: 32))
        expectProblem(.declaredSizeOverflow(rows: 1 << 31, dimension: 1 << 31, elementBytes: 4), path: path) {
            _ = try loadInitialCentroids(at: path, options: .init(), dimension: 8, clusterCount: nil)
        }
    }

    // MARK: Sizes from settings

    /// Evenly spaced sample rows are computed without forming `row × n`.
    @Test func normSampleOfAHugeSource() throws {
        let statistics = try NormStatistics(source: DeclaredRows(rowCount: 1 << 62), sampleRows: 10)
        #expect(statistics.sampledRows == 10)
        #expect(statistics.maximum == 1)
    }

    /// Gathering takes scratch for the rows it gathers, not for 256 of them: here 256 rows
    /// would be twice the machine's memory.
    @Test func gatherScratchIsSizedByTheRowsGathered() throws {
        let dimension = Int(ProcessInfo.processInfo.physicalMemory / 4 / 128)
        let source = OneZeroRow(dimension: dimension)
        let destination = UnsafeMutablePointer<Float>.allocate(capacity: dimension)
        defer { destination.deallocate() }
        destination[dimension - 1] = 1
        try source.gatherRows([0], into: destination)
        #expect(destination[dimension - 1] == 0)
    }

    /// Tiles larger than the data are the data; thread counts beyond the slices are the slices.
    @Test func tilesAndThreadsLargerThanTheData() throws {
        let plan = TilePlan(pointCount: 100, clusterCount: 2, dimension: 8, pointTile: .max, centroidTile: .max, threadCount: .max)
        #expect(plan.pointTile == 100)
        #expect(plan.centroidTile == 2)
        #expect(plan.scratchBytes(dimension: 8) > 0)
        let points = Fixtures.gaussian(pointCount: 100, dimension: 8, seed: 4)
        var configuration = KMeans.Configuration(clusterCount: 2)
        configuration.pointTile = .max
        configuration.centroidTile = .max
        configuration.threadCount = .max
        configuration.maxIterations = .max
        configuration.initializationSampleSize = .max
        configuration.maxPointsPerCentroid = .max
        let result = try KMeans.fit(ArraySource(points, dimension: 8), configuration: configuration)
        #expect(result.labels.count == 100)
        #expect(result.plan.pointTile == 100)
        let assignment = try KMeans.assign(ArraySource(points, dimension: 8), centroids: result.centroids, threadCount: .max, pointTile: .max)
        #expect(assignment.labels == result.labels)
        let nearest = try KMeans.nearest(ArraySource(points, dimension: 8), centroids: result.centroids, count: 2, pointTile: .max)
        #expect(nearest.labels.count == 200)
    }

    // MARK: Messages

    @Test func unreadableShapeIsOneTrimmedLine() {
        let path = directory.file("shape.npy")
        CraftedFiles.writeNpyHeader(path, dictionary: "{'descr': '<f4', 'fortran_order': False, 'shape': (abc, 4), }")
        expectProblem(.badHeader("unreadable shape (abc, 4)"), path: path) { _ = try openEmbeddings(at: path) }
    }

    /// numpy refuses these headers, or reads them differently from a first-match parser.
    @Test(arguments: [
        ("{'descr': '<f4', 'fortran_order': False, 'fortran_order': True, 'shape': (4, 2), }", "duplicate key 'fortran_order'"),
        ("{'descr': '<f4', 'descr': '<f8', 'fortran_order': False, 'shape': (4, 2), }", "duplicate key 'descr'"),
        ("{'descr': '<f4', 'fortran_order': 'yes', 'shape': (4, 2), }", "fortran_order must be True or False, found 'yes'"),
        ("{'descr': '<f4', 'fortran_order': 1, 'shape': (4, 2), }", "fortran_order must be True or False, found 1"),
        ("{'descr': '<f4', 'fortran_order': Falsey, 'shape': (4, 2), }", "unreadable fortran_order Falsey"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (4, 2), 'extra': 1, }",
         "unexpected key 'extra'; a .npy header holds exactly 'descr', 'fortran_order' and 'shape'"),
        ("{'descr': '<f4', 'shape': (4, 2), }", "no 'fortran_order' key"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': [4, 2], }", "shape must be a tuple of non-negative integers, found [4, 2]"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (4, -2), }", "shape must be a tuple of non-negative integers, found (4, -2)"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999, 2), }",
         "shape (99999999999999999999, 2) declares more data than any file can hold"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (4, 2) ", "unreadable header {'descr': '<f4', 'fortran_order': False, 'shape': (4, 2)"),
        ("['descr', '<f4']", "unreadable header ['descr', '<f4']"),
    ])
    func headersNumpyRefuses(dictionary: String, problem: String) {
        let path = directory.file("header.npy")
        CraftedFiles.writeNpyHeader(path, dictionary: dictionary)
        expectProblem(.badHeader(problem), path: path) { _ = try openEmbeddings(at: path) }
    }

    /// What numpy writes and accepts still opens: double quotes, no trailing comma, `(n, d)`.
    @Test func headersNumpyAccepts() throws {
        for dictionary in [
            "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (4, 2)}",
            "{'shape': (4, 2), 'fortran_order': False, 'descr': '<f4'}",
            "{'descr':'<f4','fortran_order':False,'shape':(4,2,),}",
        ] {
            let path = directory.file("fine.npy")
            CraftedFiles.writeNpyHeader(path, dictionary: dictionary)
            let source = try openEmbeddings(at: path)
            #expect(source.rowCount == 4 && source.dimension == 2, "\(dictionary)")
        }
    }

    @Test func structuredDtypeIsAnUnsupportedType() {
        let path = directory.file("structured.npy")
        CraftedFiles.writeNpyHeader(path, dictionary: "{'descr': [('x', '<f4')], 'fortran_order': False, 'shape': (4, 2), }")
        expectProblem(.unsupportedDataType("structured dtype [('x', '<f4')]; expected float32, float16 or float64"), path: path) {
            _ = try openEmbeddings(at: path)
        }
    }

    /// A header of megabytes is cut, not printed whole.
    @Test func longHeaderIsShortenedInTheMessage() throws {
        let path = directory.file("long.npy")
        CraftedFiles.writeNpyHeader(path, dictionary: "{'descr': '<f4', 'fortran_order': False, 'shape': (" + String(repeating: "1 ", count: 20_000) + ")}")
        do {
            _ = try openEmbeddings(at: path)
            Issue.record("expected an error")
        } catch let error as DatasetError {
            #expect(error.description.count < 300)
            #expect(error.description.hasSuffix("…"))
        }
    }

    @Test func shapesArePrintedAsNumpyPrintsThem() {
        let flat = directory.file("flat.npy")
        Fixtures.writeNpy(flat, descr: "<f4", shape: [8], payload: [UInt8](repeating: 0, count: 32))
        expectProblem(.badHeader("expected a 2-D array, found shape (8,)"), path: flat) { _ = try openEmbeddings(at: flat) }
        let empty = directory.file("empty-rows.npy")
        Fixtures.writeNpy(empty, descr: "<f4", shape: [0, 4], payload: [])
        expectProblem(.badHeader("array has no data (shape (0, 4))"), path: empty) { _ = try openEmbeddings(at: empty) }
    }

    /// Control characters in a path (or anything else in the line) are escaped, so every
    /// message stays one line.
    @Test func controlCharactersAreEscaped() {
        let error = DatasetError(path: "a\nb\tc\u{1B}[2J\r.npy", .missingDataset("x\ny"))
        #expect(error.description == #"a\nb\tc\u{1B}[2J\r.npy: no dataset 'x\ny'"#)
        let path = directory.file("new\nline.npy")
        expectProblem(.system(operation: "open", message: "No such file or directory"), path: path) { _ = try openEmbeddings(at: path) }
    }

    /// Centroids are named by their role alone: `assign` and `ivf` read trained ones, not initial ones.
    @Test func centroidMismatchNamesNoRole() throws {
        let path = directory.file("centroids.npy")
        Fixtures.writeNpy(path, descr: "<f4", shape: [4, 2], payload: [UInt8](repeating: 0, count: 32))
        expectProblem(.centroidDimension(found: 2, expected: 3), path: path) {
            _ = try loadInitialCentroids(at: path, options: .init(), dimension: 3, clusterCount: nil)
        }
        expectProblem(.centroidCount(found: 4, expected: 5), path: path) {
            _ = try loadInitialCentroids(at: path, options: .init(), dimension: 2, clusterCount: 5)
        }
        #expect(DatasetError(path: "c", .centroidDimension(found: 2, expected: 3)).description == "c: centroids have dimension 2, but the data have 3")
        #expect(DatasetError(path: "c", .centroidCount(found: 4, expected: 5)).description == "c: holds 4 centroids, but k is 5")
    }

    /// A failed libhdf5 read names its rows as plain numbers.
    @Test func failedHyperslabReadNamesRowsPlainly() throws {
        let path = directory.file("checksummed.h5")
        let values = (0..<(3000 * 4)).map { Float($0 % 97) }
        Fixtures.writeHDF5(path, dataset: "train", values: values, shape: [3000, 4], chunkRows: 100, filters: .fletcher32)
        let address = try #require(CraftedFiles.chunkAddress(path, dataset: "train", index: 19))
        let handle = try #require(FileHandle(forUpdatingAtPath: path))
        try handle.seek(toOffset: UInt64(address + 5))
        try handle.write(contentsOf: Data([0xFF, 0x00, 0xFF]))
        try handle.close()
        let source = try openEmbeddings(at: path)
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 100 * 4)
        defer { scratch.deallocate() }
        expectProblem(.hdf5("reading row 1900 failed"), path: path) { try source.withRows(1900..<1901, scratch: scratch) { _ in } }
        expectProblem(.hdf5("reading rows 1900 to 1999 failed"), path: path) { try source.withRows(1900..<2000, scratch: scratch) { _ in } }
    }
}

/// One row of zeros lent from untouched zeroed pages, so that a huge row costs no memory.
private final class OneZeroRow: EmbeddingSource, @unchecked Sendable {
    let description: EmbeddingDescription
    private let values: UnsafeMutablePointer<Float>

    init(dimension: Int) {
        values = calloc(dimension, 4)!.assumingMemoryBound(to: Float.self)
        description = EmbeddingDescription(
            path: "zeros", format: .raw, rowCount: 1, dimension: dimension, dataType: "float32", layout: .zeroCopy, byteCount: dimension * 4)
    }

    deinit { free(values) }

    func withRows<R>(_ rows: Range<Int>, scratch: UnsafeMutablePointer<Float>, _ body: (RowTile) throws -> R) throws -> R {
        try body(RowTile(base: values, rowStride: description.dimension, rowCount: rows.count, dimension: description.dimension, firstRow: 0))
    }
}

/// A source that declares `rowCount` rows of one value each, all 1, without holding them.
private final class DeclaredRows: EmbeddingSource, @unchecked Sendable {
    let description: EmbeddingDescription

    init(rowCount: Int) {
        description = EmbeddingDescription(
            path: "declared", format: .raw, rowCount: rowCount, dimension: 1, dataType: "float32", layout: .converted, byteCount: 0)
    }

    func withRows<R>(_ rows: Range<Int>, scratch: UnsafeMutablePointer<Float>, _ body: (RowTile) throws -> R) throws -> R {
        scratch.update(repeating: 1, count: rows.count)
        return try body(RowTile(
            base: UnsafePointer(scratch), rowStride: 1, rowCount: rows.count, dimension: 1, firstRow: rows.lowerBound, storage: .scratch))
    }
}

import Foundation
import Testing
@testable import FlashKMeans
import _FlashKMeansTestSupport

/// Every reader, fed a small file written here, lends back the same rows through
/// tiles of several sizes.
@Suite struct FormatRoundTripTests {
    static let rows = 37
    static let dimension = 5
    static let values: [Float] = (0..<(rows * dimension)).map { Float(($0 * 7919) % 255) - 100.5 }

    /// Reads every row through tiles of `tileRows` and returns them row-major.
    static func readBack(_ source: any EmbeddingSource, tileRows: Int) throws -> [Float] {
        var result: [Float] = []
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: tileRows * source.dimension)
        defer { scratch.deallocate() }
        var start = 0
        while start < source.rowCount {
            let range = start..<min(start + tileRows, source.rowCount)
            try source.withRows(range, scratch: scratch) { tile in
                #expect(tile.firstRow == range.lowerBound)
                for row in 0..<tile.rowCount { result += UnsafeBufferPointer(start: tile.row(row), count: tile.dimension) }
            }
            start = range.upperBound
        }
        return result
    }

    static func check(_ source: any EmbeddingSource, expected: [Float], layout: RowLayout, dataType: String) throws {
        #expect(source.rowCount == rows)
        #expect(source.dimension == dimension)
        #expect(source.description.layout == layout)
        #expect(source.description.dataType == dataType)
        for tileRows in [1, 4, 36, 37, 100] {
            #expect(try readBack(source, tileRows: tileRows) == expected)
        }
    }

    @Test(arguments: [UInt8(1), 2, 3])
    func npyFloat32IsZeroCopy(version: UInt8) throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let path = directory.file("a.npy")
        Fixtures.writeNpy(path, descr: "<f4", shape: [Self.rows, Self.dimension], payload: Fixtures.bytes(of: Self.values), version: version)
        try Self.check(openEmbeddings(at: path), expected: Self.values, layout: .zeroCopy, dataType: "float32")
    }

    @Test func npyFloat16AndFloat64AreConverted() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let half = directory.file("h.npy")
        Fixtures.writeNpy(half, descr: "<f2", shape: [Self.rows, Self.dimension], payload: Fixtures.bytes(of: Self.values.map { Float16($0) }))
        try Self.check(openEmbeddings(at: half), expected: Self.values.map { Float(Float16($0)) }, layout: .converted, dataType: "float16")
        let double = directory.file("d.npy")
        Fixtures.writeNpy(double, descr: "<f8", shape: [Self.rows, Self.dimension], payload: Fixtures.bytes(of: Self.values.map(Double.init)))
        try Self.check(openEmbeddings(at: double), expected: Self.values, layout: .converted, dataType: "float64")
    }

    @Test func npyWrittenByTheLibraryReadsBack() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let path = directory.file("w.npy")
        let writer = try MatrixWriter(path: path, format: .npy, rows: Self.rows, columns: Self.dimension)
        try writer.append(Array(Self.values[0..<50]))
        try writer.append(Array(Self.values[50...]))
        try writer.close()
        try Self.check(openEmbeddings(at: path), expected: Self.values, layout: .zeroCopy, dataType: "float32")
    }

    /// fvecs rows are lent in place with a stride of d + 1 (skipping each row's header).
    @Test func fvecsIsZeroCopyWithStride() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let path = directory.file("a.fvecs")
        let writer = try MatrixWriter(path: path, format: .fvecs, rows: Self.rows, columns: Self.dimension)
        try writer.append(Self.values)
        try writer.close()
        let source = try openEmbeddings(at: path)
        try Self.check(source, expected: Self.values, layout: .zeroCopy, dataType: "float32")
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 4 * Self.dimension)
        defer { scratch.deallocate() }
        try source.withRows(0..<4, scratch: scratch) { tile in #expect(tile.rowStride == Self.dimension + 1) }
    }

    @Test func bvecsIsConverted() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let path = directory.file("a.bvecs")
        let bytes: [UInt8] = (0..<(Self.rows * Self.dimension)).map { UInt8(($0 * 31) % 256) }
        var file: [UInt8] = []
        for row in 0..<Self.rows {
            file += Fixtures.bytes(of: [Int32(Self.dimension)]) + bytes[(row * Self.dimension)..<((row + 1) * Self.dimension)]
        }
        Fixtures.writeBytes(path, file)
        try Self.check(openEmbeddings(at: path), expected: bytes.map(Float.init), layout: .converted, dataType: "uint8")
    }

    @Test func fbinAndRaw() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let fbin = directory.file("a.fbin")
        let writer = try MatrixWriter(path: fbin, format: .fbin, rows: Self.rows, columns: Self.dimension)
        try writer.append(Self.values)
        try writer.close()
        try Self.check(openEmbeddings(at: fbin), expected: Self.values, layout: .zeroCopy, dataType: "float32")
        let raw = directory.file("a.f32")
        Fixtures.writeBytes(raw, Fixtures.bytes(of: Self.values))
        try Self.check(
            openEmbeddings(at: raw, options: .init(dimension: Self.dimension)), expected: Self.values, layout: .zeroCopy, dataType: "float32")
        // --format overrides the extension.
        let renamed = directory.file("vectors.dat")
        Fixtures.writeBytes(renamed, Fixtures.bytes(of: Self.values))
        try Self.check(
            openEmbeddings(at: renamed, options: .init(format: .raw, dimension: Self.dimension)),
            expected: Self.values, layout: .zeroCopy, dataType: "float32")
    }

    /// A contiguous float32 dataset is mapped at its file offset; float64 is mapped and
    /// converted; a chunked, deflate-compressed one is read by hyperslab per tile.
    @Test(arguments: [(false, nil), (true, nil), (false, 8), (true, 5)] as [(Bool, Int?)])
    func hdf5(float64: Bool, chunkRows: Int?) throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let path = directory.file("a.hdf5")
        Fixtures.writeHDF5(path, dataset: "train", values: Self.values, shape: [Self.rows, Self.dimension], float64: float64, chunkRows: chunkRows)
        let layout: RowLayout = float64 || chunkRows != nil ? .converted : .zeroCopy
        try Self.check(openEmbeddings(at: path), expected: Self.values, layout: layout, dataType: float64 ? "float64" : "float32")
    }

    /// Chunks of whole rows, raw or deflated (with or without shuffle), are decoded by
    /// FlashKMeans itself; other layouts (column chunks, checksums) still read through
    /// libhdf5. Both give the same rows, including a partial last chunk.
    @Test(arguments: [
        (false, 8, nil, Fixtures.HDF5Filters.none, true), (false, 5, nil, .shuffleAndDeflate, true),
        (true, 7, nil, .shuffleAndDeflate, true), (true, 4, nil, .deflate, true),
        (false, 8, 2, .deflate, false), (false, 6, nil, .fletcher32, false),
    ] as [(Bool, Int, Int?, Fixtures.HDF5Filters, Bool)])
    func hdf5ChunkLayouts(float64: Bool, chunkRows: Int, chunkColumns: Int?, filters: Fixtures.HDF5Filters, decodedHere: Bool) throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let path = directory.file("a.hdf5")
        Fixtures.writeHDF5(
            path, dataset: "train", values: Self.values, shape: [Self.rows, Self.dimension], float64: float64,
            chunkRows: chunkRows, chunkColumns: chunkColumns, filters: filters)
        let source = try openEmbeddings(at: path)
        #expect((source is HDF5ChunkSource) == decodedHere)
        try Self.check(source, expected: Self.values, layout: .converted, dataType: float64 ? "float64" : "float32")
    }

    /// Threads decoding chunks at once see the rows a contiguous copy holds: a run on each gives the same result.
    @Test func compressedHDF5ClustersLikeContiguous() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let (rows, dimension) = (5000, 12)
        let values = Fixtures.gaussian(pointCount: rows, dimension: dimension, seed: 31)
        let plain = directory.file("plain.hdf5")
        let packed = directory.file("packed.hdf5")
        Fixtures.writeHDF5(plain, dataset: "train", values: values, shape: [rows, dimension])
        Fixtures.writeHDF5(packed, dataset: "train", values: values, shape: [rows, dimension], chunkRows: 300, filters: .shuffleAndDeflate)
        var configuration = KMeans.Configuration(clusterCount: 20)
        configuration.maxIterations = 8
        configuration.threadCount = 3
        configuration.pointTile = 128
        let reference = try KMeans.fit(try openEmbeddings(at: plain), configuration: configuration)
        let source = try openEmbeddings(at: packed)
        #expect(source is HDF5ChunkSource)
        let result = try KMeans.fit(source, configuration: configuration)
        #expect(result.labels == reference.labels)
        #expect(result.centroids == reference.centroids)
    }

    @Test func hdf5OtherDatasetByName() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let path = directory.file("a.h5")
        Fixtures.writeHDF5(path, dataset: "base", values: Self.values, shape: [Self.rows, Self.dimension])
        try Self.check(openEmbeddings(at: path, options: .init(dataset: "base")), expected: Self.values, layout: .zeroCopy, dataType: "float32")
    }

    /// The shared SIFT files (skipped where ../shared is absent): the fvecs and the
    /// HDF5 copy of siftsmall hold the same rows.
    @Test(.enabled(if: Fixtures.sharedDataFile("siftsmall_base.fvecs") != nil && Fixtures.sharedDataFile("siftsmall-128-euclidean.hdf5") != nil))
    func sharedSiftFilesAgree() throws {
        let fvecs = try openEmbeddings(at: Fixtures.sharedDataFile("siftsmall_base.fvecs")!)
        let hdf5 = try openEmbeddings(at: Fixtures.sharedDataFile("siftsmall-128-euclidean.hdf5")!)
        #expect(fvecs.rowCount == 10_000 && fvecs.dimension == 128)
        #expect(hdf5.rowCount == 10_000 && hdf5.dimension == 128)
        #expect(try fvecs.readAll() == hdf5.readAll())
    }
}

import CHDF5
import Testing
@testable import FlashKMeans
import _FlashKMeansTestSupport

/// HDF5 datasets of float16, declared as h5py declares numpy's float16 (HDF5 1.10 has no
/// predefined half type), read converted to float32 in every layout, exactly as `.npy`
/// float16 is.
@Suite struct HDF5Float16Tests {
    static let rows = 37
    static let dimension = 5
    /// Ordinary values, then the edges of half precision: ±0, subnormals (smallest 2⁻²⁴),
    /// the largest finite half, and a value that rounds to the nearest half.
    static let halves: [Float16] = (0..<(rows * dimension)).map { index in
        switch index {
        case 0: Float16(bitPattern: 0x8000)  // -0
        case 1: Float16(bitPattern: 0x0001)  // smallest subnormal
        case 2: Float16(bitPattern: 0x03FF)  // largest subnormal
        case 3: Float16.greatestFiniteMagnitude
        case 4: -Float16.greatestFiniteMagnitude
        case 5: Float16(Float(0.1))
        default: Float16(Float((index * 7919) % 255) / 8 - 12.25)
        }
    }

    /// Every row through tiles of several sizes, as float32 bit patterns (so -0 counts).
    static func readBits(_ source: any EmbeddingSource) throws -> [[UInt32]] {
        try [1, 4, 36, 37, 100].map { tileRows in
            var bits: [UInt32] = []
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: tileRows * source.dimension)
            defer { scratch.deallocate() }
            var start = 0
            while start < source.rowCount {
                let range = start..<min(start + tileRows, source.rowCount)
                try source.withRows(range, scratch: scratch) { tile in
                    for row in 0..<tile.rowCount {
                        bits += UnsafeBufferPointer(start: tile.row(row), count: tile.dimension).map(\.bitPattern)
                    }
                }
                start = range.upperBound
            }
            return bits
        }
    }

    enum Layout: String, CaseIterable {
        /// Mapped at its offset, converted per tile.
        case contiguous
        /// Whole-row chunks, decoded by ``HDF5ChunkSource``.
        case rawChunks, deflatedChunks, shuffledDeflatedChunks
        /// Chunks of some columns, and a big-endian file type: read through libhdf5, which converts.
        case columnChunks, bigEndian
    }

    static func write(_ path: String, halves: [Float16], rows: Int, dimension: Int, layout: Layout) {
        let shape = [rows, dimension]
        switch layout {
        case .contiguous: Fixtures.writeHDF5(path, dataset: "train", halfValues: halves, shape: shape)
        case .rawChunks: Fixtures.writeHDF5(path, dataset: "train", halfValues: halves, shape: shape, chunkRows: 8, filters: .none)
        case .deflatedChunks: Fixtures.writeHDF5(path, dataset: "train", halfValues: halves, shape: shape, chunkRows: 5, filters: .deflate)
        case .shuffledDeflatedChunks:
            Fixtures.writeHDF5(path, dataset: "train", halfValues: halves, shape: shape, chunkRows: 7, filters: .shuffleAndDeflate)
        case .columnChunks: Fixtures.writeHDF5(path, dataset: "train", halfValues: halves, shape: shape, chunkRows: 8, chunkColumns: 2)
        case .bigEndian: Fixtures.writeHDF5(path, dataset: "train", halfValues: halves, shape: shape, bigEndian: true)
        }
    }

    @Test(arguments: Layout.allCases)
    func readsAsFloat32(layout: Layout) throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let path = directory.file("half.h5")
        Self.write(path, halves: Self.halves, rows: Self.rows, dimension: Self.dimension, layout: layout)
        let source = try openEmbeddings(at: path)
        #expect(source.rowCount == Self.rows && source.dimension == Self.dimension)
        #expect(source.description.dataType == "float16")
        #expect(source.description.layout == .converted)
        switch layout {
        case .contiguous: #expect(source is MappedMatrix)
        case .rawChunks, .deflatedChunks, .shuffledDeflatedChunks: #expect(source is HDF5ChunkSource)
        case .columnChunks, .bigEndian: #expect(source is HDF5HyperslabSource)
        }
        let expected = Self.halves.map { Float($0).bitPattern }
        for bits in try Self.readBits(source) { #expect(bits == expected) }
    }

    /// The same float16 rows in `.npy` and in each HDF5 layout give identical labels and centroids.
    @Test(arguments: Layout.allCases)
    func clustersLikeNpy(layout: Layout) throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let (rows, dimension) = (3000, 12)
        let halves = Fixtures.separatedBlobs(pointCount: rows, dimension: dimension, blobCount: 15, spread: 2, seed: 44).points
            .map { Float16($0) }
        let npy = directory.file("half.npy")
        Fixtures.writeNpy(npy, descr: "<f2", shape: [rows, dimension], payload: Fixtures.bytes(of: halves))
        let hdf5 = directory.file("half.h5")
        Self.write(hdf5, halves: halves, rows: rows, dimension: dimension, layout: layout)
        var configuration = KMeans.Configuration(clusterCount: 15)
        configuration.maxIterations = 10
        configuration.threadCount = 2
        configuration.pointTile = 128
        let reference = try KMeans.fit(try openEmbeddings(at: npy), configuration: configuration)
        let result = try KMeans.fit(try openEmbeddings(at: hdf5), configuration: configuration)
        #expect(result.labels == reference.labels)
        #expect(result.centroids == reference.centroids)
        #expect(result.iterations.count == reference.iterations.count)
    }

    @Test func bfloat16IsRefused() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let path = directory.file("bf16.h5")
        let bfloat16 = Fixtures.hdf5HalfType(exponentBits: 8)
        defer { Fixtures.closeHDF5Type(bfloat16) }
        let zeros = [UInt16](repeating: 0, count: 6)
        Fixtures.writeHDF5(path, dataset: "train", shape: [3, 2], fileType: bfloat16) {
            H5Dwrite($0, bfloat16, chdf5_s_all(), chdf5_s_all(), chdf5_p_default(), zeros)
        }
        #expect {
            try openEmbeddings(at: path)
        } throws: { error in
            "\(error)".contains("bf16.h5") && "\(error)".contains("16-bit float other than IEEE half precision (float16)")
        }
    }
}

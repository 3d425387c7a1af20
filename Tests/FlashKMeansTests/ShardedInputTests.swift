import Foundation
import Testing
@testable import FlashKMeans
import _FlashKMeansTestSupport

/// Shard files named by a pattern, a directory or a list are read as one matrix, in a
/// stable order, and cluster exactly as the same rows in one file.
@Suite struct ShardedInputTests {
    static let dimension = 12
    static let rowCount = 1000
    static let points = Fixtures.separatedBlobs(
        pointCount: rowCount, dimension: dimension, blobCount: 24, scale: 3, spread: 1, seed: 91).points
    /// Where each shard starts: unequal sizes, one of a single row, so that tiles of every
    /// size straddle boundaries.
    static let boundaries = [0, 97, 98, 400, 1000]

    let directory = TemporaryDirectory()

    /// Writes `values` to `path` in the format its extension names.
    static func write(_ values: [Float], to path: String, format: EmbeddingFormat = .npy) throws {
        let writer = try MatrixWriter(path: path, format: format, rows: values.count / dimension, columns: dimension)
        try writer.append(values)
        try writer.close()
    }

    static func rows(_ range: Range<Int>) -> [Float] {
        Array(points[(range.lowerBound * dimension)..<(range.upperBound * dimension)])
    }

    /// The points as shards `emb/part-000.<ext>`…, and the same points in `all.npy`;
    /// returns the shard paths.
    @discardableResult
    func writeShards(format: EmbeddingFormat = .npy, extension ext: String = "npy", into folder: String = "emb") throws -> [String] {
        try FileManager.default.createDirectory(atPath: directory.file(folder), withIntermediateDirectories: true)
        var paths: [String] = []
        for shard in 0..<(Self.boundaries.count - 1) {
            let path = directory.file("\(folder)/part-\(String(format: "%03d", shard)).\(ext)")
            try Self.write(Self.rows(Self.boundaries[shard]..<Self.boundaries[shard + 1]), to: path, format: format)
            paths.append(path)
        }
        try Self.write(Self.points, to: directory.file("all.npy"))
        return paths
    }

    func fileSize(_ path: String) throws -> Int {
        try (FileManager.default.attributesOfItem(atPath: path)[.size] as! NSNumber).intValue
    }

    // MARK: Reading

    @Test func aPatternReadsTheShardsAsOneMatrixThroughEveryTileSize() throws {
        defer { directory.cleanup() }
        let paths = try writeShards()
        let pattern = directory.file("emb/part-*.npy")
        let source = try openEmbeddings(at: pattern)
        let set = try #require(source as? ShardedSource)
        #expect(set.shardCount == 4)
        let description = source.description
        #expect(description.path == pattern)
        #expect(description.format == .npy)
        #expect(description.rowCount == Self.rowCount)
        #expect(description.dimension == Self.dimension)
        #expect(description.dataType == "float32")
        #expect(description.layout == .zeroCopy)
        #expect(description.byteCount == (try paths.map(fileSize).reduce(0, +)))
        #expect(description.shards == [
            .init(path: paths[0], firstRow: 0, rowCount: 97), .init(path: paths[1], firstRow: 97, rowCount: 1),
            .init(path: paths[2], firstRow: 98, rowCount: 302), .init(path: paths[3], firstRow: 400, rowCount: 600),
        ])
        for tileRows in [1, 2, 3, 96, 97, 98, 99, 301, 302, 303, 999, 1000, 1500] {
            #expect(try FormatRoundTripTests.readBack(source, tileRows: tileRows) == Self.points, "tiles of \(tileRows)")
        }
    }

    /// A tile inside one shard is the shard's own memory; only one across a boundary is copied.
    @Test func tilesInsideAShardAreZeroCopyAndOnlyTilesAcrossBoundariesAreCopied() throws {
        defer { directory.cleanup() }
        try writeShards()
        let source = try openEmbeddings(at: directory.file("emb"))
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: Self.rowCount * Self.dimension)
        defer { scratch.deallocate() }
        for (range, storage) in [
            (0..<97, RowTile.Storage.borrowed), (97..<98, .borrowed), (120..<400, .borrowed), (500..<1000, .borrowed),
            (96..<98, .scratch), (90..<410, .scratch), (0..<1000, .scratch), (399..<401, .scratch),
        ] {
            try source.withRows(range, scratch: scratch) { tile in
                #expect(tile.storage == storage, "rows \(range)")
                #expect(tile.firstRow == range.lowerBound)
                #expect(tile.rowCount == range.count)
                let read = (0..<tile.rowCount).flatMap { UnsafeBufferPointer(start: tile.row($0), count: tile.dimension) }
                #expect(read == Self.rows(range), "rows \(range)")
            }
        }
    }

    /// Shards that convert (float16 npy) or lend rows with a stride (fvecs, d + 1) are
    /// joined correctly across boundaries too.
    @Test func convertingAndStridedShardsReadBack() throws {
        defer { directory.cleanup() }
        try writeShards(format: .fvecs, extension: "fvecs", into: "vecs")
        let fvecs = try openEmbeddings(at: directory.file("vecs/*.fvecs"))
        #expect(fvecs.description.layout == .zeroCopy)
        for tileRows in [1, 7, 98, 1000] {
            #expect(try FormatRoundTripTests.readBack(fvecs, tileRows: tileRows) == Self.points)
        }

        try FileManager.default.createDirectory(atPath: directory.file("half"), withIntermediateDirectories: true)
        for shard in 0..<(Self.boundaries.count - 1) {
            let values = Self.rows(Self.boundaries[shard]..<Self.boundaries[shard + 1]).map { Float16($0) }
            Fixtures.writeNpy(
                directory.file("half/\(shard).npy"), descr: "<f2", shape: [values.count / Self.dimension, Self.dimension],
                payload: Fixtures.bytes(of: values))
        }
        let half = try openEmbeddings(at: directory.file("half"))
        #expect(half.description.layout == .converted)
        #expect(half.description.dataType == "float16")
        for tileRows in [1, 7, 98, 1000] {
            #expect(try FormatRoundTripTests.readBack(half, tileRows: tileRows) == Self.points.map { Float(Float16($0)) })
        }
    }

    /// Gathers (k-means++ and training samples read rows this way) run across shards, and
    /// releases reach each shard in its own row numbers.
    @Test func gathersAndReleasesCrossShards() throws {
        defer { directory.cleanup() }
        let pieces = [0..<300, 300..<300, 300..<301, 301..<1000]
        let shards = pieces.map { RecordingSource(ArraySource(Self.rows($0), dimension: Self.dimension)) }
        let set = try ShardedSource(name: "memory shards", shards: shards)
        #expect(set.rowCount == Self.rowCount)
        let indices = [0, 299, 300, 301, 302, 999, 5, 298, 299, 300, 301, 302, 303]
        var gathered = [Float](repeating: 0, count: indices.count * Self.dimension)
        try gathered.withUnsafeMutableBufferPointer { try set.gatherRows(indices, into: $0.baseAddress!) }
        #expect(gathered == Fixtures.rows(indices, of: Self.points, dimension: Self.dimension))
        for shard in shards { shard.released.removeAll() }

        set.releaseRows(250..<700)
        #expect(shards[0].released == [250..<300])
        #expect(shards[1].released.isEmpty)
        #expect(shards[2].released == [0..<1])
        #expect(shards[3].released == [0..<399])
    }

    // MARK: Clustering

    /// Labels and centroids on the set are those of the same rows in one file, bit for bit,
    /// with k-means++ and random starts, a training sample, and tiles straddling boundaries.
    @Test(arguments: [
        (Initialization.kMeansPlusPlus, nil as Int?, 64), (.random, nil, 100), (.kMeansPlusPlus, 20, 64), (.random, 20, 33),
    ])
    func clusteringTheSetEqualsClusteringOneFile(initialization: Initialization, maxPointsPerCentroid: Int?, pointTile: Int) throws {
        defer { directory.cleanup() }
        try writeShards()
        var config = configuration(k: 24, maxIterations: 30, threads: 2, pointTile: pointTile)
        config.initialization = initialization
        config.maxPointsPerCentroid = maxPointsPerCentroid
        config.initializationSampleSize = 500
        config.seed = 17
        let single = try KMeans.fit(openEmbeddings(at: directory.file("all.npy")), configuration: config)
        let sharded = try KMeans.fit(openEmbeddings(at: directory.file("emb/part-*.npy")), configuration: config)
        #expect(sharded.labels == single.labels)
        #expect(sharded.centroids == single.centroids)
        #expect(sharded.inertia == single.inertia)
        #expect(sharded.trainingRowCount == single.trainingRowCount)
        #expect(sharded.iterations.count == single.iterations.count)
        if maxPointsPerCentroid != nil { #expect(sharded.trainingRowCount == 24 * 20) }
    }

    // MARK: Naming the shards

    /// A directory gives its embedding files, sorted by name; hidden files, other
    /// extensions and subdirectories are left out.
    @Test func aDirectoryGivesItsEmbeddingFilesSorted() throws {
        defer { directory.cleanup() }
        let paths = try writeShards()
        let folder = directory.file("emb")
        Fixtures.writeBytes(folder + "/README.txt", Array("not data".utf8))
        Fixtures.writeBytes(folder + "/.part-hidden.npy", [0, 1, 2])
        try FileManager.default.createDirectory(atPath: folder + "/nested.npy", withIntermediateDirectories: true)
        #expect(try ShardPaths.resolve(folder) == paths)
        #expect(try ShardPaths.resolve(folder + "/") == paths)
        #expect(try openEmbeddings(at: folder).description.shards?.map(\.path) == paths)
    }

    /// A list keeps its own order, skips blank and comment lines, trims spaces and takes
    /// relative paths from its own directory.
    @Test func aListGivesItsPathsInOrder() throws {
        defer { directory.cleanup() }
        let paths = try writeShards()
        try FileManager.default.createDirectory(atPath: directory.file("lists"), withIntermediateDirectories: true)
        let list = directory.file("lists/shards.list")
        let text = """
            # the first half, read last

            ../emb/part-002.npy
              ../emb/part-003.npy\u{20}\r
            #../emb/part-001.npy
            \(paths[0])
            ../emb/part-001.npy
            """
        Fixtures.writeBytes(list, Array(text.utf8))
        #expect(try ShardPaths.resolve(list) == [
            directory.file("lists/../emb/part-002.npy"), directory.file("lists/../emb/part-003.npy"), paths[0],
            directory.file("lists/../emb/part-001.npy"),
        ])
        let source = try openEmbeddings(at: list)
        let reordered = Self.rows(98..<1000) + Self.rows(0..<97) + Self.rows(97..<98)
        #expect(try FormatRoundTripTests.readBack(source, tileRows: 64) == reordered)
        #expect(source.path == list)
    }

    /// Errors name the pattern, directory or list: no match, nothing in it, nothing listed,
    /// too many shards, and lists that are not text.
    @Test func setsThatNameNoShardAreRefusedByName() throws {
        defer { directory.cleanup() }
        try writeShards()
        let pattern = directory.file("emb/part-*.fbin")
        #expect(throws: DatasetError(path: pattern, .noMatchingFiles)) { try openEmbeddings(at: pattern) }
        let empty = directory.file("empty")
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        #expect(throws: DatasetError(path: empty, .noEmbeddingFiles)) { try openEmbeddings(at: empty) }

        let comments = directory.file("comments.txt")
        Fixtures.writeBytes(comments, Array("# nothing yet\n\n   \n".utf8))
        #expect(throws: DatasetError(path: comments, .emptyShardList)) { try openEmbeddings(at: comments) }
        let zeroBytes = directory.file("zero.list")
        Fixtures.writeBytes(zeroBytes, [])
        #expect(throws: DatasetError(path: zeroBytes, .emptyShardList)) { try openEmbeddings(at: zeroBytes) }

        let many = directory.file("many.list")
        Fixtures.writeBytes(many, Array(String(repeating: "emb/part-000.npy\n", count: 10_001).utf8))
        #expect(throws: DatasetError(path: many, .tooManyShards(found: 10_001, limit: 10_000))) { try openEmbeddings(at: many) }

        // A binary file given as a list: control bytes, bytes that are not UTF-8, or no line
        // break for longer than any path.
        let binary = directory.file("binary.txt")
        Fixtures.writeBytes(binary, Array("emb/part-000.npy\n".utf8) + [0x93, 0x4E, 0x55, 0x00, 0x4D])
        #expect(throws: DatasetError(path: binary, .badShardList("line 2 holds the control byte 0x00: is it a text file?"))) {
            try openEmbeddings(at: binary)
        }
        let bytes = directory.file("vectors.txt")
        Fixtures.writeBytes(bytes, [1, 2, 3, 4])
        #expect(throws: DatasetError(path: bytes, .badShardList("line 1 holds the control byte 0x01: is it a text file?"))) {
            try openEmbeddings(at: bytes)
        }
        let latin1 = directory.file("latin1.txt")
        Fixtures.writeBytes(latin1, Array("caf".utf8) + [0xE9, 0x0A])
        #expect(throws: DatasetError(path: latin1, .badShardList("line 1 is not UTF-8 text"))) { try openEmbeddings(at: latin1) }
        let oneLongLine = directory.file("long.list")
        Fixtures.writeBytes(oneLongLine, [UInt8](repeating: UInt8(ascii: "a"), count: 5000))
        #expect(throws: DatasetError(path: oneLongLine, .badShardList("line 1 is longer than any path (4096 bytes)"))) {
            try openEmbeddings(at: oneLongLine)
        }
        let huge = directory.file("huge.txt")
        #expect(FileManager.default.createFile(atPath: huge, contents: nil))
        let handle = try #require(FileHandle(forWritingAtPath: huge))
        try handle.truncate(atOffset: UInt64(ShardPaths.maximumListBytes + 1))
        try handle.close()
        #expect(throws: DatasetError(
            path: huge, .badShardList("it is \(ShardPaths.maximumListBytes + 1) bytes, more than a list of 10000 paths can be"))) {
            try openEmbeddings(at: huge)
        }
        let missing = directory.file("missing.list")
        #expect(throws: DatasetError(path: missing, .system(operation: "open", message: "No such file or directory"))) {
            try openEmbeddings(at: missing)
        }
    }

    /// Shards must agree on dimension, element type and format; the error names the shard
    /// that differs and the first one. A shard that cannot be opened reports its own error.
    @Test func mismatchedShardsAreNamed() throws {
        defer { directory.cleanup() }
        let paths = try writeShards()
        let wider = directory.file("emb/part-002b.npy")
        Fixtures.writeNpy(wider, descr: "<f4", shape: [2, 16], payload: Fixtures.bytes(of: [Float](repeating: 1, count: 32)))
        #expect(throws: DatasetError(path: wider, .shardDimension(found: 16, expected: 12, firstShard: paths[0]))) {
            try openEmbeddings(at: directory.file("emb/part-*.npy"))
        }
        #expect(
            DatasetError(path: wider, .shardDimension(found: 16, expected: 12, firstShard: paths[0])).description
                == "\(wider): 16 columns, but the first shard (\(paths[0])) has 12")
        try FileManager.default.removeItem(atPath: wider)

        let half = directory.file("emb/part-001b.npy")
        Fixtures.writeNpy(half, descr: "<f2", shape: [1, 12], payload: Fixtures.bytes(of: [Float16](repeating: 1, count: 12)))
        #expect(throws: DatasetError(path: half, .shardDataType(found: "float16", expected: "float32", firstShard: paths[0]))) {
            try openEmbeddings(at: directory.file("emb"))
        }
        try FileManager.default.removeItem(atPath: half)

        // Mixed formats are refused even when they agree on float32: the set has one format,
        // and --format applies to every shard.
        let fbin = directory.file("emb/part-004.fbin")
        try Self.write(Self.rows(0..<3), to: fbin, format: .fbin)
        #expect(throws: DatasetError(path: fbin, .shardFormat(found: .fbin, expected: .npy, firstShard: paths[0]))) {
            try openEmbeddings(at: directory.file("emb"))
        }
        try FileManager.default.removeItem(atPath: fbin)

        let truncated = directory.file("emb/part-003.npy")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: truncated))
        try bytes.prefix(bytes.count - 4).write(to: URL(fileURLWithPath: truncated))
        #expect(throws: DatasetError(path: truncated, .sizeMismatch(expectedBytes: bytes.count, actualBytes: bytes.count - 4))) {
            try openEmbeddings(at: directory.file("emb/part-*.npy"))
        }
    }

    /// A file whose own name holds wildcard characters is the single file it names; a
    /// pattern matching one file is a set of one.
    @Test func aFileNamedLikeAPatternIsOneFile() throws {
        defer { directory.cleanup() }
        try writeShards()
        let odd = directory.file("odd[1]*.npy")
        try Self.write(Self.rows(0..<10), to: odd)
        let source = try openEmbeddings(at: odd)
        #expect(!(source is ShardedSource))
        #expect(source.rowCount == 10)
        let one = try openEmbeddings(at: directory.file("emb/part-00[1].npy"))
        #expect(one.description.shards?.count == 1)
        #expect(try FormatRoundTripTests.readBack(one, tileRows: 4) == Self.rows(97..<98))
    }

    // MARK: Resuming

    /// A checkpoint of a set is refused when a shard is touched, resized or added, and
    /// accepted for the same set named otherwise.
    @Test func resumeRefusesAChangedShardSet() throws {
        defer { directory.cleanup() }
        let paths = try writeShards()
        let pattern = directory.file("emb/part-*.npy")
        var saved: [Checkpoint] = []
        var config = configuration(k: 24, maxIterations: 3, threads: 2)
        config.seed = 5
        _ = try KMeans.fit(openEmbeddings(at: pattern), configuration: config, resumingFrom: nil) { saved.append($0) }
        let checkpoint = try #require(saved.first)
        #expect(checkpoint.input.shards?.count == 4)
        #expect(checkpoint.input.modified == 0)

        // The same files, named by their directory: accepted.
        let resumed = try KMeans.fit(openEmbeddings(at: directory.file("emb")), configuration: config, resumingFrom: checkpoint, checkpoint: nil)
        let whole = try KMeans.fit(openEmbeddings(at: directory.file("all.npy")), configuration: config)
        #expect(resumed.labels == whole.labels)
        #expect(resumed.centroids == whole.centroids)

        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: 1_000_000)], ofItemAtPath: paths[2])
        #expect(throws: KMeansError.checkpointMismatch("the input changed: shard \(paths[2]) was modified since")) {
            _ = try KMeans.fit(openEmbeddings(at: pattern), configuration: config, resumingFrom: checkpoint, checkpoint: nil)
        }
        // Rows moved from one shard to another: same shape, other sizes.
        try Self.write(Self.rows(0..<96), to: paths[0])
        try Self.write(Self.rows(96..<98), to: paths[1])
        #expect(throws: KMeansError.checkpointMismatch(
            "the input changed: shard \(paths[0]) changed size from \(128 + 97 * 48) to \(128 + 96 * 48) bytes")) {
            _ = try KMeans.fit(openEmbeddings(at: pattern), configuration: config, resumingFrom: checkpoint, checkpoint: nil)
        }
        // The same rows in one file.
        #expect(throws: KMeansError.checkpointMismatch("the input changed: it was a set of 4 shards, now one file")) {
            _ = try KMeans.fit(
                openEmbeddings(at: directory.file("all.npy")), configuration: config, resumingFrom: checkpoint, checkpoint: nil)
        }
    }
}

/// Lends another source's rows and records the releases it is asked for.
private final class RecordingSource: EmbeddingSource, @unchecked Sendable {
    let rows: any EmbeddingSource
    var released: [Range<Int>] = []

    init(_ rows: any EmbeddingSource) { self.rows = rows }

    var description: EmbeddingDescription { rows.description }

    func withRows<R>(_ range: Range<Int>, scratch: UnsafeMutablePointer<Float>, _ body: (RowTile) throws -> R) throws -> R {
        try rows.withRows(range, scratch: scratch, body)
    }

    func releaseRows(_ range: Range<Int>) { released.append(range) }
}

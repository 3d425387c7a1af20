import Foundation
import Testing
@testable import FlashKMeans
import _FlashKMeansTestSupport

/// Parquet files written by pyarrow (`Scripts/parquet_fixtures.py`, committed under
/// Fixtures/parquet) read as exactly the rows of the same data in `.npy`, whatever the list
/// type, item type, compression, encoding, page version and row-group split; bad files get
/// one line naming the file and the row.
@Suite struct ParquetReaderTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/parquet").path

    static func fixture(_ name: String) -> String { fixtures + "/" + name }

    /// Every good fixture and the `.npy` holding its rows.
    static let goodFiles: [(parquet: String, npy: String)] = [
        ("list-f32-none", "rows-f32"), ("list-f32-snappy", "rows-f32"), ("list-f32-zstd", "rows-f32"), ("list-f32-gzip", "rows-f32"),
        ("large_list-f32-snappy", "rows-f32"), ("fixed_size_list-f32-snappy", "rows-f32"),
        ("list-f16-zstd", "rows-f16"), ("list-f64-gzip", "rows-f64"),
        ("list-f32-dictionary", "rows-f32"), ("list-f16-dictionary", "rows-f16"), ("list-f64-dictionary", "rows-f64"),
        ("list-f32-v2", "rows-f32"), ("list-f32-v2-dictionary", "rows-f32"), ("list-f32-split", "rows-f32"),
        ("list-f32-required", "rows-f32"), ("list-f32-small-pages", "rows-f32"), ("list-f32-row-groups", "rows-f32"),
    ]

    static func bits(_ values: [Float]) -> [UInt32] { values.map(\.bitPattern) }

    /// The one-line contract: a ``DatasetError`` naming `path`, whose message contains `words`.
    static func expectRefused(_ path: String, saying words: String, column: String? = nil, readRows: Bool = true) {
        do {
            let source = try openEmbeddings(at: path, options: .init(column: column))
            if readRows { _ = try source.readAll() }
            Issue.record("\(path) was read")
        } catch let error as DatasetError {
            #expect(error.path == path)
            #expect(error.description.hasPrefix(path + ": "))
            #expect(!error.description.contains("\n"))
            #expect(error.description.contains(words), "\(error)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test(arguments: goodFiles.map(\.parquet))
    func readsTheSameRowsAsTheNpy(name: String) throws {
        let npy = Self.goodFiles.first { $0.parquet == name }!.npy
        let expected = try openEmbeddings(at: Self.fixture(npy + ".npy"))
        let source = try openEmbeddings(at: Self.fixture(name + ".parquet"))
        #expect(source.description.format == .parquet)
        #expect(source.description.layout == .converted)
        #expect(source.description.dataType == expected.description.dataType)
        #expect(source.rowCount == 40)
        #expect(source.dimension == 8)
        let rows = Self.bits(try expected.readAll())
        for tileRows in [1, 3, 6, 7, 39, 40, 64] {
            #expect(Self.bits(try FormatRoundTripTests.readBack(source, tileRows: tileRows)) == rows, "tiles of \(tileRows)")
        }
        // Backwards and skipping about: each read starts again where it must.
        var backwards = [Float](repeating: .nan, count: 40 * 8)
        try backwards.withUnsafeMutableBufferPointer { buffer in
            for start in stride(from: 35, through: 0, by: -5) {
                try source.copyRows(start..<(start + 5), into: buffer.baseAddress! + start * 8)
            }
        }
        #expect(Self.bits(backwards) == rows)
        for row in [39, 0, 20, 21, 6, 7, 13] {
            var values = [Float](repeating: 0, count: 8)
            try values.withUnsafeMutableBufferPointer { try source.copyRows(row..<(row + 1), into: $0.baseAddress!) }
            let expectedRow = Array(rows[(row * 8)..<(row * 8 + 8)])
            #expect(Self.bits(values) == expectedRow, "row \(row)")
        }
    }

    /// Threads reading tiles at once share the decoders without mixing their positions.
    @Test func threadsReadingAtOnceGetTheirOwnRows() throws {
        let source = try openEmbeddings(at: Self.fixture("list-f32-row-groups.parquet"))
        let expected = Self.bits(try openEmbeddings(at: Self.fixture("rows-f32.npy")).readAll())
        nonisolated(unsafe) let results = UnsafeMutableBufferPointer<UInt32>.allocate(capacity: 8 * 40 * 8)
        defer { results.deallocate() }
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 40 * 8)
            defer { scratch.deallocate() }
            for round in 0..<20 {
                let tile = 1 + (worker + round) % 9
                var start = 0
                while start < 40 {
                    let rows = start..<min(40, start + tile)
                    try? source.copyRows(rows, into: scratch + start * 8)
                    start = rows.upperBound
                }
            }
            for index in 0..<(40 * 8) { results[worker * 320 + index] = scratch[index].bitPattern }
        }
        for worker in 0..<8 { #expect(Array(results[(worker * 320)..<((worker + 1) * 320)]) == expected, "thread \(worker)") }
    }

    @Test func aFileOfSeveralColumnsNeedsOneChosen() throws {
        let path = Self.fixture("columns.parquet")
        let rows = try openEmbeddings(at: Self.fixture("rows-f32.npy")).readAll()
        #expect(Self.bits(try openEmbeddings(at: path, options: .init(column: "emb")).readAll()) == Self.bits(rows))
        #expect(Self.bits(try openEmbeddings(at: path, options: .init(column: "emb.list.element")).readAll()) == Self.bits(rows))
        let second = try openEmbeddings(at: path, options: .init(column: "emb2"))
        #expect(second.dimension == 4)
        #expect(Self.bits(try second.readAll()) == Self.bits((0..<40).flatMap { rows[($0 * 8)..<($0 * 8 + 4)] }))

        #expect(throws: DatasetError(path: path, .parquetColumn(chosen: nil, candidates: ["emb", "emb2"]))) {
            try openEmbeddings(at: path)
        }
        #expect(DatasetError(path: path, .parquetColumn(chosen: nil, candidates: ["emb", "emb2"])).description
            == "\(path): several columns of float lists ('emb', 'emb2'); name the one to read")
        #expect(throws: DatasetError(path: path, .parquetColumn(chosen: "title", candidates: ["emb", "emb2"]))) {
            try openEmbeddings(at: path, options: .init(column: "title"))
        }
        #expect(DatasetError(path: path, .parquetColumn(chosen: "title", candidates: ["emb", "emb2"])).description
            == "\(path): no column 'title' of float lists (columns of float lists: 'emb', 'emb2')")
        let none = Self.fixture("no-lists.parquet")
        #expect(throws: DatasetError(path: none, .parquetColumn(chosen: nil, candidates: []))) { try openEmbeddings(at: none) }
    }

    @Test func nullsRaggedRowsAndEmptyRowsAreNamed() {
        Self.expectRefused(Self.fixture("null-row.parquet"), saying: "row 5 is null")
        Self.expectRefused(Self.fixture("null-value.parquet"), saying: "row 3 has a null value at position 2")
        Self.expectRefused(Self.fixture("ragged.parquet"), saying: "row 4 has 7 values, but row 0 has 8")
        Self.expectRefused(Self.fixture("long-row.parquet"), saying: "row 2 has more than 8 values, but row 0 has 8")
        Self.expectRefused(Self.fixture("empty-first-row.parquet"), saying: "row 0 is an empty list", readRows: false)
    }

    @Test func damagedFilesAreOneLine() {
        Self.expectRefused(Self.fixture("truncated.parquet"), saying: "no PAR1 at the end")
        Self.expectRefused(Self.fixture("corrupt-page.parquet"), saying: "a Snappy page is corrupt")
        Self.expectRefused(Self.fixture("not-parquet.parquet"), saying: "the footer declares 543976545 bytes, more than the file holds")
    }

    /// list-f32-none.parquet with bytes changed in place: its footer length, and its first
    /// page header's uncompressed size and level count (zigzag varints at bytes 7 and 14).
    @Test(arguments: [
        (8, [UInt8](), "the footer declares 2147483647 bytes, more than the file holds"),
        (7, [0xEA], "an uncompressed page stores 1332 bytes but declares 1333"),
        (14, [0x82], "a page's levels or dictionary indices end early"),
        (14, [0xFE, 0x04], "row 39 has 7 values, but row 0 has 8"),
    ])
    func headersThatLieAreOneLine(offset: Int, patch: [UInt8], words: String) throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.fixture("list-f32-none.parquet"))))
        if patch.isEmpty {
            // The footer length, just before the closing magic.
            bytes.replaceSubrange((bytes.count - 8)..<(bytes.count - 4), with: [0xFF, 0xFF, 0xFF, 0x7F])
        } else {
            bytes.replaceSubrange(offset..<(offset + patch.count), with: patch)
        }
        let path = directory.file("patched.parquet")
        Fixtures.writeBytes(path, bytes)
        Self.expectRefused(path, saying: words)
    }

    @Test func theFormatIsKnownByExtensionOrMagic() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let rows = Self.bits(try openEmbeddings(at: Self.fixture("rows-f32.npy")).readAll())
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.fixture("list-f32-snappy.parquet")))
        for name in ["part-00000", "emb.pq", "part.snappy"] {
            let path = directory.file(name)
            try data.write(to: URL(fileURLWithPath: path))
            let source = try openEmbeddings(at: path)
            #expect(source.description.format == .parquet, "\(name)")
            #expect(Self.bits(try source.readAll()) == rows, "\(name)")
        }
        #expect(EmbeddingFormat(pathExtension: "PARQUET") == .parquet)
    }

    /// Shards in Parquet read as one matrix, numbered through the set.
    @Test func parquetShardsReadAsOneMatrix() throws {
        let pattern = Self.fixture("shard-*.parquet")
        let source = try openEmbeddings(at: pattern)
        #expect(source.description.format == .parquet)
        #expect(source.description.shards?.map(\.rowCount) == [13, 1, 26])
        #expect(source.description.shards?.map(\.firstRow) == [0, 13, 14])
        let rows = Self.bits(try openEmbeddings(at: Self.fixture("rows-f32.npy")).readAll())
        for tileRows in [1, 2, 12, 13, 14, 27, 40] {
            #expect(Self.bits(try FormatRoundTripTests.readBack(source, tileRows: tileRows)) == rows, "tiles of \(tileRows)")
        }
    }
}

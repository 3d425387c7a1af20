import Foundation
import Testing
@testable import FlashKMeans
import _FlashKMeansTestSupport

/// Files written by the reference writers (numpy's `tofile`, `savetxt` and `save`, pandas'
/// `to_csv`; `Scripts/format_fixtures.py`) read as the same rows as the `.npy` beside them,
/// bit for bit, through tiles of every size, and cluster into the same labels.
@Suite struct FormatFixtureTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/formats").path

    static func fixture(_ name: String) -> String { directory + "/" + name }

    /// A file, how to open it, and the `.npy` holding its rows.
    struct Case: CustomTestStringConvertible, Sendable {
        var file: String
        var options: EmbeddingOpenOptions
        var reference: String
        var format: EmbeddingFormat
        var dataType: String
        var testDescription: String { file }
    }

    static let cases = [
        Case(file: "blobs.csv", options: .init(), reference: "blobs.npy", format: .csv, dataType: "float32"),
        Case(file: "blobs.tsv", options: .init(), reference: "blobs.npy", format: .tsv, dataType: "float32"),
        Case(
            file: "blobs-pandas.csv", options: .init(hasHeaderLine: true, skippedColumns: 1), reference: "blobs.npy", format: .csv,
            dataType: "float32"),
        Case(
            file: "blobs-index-crlf.csv", options: .init(hasHeaderLine: true, skippedColumns: 1), reference: "blobs.npy",
            format: .csv, dataType: "float32"),
        Case(file: "decimals.csv", options: .init(), reference: "decimals.npy", format: .csv, dataType: "float32"),
        Case(file: "blobs.f16bin", options: .init(), reference: "blobs-f16.npy", format: .f16bin, dataType: "float16"),
        Case(file: "codes.u8bin", options: .init(), reference: "codes.npy", format: .u8bin, dataType: "uint8"),
        Case(file: "signed.i8bin", options: .init(), reference: "signed.npy", format: .i8bin, dataType: "int8"),
        Case(file: "codes-shards", options: .init(), reference: "codes.npy", format: .u8bin, dataType: "uint8"),
    ]

    /// Every row, read through tiles of `tileRows`, as bit patterns (so that -0 and 0 differ).
    static func bits(_ source: any EmbeddingSource, tileRows: Int) throws -> [UInt32] {
        try FormatRoundTripTests.readBack(source, tileRows: tileRows).map(\.bitPattern)
    }

    @Test(arguments: cases)
    func rowsAreTheReferenceRowsBitForBit(_ fixture: Case) throws {
        let source = try openEmbeddings(at: Self.fixture(fixture.file), options: fixture.options)
        let reference = try openEmbeddings(at: Self.fixture(fixture.reference))
        #expect(source.description.format == fixture.format)
        #expect(source.description.dataType == fixture.dataType)
        #expect(source.rowCount == reference.rowCount)
        #expect(source.dimension == reference.dimension)
        let expected = try Self.bits(reference, tileRows: reference.rowCount)
        for tileRows in [1, 7, 16, 47, 48, 100] {
            #expect(try Self.bits(source, tileRows: tileRows) == expected, "tiles of \(tileRows)")
        }
    }

    @Test(arguments: cases.filter { $0.file != "decimals.csv" })
    func clusteringGivesTheReferenceLabels(_ fixture: Case) throws {
        var configuration = KMeans.Configuration(clusterCount: 3)
        configuration.seed = 5
        configuration.threadCount = 2
        let result = try KMeans.fit(openEmbeddings(at: Self.fixture(fixture.file), options: fixture.options), configuration: configuration)
        let reference = try KMeans.fit(openEmbeddings(at: Self.fixture(fixture.reference)), configuration: configuration)
        #expect(result.labels == reference.labels)
        #expect(result.centroids == reference.centroids)
        // The blobs are far apart: each holds 16 consecutive rows.
        #expect(Set(result.labels[0..<16]).count == 1 && Set(result.labels[16..<32]).count == 1 && Set(result.labels[32...]).count == 1)
        #expect(Set(result.labels).count == 3)
    }

    /// numpy parses float32 text through float64, so a decimal just off halfway between two
    /// float32s (here 1 + 2⁻²⁴ + 10⁻²⁹) rounds as numpy rounds it, not as `strtof` would.
    @Test func decimalsRoundAsNumpyRoundsThem() throws {
        let rows = try openEmbeddings(at: Self.fixture("decimals.csv")).readAll()
        #expect(rows[0] == 1)
        #expect(strtof("1.00000005960464477539062500001", nil) == 1 + 0x1p-23)
        // Subnormal, negative zero and float32's largest survive.
        #expect(rows.contains(-0x1p-149))
        #expect(rows.contains { $0 == 0 && $0.sign == .minus })
        #expect(rows.contains(.greatestFiniteMagnitude) && rows.contains(-.greatestFiniteMagnitude))
    }

    @Test func tablesDescribeTheTextTheyWereParsedFrom() throws {
        let path = Self.fixture("blobs-pandas.csv")
        let source = try openEmbeddings(at: path, options: .init(hasHeaderLine: true, skippedColumns: 1))
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
        #expect(source.description == EmbeddingDescription(
            path: path, format: .csv, rowCount: 48, dimension: 5, dataType: "float32", layout: .zeroCopy, byteCount: size))
    }

    /// The shards are read in name order as one matrix; each is described with its rows.
    @Test func uint8ShardsReadAsOneMatrix() throws {
        let source = try openEmbeddings(at: Self.fixture("codes-shards/part-*.u8bin"))
        #expect(source.description.shards?.map(\.rowCount) == [20, 1, 27])
        #expect(source.description.shards?.map(\.firstRow) == [0, 20, 21])
        #expect(try Self.bits(source, tileRows: 16) == Self.bits(openEmbeddings(at: Self.fixture("codes.npy")), tileRows: 48))
    }
}

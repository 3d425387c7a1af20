import Foundation
import Testing
@testable import FlashKMeans
import _FlashKMeansTestSupport

/// big-ann-benchmarks' `.u8bin`, `.i8bin` and `.f16bin`: the `.fbin` header checked against
/// the file's size before any row is read, and rows converted one tile at a time.
@Suite final class BigANNLayoutTests {
    let directory = TemporaryDirectory()

    deinit { directory.cleanup() }

    static let layouts: [(format: EmbeddingFormat, elementBytes: Int)] = [(.u8bin, 1), (.i8bin, 1), (.f16bin, 2)]

    func write(_ format: EmbeddingFormat, header: [UInt32], payloadBytes: Int) -> String {
        let path = directory.file("crafted." + format.rawValue)
        Fixtures.writeBytes(path, Fixtures.bytes(of: header) + [UInt8](repeating: 0, count: payloadBytes))
        return path
    }

    func expectProblem(
        _ expected: DatasetError.Problem, path: String, saying message: String? = nil, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        expectDatasetError(expected, path: path, saying: message, sourceLocation: sourceLocation) { _ = try openEmbeddings(at: path) }
    }

    @Test(arguments: layouts)
    func craftedHeadersAreRefusedByName(format: EmbeddingFormat, elementBytes: Int) {
        expectProblem(
            .declaredSizeOverflow(rows: UInt64(UInt32.max), dimension: UInt64(UInt32.max), elementBytes: elementBytes),
            path: write(format, header: [.max, .max], payloadBytes: 32),
            saying: "declares 4294967295 × 4294967295 values of \(elementBytes) bytes, more than any file can hold")
        // 2³¹ × 2³⁰ values fit in Int, but no file holds them.
        expectProblem(
            .sizeMismatch(expectedBytes: 8 + (1 << 61) * elementBytes, actualBytes: 40),
            path: write(format, header: [1 << 31, 1 << 30], payloadBytes: 32))
        // One value too few, and one too many.
        expectProblem(
            .sizeMismatch(expectedBytes: 8 + 12 * elementBytes, actualBytes: 8 + 11 * elementBytes),
            path: write(format, header: [3, 4], payloadBytes: 11 * elementBytes),
            saying: "truncated or inconsistent file: expected \(8 + 12 * elementBytes) bytes, found \(8 + 11 * elementBytes)")
        expectProblem(
            .sizeMismatch(expectedBytes: 8 + 12 * elementBytes, actualBytes: 8 + 13 * elementBytes),
            path: write(format, header: [3, 4], payloadBytes: 13 * elementBytes))
        expectProblem(.badHeader("header declares 0 rows of dimension 4"), path: write(format, header: [0, 4], payloadBytes: 0))
        expectProblem(.badHeader("shorter than the 8-byte header"), path: write(format, header: [3], payloadBytes: 0))
        expectProblem(.empty, path: write(format, header: [], payloadBytes: 0))
    }

    /// Every value of each type converts exactly; rows are lent converted.
    @Test func everyValueConverts() throws {
        let bytes = (0...255).map { UInt8($0) }
        let unsigned = write(.u8bin, header: [16, 16], payloadBytes: 0)
        Fixtures.writeBytes(unsigned, Fixtures.bytes(of: [UInt32(16), 16]) + bytes)
        let source = try openEmbeddings(at: unsigned)
        #expect(source.description.layout == .converted)
        #expect(try source.readAll() == (0...255).map(Float.init))

        let signed = directory.file("all.i8bin")
        Fixtures.writeBytes(signed, Fixtures.bytes(of: [UInt32(16), 16]) + bytes)
        #expect(try openEmbeddings(at: signed).readAll() == bytes.map { Float(Int8(bitPattern: $0)) })

        let halves = (0..<1024).map { Float16(bitPattern: UInt16($0) * 60) }.filter(\.isFinite)
        let half = directory.file("all.f16bin")
        Fixtures.writeBytes(half, Fixtures.bytes(of: [UInt32(halves.count), 1]) + Fixtures.bytes(of: halves))
        #expect(try openEmbeddings(at: half).readAll().map(\.bitPattern) == halves.map { Float($0).bitPattern })
    }

    /// float16 holds infinities and NaN, which the engine refuses by row, as for `.npy`.
    @Test func nonFiniteHalvesAreRefusedByRow() throws {
        let path = directory.file("inf.f16bin")
        let values: [Float16] = [1, 2, 3, 4, .infinity, 6, 7, 8]
        Fixtures.writeBytes(path, Fixtures.bytes(of: [UInt32(4), 2]) + Fixtures.bytes(of: values))
        #expect(throws: DatasetError(path: path, .nonFiniteValue(row: 2))) {
            _ = try KMeans.fit(openEmbeddings(at: path), configuration: KMeans.Configuration(clusterCount: 2))
        }
    }

    /// A file cut short while mapped ends the read with an error naming it, not SIGBUS.
    @Test func aShrunkenFileIsReportedAsChanged() throws {
        let path = directory.file("shrinking.u8bin")
        Fixtures.writeBytes(path, Fixtures.bytes(of: [UInt32(8192), 256]) + [UInt8](repeating: 7, count: 8192 * 256))
        let source = try openEmbeddings(at: path)
        #expect(truncate(path, 4096) == 0)
        #expect(throws: DatasetError(path: path, .changedWhileRead)) { _ = try source.readAll() }
    }
}

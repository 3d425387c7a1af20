import FlashKMeans
import Foundation
import Testing
import _FlashKMeansTestSupport

/// Inputs with which `Scripts/fuzz.sh` crashed a reader, kept as found. Each file is named
/// after the fuzz target that read it; every one must now be refused with a one-line error
/// naming the file, never a trap or a crash.
@Suite struct FuzzReproducerTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("FuzzReproducers")
    static let files = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).sorted()

    @Test func reproducersArePresent() {
        #expect(Self.files.count >= 2)
    }

    @Test(arguments: FuzzReproducerTests.files)
    func reproducerIsRefusedWithOneLine(name: String) throws {
        let path = Self.directory.appendingPathComponent(name).path
        let target = String(name.split(separator: "-").first!)
        let temporary = TemporaryDirectory()
        defer { temporary.cleanup() }
        let tablePath = temporary.file("table")
        let error = try #require(throws: DatasetError.self) {
            switch target {
            case "faiss":
                _ = try FaissIndexFile.readIVFFlat(at: path)
            case "checkpoint":
                _ = try Checkpoint.read(from: path)
            case "csv", "tsv":
                // As in the harness, the first byte is the layout: bit 0 --header, bits 1–2 --skip-columns.
                let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
                let options = EmbeddingOpenOptions(
                    format: EmbeddingFormat(rawValue: target), hasHeaderLine: bytes.first.map { $0 & 1 != 0 } ?? false,
                    skippedColumns: bytes.first.map { Int($0 >> 1) & 3 } ?? 0)
                try bytes.dropFirst().write(to: URL(fileURLWithPath: tablePath))
                _ = try openEmbeddings(at: tablePath, options: options).readAll()
            default:
                let source = try openEmbeddings(at: path, options: .init(format: EmbeddingFormat(rawValue: target)))
                _ = try source.readAll()
            }
        }
        let message = "\(error)"
        #expect(!message.contains("\n"), "\(message)")
        #expect(message.contains(["csv", "tsv"].contains(target) ? tablePath : path), "\(message)")
    }
}

import Foundation
import Testing
import _FlashKMeansTestSupport

/// The command on big-ann-benchmarks' 8-bit and float16 layouts and on CSV/TSV tables written
/// by numpy and pandas (the library tests' fixtures): the same results as on the same rows in
/// a `.npy`, byte for byte, and refusals in one line that names the flag to pass.
@Suite final class FormatCommandTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("FlashKMeansTests/Fixtures/formats").path

    static func fixture(_ name: String) -> String { fixtures + "/" + name }

    let directory = TemporaryDirectory()

    deinit { directory.cleanup() }

    func contents(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

    func succeed(_ arguments: [String], environment: [String: String] = [:]) throws -> CommandRun {
        let run = try CommandRun(arguments, environment: environment)
        #expect(run.status == 0, "\(arguments): \(run.standardError)")
        return run
    }

    /// The one `error:` line of a failed run.
    func failure(_ arguments: [String]) throws -> String {
        let run = try CommandRun(arguments)
        #expect(run.status != 0)
        let lines = run.standardError.split(separator: "\n").filter { $0.hasPrefix("error: ") || $0.hasPrefix("Error: ") }
        #expect(lines.count == 1, "\(run.standardError)")
        return lines.first.map(String.init) ?? ""
    }

    @Test(arguments: [
        (["blobs-pandas.csv", "--header", "--skip-columns", "1"], "blobs.npy"),
        (["blobs.tsv"], "blobs.npy"),
        (["blobs.f16bin"], "blobs-f16.npy"),
        (["codes.u8bin"], "codes.npy"),
        (["signed.i8bin"], "signed.npy"),
    ])
    func clusterWritesWhatItWritesForTheNpy(input: [String], reference: String) throws {
        let options = ["-k", "3", "--seed", "5", "--threads", "2", "--quiet"]
        let name = (input[0] as NSString).deletingPathExtension
        // The CSV's float32 copy goes to TMPDIR, and leaves nothing there.
        let temporary = directory.file("tmp-" + name)
        try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: true)
        _ = try succeed(
            ["cluster", Self.fixture(input[0])] + input.dropFirst() + ["-o", directory.file(name)] + options,
            environment: ["TMPDIR": temporary])
        _ = try succeed(["cluster", Self.fixture(reference), "-o", directory.file(name + "-reference")] + options)
        for file in ["labels.npy", "centroids.npy"] {
            #expect(try contents(directory.file("\(name)/\(file)")) == contents(directory.file("\(name)-reference/\(file)")), "\(file)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: temporary).isEmpty)
    }

    @Test func inspectNamesTheLayoutAndType() throws {
        let u8 = try succeed(["inspect", Self.fixture("codes.u8bin")]).standardOutput
        #expect(u8.contains("format     u8bin") && u8.contains("dtype      uint8") && u8.contains("rows       48"))
        let csv = try succeed(["inspect", Self.fixture("blobs-index-crlf.csv"), "--header", "--skip-columns", "1"]).standardOutput
        #expect(csv.contains("format     csv") && csv.contains("dimension  5") && csv.contains("rows       48"))
        let shards = try succeed(["inspect", Self.fixture("codes-shards")]).standardOutput
        #expect(shards.contains("shards     3") && shards.contains("rows       48"))
    }

    @Test func tableErrorsNameLineColumnAndFlag() throws {
        let pandas = Self.fixture("blobs-pandas.csv")
        #expect(try failure(["inspect", pandas])
            == "error: \(pandas): line 1, column 1: 'id' is not a number; pass --header if the first line names the columns")
        #expect(try failure(["inspect", pandas, "--header"]) == "error: \(pandas): line 2, column 1: 'doc-0' is not a number")
        #expect(try failure(["inspect", pandas, "--header", "--skip-columns", "6"])
            == "error: \(pandas): line 2 has 6 fields, all skipped by --skip-columns 6")
        let ragged = directory.file("ragged.csv")
        Fixtures.writeBytes(ragged, Array("1,2,3\n4,5,6\n7,8\n".utf8))
        #expect(try failure(["cluster", ragged, "-k", "2", "-o", directory.file("out")])
            == "error: \(ragged): line 3 has 2 fields, expected 3")
        #expect(!FileManager.default.fileExists(atPath: directory.file("out/labels.npy")))
        #expect(try failure(["inspect", ragged, "--skip-columns=-1"]).contains("--skip-columns must not be negative, got -1"))
    }

    /// A copy that cannot be written (here beyond a file-size limit, SIGXFSZ ignored as a
    /// shell does for its jobs) stops the run with one line naming the table, and leaves nothing.
    @Test func aTableCopyBeyondTheFileSizeLimitIsOneLine() throws {
        let table = directory.file("large.csv")
        // 40,000 values: a 160 KB copy against a limit of 64 blocks.
        Fixtures.writeBytes(table, Array((0..<10_000).map { "\($0),1,2,3\n" }.joined().utf8))
        let temporary = directory.file("tmp")
        try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: true)
        let quoted = [CommandRun.binary.path, "inspect", table].map { "'" + $0 + "'" }.joined(separator: " ")
        let run = try CommandRun(
            executable: "/bin/sh", ["-c", "trap '' XFSZ; ulimit -f 64; exec " + quoted], environment: ["TMPDIR": temporary])
        #expect(run.status == 1)
        #expect(run.standardError == "error: \(table): writing its float32 copy in \(temporary) failed: File too large\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: temporary).isEmpty)
    }

    @Test func craftedHeaderIsOneLine() throws {
        let path = directory.file("huge.i8bin")
        Fixtures.writeBytes(path, Fixtures.bytes(of: [UInt32.max, UInt32.max]) + [1, 2, 3])
        #expect(try failure(["inspect", path])
            == "error: \(path): declares 4294967295 × 4294967295 values of 1 bytes, more than any file can hold")
    }
}

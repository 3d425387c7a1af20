import Foundation
import Testing
import _FlashKMeansTestSupport

/// The commands read Parquet as they read `.npy`: the same labels and centroids, byte for
/// byte, for the pyarrow fixtures in FlashKMeansTests/Fixtures/parquet; `--column` chooses
/// among several columns, and bad files are one line naming the file and the row.
@Suite struct ParquetCommandTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("FlashKMeansTests/Fixtures/parquet").path

    static func fixture(_ name: String) -> String { fixtures + "/" + name }

    let directory = TemporaryDirectory()

    static let clusterOptions = ["-k", "3", "--seed", "5", "--threads", "2", "--tile-points", "16", "--quiet"]

    func contents(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

    /// Clusters `input` into `name` and returns the output directory.
    func cluster(_ input: String, into name: String, extra: [String] = []) throws -> String {
        let output = directory.file(name)
        let run = try CommandRun(["cluster", input, "-o", output] + Self.clusterOptions + extra)
        #expect(run.status == 0, "\(input): \(run.standardError)")
        return output
    }

    static let files: [(parquet: String, npy: String)] = [
        ("list-f32-none", "rows-f32"), ("list-f32-snappy", "rows-f32"), ("list-f32-zstd", "rows-f32"), ("list-f32-gzip", "rows-f32"),
        ("large_list-f32-snappy", "rows-f32"), ("fixed_size_list-f32-snappy", "rows-f32"),
        ("list-f16-zstd", "rows-f16"), ("list-f64-gzip", "rows-f64"), ("list-f32-dictionary", "rows-f32"),
        ("list-f16-dictionary", "rows-f16"), ("list-f64-dictionary", "rows-f64"), ("list-f32-v2", "rows-f32"),
        ("list-f32-v2-dictionary", "rows-f32"), ("list-f32-split", "rows-f32"), ("list-f32-required", "rows-f32"),
        ("list-f32-row-groups", "rows-f32"), ("list-f32-small-pages", "rows-f32"),
    ]

    @Test func clusterGivesTheLabelsOfTheNpy() throws {
        defer { directory.cleanup() }
        for npy in ["rows-f32", "rows-f16", "rows-f64"] {
            _ = try cluster(Self.fixture(npy + ".npy"), into: npy)
        }
        for (parquet, npy) in Self.files {
            let output = try cluster(Self.fixture(parquet + ".parquet"), into: parquet)
            for name in ["labels.npy", "centroids.npy"] {
                #expect(try contents(output + "/" + name) == contents(directory.file(npy + "/" + name)), "\(parquet) \(name)")
            }
        }
        // Parquet shards, named by a pattern, cluster as the rows in one file.
        let sharded = try cluster(Self.fixture("shard-*.parquet"), into: "sharded")
        #expect(try contents(sharded + "/labels.npy") == contents(directory.file("rows-f32/labels.npy")))
    }

    @Test func columnChoosesAmongSeveral() throws {
        defer { directory.cleanup() }
        let path = Self.fixture("columns.parquet")
        let refused = try CommandRun(["cluster", path, "-o", directory.file("never")] + Self.clusterOptions)
        #expect(refused.status != 0)
        #expect(refused.standardError == "error: \(path): several columns of float lists ('emb', 'emb2'); choose one with --column\n")
        let missing = try CommandRun(["inspect", path, "--column", "title"])
        #expect(missing.standardError
            == "error: \(path): no column 'title' of float lists (columns of float lists: 'emb', 'emb2'); choose one with --column\n")
        let none = try CommandRun(["inspect", Self.fixture("no-lists.parquet")])
        #expect(none.standardError == "error: \(Self.fixture("no-lists.parquet")): no column of float lists "
            + "(list, large_list or fixed_size_list of float32, float16 or float64)\n")

        let reference = try cluster(Self.fixture("rows-f32.npy"), into: "reference")
        let chosen = try cluster(path, into: "chosen", extra: ["--column", "emb"])
        #expect(try contents(chosen + "/labels.npy") == contents(reference + "/labels.npy"))
    }

    @Test func badRowsAreOneLineNamingTheRow() throws {
        defer { directory.cleanup() }
        for (name, words) in [
            ("null-row", "row 5 is null"), ("null-value", "row 3 has a null value at position 2"),
            ("ragged", "row 4 has 7 values, but row 0 has 8"), ("truncated", "no PAR1 at the end"),
        ] {
            let path = Self.fixture(name + ".parquet")
            let output = directory.file(name)
            let run = try CommandRun(["cluster", path, "-k", "2", "-o", output, "--quiet"])
            #expect(run.status != 0)
            let lines = run.standardError.split(separator: "\n")
            #expect(lines.count == 1, "\(run.standardError)")
            #expect(lines.first?.hasPrefix("error: \(path): ") == true, "\(run.standardError)")
            #expect(lines.first?.contains(words) == true, "\(run.standardError)")
            #expect(!FileManager.default.fileExists(atPath: output))
        }
    }

    @Test func inspectDescribesTheColumn() throws {
        let run = try CommandRun(["inspect", Self.fixture("list-f16-zstd.parquet")])
        #expect(run.status == 0, "\(run.standardError)")
        for line in ["format     parquet", "rows       40", "dimension  8", "dtype      float16", "layout     converted"] {
            #expect(run.standardOutput.contains(line + "\n"), "\(run.standardOutput)")
        }
    }
}

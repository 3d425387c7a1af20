import Foundation
import Testing
import _FlashKMeansTestSupport

/// Every command takes a set of shards (a quoted pattern, a directory or a list) where it
/// takes a file, and writes what it writes for the same rows in one file, byte for byte.
@Suite struct ShardedInputCommandTests {
    static let dimension = 16
    static let rowCount = 2000
    /// Unequal shards, one of a single row.
    static let boundaries = [0, 500, 501, 1200, 2000]

    let directory = TemporaryDirectory()

    /// Writes the rows to `all.npy` and as shards `emb/part-000.npy`…; returns the shard paths.
    func writeData() throws -> [String] {
        let points = Fixtures.separatedBlobs(
            pointCount: Self.rowCount, dimension: Self.dimension, blobCount: 12, scale: 3, spread: 1, seed: 8).points
        Fixtures.writeNpy(
            directory.file("all.npy"), descr: "<f4", shape: [Self.rowCount, Self.dimension], payload: Fixtures.bytes(of: points))
        try FileManager.default.createDirectory(atPath: directory.file("emb"), withIntermediateDirectories: true)
        return (0..<(Self.boundaries.count - 1)).map { shard in
            let rows = Self.boundaries[shard]..<Self.boundaries[shard + 1]
            let path = directory.file("emb/part-00\(shard).npy")
            Fixtures.writeNpy(
                path, descr: "<f4", shape: [rows.count, Self.dimension],
                payload: Fixtures.bytes(of: Array(points[(rows.lowerBound * Self.dimension)..<(rows.upperBound * Self.dimension)])))
            return path
        }
    }

    func contents(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

    func succeed(_ arguments: [String]) throws -> CommandRun {
        let run = try CommandRun(arguments)
        #expect(run.status == 0, "\(arguments): \(run.standardError)")
        return run
    }

    @Test func clusterOnAPatternWritesTheSingleFilesResults() throws {
        defer { directory.cleanup() }
        let shards = try writeData()
        let pattern = directory.file("emb/part-*.npy")
        let options = ["-k", "12", "--seed", "4", "--threads", "2", "--tile-points", "96", "--max-points-per-centroid", "100", "--quiet"]
        _ = try succeed(["cluster", directory.file("all.npy"), "-o", directory.file("single")] + options)
        _ = try succeed(["cluster", pattern, "-o", directory.file("sharded")] + options)
        for name in ["labels.npy", "centroids.npy"] {
            #expect(try contents(directory.file("sharded/" + name)) == contents(directory.file("single/" + name)), "\(name)")
        }
        // The report names the pattern and each shard with the rows it holds.
        let report = try JSONSerialization.jsonObject(with: contents(directory.file("sharded/report.json"))) as! [String: Any]
        let input = report["input"] as! [String: Any]
        #expect(input["path"] as? String == pattern)
        #expect(input["rowCount"] as? Int == Self.rowCount)
        let described = input["shards"] as! [[String: Any]]
        #expect(described.map { $0["path"] as? String } == shards)
        #expect(described.map { $0["firstRow"] as? Int } == [0, 500, 501, 1200])
        #expect(described.map { $0["rowCount"] as? Int } == [500, 1, 699, 800])

        // A directory and a list of the same files give the same results again.
        let list = directory.file("shards.txt")
        let lines = ["# training shards"] + shards.map { "emb/" + ($0 as NSString).lastPathComponent }
        Fixtures.writeBytes(list, Array(lines.joined(separator: "\n").utf8))
        for input in [directory.file("emb"), list] {
            let output = directory.file("again-" + (input as NSString).lastPathComponent)
            _ = try succeed(["cluster", input, "-o", output] + options)
            #expect(try contents(output + "/labels.npy") == contents(directory.file("single/labels.npy")), "\(input)")
        }
    }

    /// `assign` labels the set's rows in order; `ivf` lists them by their number in the set.
    @Test func assignAndIVFNumberRowsThroughTheSet() throws {
        defer { directory.cleanup() }
        _ = try writeData()
        let pattern = directory.file("emb/part-*.npy")
        _ = try succeed(["cluster", directory.file("all.npy"), "-k", "12", "-o", directory.file("trained"), "--quiet"])
        let centroids = directory.file("trained/centroids.npy")
        for (input, name) in [(directory.file("all.npy"), "single"), (pattern, "sharded")] {
            _ = try succeed(["assign", input, "--centroids", centroids, "-o", directory.file("assign-" + name), "--top", "2"])
            _ = try succeed(["ivf", input, "--centroids", centroids, "-o", directory.file("ivf-" + name), "--quiet"])
        }
        for name in ["labels.npy", "distances.npy"] {
            #expect(try contents(directory.file("assign-sharded/" + name)) == contents(directory.file("assign-single/" + name)))
        }
        for name in ["ids.npy", "list_offsets.npy", "centroids.npy", "index.ivfflat.faiss"] {
            #expect(try contents(directory.file("ivf-sharded/" + name)) == contents(directory.file("ivf-single/" + name)), "\(name)")
        }
        let ids = try contents(directory.file("ivf-sharded/ids.npy"))[128...].withUnsafeBytes { Array($0.bindMemory(to: Int64.self)) }
        #expect(ids.sorted() == (0..<Int64(Self.rowCount)).map { $0 })
    }

    @Test func inspectCountsTheShards() throws {
        defer { directory.cleanup() }
        let shards = try writeData()
        let folder = directory.file("emb")
        let text = try succeed(["inspect", folder]).standardOutput
        #expect(text.contains("file       \(folder)\nshards     4  (first \(shards[0]), last \(shards[3]))\n"), "\(text)")
        #expect(text.contains("rows       2000\n"))
        let single = try succeed(["inspect", directory.file("all.npy")]).standardOutput
        #expect(!single.contains("shards"))
        let json = try JSONSerialization.jsonObject(with: Data(try succeed(["inspect", folder, "--json"]).standardOutput.utf8)) as! [String: Any]
        let file = json["file"] as! [String: Any]
        #expect((file["shards"] as! [Any]).count == 4)
        #expect(file["byteCount"] as? Int == (try shards.map { try contents($0).count }.reduce(0, +)))
    }

    /// One `error:` line naming the shard or the pattern at fault; nothing written.
    @Test func badSetsFailOnOneLine() throws {
        defer { directory.cleanup() }
        let shards = try writeData()
        func expectFailure(_ input: String, saying words: String) throws {
            let output = directory.file("never")
            let run = try CommandRun(["cluster", input, "-k", "3", "-o", output, "--quiet"])
            #expect(run.status != 0)
            let lines = run.standardError.split(separator: "\n")
            #expect(lines.count == 1 && lines[0] == "error: " + words, "\(run.standardError)")
            #expect(!FileManager.default.fileExists(atPath: output))
        }
        let pattern = directory.file("emb/shard-*.npy")
        try expectFailure(pattern, saying: "\(pattern): no file matches this pattern")
        let narrow = directory.file("emb/part-009.npy")
        Fixtures.writeNpy(narrow, descr: "<f4", shape: [3, 8], payload: Fixtures.bytes(of: [Float](repeating: 1, count: 24)))
        try expectFailure(
            directory.file("emb/part-*.npy"), saying: "\(narrow): 8 columns, but the first shard (\(shards[0])) has 16")
        try FileManager.default.removeItem(atPath: narrow)
        let list = directory.file("shards.list")
        Fixtures.writeBytes(list, Array("emb/part-000.npy\nemb/part-404.npy\n".utf8))
        try expectFailure(list, saying: "\(directory.file("emb/part-404.npy")): open failed: No such file or directory")

        // A bad row is numbered through the set, as labels are, and found in its shard.
        var values = [Float](repeating: 1, count: 699 * Self.dimension)
        values[3 * Self.dimension + 5] = .nan
        Fixtures.writeNpy(shards[2], descr: "<f4", shape: [699, Self.dimension], payload: Fixtures.bytes(of: values))
        let folder = directory.file("emb")
        try expectFailure(
            folder, saying: "\(folder): row 504 contains NaN or Inf (or values too large for float32 distances); it is row 3 of \(shards[2])")
    }
}

import Foundation
import Testing
import _FlashKMeansTestSupport

/// Runs the built `flashkmeans` binary as a user would.
struct CommandRun {
    var status: Int32
    var standardOutput: String
    var standardError: String

    static let binary: URL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        .deletingLastPathComponent().appendingPathComponent("flashkmeans")

    /// - Parameter environment: Variables set on top of this process's environment.
    /// - Parameter executable: Another program to run instead, such as a shell that sets limits first.
    /// - Parameter workingDirectory: Where relative paths start; the default is this process's.
    init(
        executable: String? = nil, _ arguments: [String], environment: [String: String] = [:], workingDirectory: String? = nil
    ) throws {
        let process = Process()
        if let workingDirectory { process.currentDirectoryURL = URL(fileURLWithPath: workingDirectory) }
        process.executableURL = executable.map { URL(fileURLWithPath: $0) } ?? Self.binary
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.run()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        status = process.terminationStatus
        standardOutput = String(decoding: outputData, as: UTF8.self)
        standardError = String(decoding: errorData, as: UTF8.self)
    }
}

@Suite struct CommandLineTests {
    let directory = TemporaryDirectory()

    func demoFile(points: Int = 3000, name: String = "demo.npy") throws -> String {
        let path = directory.file(name)
        let run = try CommandRun(["demo", "-o", path, "--points", "\(points)", "--dim", "16", "--blobs", "10"])
        #expect(run.status == 0, "\(run.standardError)")
        return path
    }

    /// The failure contract: non-zero exit, one line on stderr naming the file, nothing written.
    func expectFailure(_ arguments: [String], naming file: String, mentioning words: String, output: String) throws {
        let run = try CommandRun(arguments)
        #expect(run.status != 0)
        // Progress lines may come first; the error is the one line starting with "error:", and it is last.
        let lines = run.standardError.split(separator: "\n")
        let errors = lines.filter { $0.hasPrefix("error: ") }
        #expect(errors.count == 1, "\(run.standardError)")
        #expect(lines.last == errors.first)
        #expect(errors.first?.contains(file) == true, "\(run.standardError)")
        #expect(errors.first?.contains(words) == true, "\(run.standardError)")
        #expect(!FileManager.default.fileExists(atPath: output))
    }

    /// Regression: a one-character relative output name (`-o o`) trapped in Foundation's
    /// `deletingLastPathComponent`, for every command that writes a result set.
    @Test func oneCharacterRelativeOutputNames() throws {
        let input = try demoFile()
        let cluster = try CommandRun(["cluster", input, "-k", "4", "-o", "o", "--quiet"], workingDirectory: directory.path)
        #expect(cluster.status == 0, "\(cluster.standardError)")
        let assign = try CommandRun(
            ["assign", input, "--centroids", "o/centroids.npy", "-o", "a/", "--quiet"], workingDirectory: directory.path)
        #expect(assign.status == 0, "\(assign.standardError)")
        let ivf = try CommandRun(["ivf", input, "-k", "4", "-o", "i", "--quiet"], workingDirectory: directory.path)
        #expect(ivf.status == 0, "\(ivf.standardError)")
        for file in ["o/labels.npy", "a/labels.npy", "i/index.ivfflat.faiss"] {
            #expect(FileManager.default.fileExists(atPath: directory.file(file)), "\(file)")
        }
        let again = try CommandRun(["cluster", input, "-k", "4", "-o", "o", "--quiet", "--force"], workingDirectory: directory.path)
        #expect(again.status == 0, "\(again.standardError)")
    }

    @Test func clusterWritesResultsAndReport() throws {
        let input = try demoFile()
        let output = directory.file("out")
        let run = try CommandRun(["cluster", input, "-k", "10", "-o", output, "--threads", "2", "--seed", "3"])
        #expect(run.status == 0, "\(run.standardError)")
        #expect(run.standardError.contains("iter   1  inertia"))
        // Each iteration's speed, over the whole input; no progress bar off a terminal.
        let firstIteration = run.standardError.split(separator: "\n").first { $0.hasPrefix("iter   1 ") }
        #expect(firstIteration?.hasSuffix(" rows/s") == true || firstIteration?.contains(" rows/s  ") == true, "\(run.standardError)")
        #expect(!run.standardError.contains("\r") && !run.standardError.contains("(at most)"))
        #expect(run.standardOutput.contains("iterations ("))
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: output + "/report.json"))) as! [String: Any]
        let parameters = report["parameters"] as! [String: Any]
        #expect(parameters["clusterCount"] as? Int == 10)
        #expect(parameters["threads"] as? Int == 2)
        #expect((report["iterations"] as! [Any]).count >= 1)
        let memory = report["memory"] as! [String: Any]
        #expect((memory["peakAnonymousBytes"] as! Int) > 0)
        #expect((memory["peakResidentBytes"] as! Int) > 0)
        let centroids = try Data(contentsOf: URL(fileURLWithPath: output + "/centroids.npy"))
        #expect(centroids.count == 128 + 10 * 16 * 4)
        let labels = try Data(contentsOf: URL(fileURLWithPath: output + "/labels.npy"))
        #expect(labels.count == 128 + 3000 * 4)
        let labelValues = labels[128...].withUnsafeBytes { Array($0.bindMemory(to: Int32.self)) }
        #expect(Set(labelValues).isSubset(of: Set(0..<10)))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: output).filter { $0.hasPrefix(".") }
        #expect(leftovers.isEmpty)

        // Quiet runs print nothing on stderr; existing results need --force.
        try expectFailure(["cluster", input, "-k", "10", "-o", output], naming: output, mentioning: "--force", output: output + "/none")
        let forced = try CommandRun(["cluster", input, "-k", "10", "-o", output, "--force", "--quiet"])
        #expect(forced.status == 0)
        #expect(forced.standardError.isEmpty)
    }

    /// `--init FILE` fixes k and the starting point: two runs agree exactly.
    @Test func initFromFile() throws {
        let input = try demoFile()
        let first = directory.file("first")
        #expect(try CommandRun(["cluster", input, "-k", "6", "-o", first, "--quiet", "--max-iter", "1"]).status == 0)
        let again = directory.file("again")
        let run = try CommandRun(["cluster", input, "--init", first + "/centroids.npy", "-o", again, "--quiet"])
        #expect(run.status == 0, "\(run.standardError)")
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: again + "/report.json"))) as! [String: Any]
        #expect((report["parameters"] as! [String: Any])["clusterCount"] as? Int == 6)
    }

    @Test func badInputsFailCleanly() throws {
        let input = try demoFile()
        let output = directory.file("never")
        let missing = directory.file("missing.npy")
        try expectFailure(["cluster", missing, "-k", "3", "-o", output], naming: missing, mentioning: "No such file", output: output)
        try expectFailure(["cluster", input, "-k", "3001", "-o", output], naming: input, mentioning: "larger than the number of rows", output: output)

        let nan = directory.file("nan.f32")
        var values = [Float](repeating: 1, count: 40 * 4)
        values[17 * 4 + 3] = .nan
        Fixtures.writeBytes(nan, Fixtures.bytes(of: values))
        try expectFailure(["cluster", nan, "--dim", "4", "-k", "2", "-o", output], naming: nan, mentioning: "row 17", output: output)

        let smallInit = try demoFile(points: 20, name: "init.npy")
        let otherDimension = directory.file("init8.npy")
        Fixtures.writeNpy(otherDimension, descr: "<f4", shape: [2, 8], payload: Fixtures.bytes(of: [Float](repeating: 0, count: 16)))
        try expectFailure(
            ["cluster", input, "--init", otherDimension, "-o", output], naming: otherDimension, mentioning: "dimension 8", output: output)
        try expectFailure(["cluster", input, "-k", "5", "--init", smallInit, "-o", output], naming: smallInit, mentioning: "k is 5", output: output)

        let plainFile = directory.file("plain")
        Fixtures.writeBytes(plainFile, [1])
        try expectFailure(["cluster", input, "-k", "3", "-o", plainFile + "/out"], naming: plainFile, mentioning: "not a directory", output: plainFile + "/out")

        let empty = directory.file("empty.fvecs")
        Fixtures.writeBytes(empty, [])
        try expectFailure(["inspect", empty], naming: empty, mentioning: "empty", output: output)
    }

    /// Every algorithm writes the same labels and centroids; the report says which ran and why.
    @Test func algorithmsAgreeAndReportThemselves() throws {
        let input = try demoFile(points: 4000)
        var outputs: [String: (Data, Data)] = [:]
        for algorithm in ["lloyd", "hamerly", "elkan", "yinyang", "auto"] {
            let output = directory.file("out-\(algorithm)")
            let run = try CommandRun(["cluster", input, "-k", "40", "-o", output, "--algorithm", algorithm, "--tol", "0", "--quiet"])
            #expect(run.status == 0, "\(run.standardError)")
            outputs[algorithm] = (
                try Data(contentsOf: URL(fileURLWithPath: output + "/labels.npy")),
                try Data(contentsOf: URL(fileURLWithPath: output + "/centroids.npy")))
            let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: output + "/report.json"))) as! [String: Any]
            let choice = report["algorithm"] as! [String: Any]
            #expect(choice["requested"] as? String == algorithm)
            #expect(!(choice["reason"] as! String).isEmpty)
            let iterations = report["iterations"] as! [[String: Any]]
            #expect(iterations.allSatisfy { ($0["distanceFraction"] as! Double) <= 1 })
        }
        for algorithm in ["hamerly", "elkan", "yinyang", "auto"] {
            #expect(outputs[algorithm]!.0 == outputs["lloyd"]!.0, "\(algorithm) labels")
            #expect(outputs[algorithm]!.1 == outputs["lloyd"]!.1, "\(algorithm) centroids")
        }
    }

    @Test func algorithmOverMemoryBudgetIsRefused() throws {
        let input = try demoFile()
        let output = directory.file("budget")
        try expectFailure(
            ["cluster", input, "-k", "50", "-o", output, "--algorithm", "elkan", "--memory-budget", "0"],
            naming: input, mentioning: "--memory-budget", output: output)
    }

    /// One CSV row per tile combination, each measured in its own process.
    @Test func sweepWritesOneRowPerCombination() throws {
        let input = try demoFile()
        let results = directory.file("sweep")
        let run = try CommandRun(["sweep", input, "-k", "8", "--tile-points", "64,512", "--tile-centroids", "4,8", "--iterations", "2", "-o", results])
        #expect(run.status == 0, "\(run.standardError)")
        let lines = try String(contentsOfFile: results + "/sweep.csv", encoding: .utf8).split(separator: "\n")
        #expect(lines.first == "tile_points,tile_centroids,seconds_per_iteration,peak_rss_bytes,peak_rss_anon_bytes,scratch_bytes_per_thread,threads")
        let rows = lines.dropFirst().map { $0.split(separator: ",") }
        #expect(rows.map { "\($0[0])x\($0[1])" } == ["64x4", "64x8", "512x4", "512x8"])
        // Scratch grows with the tiles; every figure was measured.
        let scratch = rows.map { Int($0[5])! }
        #expect(scratch[0] < scratch[3])
        #expect(rows.allSatisfy { Double($0[2])! > 0 && Int($0[4])! > 0 })
        let bad = try CommandRun(["sweep", input, "-k", "8", "--tile-points", "64,x", "-o", directory.file("bad-sweep")])
        #expect(bad.status != 0)
        #expect(bad.standardError.contains("--tile-points"))
    }

    /// `assign` with the centroids `cluster` wrote gives `cluster`'s labels; `--top` writes n × M.
    @Test func assignMatchesClusterLabels() throws {
        let input = try demoFile()
        let clustered = directory.file("clustered")
        #expect(try CommandRun(["cluster", input, "-k", "12", "-o", clustered, "--quiet"]).status == 0)
        let assigned = directory.file("assigned")
        let run = try CommandRun(["assign", input, "--centroids", clustered + "/centroids.npy", "-o", assigned])
        #expect(run.status == 0, "\(run.standardError)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: assigned + "/labels.npy")) == Data(contentsOf: URL(fileURLWithPath: clustered + "/labels.npy")))
        let top = directory.file("top")
        #expect(try CommandRun(["assign", input, "--centroids", clustered + "/centroids.npy", "-o", top, "--top", "3"]).status == 0)
        let labels = try Data(contentsOf: URL(fileURLWithPath: top + "/labels.npy"))
        #expect(labels.count == 128 + 3000 * 3 * 4)
        let distances = try Data(contentsOf: URL(fileURLWithPath: top + "/distances.npy"))
        let values: [Float] = distances[128...].withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        var ascending = true
        for row in 0..<3000 where values[row * 3] > values[row * 3 + 1] || values[row * 3 + 1] > values[row * 3 + 2] {
            ascending = false
        }
        #expect(ascending)
        // A dimension mismatch names the centroids file; nothing is written.
        let wrong = directory.file("wrong.npy")
        Fixtures.writeNpy(wrong, descr: "<f4", shape: [2, 8], payload: Fixtures.bytes(of: [Float](repeating: 0, count: 16)))
        try expectFailure(["assign", input, "--centroids", wrong, "-o", directory.file("none")], naming: wrong, mentioning: "dimension 8", output: directory.file("none"))
    }

    @Test func ivfWritesListsAndAFaissIndex() throws {
        let input = try demoFile()
        let output = directory.file("ivf")
        let run = try CommandRun(["ivf", input, "-k", "16", "-o", output, "--quiet"])
        #expect(run.status == 0, "\(run.standardError)")
        for name in ["centroids.npy", "list_offsets.npy", "ids.npy", "index.ivfflat.faiss"] {
            #expect(FileManager.default.fileExists(atPath: output + "/" + name), "\(name)")
        }
        let offsets = try Data(contentsOf: URL(fileURLWithPath: output + "/list_offsets.npy"))
        let values: [Int64] = offsets[128...].withUnsafeBytes { Array($0.bindMemory(to: Int64.self)) }
        #expect(values.count == 17 && values.first == 0 && values.last == 3000)
        let both = try CommandRun(["ivf", input, "-k", "16", "--centroids", output + "/centroids.npy", "-o", directory.file("x")])
        #expect(both.status != 0)
    }

    @Test func argumentErrorsAreReported() throws {
        let input = try demoFile()
        let run = try CommandRun(["cluster", input, "-k", "0", "-o", directory.file("x")])
        #expect(run.status != 0)
        #expect(run.standardError.contains("-k must be at least 1"))
        let noK = try CommandRun(["cluster", input, "-o", directory.file("x")])
        #expect(noK.status != 0)
        #expect(noK.standardError.contains("-k is required"))
    }

    @Test func inspectReportsShapeAndLayout() throws {
        let input = try demoFile()
        let run = try CommandRun(["inspect", input, "--json"])
        #expect(run.status == 0)
        let json = try JSONSerialization.jsonObject(with: Data(run.standardOutput.utf8)) as! [String: Any]
        let file = json["file"] as! [String: Any]
        #expect(file["rowCount"] as? Int == 3000)
        #expect(file["dimension"] as? Int == 16)
        #expect(file["layout"] as? String == "zero-copy")
        let norms = json["norms"] as! [String: Any]
        #expect((norms["minimum"] as! Double) <= (norms["mean"] as! Double))
        #expect((norms["mean"] as! Double) <= (norms["maximum"] as! Double))
        let text = try CommandRun(["inspect", input])
        #expect(text.standardOutput.contains("layout     zero-copy"))
    }
}

/// The library words its errors without flags; the command names the flag that fixes them.
@Suite struct CommandLineWordingTests {
    let directory = TemporaryDirectory()

    /// Library errors come as one `error:` line; argument errors in argument-parser's own
    /// form, `Error:` followed by the usage.
    func expectError(_ arguments: [String], saying words: String) throws {
        let run = try CommandRun(arguments)
        #expect(run.status != 0)
        let errors = run.standardError.split(separator: "\n").filter { $0.hasPrefix("error: ") || $0.hasPrefix("Error: ") }
        #expect(errors.count == 1, "\(run.standardError)")
        #expect(errors.first?.contains(words) == true, "\(run.standardError)")
    }

    @Test func libraryErrorsNameTheFlags() throws {
        let output = directory.file("none")
        let zeroRow = directory.file("zero.npy")
        var values = [Float](repeating: 1, count: 50 * 4)
        for index in (7 * 4)..<(8 * 4) { values[index] = 0 }
        Fixtures.writeNpy(zeroRow, descr: "<f4", shape: [50, 4], payload: Fixtures.bytes(of: values))
        try expectError(
            ["cluster", zeroRow, "-k", "3", "--metric", "cosine", "-o", output], saying: "row 7 is all zeros and has no direction for --metric cosine")
        let unknown = directory.file("data.xyz")
        Fixtures.writeBytes(unknown, [0, 0, 0, 0])
        try expectError(["inspect", unknown], saying: "cannot tell the format from extension '.xyz'; pass --format (npy")
        let raw = directory.file("data.f32")
        Fixtures.writeBytes(raw, Fixtures.bytes(of: values))
        try expectError(["inspect", raw], saying: "headerless raw float32 needs --dim")
        try expectError(["inspect", raw, "--dim", "0"], saying: "--dim must be positive, got 0")
        let hdf5 = directory.file("a.hdf5")
        Fixtures.writeHDF5(hdf5, dataset: "train", values: values, shape: [50, 4])
        try expectError(["inspect", hdf5, "--dataset", "test"], saying: "no dataset 'test' (choose one with --dataset)")
        try expectError(["cluster", zeroRow, "-k", "3", "--init-sample", "2", "-o", output], saying: "--init-sample must be at least k = 3, got 2")
        try expectError(["cluster", zeroRow, "-k", "3", "--memory-budget", "9000000000000", "-o", output], saying: "--memory-budget is too large")
        try expectError(["ivf", zeroRow, "-o", output], saying: "give -k (or --init FILE) to train centroids, or --centroids")
        #expect(!FileManager.default.fileExists(atPath: output))
    }

    /// Every SIMD level the CPU offers gives the same bytes (FLASHKMEANS_SIMD caps the level).
    @Test func everySIMDLevelGivesTheSameResults() throws {
        let input = directory.file("blobs.npy")
        #expect(try CommandRun(["demo", "-o", input, "--points", "6000", "--dim", "40", "--blobs", "30"]).status == 0)
        var results: [String: [Data]] = [:]
        for level in ["baseline", "avx2", "avx512"] {
            var files: [Data] = []
            for algorithm in ["lloyd", "yinyang", "elkan"] {
                let output = directory.file("\(level)-\(algorithm)")
                let run = try CommandRun(
                    ["cluster", input, "-k", "50", "--algorithm", algorithm, "--tol", "0", "-o", output, "--quiet"],
                    environment: ["FLASHKMEANS_SIMD": level])
                #expect(run.status == 0, "\(run.standardError)")
                files += ["labels.npy", "centroids.npy"].map { (try? Data(contentsOf: URL(fileURLWithPath: "\(output)/\($0)"))) ?? Data() }
                if level == "baseline" {
                    let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: output + "/report.json"))) as! [String: Any]
                    #expect(["sse2", "neon"].contains(report["simdLevel"] as? String))
                }
            }
            let top = directory.file("\(level)-top")
            let run = try CommandRun(
                ["assign", input, "--centroids", directory.file("\(level)-lloyd") + "/centroids.npy", "--top", "3", "-o", top, "--quiet"],
                environment: ["FLASHKMEANS_SIMD": level])
            #expect(run.status == 0, "\(run.standardError)")
            files += ["labels.npy", "distances.npy"].map { (try? Data(contentsOf: URL(fileURLWithPath: "\(top)/\($0)"))) ?? Data() }
            results[level] = files
        }
        #expect(results["baseline"]!.allSatisfy { !$0.isEmpty })
        #expect(results["avx2"] == results["baseline"])
        #expect(results["avx512"] == results["baseline"])
    }

    /// Where the integer screen runs, on VNNI or on AVX2 (through the prefix screen only), the
    /// results are the float32 ones of a CPU without it.
    @Test func screeningLevelsGiveTheSameResults() throws {
        let input = directory.file("wide.npy")
        #expect(try CommandRun(["demo", "-o", input, "--points", "4000", "--dim", "256", "--blobs", "30"]).status == 0)
        var results: [String: [Data]] = [:]
        for level in ["baseline", "avx2", "avx512"] {
            let output = directory.file("wide-\(level)")
            let run = try CommandRun(
                ["cluster", input, "-k", "128", "--tol", "0", "--max-iter", "15", "-o", output, "--quiet"],
                environment: ["FLASHKMEANS_SIMD": level])
            #expect(run.status == 0, "\(run.standardError)")
            results[level] = ["labels.npy", "centroids.npy"].map {
                (try? Data(contentsOf: URL(fileURLWithPath: "\(output)/\($0)"))) ?? Data()
            }
            let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: output + "/report.json"))) as! [String: Any]
            let iterations = report["iterations"] as! [[String: Any]]
            let prefixRows = iterations.reduce(0) { $0 + ($1["prefixScreenedRows"] as! Int) }
            // A level the CPU lacks runs as the highest it has; only x86 has these kernels.
            if level != "baseline", report["simdLevel"] as? String == level {
                #expect(prefixRows > 0, "\(level) never screened by prefix")
                // The first pass has no labels for a prefix screen: AVX2 compares it in float32,
                // VNNI screens every coordinate.
                let firstScreened = iterations.first?["screenedRows"] as? Int
                #expect(level == "avx2" ? firstScreened == 0 : firstScreened == 4000, "\(level): \(String(describing: firstScreened))")
            }
            if level == "baseline" { #expect(prefixRows == 0) }
        }
        #expect(results["baseline"]!.allSatisfy { !$0.isEmpty })
        #expect(results["avx2"] == results["baseline"])
        #expect(results["avx512"] == results["baseline"])
    }
}

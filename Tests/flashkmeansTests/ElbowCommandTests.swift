import FlashKMeans
import Foundation
import Testing
import _FlashKMeansTestSupport
#if canImport(Glibc)
import Glibc
#endif

@Suite struct ElbowCommandTests {
    let directory = TemporaryDirectory()

    func demoFile(points: Int = 2000, dimension: Int = 6, blobs: Int = 5) throws -> String {
        let path = directory.file("demo-\(points)x\(dimension).npy")
        let run = try CommandRun(["demo", "-o", path, "--points", "\(points)", "--dim", "\(dimension)", "--blobs", "\(blobs)"])
        #expect(run.status == 0, "\(run.standardError)")
        return path
    }

    /// The bytes after a version-1 `.npy` header.
    static func payload(ofNpy path: String) throws -> Data {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let headerLength = Int(data[8]) | Int(data[9]) << 8
        return data.subdata(in: (10 + headerLength)..<data.count)
    }

    /// `elbow.csv` as fields, header first.
    static func csv(in output: String) throws -> [[String]] {
        try String(contentsOfFile: output + "/elbow.csv", encoding: .utf8).split(separator: "\n")
            .map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
    }

    static func report(in output: String) throws -> RunReport {
        try JSONDecoder().decode(RunReport.self, from: Data(contentsOf: URL(fileURLWithPath: output + "/report.json")))
    }

    /// Each k's centroids and inertia are `cluster`'s for the same k and seed, bit for bit,
    /// and each silhouette is that of `cluster`'s labels on the same seeded sample.
    @Test(arguments: [
        [String](),
        ["--metric", "cosine", "--max-points-per-centroid", "60", "--algorithm", "hamerly"],
    ])
    func everyKIsTheClusterRun(options: [String]) throws {
        let input = try demoFile()
        let output = directory.file("elbow\(options.count)")
        let counts = [1, 3, 5, 8, 13]
        let run = try CommandRun(
            ["elbow", input, "-k", "1,3,5,8,13", "-o", output, "--seed", "5", "--threads", "2", "--quiet"] + options)
        #expect(run.status == 0, "\(run.standardError)")
        let rows = try Self.csv(in: output)
        #expect(rows.first == ["k", "inertia", "iterations", "seconds", "silhouette", "knee"])
        #expect(rows.dropFirst().map { $0[0] } == counts.map(String.init))
        let stacked = try Self.payload(ofNpy: output + "/elbow-centroids.npy")
        #expect(stacked.count == counts.reduce(0, +) * 6 * 4)
        let metric: Metric = options.contains("cosine") ? .cosine : .l2
        let sample = try SilhouetteSample(source: openEmbeddings(at: input), seed: 5, metric: metric)
        var firstRow = 0
        for (index, k) in counts.enumerated() {
            let single = directory.file("cluster\(options.count)-\(k)")
            // One thread here, two above: the thread count never changes a result.
            let cluster = try CommandRun(
                ["cluster", input, "-k", "\(k)", "-o", single, "--seed", "5", "--threads", "1", "--quiet"] + options)
            #expect(cluster.status == 0, "\(cluster.standardError)")
            let centroids = try Self.payload(ofNpy: single + "/centroids.npy")
            #expect(stacked.subdata(in: (firstRow * 24)..<((firstRow + k) * 24)) == centroids, "centroids of k = \(k)")
            let report = try Self.report(in: single)
            let row = rows[index + 1]
            #expect(Double(row[1]) == report.inertia, "inertia of k = \(k)")
            #expect(Int(row[2]) == report.iterations.count, "iterations of k = \(k)")
            let labelBytes = try Self.payload(ofNpy: single + "/labels.npy")
            let labels: [Int32] = labelBytes.withUnsafeBytes { Array($0.bindMemory(to: Int32.self)) }
            let silhouette = sample.score(sampleLabels: sample.rows.map { labels[$0] })
            #expect(row[4] == (silhouette.map { "\($0)" } ?? ""), "silhouette of k = \(k)")
            firstRow += k
        }
        #expect(rows[1][4] == "", "no silhouette for k = 1")
        #expect(rows.dropFirst().filter { $0[5] == "1" }.count <= 1)
        #expect(rows.dropFirst().allSatisfy { ["0", "1"].contains($0[5]) })
    }

    @Test func printsTheTableAndDrawsThePlot() throws {
        let input = try demoFile(points: 3000, dimension: 4, blobs: 4)
        let output = directory.file("out")
        let plot = directory.file("elbow.png")
        let run = try CommandRun(["elbow", input, "-k", "1...8", "-o", output, "--plot", plot, "--seed", "1"])
        #expect(run.status == 0, "\(run.standardError)")
        let lines = run.standardOutput.split(separator: "\n")
        #expect(lines.first == "     k         inertia  iterations    seconds  silhouette")
        #expect(lines.count == 10)
        let rows = try Self.csv(in: output)
        let knee = try #require(rows.dropFirst().first { $0[5] == "1" }?[0])
        #expect(lines.contains { $0.hasPrefix(String(repeating: " ", count: 6 - knee.count) + knee + " ") && $0.hasSuffix("<- knee") })
        #expect(lines.last?.hasPrefix("knee at k = \(knee); wrote elbow.csv and elbow-centroids.npy to \(output)") == true)
        // Progress goes to standard error, k by k.
        #expect(run.standardError.contains("k = 8 (8 of 8)"))
        let png = try [UInt8](Data(contentsOf: URL(fileURLWithPath: plot)))
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        // The plot is a file like any other: kept without --force, replaced with it.
        let again = try CommandRun(["elbow", input, "-k", "2,3", "-o", directory.file("other"), "--plot", plot, "--quiet"])
        #expect(again.status != 0)
        #expect(again.standardError == "error: \(plot): already exists; pass --force to replace it\n")
        #expect(!FileManager.default.fileExists(atPath: directory.file("other")))
        let forced = try CommandRun(["elbow", input, "-k", "2,3", "-o", output, "--plot", plot, "--quiet", "--force"])
        #expect(forced.status == 0, "\(forced.standardError)")
        #expect(try Self.csv(in: output).count == 3)
        #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: plot))) != png)
    }

    /// A plot inside the output directory arrives after the results and is replaced with them.
    @Test func plotInsideTheOutputDirectory() throws {
        let input = try demoFile(points: 500, dimension: 3, blobs: 3)
        let output = directory.file("inside")
        for _ in 0..<2 {
            let run = try CommandRun(["elbow", input, "-k", "2...4", "-o", output, "--plot", output + "/elbow.png", "--quiet", "--force"])
            #expect(run.status == 0, "\(run.standardError)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: output).sorted() == ["elbow-centroids.npy", "elbow.csv", "elbow.png"])
    }

    @Test(arguments: [
        ("0,2", "-k values must be at least 1, got 0"),
        ("2,,4", "-k has an empty item in '2,,4'"),
        ("4...2", "-k range '4...2' ends below its start"),
        ("1...8:0", "-k range '1...8:0' needs a step of at least 1"),
        ("two", "-k values must be whole numbers or ranges such as 1...16, got 'two'"),
        ("3,3", "-k lists 3 more than once"),
    ])
    func badListsAreOneLine(list: String, message: String) throws {
        let output = directory.file("bad")
        let run = try CommandRun(["elbow", directory.file("missing.npy"), "-k", list, "-o", output])
        #expect(run.status == 64)
        #expect(run.standardError.split(separator: "\n").first == "Error: \(message)"[...], "\(run.standardError)")
        #expect(!FileManager.default.fileExists(atPath: output))
    }

    /// Every k is checked before the first fit: one too large fails at once, writing nothing.
    @Test func aKAboveTheRowCountFailsBeforeAnyFit() throws {
        let input = try demoFile(points: 300, dimension: 3, blobs: 3)
        let output = directory.file("big")
        let run = try CommandRun(["elbow", input, "-k", "2,400", "-o", output])
        #expect(run.status == 1)
        #expect(!run.standardError.contains("k = 2 (1 of 2)"), "\(run.standardError)")
        let errors = run.standardError.split(separator: "\n").filter { $0.hasPrefix("error: ") }
        #expect(errors.count == 1 && errors[0].contains(input) && errors[0].contains("400"), "\(run.standardError)")
        #expect(!FileManager.default.fileExists(atPath: output))
        let plot = try CommandRun(["elbow", input, "-k", "2", "-o", output, "--plot", "chart.jpg"])
        #expect(plot.standardError.hasPrefix("Error: --plot must name a .png file, got 'chart.jpg'"))
    }

    /// SIGINT with every result written: exit 130 with one line, the old set untouched, no plot.
    @Test func interruptBeforeTheSwapKeepsTheOldSet() throws {
        let input = try demoFile(points: 1000, dimension: 4, blobs: 4)
        let output = directory.file("kept")
        #expect(try CommandRun(["elbow", input, "-k", "2,3", "-o", output, "--quiet"]).status == 0)
        let before = snapshot(output)
        let marker = directory.file("paused")
        let plot = directory.file("never.png")
        let run = try RunningCommand(
            ["elbow", input, "-k", "2...5", "-o", output, "--quiet", "--force", "--plot", plot],
            environment: [RunningCommand.pauseVariable: marker], logs: directory.file("run"))
        #expect(run.waitForPause(marker: marker), "the run never reached the point before its results are moved into place")
        run.signal(SIGINT)
        let result = run.finish()
        #expect(!result.killed && result.status == 130, "\(result.standardError)")
        let errors = result.standardError.split(separator: "\n").filter { $0.hasPrefix("error: ") }
        #expect(errors == ["error: interrupted by SIGINT; \(output) left as it was"], "\(result.standardError)")
        #expect(snapshot(output) == before)
        #expect(!FileManager.default.fileExists(atPath: plot))
        try? FileManager.default.removeItem(atPath: marker)
    }

    /// The saved starts are the ones each fit began from: `cluster --init` with one gives
    /// that k's centroids. Without a silhouette sample the column stays empty.
    @Test func savedStartsAreTheFitsStarts() throws {
        let input = try demoFile(points: 1500, dimension: 5, blobs: 6)
        let output = directory.file("starts")
        let run = try CommandRun(
            ["elbow", input, "-k", "2,7", "-o", output, "--save-starts", "--silhouette-sample", "0", "--seed", "4", "--quiet"])
        #expect(run.status == 0, "\(run.standardError)")
        #expect(try Self.csv(in: output).dropFirst().map { $0[4] } == ["", ""])
        let starts = try Self.payload(ofNpy: output + "/elbow-starts.npy")
        let centroids = try Self.payload(ofNpy: output + "/elbow-centroids.npy")
        #expect(starts.count == 9 * 5 * 4 && starts != centroids)
        let start = directory.file("start7.npy")
        Fixtures.writeNpy(start, descr: "<f4", shape: [7, 5], payload: [UInt8](starts.subdata(in: (2 * 20)..<(9 * 20))))
        let single = directory.file("from-start")
        let cluster = try CommandRun(["cluster", input, "--init", start, "-o", single, "--quiet"])
        #expect(cluster.status == 0, "\(cluster.standardError)")
        #expect(try Self.payload(ofNpy: single + "/centroids.npy") == centroids.subdata(in: (2 * 20)..<(9 * 20)))
    }
}

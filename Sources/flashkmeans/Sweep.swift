import ArgumentParser
import FlashKMeans
import Foundation

struct Sweep: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure time and memory against tile sizes.",
        discussion: """
            Runs a few Lloyd iterations for every combination of point and centroid tile sizes, each in a \
            fresh child process so that peak memory figures are clean, all from the same initial centroids. \
            Writes a CSV (time per iteration, peak RSS, peak RssAnon, kernel scratch per thread) and, with \
            --plot FILE.png, a plot of it (needs python3 with matplotlib).
            """
    )

    @OptionGroup var input: InputOptions

    @Option(name: .short, help: "Number of clusters.")
    var k: Int

    @Option(help: "Point tile sizes to try, comma-separated.")
    var tilePoints: String = "256,1024,4096,16384"

    @Option(help: "Centroid tile sizes to try, comma-separated.")
    var tileCentroids: String = "256,1024,4096"

    @Option(help: "Lloyd iterations per combination.")
    var iterations: Int = 3

    @Option(help: "Worker threads (default: all cores).")
    var threads: Int?

    @Option(help: "Random seed for the shared initial centroids (k-means++).")
    var seed: UInt64 = 0

    @Option(name: .shortAndLong, help: "CSV file to write.")
    var output: String = "sweep.csv"

    @Option(help: "Also draw the results into this PNG file.")
    var plot: String?

    func validate() throws {
        guard k >= 1 else { throw ValidationError("-k must be at least 1") }
        guard iterations >= 1 else { throw ValidationError("--iterations must be at least 1") }
        for (name, list) in [("--tile-points", tilePoints), ("--tile-centroids", tileCentroids)] {
            guard let sizes = Self.sizes(list), !sizes.isEmpty else {
                throw ValidationError("\(name) must be a comma-separated list of positive integers, got '\(list)'")
            }
        }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    static func sizes(_ list: String) -> [Int]? {
        let values = list.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard values.allSatisfy({ ($0 ?? 0) > 0 }) else { return nil }
        return values.compactMap { $0 }
    }

    struct Row {
        var pointTile: Int
        var centroidTile: Int
        var secondsPerIteration: Double
        var peakResidentBytes: Int
        var peakAnonymousBytes: Int
        var scratchBytesPerThread: Int
        var threads: Int
    }

    func run() throws {
        do {
            let source = try input.open()
            var configuration = KMeans.Configuration(clusterCount: k)
            configuration.seed = seed
            configuration.threadCount = threads
            try checkRunnable(configuration, on: source, input: input.input)
            let work = FileManager.default.temporaryDirectory.appendingPathComponent("flashkmeans-sweep-\(getpid())").path
            try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: work) }
            // One start for every combination.
            let start = work + "/initial.npy"
            let centroids = try KMeans.initialCentroids(for: source, configuration: configuration)
            let writer = try MatrixWriter(path: start, format: .npy, rows: k, columns: source.dimension)
            try writer.append(centroids)
            try writer.close()

            // A centroid tile larger than k is k: measure each effective size once.
            var centroidTiles: [Int] = []
            for size in Self.sizes(tileCentroids)! where !centroidTiles.contains(min(size, k)) { centroidTiles.append(min(size, k)) }
            var rows: [Row] = []
            for pointTile in Self.sizes(tilePoints)! {
                for centroidTile in centroidTiles {
                    let row = try measure(pointTile: pointTile, centroidTile: centroidTile, start: start, work: work)
                    printError(String(
                        format: "tiles %6d × %-6d %8.3f s/iteration  RssAnon %7.1f MB  peak RSS %7.1f MB  scratch %7.1f MB/thread",
                        row.pointTile, row.centroidTile, row.secondsPerIteration, Double(row.peakAnonymousBytes) / 1_048_576,
                        Double(row.peakResidentBytes) / 1_048_576, Double(row.scratchBytesPerThread) / 1_048_576))
                    rows.append(row)
                }
            }
            try writeCSV(rows)
            print("wrote \(rows.count) measurements to \(output)")
            if let plot { try drawPlot(to: plot) }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw fail(error, input: input.input)
        }
    }

    /// Runs `flashkmeans cluster` in a child process and reads its report.
    private func measure(pointTile: Int, centroidTile: Int, start: String, work: String) throws -> Row {
        let results = work + "/run"
        var arguments = [
            "cluster", input.input, "--init", start, "-o", results, "--force", "--quiet", "--algorithm", "lloyd",
            "--max-iter", "\(iterations)", "--tol", "0", "--tile-points", "\(pointTile)", "--tile-centroids", "\(centroidTile)",
            "--dataset", input.dataset,
        ]
        if let format = input.format { arguments += ["--format", format.rawValue] }
        if let dim = input.dim { arguments += ["--dim", "\(dim)"] }
        if let threads { arguments += ["--threads", "\(threads)"] }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw OutputError(path: input.input, problem: "the run with tiles \(pointTile) × \(centroidTile) failed")
        }
        let report = try JSONDecoder().decode(RunReport.self, from: Data(contentsOf: URL(fileURLWithPath: results + "/report.json")))
        let seconds = report.iterations.map(\.seconds).sorted()
        return Row(
            pointTile: report.parameters.pointTile, centroidTile: report.parameters.centroidTile,
            secondsPerIteration: seconds[seconds.count / 2], peakResidentBytes: report.memory.peakResidentBytes,
            peakAnonymousBytes: report.memory.peakAnonymousBytes, scratchBytesPerThread: report.scratchBytesPerThread,
            threads: report.parameters.threads)
    }

    private func writeCSV(_ rows: [Row]) throws {
        var text = "tile_points,tile_centroids,seconds_per_iteration,peak_rss_bytes,peak_rss_anon_bytes,scratch_bytes_per_thread,threads\n"
        for row in rows {
            text += "\(row.pointTile),\(row.centroidTile),\(row.secondsPerIteration),\(row.peakResidentBytes),"
                + "\(row.peakAnonymousBytes),\(row.scratchBytesPerThread),\(row.threads)\n"
        }
        let temporary = output + ".tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8)) else {
            throw OutputError(path: output, problem: "cannot write the CSV here")
        }
        try renameIntoPlace(temporary, output)
    }

    /// Draws with `Scripts/plot_sweep.py` from the source tree this binary was built from.
    private func drawPlot(to path: String) throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Scripts/plot_sweep.py").path
        guard FileManager.default.fileExists(atPath: script) else {
            throw OutputError(path: path, problem: "cannot plot: \(script) is missing (the CSV \(output) is written)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, output, path]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw OutputError(path: path, problem: "plotting failed (needs python3 with matplotlib; the CSV \(output) is written)")
        }
        print("plotted to \(path)")
    }
}

import ArgumentParser
import FlashKMeans
import Foundation

struct Sweep: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure time and memory against tile sizes.",
        discussion: """
            Runs a few Lloyd iterations for every combination of point and centroid tile sizes, each in a \
            fresh child process so that peak memory figures are clean, all from the same initial centroids. \
            Writes sweep.csv (time per iteration, peak RSS, peak RssAnon, kernel scratch per thread) to the \
            output directory and, with --plot, sweep.png (needs python3 with matplotlib).
            """
    )

    static let csvName = "sweep.csv"
    static let plotName = "sweep.png"

    @OptionGroup var input: InputOptions

    @Option(name: .short, help: "Number of clusters.")
    var k: Int

    @Option(help: "Point tile sizes to try, comma-separated.")
    var tilePoints: String = "256,1024,4096,16384"

    @Option(help: "Centroid tile sizes to try, comma-separated.")
    var tileCentroids: String = "256,1024,4096"

    @Option(help: "Lloyd iterations per combination.")
    var iterations: Int = 3

    @Flag(help: "Also draw the results into sweep.png.")
    var plot = false

    @OptionGroup var output: OutputOptions
    @OptionGroup var threads: ThreadOptions
    @OptionGroup var seed: SeedOptions

    func validate() throws {
        guard k >= 1 else { throw ValidationError("-k must be at least 1") }
        guard iterations >= 1 else { throw ValidationError("--iterations must be at least 1") }
        for (name, list) in [("--tile-points", tilePoints), ("--tile-centroids", tileCentroids)] {
            guard let sizes = Self.sizes(list), !sizes.isEmpty else {
                throw ValidationError("\(name) must be a comma-separated list of positive integers, got '\(list)'")
            }
        }
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
            let directory = try output.prepare(fileNames: [Self.csvName] + (plot ? [Self.plotName] : []))
            var configuration = KMeans.Configuration(clusterCount: k)
            configuration.seed = seed.seed
            configuration.threadCount = threads.threads
            try configuration.validate(pointCount: source.rowCount, dimension: source.dimension)
            let work = FileManager.default.temporaryDirectory.appendingPathComponent("flashkmeans-sweep-\(getpid())").path
            let cleanup = try Interruption.registering {
                try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
                return Interruption.onInterrupt {
                    try? FileManager.default.removeItem(atPath: work)
                    return nil
                }
            }
            defer {
                Interruption.remove(cleanup)
                try? FileManager.default.removeItem(atPath: work)
            }
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
                    if !output.quiet {
                        printError(String(
                            format: "tiles %6d × %-6d %8.3f s/iteration  RssAnon %7.1f MB  peak RSS %7.1f MB  scratch %7.1f MB/thread",
                            row.pointTile, row.centroidTile, row.secondsPerIteration, Double(row.peakAnonymousBytes) / 1_048_576,
                            Double(row.peakResidentBytes) / 1_048_576, Double(row.scratchBytesPerThread) / 1_048_576))
                    }
                    rows.append(row)
                }
            }
            var files: [(name: String, write: (String) throws -> Void)] = [(Self.csvName, { path in try writeCSV(rows, to: path) })]
            if plot {
                files.append((Self.plotName, { path in
                    let csv = work + "/" + Self.csvName
                    try writeCSV(rows, to: csv)
                    try drawPlot(of: csv, to: path)
                }))
            }
            try directory.commit(files)
            print("wrote \(rows.count) measurements to \(output.output)/\(Self.csvName)" + (plot ? " and \(Self.plotName)" : ""))
        } catch {
            throw fail(error, context: ErrorContext(input: input.input))
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
        if let threads = threads.threads { arguments += ["--threads", "\(threads)"] }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // The child cleans up after itself on SIGTERM; a terminal's Ctrl-C reaches it directly.
        let child = process.processIdentifier
        let stop = Interruption.onInterrupt {
            kill(child, SIGTERM)
            return nil
        }
        process.waitUntilExit()
        Interruption.remove(stop)
        guard process.terminationStatus == 0 else {
            throw CommandError(path: input.input, message: "the run with tiles \(pointTile) × \(centroidTile) failed")
        }
        let report = try JSONDecoder().decode(RunReport.self, from: Data(contentsOf: URL(fileURLWithPath: results + "/report.json")))
        let seconds = report.iterations.map(\.seconds).sorted()
        return Row(
            pointTile: report.parameters.pointTile, centroidTile: report.parameters.centroidTile,
            secondsPerIteration: seconds[seconds.count / 2], peakResidentBytes: report.memory.peakResidentBytes,
            peakAnonymousBytes: report.memory.peakAnonymousBytes, scratchBytesPerThread: report.scratchBytesPerThread,
            threads: report.parameters.threads)
    }

    private func writeCSV(_ rows: [Row], to path: String) throws {
        var text = "tile_points,tile_centroids,seconds_per_iteration,peak_rss_bytes,peak_rss_anon_bytes,scratch_bytes_per_thread,threads\n"
        for row in rows {
            text += "\(row.pointTile),\(row.centroidTile),\(row.secondsPerIteration),\(row.peakResidentBytes),"
                + "\(row.peakAnonymousBytes),\(row.scratchBytesPerThread),\(row.threads)\n"
        }
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8)) else {
            throw OutputError(path: path, .cannotCreateFile("cannot write the CSV here"))
        }
    }

    /// Draws with `Scripts/plot_sweep.py` from the source tree this binary was built from.
    private func drawPlot(of csv: String, to path: String) throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Scripts/plot_sweep.py").path
        guard FileManager.default.fileExists(atPath: script) else {
            throw CommandError(path: output.output, message: "cannot plot: \(script) is missing (run again without --plot)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, csv, path]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CommandError(path: output.output, message: "plotting failed (needs python3 with matplotlib; run again without --plot)")
        }
    }
}

import Benchmark
#if canImport(Glibc)
import Glibc
#endif

/// Whole-process start-up of the release binary, where a small job spends most of its time:
/// `flashkmeans --version`, and a `cluster` run on 1,000 × 8 rows with k = 8. Build the
/// binary first (`swift build -c release` in the main package); without it these are skipped.
func startUpBenchmarks() {
    let binary = "../.build/release/flashkmeans"
    guard access(binary, X_OK) == 0 else {
        print("start-up benchmarks skipped: no \(binary) (run swift build -c release in the main package)")
        return
    }
    let directory = String(cString: mkdtemp(strdup("/tmp/flashkmeans-startup-XXXXXX")))
    let data = directory + "/blobs-1000x8.fbin"
    writeBlobs(to: data, rows: 1000, dimension: 8)

    let configuration = Benchmark.Configuration(
        metrics: [.wallClock], warmupIterations: 2, maxDuration: .seconds(10), maxIterations: 50)
    Benchmark("start-up: flashkmeans --version", configuration: configuration) { benchmark in
        for _ in benchmark.scaledIterations { blackHole(run([binary, "--version"])) }
    }
    Benchmark("start-up: flashkmeans cluster 1000x8, k=8", configuration: configuration) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(run([binary, "cluster", data, "-k", "8", "-o", directory + "/out", "--force", "--quiet"]))
        }
    }
}

/// Runs `arguments` with its output discarded and returns its exit status.
private func run(_ arguments: [String]) -> Int32 {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    var cArguments = arguments.map { strdup($0) } + [nil]
    defer { for argument in cArguments { free(argument) } }
    var child: pid_t = 0
    guard posix_spawn(&child, arguments[0], &actions, nil, &cArguments, environ) == 0 else { fatalError("could not start \(arguments[0])") }
    var status: Int32 = 0
    waitpid(child, &status, 0)
    precondition(status == 0, "\(arguments.joined(separator: " ")) failed with status \(status)")
    return status
}

/// `.fbin` blobs: an 8-byte header (rows, dimension as int32), then float32 rows.
private func writeBlobs(to path: String, rows: Int, dimension: Int) {
    var generator = SystemRandomNumberGenerator()
    var values = [Float]()
    for row in 0..<rows {
        let centre = Float(row % 8) * 10
        for _ in 0..<dimension { values.append(centre + Float.random(in: -1...1, using: &generator)) }
    }
    let file = fopen(path, "wb")!
    var header: [Int32] = [Int32(rows), Int32(dimension)]
    fwrite(&header, 4, 2, file)
    fwrite(values, 4, values.count, file)
    fclose(file)
}

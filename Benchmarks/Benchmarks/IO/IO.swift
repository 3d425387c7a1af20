import Benchmark
import FlashKMeans
import Foundation

/// Streaming every tile of a 200,000 × 128 file, per format (bytes per second of file).
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .peakMemoryResident, .readBytesPhysical, .mallocCountTotal],
        warmupIterations: 1, maxDuration: .seconds(10), maxIterations: 20)

    let rows = 200_000
    let dimension = 128
    let directory = NSTemporaryDirectory() + "flashkmeans-io-benchmark"
    try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let generator = BlobGenerator(dimension: dimension, blobCount: 64, spread: 1, seed: 3)
    let values = generator.rows(rows)

    for format in [EmbeddingFormat.npy, .fvecs, .fbin, .raw] {
        let path = "\(directory)/data.\(format == .raw ? "f32" : format.rawValue)"
        if !FileManager.default.fileExists(atPath: path), let writer = try? MatrixWriter(path: path, format: format, rows: rows, columns: dimension) {
            try? writer.append(values)
            try? writer.close()
        }
        Benchmark("stream \(format.rawValue), \(rows)x\(dimension)", configuration: .init(scalingFactor: .one)) { benchmark in
            let source = try openEmbeddings(at: path, options: .init(format: format, dimension: dimension))
            let tileRows = 512
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: tileRows * dimension)
            defer { scratch.deallocate() }
            benchmark.startMeasurement()
            var checksum: Float = 0
            var start = 0
            while start < source.rowCount {
                let range = start..<min(start + tileRows, source.rowCount)
                checksum += try source.withRows(range, scratch: scratch) { tile in
                    var total: Float = 0
                    for row in 0..<tile.rowCount { total += tile.row(row)[0] + tile.row(row)[dimension - 1] }
                    return total
                }
                start = range.upperBound
            }
            benchmark.stopMeasurement()
            blackHole(checksum)
        }
    }
}

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

    // Zero-copy float32 layouts through the library's writer; float16 .npy and uint8 .bvecs,
    // which are converted tile by tile, written here by hand.
    var files: [(name: String, format: EmbeddingFormat, path: String)] = []
    for format in [EmbeddingFormat.npy, .fvecs, .fbin, .raw] {
        let path = "\(directory)/data.\(format == .raw ? "f32" : format.rawValue)"
        if !FileManager.default.fileExists(atPath: path), let writer = try? MatrixWriter(path: path, format: format, rows: rows, columns: dimension) {
            try? writer.append(values)
            try? writer.close()
        }
        files.append((format.rawValue, format, path))
    }
    let halfPath = "\(directory)/data-f16.npy"
    if !FileManager.default.fileExists(atPath: halfPath) {
        var header = "{'descr': '<f2', 'fortran_order': False, 'shape': (\(rows), \(dimension)), }"
        header += String(repeating: " ", count: (64 - (10 + header.utf8.count + 1) % 64) % 64) + "\n"
        var bytes: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)]
        bytes += Array(header.utf8)
        for value in values { withUnsafeBytes(of: Float16(value).bitPattern.littleEndian) { bytes += $0 } }
        FileManager.default.createFile(atPath: halfPath, contents: Data(bytes))
    }
    files.append(("npy float16", .npy, halfPath))
    let bytePath = "\(directory)/data.bvecs"
    if !FileManager.default.fileExists(atPath: bytePath) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(rows * (dimension + 4))
        for row in 0..<rows {
            withUnsafeBytes(of: Int32(dimension).littleEndian) { bytes += $0 }
            for index in 0..<dimension { bytes.append(UInt8(clamping: Int((values[row * dimension + index] * 16 + 128).rounded()))) }
        }
        FileManager.default.createFile(atPath: bytePath, contents: Data(bytes))
    }
    files.append(("bvecs uint8", .bvecs, bytePath))

    for (name, format, path) in files {
        Benchmark("stream \(name), \(rows)x\(dimension)", configuration: .init(scalingFactor: .one)) { benchmark in
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

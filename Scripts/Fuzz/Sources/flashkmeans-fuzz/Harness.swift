import FlashKMeans
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Which reader the fuzzer drives, from `FUZZ_TARGET`: npy, fvecs, bvecs, fbin, u8bin, i8bin,
/// f16bin, raw, hdf5, parquet, csv, tsv, faiss (the IVF-Flat index reader) or checkpoint.
nonisolated(unsafe) private var target = "npy"
/// Where each input is written: readers take paths, and map them as they would a user's file.
nonisolated(unsafe) private var inputPath = ""
/// Where a table's float32 copy goes: beside the input.
nonisolated(unsafe) private var temporaryDirectory = ""

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>) -> Int32 {
    target = ProcessInfo.processInfo.environment["FUZZ_TARGET"] ?? "npy"
    let directory = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
    inputPath = "\(directory)/flashkmeans-fuzz-\(getpid()).\(target)"
    temporaryDirectory = directory
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = data.map { UnsafeBufferPointer(start: $0, count: size) } ?? UnsafeBufferPointer(start: nil, count: 0)
    var input = Array(bytes)
    // For raw files the first byte is the dimension the user would pass with --dim.
    var dimension: Int?
    if target == "raw" {
        guard !input.isEmpty else { return 0 }
        dimension = Int(input.removeFirst())
    }
    // For tables the first byte is the layout the user would give: bit 0 --header, bits 1–2
    // --skip-columns.
    var hasHeaderLine = false
    var skippedColumns = 0
    if target == "csv" || target == "tsv" {
        guard !input.isEmpty else { return 0 }
        let layout = input.removeFirst()
        hasHeaderLine = layout & 1 != 0
        skippedColumns = Int(layout >> 1) & 3
    }
    let descriptor = open(inputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    guard descriptor >= 0 else { fatalError("cannot write \(inputPath)") }
    input.withUnsafeBytes { _ = write(descriptor, $0.baseAddress, $0.count) }
    close(descriptor)
    defer { unlink(inputPath) }

    switch target {
    case "faiss":
        if let index = try? FaissIndexFile.readIVFFlat(at: inputPath) {
            // Touch everything the reader claims to hold.
            precondition(index.centroids.count % max(index.dimension, 1) == 0)
            precondition(index.vectors.count == index.lists.ids.count * index.dimension)
        }
    case "checkpoint":
        _ = try? Checkpoint.read(from: inputPath)
    default:
        guard let format = EmbeddingFormat(rawValue: target) else { fatalError("unknown FUZZ_TARGET \(target)") }
        readRows(EmbeddingOpenOptions(
            format: format, dimension: dimension, hasHeaderLine: hasHeaderLine, skippedColumns: skippedColumns,
            temporaryDirectory: temporaryDirectory))
    }
    return 0
}

/// Opens the file and reads up to 4096 rows tile by tile, as a clustering pass would: a
/// reader must either refuse the file with an error or lend rows it really has.
private func readRows(_ options: EmbeddingOpenOptions) {
    guard let source = try? openEmbeddings(at: inputPath, options: options) else { return }
    let rows = min(source.rowCount, 4096)
    let tile = 64
    guard source.dimension > 0, source.dimension <= 1 << 16 else { return }
    let scratch = UnsafeMutablePointer<Float>.allocate(capacity: tile * source.dimension)
    defer { scratch.deallocate() }
    var sum: Float = 0
    for start in stride(from: 0, to: rows, by: tile) {
        let range = start..<min(start + tile, rows)
        _ = try? source.withRows(range, scratch: scratch) { rowTile in
            for row in 0..<rowTile.rowCount { sum += rowTile.row(row)[rowTile.dimension - 1] }
        }
    }
    blackHole(sum)
}

@inline(never) private func blackHole(_ value: Float) { withExtendedLifetime(value) {} }

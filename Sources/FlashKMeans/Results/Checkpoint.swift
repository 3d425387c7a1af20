#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The state of a run after a completed iteration, from which
/// ``KMeans/fit(_:configuration:progress:resumingFrom:checkpoint:)`` continues to exactly the
/// result an uninterrupted run gives, whatever the algorithm or thread count.
///
/// It holds the centroids before and after the iteration's update and the statistics so
/// far, nothing that grows with n: the labels of the last assignment are recomputed on
/// resume by one pass with the earlier centroids (labels are exact, so they come out the
/// same), and pruning bounds are rebuilt, which changes speed, never results.
public struct Checkpoint: Sendable, Equatable {
    /// Iterations completed (assignment and update).
    public let completedIterations: Int
    /// What the caller recorded to recognise the run (its settings), compared on resume by
    /// the caller; the library compares ``input`` and the shape.
    public var parameters: [String: String]
    /// The input the run read.
    public let input: InputFingerprint
    /// k.
    public let clusterCount: Int
    /// d.
    public let dimension: Int
    /// The engine's scale (``DataScale``): centroids below are in the engine's units.
    let scaleExponent: Int
    let initializationSampleSize: Int
    let initializationSeconds: Double
    /// The centroids the last assignment used, `k × d`.
    let previousCentroids: [Float]
    /// The centroids after the last update, `k × d`.
    let centroids: [Float]
    /// Every iteration so far, in the engine's units.
    let iterations: [IterationStats]

    init(
        completedIterations: Int, parameters: [String: String], input: InputFingerprint, clusterCount: Int, dimension: Int,
        scaleExponent: Int, initializationSampleSize: Int, initializationSeconds: Double, previousCentroids: [Float],
        centroids: [Float], iterations: [IterationStats]
    ) {
        self.completedIterations = completedIterations
        self.parameters = parameters
        self.input = input
        self.clusterCount = clusterCount
        self.dimension = dimension
        self.scaleExponent = scaleExponent
        self.initializationSampleSize = initializationSampleSize
        self.initializationSeconds = initializationSeconds
        self.previousCentroids = previousCentroids
        self.centroids = centroids
        self.iterations = iterations
    }

    /// The fixed-size part, stored as JSON.
    private struct Header: Codable {
        var format: Int
        var completedIterations: Int
        var parameters: [String: String]
        var input: InputFingerprint
        var clusterCount: Int
        var dimension: Int
        var scaleExponent: Int
        var initializationSampleSize: Int
        var initializationSeconds: Double
        var iterations: [IterationStats]
    }

    private static let magic = Array("FKMCKPT\u{1}".utf8)

    /// Writes the checkpoint to `path` atomically: to a temporary beside it, flushed to disk,
    /// then renamed over `path`, and the directory flushed; a crash leaves the old
    /// checkpoint or the new one.
    ///
    /// Layout: 8 bytes of magic, the JSON header's length (8 bytes, little-endian), the
    /// header, the two centroid sets as little-endian float32, and an FNV-1a hash of all
    /// that, so that a damaged file is refused rather than resumed from.
    /// - Throws: ``OutputError`` when it cannot be written.
    public func write(to path: String) throws {
        let bytes = try encoded()

        // Plain system calls: Foundation's writers stage through hidden files of their own,
        // which a run stopped at that moment would leave behind.
        let temporary = path + ".tmp-\(getpid())"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw OutputError(path: path, .cannotCreateFile(Syscalls.errorMessage())) }
        var isOpen = true
        do {
            var written = 0
            while written < bytes.count {
                let count = bytes[written...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
                if count < 0, errno == EINTR { continue }
                guard count > 0 else { throw OutputError(path: path, .writeFailed(Syscalls.errorMessage())) }
                written += count
            }
            guard fsync(descriptor) == 0 else { throw OutputError(path: path, .syncFailed(Syscalls.errorMessage())) }
            close(descriptor)
            isOpen = false
            guard rename(temporary, path) == 0 else { throw OutputError(path: path, .renameFailed(Syscalls.errorMessage())) }
            let parent = PathComponents.parent(of: path)
            try Syscalls.syncDirectory(parent.isEmpty ? "." : parent)
        } catch {
            if isOpen { close(descriptor) }
            unlink(temporary)
            throw error
        }
    }

    /// The bytes ``write(to:)`` writes, for sending a checkpoint to the other ranks of a job.
    public func encoded() throws -> [UInt8] {
        let header = Header(
            format: 1, completedIterations: completedIterations, parameters: parameters, input: input, clusterCount: clusterCount,
            dimension: dimension, scaleExponent: scaleExponent, initializationSampleSize: initializationSampleSize,
            initializationSeconds: initializationSeconds, iterations: iterations)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let json = try encoder.encode(header)
        var bytes = Self.magic
        bytes.reserveCapacity(bytes.count + 16 + json.count + (previousCentroids.count + centroids.count) * 4 + 8)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { bytes += $0 }
        bytes += json
        for value in previousCentroids + centroids { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes += $0 } }
        withUnsafeBytes(of: Self.hash(bytes).littleEndian) { bytes += $0 }
        return bytes
    }

    /// Reads a checkpoint written by ``write(to:)``.
    /// - Throws: ``DatasetError`` when the file is missing, damaged or of another format.
    public static func read(from path: String) throws -> Checkpoint {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DatasetError(path: path, .system(operation: "open", message: Syscalls.errorMessage()))
        }
        return try decoded(from: [UInt8](data), path: path)
    }

    /// A checkpoint from the bytes of ``encoded()``.
    /// - Parameter path: Where the bytes came from, as errors name it.
    /// - Throws: ``DatasetError`` when they are damaged or of another format.
    public static func decoded(from bytes: [UInt8], path: String) throws -> Checkpoint {
        func damaged(_ why: String) -> DatasetError { DatasetError(path: path, .badHeader("not a usable checkpoint: \(why)")) }
        guard bytes.count >= magic.count + 16, Array(bytes[0..<magic.count]) == magic else { throw damaged("unknown format") }
        let stored = bytes[(bytes.count - 8)...].withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard stored == hash(bytes[0..<(bytes.count - 8)]) else { throw damaged("damaged") }
        let jsonCount = bytes[8..<16].withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard jsonCount <= UInt64(bytes.count - 24) else { throw damaged("damaged") }
        let jsonEnd = 16 + Int(jsonCount)
        guard let header = try? JSONDecoder().decode(Header.self, from: Data(bytes[16..<jsonEnd])), header.format == 1 else {
            throw damaged("unknown format")
        }
        let (values, overflow) = header.clusterCount.multipliedReportingOverflow(by: header.dimension)
        guard !overflow, header.clusterCount > 0, header.dimension > 0, bytes.count - 8 - jsonEnd == values * 8 else {
            throw damaged("damaged")
        }
        var floats = [Float](repeating: 0, count: 2 * values)
        bytes[jsonEnd..<(bytes.count - 8)].withUnsafeBytes { raw in
            for index in 0..<(2 * values) {
                floats[index] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self)))
            }
        }
        return Checkpoint(
            completedIterations: header.completedIterations, parameters: header.parameters, input: header.input,
            clusterCount: header.clusterCount, dimension: header.dimension, scaleExponent: header.scaleExponent,
            initializationSampleSize: header.initializationSampleSize, initializationSeconds: header.initializationSeconds,
            previousCentroids: Array(floats[0..<values]), centroids: Array(floats[values...]), iterations: header.iterations)
    }

    /// 64-bit FNV-1a.
    static func hash<Bytes: Collection>(_ bytes: Bytes) -> UInt64 where Bytes.Element == UInt8 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return hash
    }
}

/// Enough about an input to tell, on resume, that it is the same data: its shape and type,
/// its size and modification time on disk (for a set of shards, those of every shard), and a
/// hash of 64 rows spread over it.
public struct InputFingerprint: Sendable, Codable, Equatable {
    public var path: String
    public var rowCount: Int
    public var dimension: Int
    public var dataType: String
    public var byteCount: Int
    /// Seconds since 1970 of the last modification; 0 for rows in memory and for a set of
    /// shards, whose files carry their own (``shards``).
    public var modified: Double
    /// FNV-1a of the float32 bits of the sampled rows.
    public var sampleHash: UInt64
    /// For a set of shards, each file's size and modification time, in reading order; `nil`
    /// for a single file (and in checkpoints written before sets were read).
    public var shards: [ShardStamp]?

    /// A shard's size and modification time on disk: a shard replaced, rewritten or touched
    /// since the checkpoint shows here even when the 64 sampled rows miss it.
    public struct ShardStamp: Sendable, Codable, Equatable {
        public var path: String
        public var byteCount: Int
        /// Seconds since 1970 of the last modification.
        public var modified: Double
    }

    /// Reads 64 evenly spaced rows of `source`.
    /// - Throws: ``DatasetError`` when they cannot be read.
    public init(of source: any EmbeddingSource) throws {
        let description = source.description
        path = description.path
        rowCount = description.rowCount
        dimension = description.dimension
        dataType = description.dataType
        byteCount = description.byteCount
        /// Size and modification time, or zeros for a path that names no file.
        func sizeAndTime(_ path: String) -> (byteCount: Int, modified: Double) {
            var status = stat()
            guard stat(path, &status) == 0 else { return (0, 0) }
            return (Int(status.st_size), Double(status.st_mtim.tv_sec) + Double(status.st_mtim.tv_nsec) / 1e9)
        }
        if let shardFiles = description.shards {
            // Not the time of the directory or list that named them: a directory's changes
            // whenever anything is added beside the shards, such as this run's own output.
            modified = 0
            shards = shardFiles.map { shard in
                let (byteCount, modified) = sizeAndTime(shard.path)
                return ShardStamp(path: shard.path, byteCount: byteCount, modified: modified)
            }
        } else {
            modified = sizeAndTime(description.path).modified
            shards = nil
        }
        let rows = Array(Set((0..<64).map { $0 * description.rowCount / 64 })).sorted()
        var values = [Float](repeating: 0, count: rows.count * description.dimension)
        // Copied as stored: a gather would refuse rows whose squared norm overflows float32,
        // which the run itself computes at another scale.
        try values.withUnsafeMutableBufferPointer { buffer in
            for (slot, row) in rows.enumerated() {
                try source.copyRows(row..<(row + 1), into: buffer.baseAddress! + slot * description.dimension)
            }
        }
        sampleHash = Checkpoint.hash(values.flatMap { value in withUnsafeBytes(of: value.bitPattern.littleEndian) { Array($0) } })
    }

    /// What differs between this input and `other`, in words, or nil when they are the same.
    public func difference(from other: InputFingerprint) -> String? {
        if rowCount != other.rowCount || dimension != other.dimension || dataType != other.dataType {
            return "it was \(other.rowCount) × \(other.dimension) \(other.dataType), now \(rowCount) × \(dimension) \(dataType)"
        }
        if let difference = shardLayoutDifference(from: other) { return difference }
        if byteCount != other.byteCount { return "its size changed from \(other.byteCount) to \(byteCount) bytes" }
        if sampleHash != other.sampleHash { return "its contents changed" }
        if let shards, let earlier = other.shards,
           let touched = zip(shards, earlier).first(where: { $0.modified != $1.modified })?.0 {
            return "shard \(touched.path) was modified since"
        }
        if modified != other.modified { return "it was modified since" }
        return nil
    }

    /// Whether the input went from one file to shards or back, or its shards changed in
    /// number or size, in words. Paths are not compared, as a single file's are not, so that
    /// a set may be resumed from another directory.
    private func shardLayoutDifference(from other: InputFingerprint) -> String? {
        switch (shards, other.shards) {
        case (nil, nil):
            return nil
        case let (now?, nil):
            return "it was one file, now a set of \(now.count) shards"
        case let (nil, earlier?):
            return "it was a set of \(earlier.count) shards, now one file"
        case let (now?, earlier?):
            if now.count != earlier.count { return "it was a set of \(earlier.count) shards, now \(now.count)" }
            for (shard, before) in zip(now, earlier) where shard.byteCount != before.byteCount {
                return "shard \(shard.path) changed size from \(before.byteCount) to \(shard.byteCount) bytes"
            }
            return nil
        }
    }
}

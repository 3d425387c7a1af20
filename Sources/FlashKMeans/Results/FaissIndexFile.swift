#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes and reads faiss's on-disk `IndexIVFFlat` (as `faiss.write_index` lays it out,
/// faiss 1.7 and later): so that `faiss.read_index` opens the index `flashkmeans ivf` builds.
///
/// Layout, all little-endian and packed: `"IwFl"`; the index header (int32 d, int64
/// ntotal, two int64 placeholders of 2²⁰, a one-byte is_trained, int32 metric: 0 inner
/// product, 1 L2); uint64 nlist and nprobe; the quantizer, an `IndexFlat` (`"IxF2"` or
/// `"IxFI"`, its own header, then uint64 float count and the centroids); the direct map
/// (one byte 0 and an empty uint64-sized array); then `"ilar"` array inverted lists:
/// uint64 nlist and code size (4 d), `"full"` with nlist uint64 sizes (or `"sprs"` with
/// (list, size) pairs when at most half the lists hold rows), and for each non-empty list
/// its vectors' float32 codes followed by its int64 ids.
public enum FaissIndexFile {
    /// The metric codes faiss stores.
    static func metricCode(_ metric: Metric) -> Int32 { metric == .cosine ? 0 : 1 }

    /// Writes an `IndexIVFFlat` with a flat quantizer holding `centroids`.
    ///
    /// Under ``Metric/cosine`` the index uses faiss's inner-product metric (code 0) with an
    /// `IndexFlatIP` quantizer, so `faiss` ranks by cosine similarity on the stored unit
    /// vectors; under ``Metric/l2``, code 1 and `IndexFlatL2`. `nprobe` is written as 1.
    ///
    /// - Parameters:
    ///   - path: The file to create or truncate.
    ///   - dimension: d.
    ///   - metric: The metric recorded in the index.
    ///   - centroids: `k × d`, row-major: the quantizer, one list per centroid.
    ///   - lists: The row ids of each list (k lists).
    ///   - vectors: Writes the float32 vector of a row id into the `d` floats it is given
    ///     (for cosine, already normalized); called once per id, in list order.
    /// - Throws: ``OutputError`` when the file cannot be written; whatever `vectors` throws.
    public static func writeIVFFlat(
        to path: String, dimension: Int, metric: Metric, centroids: [Float], lists: InvertedLists,
        vectors: (Int, UnsafeMutablePointer<Float>) throws -> Void
    ) throws {
        guard let file = fopen(path, "wb") else {
            throw OutputError(path: path, .cannotCreateFile(Syscalls.errorMessage()))
        }
        var closed = false
        defer { if !closed { fclose(file) } }
        func put<T: BitwiseCopyable>(_ value: T) throws {
            var copy = value
            guard fwrite(&copy, MemoryLayout<T>.size, 1, file) == 1 else { throw OutputError(path: path, .writeFailed(Syscalls.errorMessage())) }
        }
        func putBytes(_ pointer: UnsafeRawPointer, _ count: Int) throws {
            guard count == 0 || fwrite(pointer, 1, count, file) == count else { throw OutputError(path: path, .writeFailed(Syscalls.errorMessage())) }
        }
        func fourcc(_ text: StaticString) throws { try putBytes(text.utf8Start, 4) }
        func header(total: Int) throws {
            try put(Int32(dimension))
            try put(Int64(total))
            try put(Int64(1 << 20))
            try put(Int64(1 << 20))
            try put(UInt8(1))
            try put(metricCode(metric))
        }
        let clusterCount = centroids.count / dimension
        try fourcc("IwFl")
        try header(total: lists.ids.count)
        try put(UInt64(clusterCount))
        try put(UInt64(1))
        try fourcc(metric == .cosine ? "IxFI" : "IxF2")
        try header(total: clusterCount)
        try put(UInt64(centroids.count))
        try centroids.withUnsafeBytes { try putBytes($0.baseAddress!, $0.count) }
        try put(UInt8(0))
        try put(UInt64(0))
        try fourcc("ilar")
        try put(UInt64(clusterCount))
        try put(UInt64(dimension * 4))
        let nonEmpty = (0..<clusterCount).filter { !lists.list($0).isEmpty }
        if nonEmpty.count > clusterCount / 2 {
            try fourcc("full")
            try put(UInt64(clusterCount))
            for list in 0..<clusterCount { try put(UInt64(lists.list(list).count)) }
        } else {
            try fourcc("sprs")
            try put(UInt64(2 * nonEmpty.count))
            for list in nonEmpty {
                try put(UInt64(list))
                try put(UInt64(lists.list(list).count))
            }
        }
        let vector = UnsafeMutablePointer<Float>.allocate(capacity: dimension)
        defer { vector.deallocate() }
        for list in nonEmpty {
            for id in lists.list(list) {
                try vectors(Int(id), vector)
                try putBytes(vector, dimension * 4)
            }
            try lists.list(list).withUnsafeBytes { try putBytes($0.baseAddress!, $0.count) }
        }
        closed = true
        guard fclose(file) == 0 else { throw OutputError(path: path, .writeFailed(Syscalls.errorMessage())) }
    }

    /// What ``readIVFFlat(at:)`` finds in a file.
    public struct IVFFlat: Equatable, Sendable {
        /// d.
        public var dimension: Int
        /// ``Metric/cosine`` for faiss's inner-product metric, ``Metric/l2`` for L2.
        public var metric: Metric
        /// The quantizer's `k × d` centroids, row-major.
        public var centroids: [Float]
        /// The row ids of each list, in stored order.
        public var lists: InvertedLists
        /// The stored vectors, in list order (`ids.count × d`).
        public var vectors: [Float]
    }

    /// Reads an `IndexIVFFlat` in the layout ``writeIVFFlat(to:dimension:metric:centroids:lists:vectors:)``
    /// writes (both list encodings), checking every field on the way.
    ///
    /// Meant for checking what was written: it reads the whole index into memory.
    ///
    /// - Parameter path: An index file.
    /// - Returns: The index's dimension, metric, centroids, lists and vectors.
    /// - Throws: ``DatasetError`` when the file cannot be read, is not an `IndexIVFFlat`
    ///   with a flat quantizer, or does not add up (naming the field that failed).
    public static func readIVFFlat(at path: String) throws -> IVFFlat {
        let mapped = try MappedFile(path: path)
        return try mapped.withBytes { bytes throws -> IVFFlat in
            var offset = 0
            func bad(_ why: String) -> DatasetError { DatasetError(path: path, .badHeader(why)) }
            func take<T: BitwiseCopyable>(_ type: T.Type) throws -> T {
                guard offset + MemoryLayout<T>.size <= bytes.count else { throw bad("file ends at byte \(offset)") }
                defer { offset += MemoryLayout<T>.size }
                return bytes.loadUnaligned(fromByteOffset: offset, as: T.self)
            }
            func fourcc() throws -> String {
                guard offset + 4 <= bytes.count else { throw bad("file ends at byte \(offset)") }
                defer { offset += 4 }
                return String(decoding: bytes[offset..<(offset + 4)], as: UTF8.self)
            }
            /// A count read from the file, checked against what is left of it: each of the
            /// counted items takes at least `bytesEach` bytes.
            func count(of what: String, bytesEach: Int) throws -> Int {
                let value = try take(UInt64.self)
                guard value <= UInt64((bytes.count - offset) / max(bytesEach, 1)) else {
                    throw bad("\(what) \(value) is more than the file holds")
                }
                return Int(value)
            }
            func floats(_ count: Int) throws -> [Float] {
                guard count <= (bytes.count - offset) / 4 else { throw bad("file ends at byte \(offset)") }
                return try (0..<count).map { _ in try take(Float.self) }
            }
            func header() throws -> (dimension: Int, total: Int, metric: Int32) {
                let dimension = Int(try take(Int32.self))
                let total = Int(try take(Int64.self))
                guard try take(Int64.self) == 1 << 20, try take(Int64.self) == 1 << 20 else { throw bad("header placeholders") }
                guard try take(UInt8.self) == 1 else { throw bad("index not trained") }
                return (dimension, total, try take(Int32.self))
            }
            guard try fourcc() == "IwFl" else { throw bad("not an IndexIVFFlat") }
            let top = try header()
            guard top.metric == 0 || top.metric == 1 else { throw bad("metric \(top.metric)") }
            guard top.dimension > 0, top.dimension <= bytes.count else { throw bad("dimension \(top.dimension)") }
            guard top.total >= 0 else { throw bad("row count \(top.total)") }
            // Every list has a centroid of `dimension` floats.
            let listCount = try count(of: "list count", bytesEach: 4 * top.dimension)
            _ = try take(UInt64.self)
            let quantizerType = try fourcc()
            guard quantizerType == (top.metric == 0 ? "IxFI" : "IxF2") else { throw bad("quantizer \(quantizerType)") }
            let quantizer = try header()
            guard quantizer.dimension == top.dimension, quantizer.total == listCount else { throw bad("quantizer shape") }
            guard try take(UInt64.self) == UInt64(listCount * top.dimension) else { throw bad("centroid count") }
            let centroids = try floats(listCount * top.dimension)
            guard try take(UInt8.self) == 0, try take(UInt64.self) == 0 else { throw bad("direct map") }
            guard try fourcc() == "ilar", try take(UInt64.self) == UInt64(listCount),
                  try take(UInt64.self) == UInt64(top.dimension * 4) else { throw bad("inverted lists header") }
            var sizes = [Int](repeating: 0, count: listCount)
            switch try fourcc() {
            case "full":
                guard try take(UInt64.self) == UInt64(listCount) else { throw bad("list sizes") }
                for list in 0..<listCount { sizes[list] = try count(of: "list size", bytesEach: 4 * top.dimension + 8) }
            case "sprs":
                let pairs = try count(of: "sparse list entries", bytesEach: 8) / 2
                for _ in 0..<pairs {
                    let list = try take(UInt64.self)
                    guard list < UInt64(listCount) else { throw bad("sparse list \(list)") }
                    sizes[Int(list)] = try count(of: "list size", bytesEach: 4 * top.dimension + 8)
                }
            case let other:
                throw bad("list encoding \(other)")
            }
            var offsets: [Int64] = [0]
            var ids: [Int64] = []
            var vectors: [Float] = []
            for list in 0..<listCount {
                vectors += try floats(sizes[list] * top.dimension)
                for _ in 0..<sizes[list] { ids.append(try take(Int64.self)) }
                offsets.append(Int64(ids.count))
            }
            guard ids.count == top.total, offset == bytes.count else { throw bad("\(bytes.count - offset) bytes left over") }
            var lists = InvertedLists(labels: [], clusterCount: listCount)
            lists.offsets = offsets
            lists.ids = ids
            return IVFFlat(
                dimension: top.dimension, metric: top.metric == 0 ? .cosine : .l2, centroids: centroids, lists: lists, vectors: vectors)
        }
    }
}

import CHDF5
import FlashKMeans
import Foundation

/// A fresh directory under the system's temporary directory, removed by `cleanup()`.
public struct TemporaryDirectory {
    public let path: String

    public init() {
        path = NSTemporaryDirectory() + "flashkmeans-test-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    public func file(_ name: String) -> String { path + "/" + name }

    public func cleanup() { try? FileManager.default.removeItem(atPath: path) }
}

public enum Fixtures {
    /// Rows in `blobCount` tight, far-apart blobs, stored blob after blob;
    /// `firstRows[b]` is the first row of blob `b`.
    public static func separatedBlobs(
        pointCount: Int, dimension: Int, blobCount: Int, offset: Float = 0, scale: Float = 10, spread: Float = 0.3, seed: UInt64
    ) -> (points: [Float], firstRows: [Int]) {
        var generator = SeededGenerator(seed: seed)
        let centers = (0..<(blobCount * dimension)).map { _ in offset + scale * Float(normal(&generator)) }
        var points: [Float] = []
        var firstRows: [Int] = []
        for point in 0..<pointCount {
            let blob = point * blobCount / pointCount
            if firstRows.count == blob { firstRows.append(point) }
            for index in 0..<dimension {
                points.append(centers[blob * dimension + index] + spread * Float(normal(&generator)))
            }
        }
        return (points, firstRows)
    }

    /// Standard normal rows.
    public static func gaussian(pointCount: Int, dimension: Int, seed: UInt64) -> [Float] {
        var generator = SeededGenerator(seed: seed)
        return (0..<(pointCount * dimension)).map { _ in Float(normal(&generator)) }
    }

    public static func normal(_ generator: inout SeededGenerator) -> Double {
        let u = max(generator.nextUnitDouble(), 0x1p-60)
        return (-2 * log(u)).squareRoot() * cos(2 * .pi * generator.nextUnitDouble())
    }

    /// `count` distinct row indices, deterministic for a seed.
    public static func distinctRows(_ count: Int, of rowCount: Int, seed: UInt64) -> [Int] {
        var generator = SeededGenerator(seed: seed)
        var rows = Array(0..<rowCount)
        for index in 0..<count {
            rows.swapAt(index, index + generator.nextIndex(below: rowCount - index))
        }
        return Array(rows[0..<count])
    }

    public static func rows(_ indices: [Int], of points: [Float], dimension: Int) -> [Float] {
        indices.flatMap { points[($0 * dimension)..<(($0 + 1) * dimension)] }
    }

    // MARK: File writers for formats and variants the library does not write.

    /// Writes an `.npy` with an arbitrary header: for float16/float64, other
    /// versions, and deliberately bad files.
    public static func writeNpy(
        _ path: String, descr: String, shape: [Int], payload: [UInt8], version: UInt8 = 1, fortranOrder: Bool = false
    ) {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descr)', 'fortran_order': \(fortranOrder ? "True" : "False"), 'shape': \(shapeText), }"
        let prefixLength = version == 1 ? 10 : 12
        header += String(repeating: " ", count: (64 - (prefixLength + header.utf8.count + 1) % 64) % 64) + "\n"
        var bytes: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, version, 0]
        let length = header.utf8.count
        if version == 1 {
            bytes += [UInt8(length & 0xFF), UInt8(length >> 8)]
        } else {
            bytes += [UInt8(length & 0xFF), UInt8((length >> 8) & 0xFF), UInt8((length >> 16) & 0xFF), UInt8(length >> 24)]
        }
        bytes += Array(header.utf8) + payload
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
    }

    public static func bytes<T>(of values: [T]) -> [UInt8] {
        values.withUnsafeBytes { Array($0) }
    }

    /// Writes a raw byte file.
    public static func writeBytes(_ path: String, _ bytes: [UInt8]) {
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
    }

    /// How a chunked HDF5 test dataset is filtered.
    public enum HDF5Filters: Sendable {
        case none, deflate, shuffleAndDeflate, fletcher32
    }

    /// Writes a 2-D (or other rank) HDF5 dataset of float32 or float64.
    ///
    /// - Parameters:
    ///   - chunkRows: When given, the dataset is chunked by this many rows (and
    ///     `chunkColumns` columns, all of them by default), filtered by `filters`;
    ///     otherwise it is contiguous.
    public static func writeHDF5(
        _ path: String, dataset: String, values: [Float], shape: [Int], float64: Bool = false, chunkRows: Int? = nil,
        chunkColumns: Int? = nil, filters: HDF5Filters = .deflate
    ) {
        let fileType = float64 ? chdf5_ieee_f64le() : chdf5_ieee_f32le()
        writeHDF5(path, dataset: dataset, shape: shape, fileType: fileType, chunkRows: chunkRows, chunkColumns: chunkColumns, filters: filters) {
            H5Dwrite($0, chdf5_native_float(), chdf5_s_all(), chdf5_s_all(), chdf5_p_default(), values)
        }
    }

    /// How HDF5 1.10, which predefines no 16-bit float, is told about one: a float32 type
    /// narrowed to two bytes with IEEE half's fields, as h5py declares numpy's float16.
    /// `exponentBits` 8 (and 7 mantissa bits) gives bfloat16 instead. Close it with `H5Tclose`.
    public static func hdf5HalfType(bigEndian: Bool = false, exponentBits: Int = 5) -> hid_t {
        hdf5Lock.lock()
        defer { hdf5Lock.unlock() }
        let type = H5Tcopy(chdf5_ieee_f32le())
        let mantissaBits = 15 - exponentBits
        H5Tset_fields(type, 15, mantissaBits, exponentBits, 0, mantissaBits)
        H5Tset_size(type, 2)
        H5Tset_ebias(type, (1 << (exponentBits - 1)) - 1)
        if bigEndian { H5Tset_order(type, H5T_ORDER_BE) }
        return type
    }

    /// Writes a 2-D HDF5 dataset of float16 values as h5py does (``hdf5HalfType(bigEndian:exponentBits:)``),
    /// stored in the file's byte order with no conversion by HDF5. Parameters as for the float32 writer.
    public static func writeHDF5(
        _ path: String, dataset: String, halfValues: [Float16], shape: [Int], bigEndian: Bool = false, chunkRows: Int? = nil,
        chunkColumns: Int? = nil, filters: HDF5Filters = .deflate
    ) {
        let fileType = hdf5HalfType(bigEndian: bigEndian)
        defer { closeHDF5Type(fileType) }
        let memoryType = hdf5HalfType()
        defer { closeHDF5Type(memoryType) }
        writeHDF5(path, dataset: dataset, shape: shape, fileType: fileType, chunkRows: chunkRows, chunkColumns: chunkColumns, filters: filters) {
            H5Dwrite($0, memoryType, chdf5_s_all(), chdf5_s_all(), chdf5_p_default(), halfValues)
        }
    }

    /// Closes a type made by ``hdf5HalfType(bigEndian:exponentBits:)``.
    public static func closeHDF5Type(_ type: hid_t) {
        hdf5Lock.withLock { _ = H5Tclose(type) }
    }

    /// Creates the file and a dataset of `fileType`, and lets `write` fill it (holding the
    /// library's HDF5 lock: `write` must not take it).
    public static func writeHDF5(
        _ path: String, dataset: String, shape: [Int], fileType: hid_t, chunkRows: Int? = nil, chunkColumns: Int? = nil,
        filters: HDF5Filters = .deflate, write: (hid_t) -> herr_t
    ) {
        hdf5Lock.lock()
        defer { hdf5Lock.unlock() }
        let file = H5Fcreate(path, chdf5_acc_trunc(), chdf5_p_default(), chdf5_p_default())
        defer { H5Fclose(file) }
        var dims = shape.map { hsize_t($0) }
        let space = H5Screate_simple(Int32(dims.count), &dims, nil)
        defer { H5Sclose(space) }
        let creation = H5Pcreate(chdf5_p_dataset_create())
        defer { H5Pclose(creation) }
        if let chunkRows {
            var chunk = dims
            chunk[0] = hsize_t(chunkRows)
            if let chunkColumns { chunk[1] = hsize_t(chunkColumns) }
            H5Pset_chunk(creation, Int32(chunk.count), &chunk)
            switch filters {
            case .none: break
            case .deflate: H5Pset_deflate(creation, 4)
            case .shuffleAndDeflate:
                H5Pset_shuffle(creation)
                H5Pset_deflate(creation, 4)
            case .fletcher32: H5Pset_fletcher32(creation)
            }
        }
        let handle = H5Dcreate2(file, dataset, fileType, space, chdf5_p_default(), creation, chdf5_p_default())
        defer { H5Dclose(handle) }
        precondition(write(handle) >= 0, "HDF5 could not write \(path)")
    }

    /// The shared SIFT data, when `../shared/data` exists beside the checkout.
    public static func sharedDataFile(_ name: String) -> String? {
        var directory = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { directory.deleteLastPathComponent() }
        let path = directory.deletingLastPathComponent().appendingPathComponent("shared/data/\(name)").path
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }
}

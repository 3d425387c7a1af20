import CHDF5Loader
import CKMeansKernels
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A chunked HDF5 dataset whose chunks hold whole rows and are stored raw or through
/// deflate (optionally after byte shuffling): the common h5py layouts.
///
/// libhdf5 is not thread-safe, so reading through it decompresses on one thread at a time.
/// This source reads each chunk's stored bytes under ``hdf5Lock`` (`H5Dread_chunk`, a plain
/// file read), then inflates and unshuffles them outside it, so threads decompress in
/// parallel. Decoded chunks are kept, one per reader at a time, and a read takes the one
/// holding its chunk: the tiles of a slice are consecutive, so a chunk is decompressed
/// once per pass however many tiles it spans.
final class HDF5ChunkSource: EmbeddingSource, @unchecked Sendable {
    let description: EmbeddingDescription
    private let handle: HDF5OpenDataset
    private var dataset: hid_t { handle.dataset }
    private let chunkRows: Int
    private let element: StoredElement
    private let deflated: Bool
    private let shuffled: Bool
    /// Decoded chunks not in use, least recently returned first; there are never more than
    /// readers at once.
    private var idleCaches: [ChunkCache] = []
    private let cachesLock = Lock()

    /// Largest chunk this source decompresses itself (per thread); larger chunks go through libhdf5.
    static let largestChunkBytes = 64 << 20

    /// Describes how a dataset's chunks are stored, or `nil` when this source cannot read them.
    struct Layout {
        var chunkRows: Int
        var deflated: Bool
        var shuffled: Bool
    }

    /// Must be called with ``hdf5Lock`` held.
    static func layout(of creation: hid_t, dimension: Int, elementBytes: Int) -> Layout? {
        guard fk_H5Pget_layout(creation) == H5D_CHUNKED else { return nil }
        var chunk = [hsize_t](repeating: 0, count: 2)
        guard fk_H5Pget_chunk(creation, 2, &chunk) == 2, chunk[1] == UInt64(dimension), chunk[0] > 0,
              let chunkRows = Int(exactly: chunk[0]), let chunkBytes = checkedProduct(chunkRows, dimension * elementBytes),
              chunkBytes <= largestChunkBytes
        else { return nil }
        // Filters in pipeline order (applied in this order on write, undone in reverse on read).
        var filters: [H5Z_filter_t] = []
        for index in 0..<max(0, Int(fk_H5Pget_nfilters(creation))) {
            var flags: UInt32 = 0
            var valueCount = 8
            var values = [UInt32](repeating: 0, count: 8)
            var configuration: UInt32 = 0
            filters.append(fk_H5Pget_filter2(creation, UInt32(index), &flags, &valueCount, &values, 0, nil, &configuration))
        }
        switch filters {
        case []: return Layout(chunkRows: chunkRows, deflated: false, shuffled: false)
        case [H5Z_FILTER_DEFLATE]: return Layout(chunkRows: chunkRows, deflated: true, shuffled: false)
        case [H5Z_FILTER_SHUFFLE, H5Z_FILTER_DEFLATE]: return Layout(chunkRows: chunkRows, deflated: true, shuffled: true)
        default: return nil
        }
    }

    init(_ handle: HDF5OpenDataset, layout: Layout, element: StoredElement, description: EmbeddingDescription) {
        self.handle = handle
        self.description = description
        self.element = element
        chunkRows = layout.chunkRows
        deflated = layout.deflated
        shuffled = layout.shuffled
        idleCaches.reserveCapacity(64)
    }

    func withRows<R>(
        _ rows: Range<Int>, scratch: UnsafeMutablePointer<Float>, _ body: (RowTile) throws -> R
    ) throws -> R {
        precondition(rows.lowerBound >= 0 && rows.upperBound <= description.rowCount)
        let dimension = description.dimension
        var row = rows.lowerBound
        let cache = takeCache(for: row / chunkRows)
        defer { returnCache(cache) }
        while row < rows.upperBound {
            let chunk = row / chunkRows
            if cache.chunk != chunk { try load(chunk, into: cache) }
            let end = min(rows.upperBound, (chunk + 1) * chunkRows)
            let first = (row - chunk * chunkRows) * dimension
            let destination = scratch + (row - rows.lowerBound) * dimension
            let count = (end - row) * dimension
            switch element {
            case .float64:
                let values = UnsafeRawPointer(cache.values)
                for index in 0..<count {
                    destination[index] = Float(values.loadUnaligned(fromByteOffset: (first + index) * 8, as: Double.self))
                }
            case .float16:
                // The conversion `.npy` float16 goes through, so both give the same floats.
                fk_half_to_float(cache.values + first * 2, destination, count)
            default:
                UnsafeMutableRawPointer(destination).copyMemory(from: cache.values + first * 4, byteCount: count * 4)
            }
            row = end
        }
        return try body(RowTile(
            base: UnsafePointer(scratch), rowStride: dimension, rowCount: rows.count,
            dimension: dimension, firstRow: rows.lowerBound, storage: .scratch))
    }

    /// The idle decoded chunk holding `chunk` if there is one, else the least recently
    /// used, else a new one.
    private func takeCache(for chunk: Int) -> ChunkCache {
        cachesLock.lock()
        defer { cachesLock.unlock() }
        if let index = idleCaches.firstIndex(where: { $0.chunk == chunk }) { return idleCaches.remove(at: index) }
        if !idleCaches.isEmpty { return idleCaches.removeFirst() }
        return ChunkCache(chunkBytes: chunkRows * description.dimension * element.byteWidth)
    }

    private func returnCache(_ cache: ChunkCache) {
        cachesLock.lock()
        idleCaches.append(cache)
        cachesLock.unlock()
    }

    /// Reads chunk `chunk`'s stored bytes under the HDF5 lock and decodes them outside it.
    private func load(_ chunk: Int, into cache: ChunkCache) throws {
        func failure(_ why: String) -> DatasetError {
            DatasetError(path: description.path, .hdf5("chunk \(chunk) (rows from \(chunk * chunkRows)): \(why)"))
        }
        cache.chunk = nil
        var offset: [hsize_t] = [hsize_t(chunk * chunkRows), 0]
        var filterMask: UInt32 = 0
        var storedBytes: hsize_t = 0
        hdf5Lock.lock()
        var status = fk_H5Dget_chunk_storage_size(dataset, &offset, &storedBytes)
        // A chunk's stored size is the file's word: no larger than the file, or it is not read.
        let plausible = storedBytes <= UInt64(description.byteCount)
        if status >= 0, storedBytes > 0, plausible {
            cache.reserveStored(Int(storedBytes))
            status = fk_H5Dread_chunk(dataset, fk_hdf5_default_list(), &offset, &filterMask, cache.stored)
        }
        hdf5Lock.unlock()
        guard status >= 0 else { throw failure("HDF5 could not read it") }
        guard plausible else { throw failure("claims \(storedBytes) stored bytes, more than the whole file") }
        if storedBytes == 0 {
            // Never written: HDF5 would return the fill value, zero unless the file sets one.
            cache.values.update(repeating: 0, count: cache.chunkBytes)
            cache.chunk = chunk
            return
        }

        // Bit i of the mask is set when filter i was skipped for this chunk.
        let shuffleApplied = shuffled && filterMask & 1 == 0
        let deflateApplied = deflated && filterMask & (shuffled ? 2 : 1) == 0
        var decoded = cache.stored
        var decodedBytes = Int(storedBytes)
        if deflateApplied {
            var length = uLongf(cache.chunkBytes)
            let result = uncompress(cache.inflated, &length, cache.stored, uLong(storedBytes))
            guard result == Z_OK else { throw failure("deflate data is corrupt (zlib error \(result))") }
            decoded = cache.inflated
            decodedBytes = Int(length)
        }
        guard decodedBytes == cache.chunkBytes else {
            throw failure("holds \(decodedBytes) bytes, expected \(cache.chunkBytes)")
        }
        if shuffleApplied {
            // HDF5's shuffle stores byte b of every element together: gather them back.
            let width = element.byteWidth
            let elements = cache.chunkBytes / width
            for byte in 0..<width {
                let plane = decoded + byte * elements
                for index in 0..<elements { cache.values[index * width + byte] = plane[index] }
            }
        } else {
            cache.values.update(from: decoded, count: cache.chunkBytes)
        }
        cache.chunk = chunk
    }
}

/// One thread's last decoded chunk.
final class ChunkCache {
    let chunkBytes: Int
    var chunk: Int?
    /// The chunk as stored in the file (compressed), grown as needed.
    private(set) var stored: UnsafeMutablePointer<UInt8>
    private var storedCapacity: Int
    let inflated: UnsafeMutablePointer<UInt8>
    /// The chunk's elements in file byte order.
    let values: UnsafeMutablePointer<UInt8>

    init(chunkBytes: Int) {
        self.chunkBytes = chunkBytes
        storedCapacity = chunkBytes + chunkBytes / 16 + 1024
        stored = .allocate(capacity: storedCapacity)
        inflated = .allocate(capacity: chunkBytes)
        values = .allocate(capacity: chunkBytes)
    }

    deinit {
        stored.deallocate()
        inflated.deallocate()
        values.deallocate()
    }

    /// Makes room for a stored chunk of `count` bytes (incompressible data can grow a little).
    func reserveStored(_ count: Int) {
        guard count > storedCapacity else { return }
        stored.deallocate()
        storedCapacity = count
        stored = .allocate(capacity: count)
    }
}

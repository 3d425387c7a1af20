import CHDF5Loader
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// Serial HDF5 is not thread-safe, so every call into it holds this lock. Code of this
/// package that calls HDF5 itself (the tests' fixture writers) must hold it too: the
/// metadata probe forks, and a child forked while another thread is inside libhdf5 waits
/// forever for HDF5's own mutex.
package let hdf5Lock = Lock()

/// Opens a 2-D float32, float16 or float64 dataset in an HDF5 file.
///
/// A contiguous, unfiltered dataset is mapped directly at its offset in the file
/// (zero-copy for float32; float16 and float64 converted per tile as from `.npy`). A chunked one whose chunks hold whole rows, raw or deflated
/// (with or without shuffle), is decoded by ``HDF5ChunkSource`` on every thread at once;
/// any other layout is read by hyperslab, one tile at a time, with HDF5 converting to float32.
enum HDF5Reader {
    /// Chunk cache per dataset: large enough that consecutive tiles falling in one
    /// compressed chunk do not decompress it again.
    static let chunkCacheBytes = 64 << 20
    /// Hash slots of that cache: a prime, as HDF5's documentation advises, about a hundred
    /// times the chunks that fit in it for the small chunks h5py picks by default.
    static let chunkCacheSlots = 12_421

    static func open(_ path: String, dataset name: String) throws -> any EmbeddingSource {
        // Reuse the mapped-file checks for a clear message on missing, unreadable or empty files.
        let mapped = try MappedFile(path: path)
        hdf5Lock.lock()
        defer { hdf5Lock.unlock() }
        try loadLibrary(for: path)
        try probeMetadata(path, dataset: name)
        return try openLocked(path, dataset: name, mapped: mapped)
    }

    /// Loads libhdf5 on the first HDF5 file (``CHDF5Loader``): the command starts without it
    /// and needs it only for HDF5. Called with ``hdf5Lock`` held.
    ///
    /// - Throws: ``DatasetError`` naming `path` when libhdf5 is missing or not the release
    ///   the build's headers describe.
    private static func loadLibrary(for path: String) throws(DatasetError) {
        var error = [CChar](repeating: 0, count: 512)
        guard fk_hdf5_load(&error, error.count) == 0 else {
            throw DatasetError(path: path, .hdf5(String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)))
        }
    }

    /// Longest a healthy file's metadata takes to read; a crafted one can make HDF5 loop.
    static let probeSeconds = 60.0

    /// Reads the file's metadata once in a child process first. HDF5 1.10 trusts its own
    /// structures, and a crafted file makes it read through a null or wild pointer (fuzzing
    /// found several); in the child that is a failed probe and a one-line error instead of
    /// a crashed run. Called with ``hdf5Lock`` held, so no other thread is inside HDF5 and
    /// the child finds its state consistent. The child runs C only (``fk_hdf5_probe``): a
    /// Swift one-time initialization that another thread was in at the fork would never
    /// finish there.
    private static func probeMetadata(_ path: String, dataset name: String) throws {
        switch fk_hdf5_probe(path, name, probeSeconds) {
        case 1:
            throw DatasetError(path: path, .hdf5("HDF5 crashed reading the file's metadata; it is damaged or crafted"))
        case 2:
            throw DatasetError(
                path: path, .hdf5("HDF5 did not finish reading the file's metadata in \(Int(probeSeconds)) s; it is damaged or crafted"))
        default:
            // Read it here (an error the child met comes again, with its message); when no
            // child could be forked, read it directly, as before.
            return
        }
    }

    /// Called with ``hdf5Lock`` held.
    private static func openLocked(_ path: String, dataset name: String, mapped: MappedFile) throws -> any EmbeddingSource {
        func fail(_ why: String) -> DatasetError { DatasetError(path: path, .hdf5(why)) }

        guard fk_H5Fis_hdf5(path) > 0 else { throw fail("not an HDF5 file") }
        let file = fk_H5Fopen(path, fk_hdf5_read_only(), fk_hdf5_default_list())
        guard file >= 0 else { throw fail("HDF5 could not open the file") }
        var keepFileOpen = false
        defer { if !keepFileOpen { fk_H5Fclose(file) } }

        guard fk_H5Lexists(file, name, fk_hdf5_default_list()) > 0 else {
            throw DatasetError(path: path, .missingDataset(name))
        }
        let access = fk_H5Pcreate(fk_hdf5_dataset_access_class())
        defer { fk_H5Pclose(access) }
        fk_H5Pset_chunk_cache(access, chunkCacheSlots, chunkCacheBytes, 0.75)
        let dataset = fk_H5Dopen2(file, name, access)
        guard dataset >= 0 else { throw fail("'\(name)' is not a dataset") }
        var keepDatasetOpen = false
        defer { if !keepDatasetOpen { fk_H5Dclose(dataset) } }

        let space = fk_H5Dget_space(dataset)
        defer { fk_H5Sclose(space) }
        let rank = fk_H5Sget_simple_extent_ndims(space)
        guard rank == 2 else { throw fail("dataset '\(name)' is \(rank)-D; expected a 2-D array of rows") }
        var dims = [hsize_t](repeating: 0, count: 2)
        fk_H5Sget_simple_extent_dims(space, &dims, nil)
        guard dims[0] > 0, dims[1] > 0 else { throw fail("dataset '\(name)' is empty (\(dims[0]) × \(dims[1]))") }

        let type = fk_H5Dget_type(dataset)
        defer { fk_H5Tclose(type) }
        let element = try storedElement(of: type, dataset: name, path: path)
        guard let rows = Int(exactly: dims[0]), let dimension = Int(exactly: dims[1]),
              let rowBytes = checkedProduct(dimension, element.byteWidth), let declaredBytes = checkedProduct(rows, rowBytes)
        else {
            throw DatasetError(path: path, .declaredSizeOverflow(rows: dims[0], dimension: dims[1], elementBytes: element.byteWidth))
        }

        let creation = fk_H5Dget_create_plist(dataset)
        defer { fk_H5Pclose(creation) }
        let offset = try checkStorage(
            of: dataset, named: name, creation: creation, space: space, declaredBytes: declaredBytes, fileBytes: mapped.byteCount,
            path: path)
        if let offset, fk_H5Tget_order(type) == H5T_ORDER_LE {
            return MappedMatrix(
                file: mapped, format: .hdf5, rowCount: rows, dimension: dimension, element: element,
                dataOffset: offset, rowStrideBytes: rowBytes)
        }
        keepFileOpen = true
        keepDatasetOpen = true
        let handle = HDF5OpenDataset(file: file, dataset: dataset)
        let description = EmbeddingDescription(
            path: path, format: .hdf5, rowCount: rows, dimension: dimension,
            dataType: element.name, layout: .converted, byteCount: mapped.byteCount)
        if fk_H5Tget_order(type) == H5T_ORDER_LE,
           let layout = HDF5ChunkSource.layout(of: creation, dimension: dimension, elementBytes: element.byteWidth) {
            return HDF5ChunkSource(handle, layout: layout, element: element, description: description)
        }
        return HDF5HyperslabSource(handle, description: description)
    }

    /// What a dataset's values are stored as: float32, float64, or IEEE half precision
    /// (float16), which HDF5 1.10 has no predefined type for: h5py and others declare it as
    /// a 2-byte float with IEEE half's fields (sign bit 15, 5 exponent bits from bit 10
    /// biased by 15, 10 mantissa bits), and that is what is checked. Must be called with
    /// ``hdf5Lock`` held.
    ///
    /// - Throws: ``DatasetError`` for any other type, such as integers or bfloat16.
    private static func storedElement(of type: hid_t, dataset name: String, path: String) throws(DatasetError) -> StoredElement {
        let unsupported = DatasetError(path: path, .unsupportedDataType("dataset '\(name)' is not float32, float16 or float64"))
        guard fk_H5Tget_class(type) == H5T_FLOAT else { throw unsupported }
        switch fk_H5Tget_size(type) {
        case 4: return .float32
        case 8: return .float64
        case 2:
            var (signPosition, exponentPosition, exponentBits, mantissaPosition, mantissaBits) = (0, 0, 0, 0, 0)
            guard fk_H5Tget_fields(type, &signPosition, &exponentPosition, &exponentBits, &mantissaPosition, &mantissaBits) >= 0,
                  (signPosition, exponentPosition, exponentBits, mantissaPosition, mantissaBits) == (15, 10, 5, 0, 10),
                  fk_H5Tget_ebias(type) == 15, fk_H5Tget_precision(type) == 16, fk_H5Tget_offset(type) == 0
            else {
                throw DatasetError(
                    path: path,
                    .unsupportedDataType("dataset '\(name)' is a 16-bit float other than IEEE half precision (float16), such as bfloat16"))
            }
            return .float16
        default: throw unsupported
        }
    }

    /// Most bytes of values a filtered dataset may declare per byte it stores: zlib's
    /// largest deflate ratio (1032:1, reached only by runs of one byte). Embeddings compress
    /// far less; a larger claim is a header that lies about its size.
    static let largestCompressionRatio = 1032

    /// Checks that the file really holds the `declaredBytes` of values the dataset declares,
    /// before anything is sized from the declaration. Must be called with ``hdf5Lock`` held.
    ///
    /// - Returns: The byte offset of an unfiltered contiguous dataset's values, which lie
    ///   inside the file; `nil` for any other layout.
    /// - Throws: ``DatasetError`` when the values lie past the end of the file, were never
    ///   written (wholly or in part), or would have to be compressed beyond any real ratio.
    private static func checkStorage(
        of dataset: hid_t, named name: String, creation: hid_t, space: hid_t, declaredBytes: Int, fileBytes: Int, path: String
    ) throws(DatasetError) -> Int? {
        func fail(_ why: String) -> DatasetError { DatasetError(path: path, .hdf5(why)) }
        var dims = [hsize_t](repeating: 0, count: 2)
        var maximumDims = [hsize_t](repeating: 0, count: 2)
        fk_H5Sget_simple_extent_dims(space, &dims, &maximumDims)
        let declared = "dataset '\(name)' declares \(dims[0]) × \(dims[1]) values"
        switch fk_H5Pget_layout(creation) {
        case H5D_CONTIGUOUS:
            guard fk_H5Pget_external_count(creation) == 0 else {
                throw fail("dataset '\(name)' keeps its values in external files; copy it into a regular dataset")
            }
            let offset = fk_H5Dget_offset(dataset)
            guard offset != fk_hdf5_undefined_address() else { throw fail("\(declared), but none are written") }
            guard let start = Int(exactly: offset), case let (end, false) = start.addingReportingOverflow(declaredBytes),
                  end <= fileBytes
            else {
                throw fail("\(declared) (\(declaredBytes) bytes) from byte \(offset), past the end of the file (\(fileBytes) bytes)")
            }
            return fk_H5Pget_nfilters(creation) == 0 ? start : nil
        case H5D_CHUNKED:
            var chunk = [hsize_t](repeating: 0, count: 2)
            guard fk_H5Pget_chunk(creation, 2, &chunk) == 2, chunk[0] > 0, chunk[1] > 0 else {
                throw fail("dataset '\(name)' has an unreadable chunk shape")
            }
            // HDF5 itself refuses to create a chunk larger than a dimension that cannot grow;
            // libhdf5 1.10 reads past its buffers when a crafted file declares one (fuzzing).
            let unlimited = hsize_t.max
            for axis in 0..<2 where maximumDims[axis] != unlimited && chunk[axis] > max(dims[axis], maximumDims[axis]) {
                throw fail("dataset '\(name)' has chunks of \(chunk[0]) × \(chunk[1]), larger than its fixed shape \(dims[0]) × \(dims[1])")
            }
            // At most one chunk per value, and the values fit in Int: this cannot overflow.
            let expectedChunks = (dims[0] + chunk[0] - 1) / chunk[0] * ((dims[1] + chunk[1] - 1) / chunk[1])
            var writtenChunks: hsize_t = 0
            guard fk_H5Dget_num_chunks(dataset, space, &writtenChunks) >= 0 else { throw fail("HDF5 could not count the chunks of '\(name)'") }
            guard writtenChunks >= expectedChunks else {
                throw fail("\(declared), but only \(writtenChunks) of its \(expectedChunks) chunks are written")
            }
        case H5D_VIRTUAL:
            throw fail("dataset '\(name)' is virtual (its rows are in other files); copy it into a regular dataset")
        default:
            break
        }
        let storedBytes = fk_H5Dget_storage_size(dataset)
        let filtered = fk_H5Pget_nfilters(creation) > 0
        let backedBytes = storedBytes.multipliedReportingOverflow(by: filtered ? UInt64(largestCompressionRatio) : 1)
        guard backedBytes.overflow || backedBytes.partialValue >= UInt64(declaredBytes) else {
            throw fail(
                filtered
                    ? "\(declared) (\(declaredBytes) bytes) in \(storedBytes) stored bytes, more than the \(largestCompressionRatio):1 compression can reach"
                    : "\(declared) (\(declaredBytes) bytes), but stores only \(storedBytes) bytes")
        }
        return nil
    }
}

/// An open HDF5 file and dataset, closed (under ``hdf5Lock``) when the last source using them goes.
final class HDF5OpenDataset: @unchecked Sendable {
    let file: hid_t
    let dataset: hid_t

    init(file: hid_t, dataset: hid_t) {
        self.file = file
        self.dataset = dataset
    }

    deinit {
        hdf5Lock.lock()
        fk_H5Dclose(dataset)
        fk_H5Fclose(file)
        hdf5Lock.unlock()
    }
}

/// A chunked or compressed HDF5 dataset, read one tile of rows at a time.
final class HDF5HyperslabSource: EmbeddingSource, @unchecked Sendable {
    let description: EmbeddingDescription
    private let handle: HDF5OpenDataset
    private var dataset: hid_t { handle.dataset }

    init(_ handle: HDF5OpenDataset, description: EmbeddingDescription) {
        self.handle = handle
        self.description = description
    }

    func withRows<R>(
        _ rows: Range<Int>, scratch: UnsafeMutablePointer<Float>, _ body: (RowTile) throws -> R
    ) throws -> R {
        precondition(rows.lowerBound >= 0 && rows.upperBound <= description.rowCount)
        let dimension = description.dimension
        let status: herr_t = {
            hdf5Lock.lock()
            defer { hdf5Lock.unlock() }
            let fileSpace = fk_H5Dget_space(dataset)
            defer { fk_H5Sclose(fileSpace) }
            var start: [hsize_t] = [hsize_t(rows.lowerBound), 0]
            var count: [hsize_t] = [hsize_t(rows.count), hsize_t(dimension)]
            fk_H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, &start, nil, &count, nil)
            let memorySpace = fk_H5Screate_simple(2, &count, nil)
            defer { fk_H5Sclose(memorySpace) }
            return fk_H5Dread(dataset, fk_hdf5_native_float(), memorySpace, fileSpace, fk_hdf5_default_list(), scratch)
        }()
        guard status >= 0 else {
            let which = rows.count == 1 ? "row \(rows.lowerBound)" : "rows \(rows.lowerBound) to \(rows.upperBound - 1)"
            throw DatasetError(path: description.path, .hdf5("reading \(which) failed"))
        }
        return try body(RowTile(
            base: UnsafePointer(scratch), rowStride: dimension, rowCount: rows.count,
            dimension: dimension, firstRow: rows.lowerBound, storage: .scratch))
    }
}

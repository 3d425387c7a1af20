import CHDF5
import FlashKMeans
import Foundation

/// Files whose headers declare sizes their bytes do not back: the adversarial inputs that
/// readers must refuse with a message instead of trapping or allocating what they declare.
public enum CraftedFiles {
    /// Writes an `.npy` whose header dictionary is `dictionary` verbatim (padded as numpy
    /// pads it), followed by `payloadBytes` zero bytes.
    public static func writeNpyHeader(_ path: String, dictionary: String, payloadBytes: Int = 32) {
        var header = dictionary
        header += String(repeating: " ", count: (64 - (10 + header.utf8.count + 1) % 64) % 64) + "\n"
        let length = header.utf8.count
        var bytes: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, UInt8(length & 0xFF), UInt8(length >> 8)]
        bytes += Array(header.utf8) + [UInt8](repeating: 0, count: payloadBytes)
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
    }

    /// Creates a float32 HDF5 dataset of `shape` without writing it, except for the first
    /// `writtenRows` rows: a file of a few kilobytes that declares any size.
    ///
    /// - Parameters:
    ///   - chunkRows: Rows per chunk (all columns); `nil` makes the dataset contiguous.
    ///   - deflate: Whether chunks are deflated.
    public static func declareHDF5(
        _ path: String, dataset: String, shape: [UInt64], chunkRows: UInt64?, deflate: Bool = false, writtenRows: Int = 0
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
            H5Pset_chunk(creation, Int32(chunk.count), &chunk)
            if deflate { H5Pset_deflate(creation, 4) }
        }
        let handle = H5Dcreate2(file, dataset, chdf5_ieee_f32le(), space, chdf5_p_default(), creation, chdf5_p_default())
        defer { H5Dclose(handle) }
        guard writtenRows > 0 else { return }
        let columns = Int(shape[1])
        var start: [hsize_t] = [0, 0]
        var count: [hsize_t] = [hsize_t(writtenRows), hsize_t(columns)]
        H5Sselect_hyperslab(space, H5S_SELECT_SET, &start, nil, &count, nil)
        let memory = H5Screate_simple(2, &count, nil)
        defer { H5Sclose(memory) }
        let values = [Float](repeating: 1, count: writtenRows * columns)
        H5Dwrite(handle, chdf5_native_float(), memory, space, chdf5_p_default(), values)
    }

    /// The byte offset in the file of chunk `index` of `dataset` (in HDF5's chunk order).
    public static func chunkAddress(_ path: String, dataset: String, index: Int) -> Int? {
        hdf5Lock.lock()
        defer { hdf5Lock.unlock() }
        let file = H5Fopen(path, chdf5_acc_rdonly(), chdf5_p_default())
        guard file >= 0 else { return nil }
        defer { H5Fclose(file) }
        let handle = H5Dopen2(file, dataset, chdf5_p_default())
        defer { H5Dclose(handle) }
        let space = H5Dget_space(handle)
        defer { H5Sclose(space) }
        var offset = [hsize_t](repeating: 0, count: 2)
        var mask: UInt32 = 0
        var address: haddr_t = 0
        var size: hsize_t = 0
        guard H5Dget_chunk_info(handle, space, hsize_t(index), &offset, &mask, &address, &size) >= 0 else { return nil }
        return Int(address)
    }
}

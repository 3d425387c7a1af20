#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The only place the library talks to the kernel directly. Each wrapper turns
/// `errno` into a ``DatasetError`` naming the path and the operation.
enum Syscalls {
    static func errorMessage(_ code: Int32 = errno) -> String {
        String(cString: strerror(code))
    }

    static func openReadOnly(_ path: String) throws(DatasetError) -> Int32 {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw DatasetError(path: path, .system(operation: "open", message: errorMessage()))
        }
        return descriptor
    }

    static func fileSize(_ descriptor: Int32, path: String) throws(DatasetError) -> Int {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            throw DatasetError(path: path, .system(operation: "fstat", message: errorMessage()))
        }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            throw DatasetError(path: path, .system(operation: "open", message: "is a directory"))
        }
        return Int(info.st_size)
    }

    static func mapReadOnly(_ descriptor: Int32, byteCount: Int, path: String) throws(DatasetError) -> UnsafeRawPointer {
        guard let address = mmap(nil, byteCount, PROT_READ, MAP_SHARED, descriptor, 0),
              address != MAP_FAILED
        else {
            throw DatasetError(path: path, .system(operation: "mmap", message: errorMessage()))
        }
        return UnsafeRawPointer(address)
    }

    static func unmap(_ address: UnsafeRawPointer, byteCount: Int) {
        munmap(UnsafeMutableRawPointer(mutating: address), byteCount)
    }

    /// Tells the kernel the mapping is read front to back, so it reads ahead
    /// aggressively and can drop pages behind us when memory is short.
    static func adviseSequential(_ address: UnsafeRawPointer, byteCount: Int) {
        _ = madvise(UnsafeMutableRawPointer(mutating: address), byteCount, MADV_SEQUENTIAL)
    }

    /// Drops a mapped range from this process's resident set. The pages stay in the page
    /// cache, so touching them again costs a minor fault, not a read.
    static func releasePages(_ address: UnsafeRawPointer, byteCount: Int) {
        _ = madvise(UnsafeMutableRawPointer(mutating: address), byteCount, MADV_DONTNEED)
    }

    /// Maps a range's pages in one system call (Linux 5.14+), which is cheaper than
    /// taking a fault per page; older kernels refuse it and the pages fault in as read.
    static func populatePages(_ address: UnsafeRawPointer, byteCount: Int) {
        #if os(Linux)
        _ = madvise(UnsafeMutableRawPointer(mutating: address), byteCount, 22 /* MADV_POPULATE_READ */)
        #endif
    }

    static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    static func closeDescriptor(_ descriptor: Int32) {
        _ = close(descriptor)
    }
}

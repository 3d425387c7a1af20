/// A read-only memory mapping of a whole file, unmapped when the last reference goes.
///
/// The mapping is the single owner of its bytes: readers borrow pointers from it
/// only for the duration of a closure and never store them.
final class MappedFile: @unchecked Sendable {
    let path: String
    let byteCount: Int
    /// `nil` for an empty file, which cannot be mapped.
    private let base: UnsafeRawPointer?

    /// Opens and maps `path`.
    /// - Throws: ``DatasetError`` when the file is missing, unreadable, a directory or empty.
    init(path: String) throws(DatasetError) {
        self.path = path
        let descriptor = try Syscalls.openReadOnly(path)
        defer { Syscalls.closeDescriptor(descriptor) }
        byteCount = try Syscalls.fileSize(descriptor, path: path)
        guard byteCount > 0 else { throw DatasetError(path: path, .empty) }
        base = try Syscalls.mapReadOnly(descriptor, byteCount: byteCount, path: path)
        Syscalls.adviseSequential(base!, byteCount: byteCount)
    }

    deinit {
        if let base { Syscalls.unmap(base, byteCount: byteCount) }
    }

    /// Releases the whole pages inside `byteRange` from the resident set (see
    /// ``Syscalls/releasePages(_:byteCount:)``). Ranges under 64 KiB are left alone, as
    /// the system call would cost more than the pages weigh.
    func releasePages(in byteRange: Range<Int>) {
        guard let base, let pages = wholePages(in: byteRange) else { return }
        Syscalls.releasePages(base + pages.lowerBound, byteCount: pages.count)
    }

    /// Maps the whole pages inside `byteRange` before a tile reads them.
    func populatePages(in byteRange: Range<Int>) {
        guard let base, let pages = wholePages(in: byteRange) else { return }
        Syscalls.populatePages(base + pages.lowerBound, byteCount: pages.count)
    }

    private func wholePages(in byteRange: Range<Int>) -> Range<Int>? {
        let page = Syscalls.pageSize
        let start = (byteRange.lowerBound + page - 1) / page * page
        let end = min(byteRange.upperBound, byteCount) / page * page
        return end - start >= 65536 ? start..<end : nil
    }

    /// Lends the mapped bytes to `body`.
    func withBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeRawBufferPointer(start: base, count: byteCount))
    }
}

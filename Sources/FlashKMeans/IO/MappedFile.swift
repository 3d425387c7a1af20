import CMappingGuard

/// A read-only memory mapping of a whole file, unmapped when the last reference goes.
///
/// The mapping is the single owner of its bytes: readers borrow pointers from it
/// only for the duration of a closure and never store them.
///
/// Another process may shrink the file while it is mapped; reading past its new end would
/// raise SIGBUS and kill the run. The mapping is guarded (`CMappingGuard`): such pages read
/// as zeros instead, and ``checkUnchanged()`` reports the file as changed, so the run
/// stops with an error and writes nothing.
final class MappedFile: @unchecked Sendable {
    let path: String
    let byteCount: Int
    /// `nil` for an empty file, which cannot be mapped.
    private let base: UnsafeRawPointer?
    /// This mapping's slot in the SIGBUS guard, or -1.
    private let guardSlot: Int32

    /// Opens and maps `path`.
    /// - Throws: ``DatasetError`` when the file is missing, unreadable, a directory or empty.
    convenience init(path: String) throws(DatasetError) {
        let descriptor = try Syscalls.openReadOnly(path)
        defer { Syscalls.closeDescriptor(descriptor) }
        try self.init(descriptor: descriptor, path: path)
    }

    /// Maps the file open as `descriptor`, which the caller still owns and may close at once
    /// (the mapping keeps the file alive, even one whose name is already removed).
    /// - Parameters:
    ///   - descriptor: A descriptor open for reading.
    ///   - path: The name errors give the file.
    /// - Throws: ``DatasetError`` when the file is a directory or empty, or cannot be mapped.
    init(descriptor: Int32, path: String) throws(DatasetError) {
        self.path = path
        byteCount = try Syscalls.fileSize(descriptor, path: path)
        guard byteCount > 0 else {
            guardSlot = -1
            base = nil
            throw DatasetError(path: path, .empty)
        }
        base = try Syscalls.mapReadOnly(descriptor, byteCount: byteCount, path: path)
        guardSlot = fk_guard_mapping(base, byteCount)
        Syscalls.adviseSequential(base!, byteCount: byteCount)
    }

    deinit {
        fk_unguard_mapping(guardSlot)
        if let base { Syscalls.unmap(base, byteCount: byteCount) }
    }

    /// Whether a page of the file has vanished since it was mapped: the file shrank, and
    /// what was read from the mapping may be zeros rather than the data.
    var changedSize: Bool { fk_mapping_faults(guardSlot) != 0 }

    /// - Throws: ``DatasetError`` when the file shrank while mapped (``changedSize``).
    func checkUnchanged() throws(DatasetError) {
        if changedSize { throw DatasetError(path: path, .changedWhileRead) }
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

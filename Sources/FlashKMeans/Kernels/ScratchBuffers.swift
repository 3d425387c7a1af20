/// The memory behind one thread's scratch buffers: 64-byte aligned (a cache line, and one
/// AVX-512 vector), zeroed, and freed together when the owner goes.
///
/// Zeroed so that padding slots never hold denormals or NaN, which would slow the sweeps.
final class ScratchStorage {
    private var blocks: [UnsafeMutableRawPointer] = []

    /// A zeroed buffer of `count` elements (at least one, so that empty shapes stay valid).
    func vector<Element: BitwiseCopyable>(_ count: Int, of type: Element.Type) -> ScratchVector<Element> {
        ScratchVector(base: allocate(count, of: type), count: count)
    }

    /// A zeroed `rows × columns` row-major buffer.
    func matrix<Element: BitwiseCopyable>(rows: Int, columns: Int, of type: Element.Type) -> ScratchMatrix<Element> {
        ScratchMatrix(base: allocate(rows * columns, of: type), rowCount: rows, columnCount: columns)
    }

    private func allocate<Element: BitwiseCopyable>(_ count: Int, of type: Element.Type) -> UnsafeMutablePointer<Element> {
        let pointer = Self.allocateZeroed(count, as: type)
        blocks.append(UnsafeMutableRawPointer(pointer))
        return pointer
    }

    /// A zeroed, 64-byte aligned allocation of at least one element, for buffers kept outside
    /// a storage (the caller deallocates it).
    static func allocateZeroed<Element: BitwiseCopyable>(_ count: Int, as type: Element.Type) -> UnsafeMutablePointer<Element> {
        let byteCount = max(1, count) * MemoryLayout<Element>.stride
        let raw = UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: 64)
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: byteCount)
        return raw.bindMemory(to: Element.self, capacity: max(1, count))
    }

    deinit {
        for block in blocks { block.deallocate() }
    }
}

/// A view of `count` scratch elements whose subscript checks the index in debug builds, in
/// the manner of swift-collections' unsafe handles. Valid while its ``ScratchStorage`` lives;
/// the owning scratch object keeps both together.
struct ScratchVector<Element: BitwiseCopyable> {
    /// For the SIMD kernels, which take the whole buffer.
    let base: UnsafeMutablePointer<Element>
    let count: Int

    @inline(__always)
    subscript(index: Int) -> Element {
        get {
            assert(index >= 0 && index < count, "index \(index) outside a scratch buffer of \(count)")
            return base[index]
        }
        nonmutating set {
            assert(index >= 0 && index < count, "index \(index) outside a scratch buffer of \(count)")
            base[index] = newValue
        }
    }

    /// The elements from `index` on, for a kernel that takes `length` of them.
    @inline(__always)
    func pointer(at index: Int, length: Int = 1) -> UnsafeMutablePointer<Element> {
        assert(index >= 0 && index + length <= count, "elements \(index)..<\(index + length) outside a scratch buffer of \(count)")
        return base + index
    }

    func fill(with value: Element, count filled: Int? = nil) {
        let length = filled ?? count
        assert(length <= count)
        base.update(repeating: value, count: length)
    }
}

/// A row-major `rowCount × columnCount` view of scratch memory, checked like `ScratchVector`:
/// row and column indices are asserted in debug builds.
package struct ScratchMatrix<Element: BitwiseCopyable> {
    let base: UnsafeMutablePointer<Element>
    let rowCount: Int
    /// Elements between the starts of consecutive rows.
    let columnCount: Int

    /// Row `row`'s first element.
    @inline(__always)
    func row(_ row: Int) -> UnsafeMutablePointer<Element> {
        assert(row >= 0 && row < rowCount, "row \(row) outside a scratch matrix of \(rowCount) rows")
        return base + row * columnCount
    }

    @inline(__always)
    subscript(row: Int, column: Int) -> Element {
        get {
            assert(column >= 0 && column < columnCount, "column \(column) outside a scratch matrix of \(columnCount) columns")
            return self.row(row)[column]
        }
        nonmutating set {
            assert(column >= 0 && column < columnCount, "column \(column) outside a scratch matrix of \(columnCount) columns")
            self.row(row)[column] = newValue
        }
    }
}

import CKMeansKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Float32 storage for lower bounds that only ever rounds down, so a stored bound
/// never exceeds the float64 value it was derived from.
@inline(__always)
func roundedDown(_ value: Double) -> Float {
    let rounded = Float(value)
    return Double(rounded) > value ? rounded.nextDown : rounded
}

/// Gives the whole pages of a bound buffer back to the system once the bounds will not
/// be used again (after `auto` falls back to Lloyd). The buffer stays valid and reads
/// as zeros.
func discardPages<Element>(of buffer: UnsafeMutableBufferPointer<Element>) {
    guard let base = buffer.baseAddress else { return }
    let page = Syscalls.pageSize
    let start = (Int(bitPattern: base) + page - 1) / page * page
    let end = (Int(bitPattern: base) + buffer.count * MemoryLayout<Element>.stride) / page * page
    guard end > start, let pages = UnsafeRawPointer(bitPattern: start) else { return }
    Syscalls.releasePages(pages, byteCount: end - start)
}

/// Float32 that is never below `value`, for upper bounds.
@inline(__always)
func roundedUp(_ value: Double) -> Float {
    let rounded = Float(value)
    return Double(rounded) < value ? rounded.nextUp : rounded
}

/// Float16 storage for lower bounds, rounded down (and clamped to the largest finite
/// float16, itself a valid lower bound). Float16 keeps 11 significant bits, so a bound
/// loses at most 0.05% of its value: a negligible loss of pruning for half the memory.
///
/// Converts through float32: double-to-half has no instruction and becomes a library
/// call, while float-to-half is one F16C instruction. The double rounding can only round
/// up past `value`, which the check below undoes.
@inline(__always)
func roundedDownHalf(_ value: Double) -> Float16 {
    let rounded = Float16(Float(value))
    return widened(rounded) > value ? rounded.nextDown : rounded
}

/// A float16 bound as float64, through float32 for the same reason.
@inline(__always)
func widened(_ bound: Float16) -> Double {
    Double(Float(bound))
}

/// A drift inflated to cover its own float64 rounding: 2⁻⁴⁰ relative is far above the few
/// float64 roundings it went through, and 2⁻¹⁰⁰ absolute keeps a zero drift from being
/// exactly zero after rounding to float32.
@inline(__always)
func safeDrift(_ drift: Double) -> Double {
    drift * (1 + 0x1p-40) + 0x1p-100
}

/// Strictly larger, with a relative margin that float64 rounding of the final
/// comparison cannot cross.
@inline(__always)
func provablyExceeds(_ lower: Double, _ upper: Double) -> Bool {
    lower > upper * (1 + 0x1p-40)
}

/// The float32 score `‖c‖² − 2x·c` from a direct dot product, with the same error bound
/// as the kernel's `sgemm` scores (Higham's bound holds for any summation order).
@inline(__always)
func directScore(_ row: UnsafePointer<Float>, _ centroid: UnsafePointer<Float>, centroidSquaredNorm: Float, dimension: Int) -> Float {
    fk_direct_score(row, centroid, centroidSquaredNorm, dimension)
}

/// Zeroed memory for pruning bounds that costs nothing until it is written: `calloc` takes
/// large blocks straight from the system as untouched zero pages, so bounds that `auto`
/// allocates but never uses (it predicted pruning would not pay) add no resident memory.
/// Release with ``releaseBounds(_:)``.
func allocateBounds<Element: BitwiseCopyable>(_ count: Int, of type: Element.Type) -> UnsafeMutableBufferPointer<Element> {
    let capacity = max(1, count)
    guard let raw = calloc(capacity, MemoryLayout<Element>.stride) else {
        fatalError("cannot allocate \(capacity * MemoryLayout<Element>.stride) bytes of bounds")
    }
    return UnsafeMutableBufferPointer(start: raw.bindMemory(to: Element.self, capacity: capacity), count: capacity)
}

/// Frees memory from ``allocateBounds(_:of:)``.
func releaseBounds<Element>(_ buffer: UnsafeMutableBufferPointer<Element>) {
    free(buffer.baseAddress)
}

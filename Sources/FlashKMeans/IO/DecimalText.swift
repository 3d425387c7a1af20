#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Decimal text to float32 with C's `strtof`, correctly rounded, in the C locale whatever
/// locale the process has chosen (a German locale's `strtof` would stop at the `.` of `1.5`).
enum DecimalText {
    nonisolated(unsafe) private static let cLocale = newlocale(LC_NUMERIC_MASK, "C", nil)

    /// The float32 nearest to the number `text` spells, as `strtof` reads it: decimal or
    /// hexadecimal, with optional sign and exponent; `nan` and `inf` spellings too.
    /// - Parameters:
    ///   - text: `length` bytes followed by a NUL.
    ///   - length: The bytes that must all be the number.
    /// - Returns: `nil` unless all of `text` is one number (leading spaces allowed); an
    ///   infinity for a number beyond float32's range; 0 or a subnormal for one below it.
    static func float(_ text: UnsafePointer<UInt8>, length: Int) -> Float? {
        guard length > 0 else { return nil }
        let previous = uselocale(cLocale)
        defer { uselocale(previous) }
        return text.withMemoryRebound(to: CChar.self, capacity: length + 1) { start -> Float? in
            var end: UnsafeMutablePointer<CChar>?
            let value = strtof(start, &end)
            guard let end, end == UnsafeMutablePointer(mutating: start) + length else { return nil }
            return value
        }
    }
}

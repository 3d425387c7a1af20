#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Decimal text to float32 as numpy reads it: C's `strtod` (correctly rounded to
/// float64), then rounded to float32.
///
/// That is what `np.loadtxt(..., dtype=np.float32)` and `np.float32(text)` do, and what
/// `astype(np.float32)` does to the float64 the text spells; so a table written from float64
/// data gives exactly the rows of its float32 `.npy`.
/// Rounding the decimal straight to float32 (`strtof`) is the same for every table written
/// from float32 data (`savetxt`'s `%.18e`, pandas' shortest digits), but not for a decimal of
/// 13 or more digits lying within a float64 rounding of halfway between two float32s:
/// `1.00000005960464477539062500001` is 1 + 2⁻²³ to `strtof`, and 1 here and in numpy, since
/// it first becomes the float64 1 + 2⁻²⁴, a tie that rounds to even.
///
/// Parsed in the C locale, whatever locale the process has chosen (a German locale's `strtod`
/// would stop at the `.` of `1.5`).
enum DecimalText {
    nonisolated(unsafe) private static let cLocale = newlocale(LC_NUMERIC_MASK, "C", nil)

    /// The float32 of the number `text` spells, as `strtod` reads it (decimal or hexadecimal,
    /// with optional sign and exponent; `nan` and `inf` spellings too), rounded to float32.
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
            let value = strtod(start, &end)
            guard let end, end == UnsafeMutablePointer(mutating: start) + length else { return nil }
            return Float(value)
        }
    }
}

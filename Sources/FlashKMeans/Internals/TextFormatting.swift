#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Number and text formatting without Foundation's `String(format:)`, which FoundationEssentials lacks.

/// `value` with exactly `places` decimals, as `String(format: "%.<places>f")` gives it
/// (C's `vsnprintf`, so rounding is the same): `fixedDecimals(3, places: 2)` is "3.00".
package func fixedDecimals(_ value: Double, places: Int) -> String {
    var buffer = [CChar](repeating: 0, count: 64)
    let length = withVaList([Int32(places), value]) { vsnprintf(&buffer, buffer.count, "%.*f", $0) }
    guard length >= 0, length < buffer.count else { return "\(value)" }
    return String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// `arguments` formatted by C's `vsnprintf` (so exactly as `String(format:)` formats
/// numbers). Pass `Int` to `%ld`, not `%d`.
package func cFormatted(_ format: String, _ arguments: any CVarArg...) -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    while true {
        let length = Int(withVaList(arguments) { vsnprintf(&buffer, buffer.count, format, $0) })
        guard length >= 0 else { return format }
        if length < buffer.count {
            return String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        buffer = [CChar](repeating: 0, count: length + 1)
    }
}

extension StringProtocol {
    /// Without leading and trailing whitespace.
    package var trimmingWhitespace: SubSequence {
        guard let first = firstIndex(where: { !$0.isWhitespace }), let last = lastIndex(where: { !$0.isWhitespace }) else {
            return self[endIndex...]
        }
        return self[first...last]
    }
}

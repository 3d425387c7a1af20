/// The parent and the last component of a path, by POSIX rules.
///
/// Foundation's `NSString.deletingLastPathComponent` traps on a one-character relative
/// path such as `o` (swift-corelibs-foundation in Swift 6.3), which is a fine name for an
/// output directory; these never trap.
package enum PathComponents {
    /// The directory holding `path`'s last component: `"a/b/"` → `"a"`, `"/a"` → `"/"`,
    /// `"a"` → `""` (the working directory), `"/"` → `"/"`.
    package static func parent(of path: String) -> String {
        let bytes = Array(path.utf8)
        guard let end = bytes.lastIndex(where: { $0 != slash }) else { return bytes.isEmpty ? "" : "/" }
        guard let separator = bytes[...end].lastIndex(of: slash) else { return "" }
        guard let parentEnd = bytes[..<separator].lastIndex(where: { $0 != slash }) else { return "/" }
        return String(decoding: bytes[...parentEnd], as: UTF8.self)
    }

    /// `path`'s last component, trailing slashes ignored: `"a/b/"` → `"b"`, `"/"` → `"/"`.
    package static func lastComponent(of path: String) -> String {
        let bytes = Array(path.utf8)
        guard let end = bytes.lastIndex(where: { $0 != slash }) else { return bytes.isEmpty ? "" : "/" }
        let start = bytes[...end].lastIndex(of: slash).map { $0 + 1 } ?? 0
        return String(decoding: bytes[start...end], as: UTF8.self)
    }

    private static let slash = UInt8(ascii: "/")
}

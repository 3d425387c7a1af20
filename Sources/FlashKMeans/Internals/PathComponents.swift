/// The two path operations the output code needs, spelled as `NSString` spells them
/// (`deletingLastPathComponent`, `lastPathComponent`), without Foundation.
extension String {
    /// The path without its last component: "a/b/c" → "a/b", "/a" → "/", "a" → "";
    /// trailing slashes are ignored, as `NSString` ignores them.
    var deletingLastPathComponent: String {
        let trimmed = trimmingTrailingSlashes
        guard let slash = trimmed.lastIndex(of: "/") else { return "" }
        let parent = String(trimmed[..<slash]).trimmingTrailingSlashes
        return parent.isEmpty ? "/" : parent
    }

    /// The path's last component: "a/b/c" → "c", "/" → "/", "a/b/" → "b".
    var lastPathComponent: String {
        let trimmed = trimmingTrailingSlashes
        guard trimmed != "/" else { return "/" }
        guard let slash = trimmed.lastIndex(of: "/") else { return trimmed }
        return String(trimmed[trimmed.index(after: slash)...])
    }

    /// Without trailing slashes, except that "/" stays "/".
    private var trimmingTrailingSlashes: String {
        var trimmed = Substring(self)
        while trimmed.count > 1, trimmed.last == "/" { trimmed = trimmed.dropLast() }
        return String(trimmed)
    }
}

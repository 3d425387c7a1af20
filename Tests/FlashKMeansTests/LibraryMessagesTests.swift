import Foundation
import Testing

/// The library is used by other programs, not only by the `flashkmeans` command: its
/// messages must not tell the user to pass a command-line flag.
@Suite struct LibraryMessagesTests {
    @Test func noStringLiteralInTheLibraryNamesAFlag() throws {
        let library = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/FlashKMeans")
        let files = try #require(FileManager.default.enumerator(atPath: library.path)).compactMap { $0 as? String }
            .filter { $0.hasSuffix(".swift") }
        #expect(files.count > 30)
        let flag = try Regex(#""[^"\n]*--[a-z][^"\n]*""#)
        var offending: [String] = []
        for file in files {
            let text = try String(contentsOf: library.appendingPathComponent(file), encoding: .utf8)
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let code = line.trimmingCharacters(in: .whitespaces)
                if code.hasPrefix("//") { continue }
                if code.contains(flag) { offending.append("\(file):\(number + 1): \(code)") }
            }
        }
        #expect(offending.isEmpty, "\(offending.joined(separator: "\n"))")
    }
}

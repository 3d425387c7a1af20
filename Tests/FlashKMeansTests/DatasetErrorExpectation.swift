import Testing
@testable import FlashKMeans

/// The one-line contract of every ``DatasetError``: `body` throws exactly `expected`, for
/// `path`, as one line starting with the path (line breaks in it escaped), and, when given,
/// saying exactly `message` after it.
func expectDatasetError(
    _ expected: DatasetError.Problem, path: String, saying message: String? = nil,
    sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void
) {
    do {
        try body()
        Issue.record("expected \(expected) for \(path)", sourceLocation: sourceLocation)
    } catch let error as DatasetError {
        let shownPath = path.replacingOccurrences(of: "\n", with: #"\n"#)
        #expect(error.problem == expected, sourceLocation: sourceLocation)
        #expect(error.path == path, sourceLocation: sourceLocation)
        #expect(error.description.hasPrefix(shownPath + ": "), sourceLocation: sourceLocation)
        #expect(!error.description.contains("\n"), sourceLocation: sourceLocation)
        if let message { #expect(error.description == "\(shownPath): \(message)", sourceLocation: sourceLocation) }
    } catch {
        Issue.record("unexpected \(error)", sourceLocation: sourceLocation)
    }
}

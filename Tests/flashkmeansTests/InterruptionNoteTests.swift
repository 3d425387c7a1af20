import FlashKMeans
import Foundation
import Testing
import _FlashKMeansTestSupport

@testable import flashkmeans

/// What a SIGINT or SIGTERM says of an output directory, whether or not the command still holds
/// it. A signal that came after the results were swapped in and the command had let go of the
/// directory used to say nothing of them (seen under AddressSanitizer in
/// `interruptedAtRandomMomentsEveryRunResumesToTheSameResults`).
struct InterruptionNoteTests {
    @Test func aReleasedDirectoryStillTellsThatItsResultsAreIn() throws {
        let temporary = TemporaryDirectory()
        defer { temporary.cleanup() }
        let path = temporary.file("out")
        var directory: OutputDirectory? = try OutputDirectory.prepare(path: path, fileNames: ["a.txt"], overwrite: false)
        let placement = directory!.placement
        #expect(!placement.resultsInPlace)
        try directory!.commit([(name: "a.txt", write: { try Data("a".utf8).write(to: URL(fileURLWithPath: $0)) })])
        directory = nil
        #expect(placement.resultsInPlace)
        #expect(Interruption.note(abandoning: nil, path: path, placement: placement) == "the results were already in \(path)")
    }

    @Test func aDirectoryWithoutResultsIsLeftAsItWasOrNotMentioned() throws {
        let temporary = TemporaryDirectory()
        defer { temporary.cleanup() }
        let path = temporary.file("out")
        let directory = try OutputDirectory.prepare(path: path, fileNames: ["a.txt"], overwrite: false)
        let placement = directory.placement
        #expect(Interruption.note(abandoning: nil, path: path, placement: placement) == nil)
        #expect(Interruption.note(abandoning: directory, path: path, placement: placement) == "\(path) left as it was")
        #expect(!FileManager.default.fileExists(atPath: path))
    }
}

import Foundation
import Testing
import _FlashKMeansTestSupport

/// Crafted sizes and hostile names from the command line: one `error:` line naming the file,
/// exit status 1 (never a trap's 132 or an abort's 134), and nothing written.
@Suite struct CraftedSizeCommandTests {
    let directory = TemporaryDirectory()

    func data(rows: Int = 200, name: String = "data.npy") throws -> String {
        let path = directory.file(name)
        let run = try CommandRun(["demo", "-o", path, "--points", "\(rows)", "--dim", "8", "--blobs", "4"])
        #expect(run.status == 0, "\(run.standardError)")
        return path
    }

    /// The whole of standard error is the one line; `shown` is the file as the line prints it.
    func expectOneLine(_ arguments: [String], naming shown: String, saying words: String, output: String? = nil) throws {
        let run = try CommandRun(arguments)
        #expect(run.status == 1, "\(run.standardError)")
        #expect(run.standardError.hasPrefix("error: " + shown + ": "), "\(run.standardError)")
        #expect(run.standardError.contains(words), "\(run.standardError)")
        #expect(run.standardError.filter { $0 == "\n" }.count == 1, "\(run.standardError)")
        #expect(run.standardError.hasSuffix("\n"))
        if let output { #expect(!FileManager.default.fileExists(atPath: output)) }
    }

    /// An argument refused before anything runs: argument-parser's `Error:` line and usage, status 64.
    func expectRefused(_ arguments: [String], saying words: String, leaving file: String) throws {
        let run = try CommandRun(arguments)
        #expect(run.status == 64, "\(run.standardError)")
        #expect(run.standardError.hasPrefix("Error: "), "\(run.standardError)")
        #expect(run.standardError.contains(words), "\(run.standardError)")
        #expect(!FileManager.default.fileExists(atPath: file))
    }

    @Test func craftedHeadersFailInOneLine() throws {
        let input = try data()
        let output = directory.file("never")
        let npy = directory.file("huge.npy")
        Fixtures.writeNpy(npy, descr: "<f4", shape: [1 << 62, 4], payload: [UInt8](repeating: 0, count: 32))
        try expectOneLine(["inspect", npy], naming: npy, saying: "declares 4611686018427387904 × 4 values of 4 bytes, more than any file can hold")
        let square = directory.file("square.npy")
        Fixtures.writeNpy(square, descr: "<f4", shape: [1 << 32, 1 << 32], payload: [UInt8](repeating: 0, count: 32))
        try expectOneLine(["inspect", square], naming: square, saying: "declares 4294967296 × 4294967296 values")
        let fbin = directory.file("huge.fbin")
        Fixtures.writeBytes(fbin, Fixtures.bytes(of: [UInt32(1) << 31, UInt32(1) << 31]) + [UInt8](repeating: 0, count: 32))
        try expectOneLine(["inspect", fbin], naming: fbin, saying: "declares 2147483648 × 2147483648 values")
        let raw = directory.file("rows.f32")
        Fixtures.writeBytes(raw, [UInt8](repeating: 0, count: 3200))
        try expectOneLine(
            ["inspect", raw, "--dim", "2305843009213693952"], naming: raw,
            saying: "--dim 2305843009213693952 is longer than the whole file (3200 bytes, 800 float32 values)")
        let hdf5 = directory.file("huge.h5")
        CraftedFiles.declareHDF5(hdf5, dataset: "train", shape: [1 << 60, 8], chunkRows: 1024)
        try expectOneLine(["inspect", hdf5], naming: hdf5, saying: "declares 1152921504606846976 × 8 values")
        let unwritten = directory.file("unwritten.h5")
        CraftedFiles.declareHDF5(unwritten, dataset: "train", shape: [1 << 40, 8], chunkRows: 1024)
        try expectOneLine(
            ["cluster", unwritten, "-k", "2", "-o", output, "--quiet"], naming: unwritten, saying: "0 of its 1073741824 chunks are written",
            output: output)

        // The same files as centroids.
        try expectOneLine(["cluster", input, "--init", npy, "-o", output, "--quiet"], naming: npy, saying: "more than any file can hold", output: output)
        try expectOneLine(["assign", input, "--centroids", fbin, "-o", output, "--quiet"], naming: fbin, saying: "more than any file can hold", output: output)
        try expectOneLine(["ivf", input, "--centroids", hdf5, "-o", output, "--quiet"], naming: hdf5, saying: "more than any file can hold", output: output)
        try expectOneLine(["assign", input, "--centroids", unwritten, "-o", output, "--quiet"], naming: unwritten, saying: "chunks are written", output: output)
    }

    /// Sizes beyond the data are clamped to it and the run succeeds.
    @Test func hugeTileThreadAndIterationSettingsRun() throws {
        let input = try data()
        let largest = "\(Int.max)"
        for (index, option) in ["--tile-points", "--tile-centroids", "--threads", "--init-sample", "--max-points-per-centroid", "--max-iter"].enumerated() {
            let output = directory.file("run-\(index)")
            let run = try CommandRun(["cluster", input, "-k", "3", "-o", output, "--quiet", option, largest])
            #expect(run.status == 0, "\(option): \(run.standardError)")
            #expect(FileManager.default.fileExists(atPath: output + "/labels.npy"), "\(option)")
        }
        let clustered = directory.file("run-0")
        for top in ["1", "3"] {
            let output = directory.file("assign-\(top)")
            let run = try CommandRun([
                "assign", input, "--centroids", clustered + "/centroids.npy", "--top", top, "-o", output, "--quiet",
                "--tile-points", largest, "--tile-centroids", largest, "--threads", largest,
            ])
            #expect(run.status == 0, "--top \(top): \(run.standardError)")
        }
        let ivf = directory.file("ivf")
        #expect(try CommandRun(["ivf", input, "-k", "3", "-o", ivf, "--quiet", "--tile-points", largest]).status == 0)
        let inspect = try CommandRun(["inspect", input, "--sample", largest])
        #expect(inspect.status == 0, "\(inspect.standardError)")
    }

    @Test func countsBeyondTheDataAreOneLine() throws {
        let input = try data()
        let output = directory.file("never")
        try expectOneLine(
            ["cluster", input, "-k", "\(Int.max)", "-o", output, "--quiet"], naming: input, saying: "is larger than the number of rows (200)",
            output: output)
        let clustered = directory.file("clustered")
        #expect(try CommandRun(["cluster", input, "-k", "3", "-o", clustered, "--quiet"]).status == 0)
        let centroids = clustered + "/centroids.npy"
        try expectOneLine(
            ["assign", input, "--centroids", centroids, "--top", "\(Int.max)", "-o", output, "--quiet"], naming: centroids,
            saying: "holds 3 centroids, fewer than --top", output: output)
    }

    /// A budget in MB whose bytes do not fit in 64 bits is refused, saying the limit.
    @Test func memoryBudgetBeyondSixtyFourBits() throws {
        let input = try data()
        let output = directory.file("never")
        try expectRefused(
            ["cluster", input, "-k", "3", "-o", output, "--memory-budget", "9000000000000"],
            saying: "--memory-budget is too large: at most 8796093022207 MB, got 9000000000000", leaving: output)
        let largest = directory.file("largest")
        let run = try CommandRun(["cluster", input, "-k", "3", "-o", largest, "--quiet", "--memory-budget", "8796093022207"])
        #expect(run.status == 0, "\(run.standardError)")
    }

    @Test func demoSizesAreCheckedBeforeWriting() throws {
        let npy = directory.file("demo.npy")
        try expectRefused(["demo", "-o", npy, "--points", "\(Int.max)", "--dim", "\(Int.max)"], saying: "--points × --dim", leaving: npy)
        try expectRefused(["demo", "-o", npy, "--points", "\(1 << 62)", "--dim", "8"], saying: "--points × --dim", leaving: npy)
        try expectRefused(["demo", "-o", npy, "--points", "1", "--dim", "\(1 << 59)"], saying: "more than this machine's memory", leaving: npy)
        try expectRefused(["demo", "-o", npy, "--points", "10", "--blobs", "\(Int.max)"], saying: "more than this machine's memory", leaving: npy)
        let fbin = directory.file("demo.fbin")
        try expectRefused(["demo", "-o", fbin, "--points", "\(1 << 32)", "--dim", "2"], saying: ".fbin holds at most 4294967295 rows", leaving: fbin)
        let fvecs = directory.file("demo.fvecs")
        try expectRefused(["demo", "-o", fvecs, "--points", "1", "--dim", "\(1 << 31)"], saying: ".fvecs holds rows of at most 2147483647 values", leaving: fvecs)
    }

    // MARK: Messages

    @Test func unreadableAndRefusedNpyHeaders() throws {
        let shape = directory.file("shape.npy")
        CraftedFiles.writeNpyHeader(shape, dictionary: "{'descr': '<f4', 'fortran_order': False, 'shape': (abc, 4), }")
        try expectOneLine(["inspect", shape], naming: shape, saying: "bad header: unreadable shape (abc, 4)")
        let run = try CommandRun(["inspect", shape])
        #expect(run.standardError == "error: \(shape): bad header: unreadable shape (abc, 4)\n")
        let duplicate = directory.file("duplicate.npy")
        CraftedFiles.writeNpyHeader(duplicate, dictionary: "{'descr': '<f4', 'fortran_order': False, 'fortran_order': True, 'shape': (4, 2), }")
        try expectOneLine(["inspect", duplicate], naming: duplicate, saying: "duplicate key 'fortran_order'")
        let yes = directory.file("yes.npy")
        CraftedFiles.writeNpyHeader(yes, dictionary: "{'descr': '<f4', 'fortran_order': 'yes', 'shape': (4, 2), }")
        try expectOneLine(["inspect", yes], naming: yes, saying: "fortran_order must be True or False, found 'yes'")
    }

    /// `assign` and `ivf` read trained centroids: no message calls them initial.
    @Test func centroidMessagesNameTheirRole() throws {
        let input = try data()
        let output = directory.file("never")
        let wrong = directory.file("wrong.npy")
        Fixtures.writeNpy(wrong, descr: "<f4", shape: [2, 4], payload: Fixtures.bytes(of: [Float](repeating: 1, count: 8)))
        for arguments in [["assign", input, "--centroids", wrong], ["ivf", input, "--centroids", wrong], ["cluster", input, "--init", wrong]] {
            try expectOneLine(
                arguments + ["-o", output, "--quiet"], naming: wrong, saying: "centroids have dimension 4, but the data have 8", output: output)
            let run = try CommandRun(arguments + ["-o", output, "--quiet"])
            #expect(!run.standardError.contains("initial"), "\(run.standardError)")
            #expect(!run.standardError.contains("bad header"), "\(run.standardError)")
        }
        let three = directory.file("three.npy")
        Fixtures.writeNpy(three, descr: "<f4", shape: [3, 8], payload: Fixtures.bytes(of: [Float](repeating: 1, count: 24)))
        try expectOneLine(["cluster", input, "-k", "4", "--init", three, "-o", output, "--quiet"], naming: three, saying: "holds 3 centroids, but -k is 4", output: output)
    }

    /// A zero centroid is a problem of the file it came from, whichever command read it.
    @Test func zeroCentroidNamesTheCentroidFile() throws {
        let input = try data()
        let output = directory.file("never")
        let zero = directory.file("zero.npy")
        var values = [Float](repeating: 1, count: 3 * 8)
        for index in 8..<16 { values[index] = 0 }
        Fixtures.writeNpy(zero, descr: "<f4", shape: [3, 8], payload: Fixtures.bytes(of: values))
        for arguments in [["assign", input, "--centroids", zero], ["ivf", input, "--centroids", zero], ["cluster", input, "--init", zero], ["ivf", input, "--init", zero]] {
            try expectOneLine(
                arguments + ["--metric", "cosine", "-o", output, "--quiet"], naming: zero,
                saying: "centroid 1 is all zeros and has no direction for --metric cosine", output: output)
        }
    }

    @Test func ivfNeedsKOrCentroids() throws {
        let input = try data()
        let output = directory.file("never")
        try expectRefused(["ivf", input, "-o", output], saying: "one of them is required", leaving: output)
        let run = try CommandRun(["ivf", input, "-o", output])
        #expect(!run.standardError.contains("not both"))
    }

    /// Line breaks and escape sequences in a file name are printed escaped: the error stays one line.
    @Test func controlCharactersInFileNamesAreEscaped() throws {
        let output = directory.file("never")
        let missing = directory.file("two\nlines.npy")
        try expectOneLine(["inspect", missing], naming: directory.file(#"two\nlines.npy"#), saying: "No such file")
        let bad = directory.file("bad\u{1B}[31m\r.npy")
        CraftedFiles.writeNpyHeader(bad, dictionary: "{'descr': '<f4', 'fortran_order': 'yes', 'shape': (4, 2), }")
        try expectOneLine(["cluster", bad, "-k", "2", "-o", output, "--quiet"], naming: directory.file(#"bad\u{1B}[31m\r.npy"#), saying: "fortran_order", output: output)
        let input = try data()
        let newlineOutput = directory.file("out\nput") + "/\u{7}"
        try expectOneLine(["cluster", input, "-k", "300", "-o", newlineOutput, "--quiet"], naming: input, saying: "larger than the number of rows")
    }
}

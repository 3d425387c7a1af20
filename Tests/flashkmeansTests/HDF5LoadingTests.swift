import Foundation
import Testing
import _FlashKMeansTestSupport

/// libhdf5 is loaded when an HDF5 file is opened, never at start-up: other formats run
/// without it, and an HDF5 file without it is one line naming the file.
@Suite struct HDF5LoadingTests {
    let directory = TemporaryDirectory()
    static let values: [Float] = (0..<200).map { Float($0 % 17) - 8 }

    /// The shared libraries the dynamic loader opened for a run (glibc's `LD_DEBUG=files`).
    static func loadedLibraries(_ run: CommandRun) -> [Substring] {
        run.standardError.split(separator: "\n").filter {
            $0.contains("file=") && ($0.contains("needed by") || $0.contains("dynamically loaded by"))
        }
    }

    @Test func loadedOnlyForHDF5() throws {
        let npy = directory.file("a.npy")
        Fixtures.writeNpy(npy, descr: "<f4", shape: [50, 4], payload: Fixtures.bytes(of: Self.values))
        let hdf5 = directory.file("a.h5")
        Fixtures.writeHDF5(hdf5, dataset: "train", values: Self.values, shape: [50, 4])

        let plain = try CommandRun(["inspect", npy], environment: ["LD_DEBUG": "files"])
        #expect(plain.status == 0)
        #expect(!Self.loadedLibraries(plain).isEmpty, "LD_DEBUG gave no list: \(plain.standardError.prefix(500))")
        #expect(!Self.loadedLibraries(plain).contains { $0.contains("libhdf5") })

        let opened = try CommandRun(["inspect", hdf5], environment: ["LD_DEBUG": "files"])
        #expect(opened.status == 0)
        #expect(opened.standardOutput.contains("rows       50"))
        #expect(Self.loadedLibraries(opened).contains { $0.contains("libhdf5") && $0.contains("dynamically loaded by") })
    }

    @Test func missingLibraryIsOneLineNamingTheFile() throws {
        let hdf5 = directory.file("a.h5")
        Fixtures.writeHDF5(hdf5, dataset: "train", values: Self.values, shape: [50, 4])
        let output = directory.file("out")
        let missing = ["FLASHKMEANS_LIBHDF5": directory.file("no-such-libhdf5.so")]
        let run = try CommandRun(["cluster", hdf5, "-k", "2", "-o", output], environment: missing)
        #expect(run.status == 1)
        let lines = run.standardError.split(separator: "\n")
        #expect(lines.count == 1, "\(run.standardError)")
        #expect(lines.first?.hasPrefix("error: \(hdf5): reading HDF5 needs libhdf5 1.10 (apt install libhdf5-103-1") == true, "\(run.standardError)")
        #expect(!FileManager.default.fileExists(atPath: output))

        // Every other format runs as before.
        let npy = directory.file("a.npy")
        Fixtures.writeNpy(npy, descr: "<f4", shape: [50, 4], payload: Fixtures.bytes(of: Self.values))
        let plain = try CommandRun(["cluster", npy, "-k", "2", "-o", output, "--quiet"], environment: missing)
        #expect(plain.status == 0, "\(plain.standardError)")
    }
}

import Foundation
import Testing
@testable import FlashKMeans
import _FlashKMeansTestSupport

/// A mapped input stays in the page cache but not in the process's resident set: passes
/// and samples give its pages back as they go.
@Suite struct PageReleaseTests {
    @Test func readingMapsTheFileAndPassesGiveItBack() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let (rowCount, dimension) = (16_384, 256)
        let path = directory.file("pages.npy")
        Fixtures.writeNpy(
            path, descr: "<f4", shape: [rowCount, dimension],
            payload: Fixtures.bytes(of: Fixtures.gaussian(pointCount: rowCount, dimension: dimension, seed: 8)))
        let source = try openEmbeddings(at: path)
        let megabyte = 1 << 20

        var copy = [Float](repeating: 0, count: rowCount * dimension)
        try copy.withUnsafeMutableBufferPointer { try source.copyRows(0..<rowCount, into: $0.baseAddress!) }
        let mapped = try Self.residentBytes(ofMappingsOf: path)
        #expect(mapped > 12 * megabyte, "\(mapped) bytes")

        source.releaseRows(0..<rowCount)
        #expect(try Self.residentBytes(ofMappingsOf: path) < megabyte)

        // k-means++ samples rows across the file, then each Lloyd pass reads all of it.
        let result = try KMeans.fit(source, configuration: configuration(k: 16, maxIterations: 3))
        #expect(result.iterations.count == 3)
        let left = try Self.residentBytes(ofMappingsOf: path)
        #expect(left < megabyte, "\(left) bytes")
    }

    /// An input no larger than one release batch stays mapped across passes: giving its
    /// pages back and faulting them in again every pass cost more than they weigh.
    @Test func aSmallInputStaysResidentAcrossPasses() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let (rowCount, dimension) = (8_192, 64)
        #expect(rowCount * dimension * 4 <= TileReader.releaseBatchBytes)
        let path = directory.file("small.npy")
        Fixtures.writeNpy(
            path, descr: "<f4", shape: [rowCount, dimension],
            payload: Fixtures.bytes(of: Fixtures.gaussian(pointCount: rowCount, dimension: dimension, seed: 9)))
        let source = try openEmbeddings(at: path)
        let result = try KMeans.fit(source, configuration: configuration(k: 8, maxIterations: 3))
        #expect(result.iterations.count == 3)
        // Most of its 2 MiB are still mapped after the last pass.
        #expect(try Self.residentBytes(ofMappingsOf: path) > rowCount * dimension * 2)
    }

    /// The input's mapping asks for 2 MiB pages (`MADV_HUGEPAGE`, `hg` among its flags), so that a
    /// file read from a cold cache comes in as 2 MiB pages that a pass maps and releases at once.
    @Test(.enabled(
        if: FileManager.default.fileExists(atPath: "/sys/kernel/mm/transparent_hugepage/enabled"),
        "this kernel has no transparent huge pages"))
    func theMappingAsksForHugePages() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let path = directory.file("huge.npy")
        Fixtures.writeNpy(
            path, descr: "<f4", shape: [4096, 64],
            payload: Fixtures.bytes(of: Fixtures.gaussian(pointCount: 4096, dimension: 64, seed: 3)))
        let source = try openEmbeddings(at: path)
        #expect(source.rowCount == 4096)
        let flags = try Self.mappingFlags(ofMappingsOf: path)
        #expect(!flags.isEmpty)
        #expect(flags.allSatisfy { $0.contains("hg") }, "\(flags)")
    }

    /// The `VmFlags:` line of every mapping of `path` in `/proc/self/smaps`.
    static func mappingFlags(ofMappingsOf path: String) throws -> [[Substring]] {
        let resolved = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        let handle = try #require(FileHandle(forReadingAtPath: "/proc/self/smaps"))
        defer { try? handle.close() }
        let smaps = String(decoding: try handle.readToEnd() ?? Data(), as: UTF8.self)
        var flags: [[Substring]] = []
        var inMapping = false
        for line in smaps.split(separator: "\n") {
            if let first = line.first, first.isHexDigit, line.contains("-") && !line.hasSuffix(":") && line.split(separator: " ").count >= 5 {
                inMapping = line.hasSuffix(resolved)
            } else if inMapping, line.hasPrefix("VmFlags:") {
                flags.append(Array(line.split(separator: " ").dropFirst()))
            }
        }
        return flags
    }

    /// The `Rss:` of every mapping of `path` in `/proc/self/smaps`.
    static func residentBytes(ofMappingsOf path: String) throws -> Int {
        let resolved = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        // Read to the end: /proc files report a size of 0.
        let handle = try #require(FileHandle(forReadingAtPath: "/proc/self/smaps"))
        defer { try? handle.close() }
        let smaps = String(decoding: try handle.readToEnd() ?? Data(), as: UTF8.self)
        var total = 0
        var inMapping = false
        for line in smaps.split(separator: "\n") {
            if let first = line.first, first.isHexDigit, line.contains("-") && !line.hasSuffix(":") && line.split(separator: " ").count >= 5 {
                inMapping = line.hasSuffix(resolved)
            } else if inMapping, line.hasPrefix("Rss:") {
                total += (Int(line.split(separator: " ")[1]) ?? 0) * 1024
            }
        }
        return total
    }
}

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension KMeansResult {
    /// The files `flashkmeans cluster` writes.
    public static let outputFileNames = ["centroids.npy", "labels.npy", "report.json"]

    /// Writes `centroids.npy`, `labels.npy` and `report.json` into `directory`, all or nothing.
    ///
    /// `centroids.npy` is `k × d` float32 and `labels.npy` n int32, readable by `numpy.load`;
    /// `report.json` is `report` with sorted keys.
    ///
    /// - Parameters:
    ///   - directory: Prepared with ``outputFileNames`` before the run.
    ///   - report: The run's report, usually built from this result.
    /// - Throws: ``OutputError`` when a file cannot be written; nothing is left behind.
    public func write(to directory: OutputDirectory, report: RunReport) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let reportData = try encoder.encode(report)
        try directory.commit([
            ("centroids.npy", { path in
                let writer = try MatrixWriter(path: path, format: .npy, rows: clusterCount, columns: dimension)
                try writer.append(centroids)
                try writer.close()
            }),
            ("labels.npy", { path in
                let writer = try MatrixWriter(path: path, format: .npy, rows: labels.count, columns: nil, element: .int32)
                try writer.append(labels)
                try writer.close()
            }),
            ("report.json", { path in try Syscalls.writeFile(path, Array(reportData)) }),
        ])
    }
}

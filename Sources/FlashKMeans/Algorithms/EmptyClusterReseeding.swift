/// Gives every empty cluster a new centroid: the row farthest from its own
/// centroid (ties to the lowest row), taken out of its old cluster's sums.
///
/// Rows that are alone in their cluster are skipped, so re-seeding never empties
/// another cluster. The choice depends only on the squared distances and labels of
/// the pass, so it is deterministic.
enum EmptyClusterReseeding {
    /// - Parameters:
    ///   - labels: Every row's label from the pass just run (in).
    ///   - squaredDistances: Every row's squared distance to its centroid (in).
    ///   - rows: The rows, to read the chosen ones from.
    ///   - sums: `k × d` float64 cluster sums (inout).
    ///   - counts: `k` cluster sizes (inout).
    /// - Returns: The number of clusters re-seeded.
    static func reseed(
        labels: UnsafeBufferPointer<Int32>, squaredDistances distances: UnsafeBufferPointer<Float>, rows source: any EmbeddingSource,
        sums: UnsafeMutablePointer<Double>, counts: UnsafeMutablePointer<Int>, clusterCount: Int
    ) throws -> Int {
        guard (0..<clusterCount).contains(where: { counts[$0] == 0 }) else { return 0 }
        let farthestFirst = (0..<labels.count).sorted {
            distances[$0] != distances[$1] ? distances[$0] > distances[$1] : $0 < $1
        }
        return try reseed(
            candidates: farthestFirst.lazy.map { (row: $0, label: labels[$0]) }, rows: source, sums: sums, counts: counts,
            clusterCount: clusterCount)
    }

    /// The same choice for one rank of a job, whose `labels` and `squaredDistances` are
    /// those of its rows from `firstRow` on: every rank offers its farthest rows, and all
    /// choose from the merged list as one process would from all rows.
    ///
    /// A rank offers its `empty + k` farthest rows: each re-seeding takes one row, and each
    /// cluster can be left with one row, which is then passed over, so no more can be needed.
    static func reseed(
        labels: UnsafeBufferPointer<Int32>, squaredDistances distances: UnsafeBufferPointer<Float>, firstRow: Int,
        across distribution: Distribution, rows source: any EmbeddingSource,
        sums: UnsafeMutablePointer<Double>, counts: UnsafeMutablePointer<Int>, clusterCount: Int
    ) throws -> Int {
        // The counts are the job's, the same on every rank: all ranks take this branch together.
        let emptyCount = (0..<clusterCount).filter { counts[$0] == 0 }.count
        guard emptyCount > 0 else { return 0 }
        let offered = (0..<labels.count).sorted {
            distances[$0] != distances[$1] ? distances[$0] > distances[$1] : $0 < $1
        }.prefix(emptyCount + clusterCount)
        struct Offer { var distance: Float; var row: Int; var label: Int32 }
        let offers = try distribution.allGather(offered.map { Offer(distance: distances[$0], row: firstRow + $0, label: labels[$0]) })
            .flatMap { $0 }
            .sorted { $0.distance != $1.distance ? $0.distance > $1.distance : $0.row < $1.row }
        return try reseed(
            candidates: offers.lazy.map { (row: $0.row, label: $0.label) }, rows: source, sums: sums, counts: counts,
            clusterCount: clusterCount)
    }

    /// Re-seeds from `candidates`, farthest first.
    private static func reseed<Candidates: Sequence>(
        candidates: Candidates, rows source: any EmbeddingSource,
        sums: UnsafeMutablePointer<Double>, counts: UnsafeMutablePointer<Int>, clusterCount: Int
    ) throws -> Int where Candidates.Element == (row: Int, label: Int32) {
        let dimension = source.dimension
        let empty = (0..<clusterCount).filter { counts[$0] == 0 }
        var row = [Float](repeating: 0, count: dimension)
        var reseeded = 0
        var candidates = candidates.makeIterator()
        for cluster in empty {
            var chosen: (row: Int, label: Int32)?
            while let candidate = candidates.next() {
                if counts[Int(candidate.label)] > 1 {
                    chosen = candidate
                    break
                }
            }
            guard let (point, label) = chosen else { break }
            try row.withUnsafeMutableBufferPointer { try source.gatherRows([point], into: $0.baseAddress!) }
            let oldCluster = Int(label)
            for index in 0..<dimension {
                sums[oldCluster * dimension + index] -= Double(row[index])
                sums[cluster * dimension + index] = Double(row[index])
            }
            counts[oldCluster] -= 1
            counts[cluster] = 1
            reseeded += 1
        }
        return reseeded
    }
}

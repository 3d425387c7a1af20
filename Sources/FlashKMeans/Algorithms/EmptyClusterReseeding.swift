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
        let dimension = source.dimension
        guard (0..<clusterCount).contains(where: { counts[$0] == 0 }) else { return 0 }
        let empty = (0..<clusterCount).filter { counts[$0] == 0 }
        let farthestFirst = (0..<labels.count).sorted {
            distances[$0] != distances[$1] ? distances[$0] > distances[$1] : $0 < $1
        }
        var row = [Float](repeating: 0, count: dimension)
        var reseeded = 0
        var candidates = farthestFirst.makeIterator()
        for cluster in empty {
            var chosen: Int?
            while let point = candidates.next() {
                if counts[Int(labels[point])] > 1 {
                    chosen = point
                    break
                }
            }
            guard let point = chosen else { break }
            try row.withUnsafeMutableBufferPointer { try source.gatherRows([point], into: $0.baseAddress!) }
            let oldCluster = Int(labels[point])
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

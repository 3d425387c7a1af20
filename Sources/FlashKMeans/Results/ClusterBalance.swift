/// Cluster sizes, and faiss's imbalance factor `k · Σ nᵢ² / n²` (1 when every cluster
/// has n / k rows; larger means longer inverted lists to scan in an IVF index).
public struct ClusterBalance: Sendable, Codable, Equatable {
    /// Rows in the smallest cluster (0 when some cluster is empty).
    public var smallest: Int
    /// The median cluster size (the upper middle one for an even k).
    public var median: Int
    /// Rows in the largest cluster.
    public var largest: Int
    /// Clusters with no row.
    public var emptyClusters: Int
    /// `k · Σ nᵢ² / n²`: 1 for equal sizes, k when one cluster holds every row; 0 for no rows.
    public var imbalanceFactor: Double

    /// Counts the rows of each cluster.
    ///
    /// - Parameters:
    ///   - labels: One label per row, each in `0..<clusterCount`.
    ///   - clusterCount: k.
    /// - Complexity: O(n + k log k).
    public init(labels: [Int32], clusterCount: Int) {
        var sizes = [Int](repeating: 0, count: clusterCount)
        for label in labels { sizes[Int(label)] += 1 }
        sizes.sort()
        smallest = sizes.first ?? 0
        median = sizes.isEmpty ? 0 : sizes[sizes.count / 2]
        largest = sizes.last ?? 0
        emptyClusters = sizes.prefix { $0 == 0 }.count
        let rows = Double(labels.count)
        imbalanceFactor = rows == 0 ? 0 : Double(clusterCount) * sizes.reduce(0.0) { $0 + Double($1) * Double($1) } / (rows * rows)
    }
}

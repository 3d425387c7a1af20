/// The inverted lists of an IVF index: row ids grouped by their centroid.
public struct InvertedLists: Sendable, Equatable {
    /// `k + 1` offsets into `ids`: list `j` is `ids[offsets[j]..<offsets[j + 1]]`.
    public var offsets: [Int64]
    /// Every row id once, grouped by list, ascending within a list.
    public var ids: [Int64]

    /// Groups rows by label with a counting sort (stable, so ids ascend within a list).
    ///
    /// - Parameters:
    ///   - labels: One label per row, each in `0..<clusterCount`; row `i` gets id `i`.
    ///   - clusterCount: k, the number of lists (empty ones included).
    /// - Complexity: O(n + k).
    public init(labels: [Int32], clusterCount: Int) {
        var offsets = [Int64](repeating: 0, count: clusterCount + 1)
        for label in labels { offsets[Int(label) + 1] += 1 }
        for cluster in 0..<clusterCount { offsets[cluster + 1] += offsets[cluster] }
        var next = offsets
        var ids = [Int64](repeating: 0, count: labels.count)
        for (row, label) in labels.enumerated() {
            ids[Int(next[Int(label)])] = Int64(row)
            next[Int(label)] += 1
        }
        self.offsets = offsets
        self.ids = ids
    }

    /// k, the number of lists.
    public var listCount: Int { offsets.count - 1 }
    /// The ids of list `index` (ascending when built from labels).
    /// - Parameter index: A list in `0..<listCount`.
    public func list(_ index: Int) -> ArraySlice<Int64> { ids[Int(offsets[index])..<Int(offsets[index + 1])] }
}

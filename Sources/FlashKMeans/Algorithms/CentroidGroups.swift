/// Yinyang's centroid groups (Ding et al. 2015, §3.1): the initial centroids clustered
/// into `t` groups (by ``CentroidGrouping``), fixed for the whole run.
///
/// Each pass copies the centroids in group order, so every group is one contiguous
/// block that a single `sgemm` call compares with the points that need it.
final class CentroidGroups: @unchecked Sendable {
    let clusterCount: Int
    let dimension: Int
    let groupCount: Int
    /// The group of each centroid (by label).
    let groupOf: [Int32]
    /// Labels in group order: `members[groupStart[g]..<groupStart[g + 1]]` is group g.
    let members: [Int32]
    let groupStart: [Int]
    /// `k × d` centroids in group order, refreshed by ``load(_:)``.
    let groupedCentroids: UnsafeMutablePointer<Float>
    let groupedSquaredNorms: UnsafeMutablePointer<Float>

    /// - Parameters:
    ///   - groupOf: The group of each centroid, `0..<groupCount` (``CentroidGrouping``).
    init(groupOf: [Int32], dimension: Int, groupCount: Int) {
        let clusterCount = groupOf.count
        self.clusterCount = clusterCount
        self.dimension = dimension
        self.groupCount = groupCount
        self.groupOf = groupOf
        let order = (0..<clusterCount).sorted { (groupOf[$0], $0) < (groupOf[$1], $1) }
        members = order.map { Int32($0) }
        var starts = [Int](repeating: 0, count: groupCount + 1)
        for label in 0..<clusterCount { starts[Int(groupOf[label]) + 1] += 1 }
        for group in 0..<groupCount { starts[group + 1] += starts[group] }
        groupStart = starts
        groupedCentroids = .allocate(capacity: max(1, clusterCount * dimension))
        groupedSquaredNorms = .allocate(capacity: max(1, clusterCount))
    }

    deinit {
        groupedCentroids.deallocate()
        groupedSquaredNorms.deallocate()
    }

    /// Copies this pass's centroids and norms into group order.
    func load(_ centroids: CentroidTable) {
        for (position, label) in members.enumerated() {
            (groupedCentroids + position * dimension).update(from: centroids.row(Int(label)), count: dimension)
            groupedSquaredNorms[position] = centroids.squaredNorm(Int(label))
        }
    }

    func size(of group: Int) -> Int { groupStart[group + 1] - groupStart[group] }
}

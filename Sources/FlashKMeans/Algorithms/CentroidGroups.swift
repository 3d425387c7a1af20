/// Yinyang's centroid groups (Ding et al. 2015, §3.1): the initial centroids clustered
/// into `t` groups, fixed for the whole run.
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

    /// Groups `initialCentroids` (`k × d`) with five Lloyd iterations of the engine itself,
    /// started from `groupCount` evenly spaced centroids.
    init(initialCentroids: [Float], dimension: Int, groupCount requested: Int) throws {
        let clusterCount = initialCentroids.count / dimension
        self.clusterCount = clusterCount
        self.dimension = dimension
        let groupCount = max(1, min(requested, clusterCount))
        self.groupCount = groupCount
        var groupOf = [Int32](repeating: 0, count: clusterCount)
        if groupCount > 1 {
            var configuration = KMeans.Configuration(clusterCount: groupCount)
            let seeds = (0..<groupCount).map { $0 * clusterCount / groupCount }
            configuration.initialization = .centroids(seeds.flatMap { initialCentroids[($0 * dimension)..<(($0 + 1) * dimension)] })
            configuration.maxIterations = 5
            configuration.threadCount = 1
            configuration.algorithm = .lloyd
            groupOf = try KMeans.fit(
                ArraySource(initialCentroids, dimension: dimension, name: "centroid groups"), configuration: configuration
            ).labels
        }
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
    func load(_ context: PassContext) {
        for (position, label) in members.enumerated() {
            (groupedCentroids + position * dimension).update(from: context.centroids + Int(label) * dimension, count: dimension)
            groupedSquaredNorms[position] = context.centroidSquaredNorms[Int(label)]
        }
    }

    func size(of group: Int) -> Int { groupStart[group + 1] - groupStart[group] }
}

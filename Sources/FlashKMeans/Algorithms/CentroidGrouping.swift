/// Groups the initial centroids for Yinyang (Ding et al. 2015, §3.1: "group the initial
/// centers through k-means"): five Lloyd iterations over the `k` centroids themselves,
/// started from `t` evenly spaced ones, on one thread.
enum CentroidGrouping {
    /// Lloyd iterations spent on grouping: groups only steer pruning, never results, and
    /// the paper finds a few iterations enough.
    static let iterations = 5

    /// - Parameters:
    ///   - initialCentroids: `k × d`, row-major (in).
    ///   - groupCount: `t`; clamped to `1...k`.
    static func groups(of initialCentroids: [Float], dimension: Int, groupCount requested: Int) throws -> CentroidGroups {
        let clusterCount = initialCentroids.count / dimension
        let groupCount = max(1, min(requested, clusterCount))
        var groupOf = [Int32](repeating: 0, count: clusterCount)
        if groupCount > 1 {
            var configuration = KMeans.Configuration(clusterCount: groupCount)
            configuration.maxIterations = iterations
            configuration.threadCount = 1
            configuration.algorithm = .lloyd
            let seeds = (0..<groupCount).map { $0 * clusterCount / groupCount }
            let start = seeds.flatMap { initialCentroids[($0 * dimension)..<(($0 + 1) * dimension)] }
            let centroids = ArraySource(initialCentroids, dimension: dimension, name: "centroid groups")
            BLAS.useSingleThreadedKernels()
            let plan = TilePlan(
                pointCount: clusterCount, clusterCount: groupCount, dimension: dimension, pointTile: nil, centroidTile: nil,
                threadCount: 1)
            groupOf = try IterationDriver(
                source: centroids, configuration: configuration, plan: plan, step: DenseStep(), fallsBackWhenSlower: false
            ).run(from: start, progress: { _ in }, observer: nil).labels
        }
        return CentroidGroups(groupOf: groupOf, dimension: dimension, groupCount: groupCount)
    }
}

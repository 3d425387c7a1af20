import FlashKMeans

/// The judge: a naive float64 Lloyd with the engine's exact semantics (stopping
/// rules, tie-breaking, empty-cluster re-seeding), written for clarity, not speed.
/// Distances are `Σ (x − c)²` in float64, never the expanded form.
public struct ReferenceLloyd {
    public struct Iteration {
        /// The centroids this iteration's assignment used.
        public var centroids: [Double]
        public var labels: [Int32]
        public var inertia: Double
        public var reassigned: Int
    }

    public var iterations: [Iteration] = []
    public var centroids: [Double] = []
    public var labels: [Int32] = []
    public var inertia = 0.0
    public var stopReason = StopReason.maxIterations

    let points: [Float]
    let dimension: Int
    var pointCount: Int { points.count / dimension }

    /// Runs Lloyd from `initialCentroids` (`k × d`). `spherical`: centroids are the unit
    /// directions of the sums (the rows must already be unit vectors).
    public init(points: [Float], dimension: Int, initialCentroids: [Float], maxIterations: Int, tolerance: Double, spherical: Bool = false) {
        self.points = points
        self.dimension = dimension
        let clusterCount = initialCentroids.count / dimension
        var centroids = initialCentroids.map(Double.init)
        var labels = [Int32](repeating: -1, count: points.count / dimension)
        var previousInertia: Double?
        for _ in 0..<maxIterations {
            let step = Self.assign(points: points, dimension: dimension, centroids: centroids, previous: labels)
            labels = step.labels
            iterations.append(Iteration(centroids: centroids, labels: labels, inertia: step.inertia, reassigned: step.reassigned))
            let stable = step.reassigned == 0
            let small = previousInertia.map { $0 - step.inertia <= tolerance * $0 } ?? false
            if stable || small {
                stopReason = stable ? .converged : .tolerance
                break
            }
            centroids = Self.update(
                points: points, dimension: dimension, clusterCount: clusterCount, labels: labels,
                squaredDistances: step.squaredDistances, previous: centroids, spherical: spherical)
            previousInertia = step.inertia
        }
        if stopReason == .maxIterations {
            let final = Self.assign(points: points, dimension: dimension, centroids: centroids, previous: labels)
            labels = final.labels
            inertia = final.inertia
        } else {
            inertia = iterations.last!.inertia
        }
        self.centroids = centroids
        self.labels = labels
    }

    public struct Assignment {
        public var labels: [Int32]
        public var squaredDistances: [Double]
        public var inertia: Double
        public var reassigned: Int
    }

    /// Nearest centroid of every row, ties to the lowest index.
    public static func assign(points: [Float], dimension: Int, centroids: [Double], previous: [Int32]?) -> Assignment {
        let pointCount = points.count / dimension
        let clusterCount = centroids.count / dimension
        var result = Assignment(
            labels: [], squaredDistances: [], inertia: 0, reassigned: 0)
        for point in 0..<pointCount {
            var best = Double.infinity
            var label = 0
            for cluster in 0..<clusterCount {
                var distance = 0.0
                for index in 0..<dimension {
                    let difference = Double(points[point * dimension + index]) - centroids[cluster * dimension + index]
                    distance += difference * difference
                }
                if distance < best {
                    best = distance
                    label = cluster
                }
            }
            result.labels.append(Int32(label))
            result.squaredDistances.append(best)
            result.inertia += best
            if previous == nil || previous![point] != Int32(label) { result.reassigned += 1 }
        }
        return result
    }

    /// Means of the clusters, with the engine's re-seeding of empty clusters.
    public static func update(
        points: [Float], dimension: Int, clusterCount: Int, labels: [Int32], squaredDistances: [Double], previous: [Double],
        spherical: Bool = false
    ) -> [Double] {
        let pointCount = points.count / dimension
        var sums = [Double](repeating: 0, count: clusterCount * dimension)
        var counts = [Int](repeating: 0, count: clusterCount)
        for point in 0..<pointCount {
            let label = Int(labels[point])
            counts[label] += 1
            for index in 0..<dimension { sums[label * dimension + index] += Double(points[point * dimension + index]) }
        }
        let farthestFirst = (0..<pointCount).sorted {
            squaredDistances[$0] != squaredDistances[$1] ? squaredDistances[$0] > squaredDistances[$1] : $0 < $1
        }
        var candidates = farthestFirst.makeIterator()
        for cluster in 0..<clusterCount where counts[cluster] == 0 {
            var chosen: Int?
            while chosen == nil, let point = candidates.next() {
                if counts[Int(labels[point])] > 1 { chosen = point }
            }
            guard let point = chosen else { break }
            let old = Int(labels[point])
            for index in 0..<dimension {
                let value = Double(points[point * dimension + index])
                sums[old * dimension + index] -= value
                sums[cluster * dimension + index] = value
            }
            counts[old] -= 1
            counts[cluster] = 1
        }
        var centroids = previous
        for cluster in 0..<clusterCount where counts[cluster] > 0 {
            var divisor = Double(counts[cluster])
            if spherical {
                var squared = 0.0
                for index in 0..<dimension { squared += sums[cluster * dimension + index] * sums[cluster * dimension + index] }
                if squared == 0 { continue }
                divisor = squared.squareRoot()
            }
            for index in 0..<dimension {
                // The engine stores float32 centroids; round the same way so both
                // continue from the same point.
                centroids[cluster * dimension + index] = Double(Float(sums[cluster * dimension + index] / divisor))
            }
        }
        return centroids
    }
}

/// Chooses the first centroids for a run.
enum InitialCentroids {
    /// - Returns: `k × d` centroids, the number of rows k-means++ ran on (0 otherwise),
    ///   and `RssAnon` while the sample was still held.
    static func choose(
        for source: any EmbeddingSource, configuration: KMeans.Configuration, plan: TilePlan
    ) throws -> (centroids: [Float], sampleSize: Int, peakAnonymousBytes: Int) {
        let clusterCount = configuration.clusterCount
        let dimension = source.dimension
        var generator = SeededGenerator(seed: configuration.seed)
        switch configuration.initialization {
        case let .centroids(values):
            return (values, 0, ProcessMemory.read().anonymous)
        case .random:
            let indices = distinctIndices(count: clusterCount, from: source.rowCount, generator: &generator)
            var centroids = [Float](repeating: 0, count: clusterCount * dimension)
            try centroids.withUnsafeMutableBufferPointer { try source.gatherRows(indices, into: $0.baseAddress!) }
            return (centroids, 0, ProcessMemory.read().anonymous)
        case .kMeansPlusPlus:
            let sampleSize = configuration.resolvedSampleSize(pointCount: source.rowCount)
            let sampleRows = generator.sortedSample(count: sampleSize, from: source.rowCount)
            let sample = UnsafeMutablePointer<Float>.allocate(capacity: max(1, sampleSize * dimension))
            defer { sample.deallocate() }
            try source.gatherRows(sampleRows, into: sample)
            let seeding = KMeansPlusPlus(rows: sample, rowCount: sampleSize, dimension: dimension, threadCount: plan.threadCount)
            let chosen = try seeding.chooseRows(clusterCount: clusterCount, generator: &generator)
            var centroids = [Float](repeating: 0, count: clusterCount * dimension)
            for (slot, row) in chosen.enumerated() {
                for index in 0..<dimension { centroids[slot * dimension + index] = sample[row * dimension + index] }
            }
            return (centroids, sampleSize, ProcessMemory.read().anonymous)
        }
    }

    /// `count` distinct indices below `population`, in the order drawn (Floyd's algorithm).
    static func distinctIndices(count: Int, from population: Int, generator: inout SeededGenerator) -> [Int] {
        var taken = Set<Int>()
        var order: [Int] = []
        for upper in (population - count)..<population {
            let candidate = generator.nextIndex(below: upper + 1)
            let pick = taken.contains(candidate) ? upper : candidate
            taken.insert(pick)
            order.append(pick)
        }
        return order
    }
}

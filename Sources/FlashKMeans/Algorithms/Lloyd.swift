import Dispatch

/// Exact Lloyd iterations (Lloyd 1982) over a streamed source, through the fused kernel.
///
/// Each iteration is one read of the data: assignment (step 1) and the sums for
/// the update (step 2) happen in the same pass. Iteration stops when
/// 1. an assignment changes no label (the centroids are then the means of their clusters),
/// 2. the inertia falls by less than `tolerance` relative to the previous iteration, or
/// 3. `maxIterations` is reached, after which one more assignment (without update)
///    makes the labels match the returned centroids.
struct Lloyd {
    let source: any EmbeddingSource
    let configuration: KMeans.Configuration
    let plan: TilePlan

    struct Outcome {
        var centroids: [Float]
        var labels: [Int32]
        var inertia: Double
        var iterations: [IterationStats]
        var stopReason: StopReason
        var peakAnonymousBytes: Int
        var workingBytes: Int
    }

    /// Seen after each assignment: the stats, the labels just computed, and the
    /// centroids they were computed with. Tests use it to compare every iteration.
    typealias Observer = (IterationStats, UnsafeBufferPointer<Int32>, [Float]) -> Void

    func run(from initialCentroids: [Float], progress: (IterationStats) -> Void, observer: Observer?) throws -> Outcome {
        let clusterCount = configuration.clusterCount
        let dimension = source.dimension
        let pass = AssignmentPass(source: source, clusterCount: clusterCount, plan: plan)
        let sums = UnsafeMutablePointer<Double>.allocate(capacity: clusterCount * dimension)
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: clusterCount)
        defer {
            sums.deallocate()
            counts.deallocate()
        }
        var centroids = initialCentroids
        var iterations: [IterationStats] = []
        var previousInertia: Double?
        var stopReason = StopReason.maxIterations
        var peakAnonymous = ProcessMemory.read().anonymous

        for iteration in 1...configuration.maxIterations {
            let started = DispatchTime.now().uptimeNanoseconds
            let outcome = try centroids.withUnsafeBufferPointer {
                try pass.run(centroids: $0.baseAddress!, accumulateSums: true)
            }
            var stats = IterationStats(
                iteration: iteration, inertia: outcome.inertia, reassigned: outcome.reassigned,
                ambiguousRows: outcome.ambiguousRows, emptyClustersReseeded: 0, maxCentroidShift: 0, distanceFraction: 1, seconds: 0)
            observer?(stats, UnsafeBufferPointer(pass.labels), centroids)

            let labelsStable = outcome.reassigned == 0
            let smallDecrease = previousInertia.map { $0 - outcome.inertia <= configuration.tolerance * $0 } ?? false
            if labelsStable || smallDecrease {
                stopReason = labelsStable ? .converged : .tolerance
            } else {
                pass.combineSums(into: sums, counts: counts)
                stats.emptyClustersReseeded = try EmptyClusterReseeding.reseed(pass: pass, sums: sums, counts: counts)
                stats.maxCentroidShift = updateCentroids(&centroids, sums: sums, counts: counts, dimension: dimension)
                previousInertia = outcome.inertia
            }
            stats.seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
            peakAnonymous = max(peakAnonymous, ProcessMemory.read().anonymous)
            iterations.append(stats)
            progress(stats)
            if stopReason != .maxIterations { break }
        }

        var inertia = iterations.last!.inertia
        if stopReason == .maxIterations {
            let outcome = try centroids.withUnsafeBufferPointer {
                try pass.run(centroids: $0.baseAddress!, accumulateSums: false)
            }
            inertia = outcome.inertia
        }
        return Outcome(
            centroids: centroids, labels: Array(pass.labels), inertia: inertia, iterations: iterations,
            stopReason: stopReason, peakAnonymousBytes: peakAnonymous, workingBytes: pass.workingBytes)
    }

    /// Step 2: each centroid becomes the mean of its rows; a cluster left empty
    /// (no row could be spared to re-seed it) keeps its centroid.
    /// - Returns: The largest distance a centroid moved.
    private func updateCentroids(
        _ centroids: inout [Float], sums: UnsafePointer<Double>, counts: UnsafePointer<Int>, dimension: Int
    ) -> Double {
        var largestShift = 0.0
        for cluster in 0..<configuration.clusterCount where counts[cluster] > 0 {
            let count = Double(counts[cluster])
            var squaredShift = 0.0
            for index in 0..<dimension {
                let slot = cluster * dimension + index
                let mean = Float(sums[slot] / count)
                let step = Double(mean) - Double(centroids[slot])
                squaredShift += step * step
                centroids[slot] = mean
            }
            largestShift = max(largestShift, squaredShift.squareRoot())
        }
        return largestShift
    }
}

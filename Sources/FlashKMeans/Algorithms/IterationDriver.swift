import Dispatch

/// The iteration loop behind ``KMeans/fit(_:configuration:progress:)``: exact Lloyd
/// iterations (Lloyd 1982) over a streamed source, through the fused kernel.
///
/// Each iteration is one read of the data: assignment (step 1) and the sums for
/// the update (step 2) happen in the same pass. Iteration stops when
/// 1. an assignment changes no label (the centroids are then the means of their clusters),
/// 2. the inertia falls by less than `tolerance` relative to the previous iteration, or
/// 3. `maxIterations` is reached, after which one more assignment (without update)
///    makes the labels match the returned centroids.
///
/// The `step` decides how each assignment finds nearest centroids; all steps give the
/// same labels. Pruning steps run dense until fewer than
/// ``KMeans/Configuration/pruningStartFraction`` of the rows change label in an
/// iteration, since bounds prune little while centroids still move far.
struct IterationDriver<Step: AssignmentStep> {
    let source: any EmbeddingSource
    let configuration: KMeans.Configuration
    let plan: TilePlan
    let step: Step
    /// Where the cluster sums are kept; measured from `source` when `nil` (which one rank's
    /// share cannot do: every rank needs the job's grid).
    var grid: SumGrid? = nil
    /// For `auto`: give up pruning when a pruned pass would cost more than a dense one.
    let fallsBackWhenSlower: Bool
    /// For one rank of a job: the exchange, this rank's rows (which `source` holds), and
    /// all the rows, from which empty clusters are re-seeded.
    var ranks: (distribution: Distribution, rows: Range<Int>, allRows: any EmbeddingSource)? = nil

    /// - Parameters:
    ///   - initialCentroids: Where iteration 1 starts (ignored when resuming).
    ///   - resume: The state after an earlier run's last completed iteration, to continue from.
    ///   - checkpoint: Given the state after each iteration that the run continues from.
    func run(
        from initialCentroids: [Float], progress: (IterationStats) -> Void, observer: IterationObserver?,
        resume: DriverState? = nil, checkpoint: ((DriverState) throws -> Void)? = nil
    ) throws -> IterationOutcome {
        let clusterCount = configuration.clusterCount
        let dimension = source.dimension
        precondition(grid != nil || ranks == nil, "the ranks of a job need its grid")
        let pass = AssignmentPass(
            source: source, step: step, clusterCount: clusterCount, plan: plan, grid: try grid ?? SumGrid.covering(source, plan: plan),
            distribution: ranks?.distribution,
            prefixBudget: (configuration.memoryBudget ?? AlgorithmPlanner.defaultMemoryBudget) / 4)
        // Every decision below is the job's, so it counts every rank's rows.
        let rowCount = ranks?.allRows.rowCount ?? source.rowCount
        let sums = UnsafeMutablePointer<Double>.allocate(capacity: clusterCount * dimension)
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: clusterCount)
        defer {
            sums.deallocate()
            counts.deallocate()
        }
        var centroids = initialCentroids
        var iterations: [IterationStats] = []
        var previousInertia: Double?
        var firstIteration = 1
        if let resume {
            // The labels of the last completed assignment, for this run's reassignment counts:
            // exact, so one pass with the centroids it used gives them again.
            _ = try resume.previousCentroids.withUnsafeBufferPointer {
                try pass.run(centroids: $0.baseAddress!, accumulateSums: false, pruning: false)
            }
            centroids = resume.centroids
            iterations = resume.iterations
            previousInertia = resume.iterations.last?.inertia
            firstIteration = resume.completedIterations + 1
        }
        var stopReason = StopReason.maxIterations
        var peakAnonymous = ProcessMemory.read().anonymous

        var drifts = [Double](repeating: 0, count: clusterCount)
        // maxIterations may be any Int: runs usually stop long before it.
        iterations.reserveCapacity(min(configuration.maxIterations, 1024))
        var pruning = false
        var pruningAllowed = step.boundBytes > 0
        var prunedIterations = 0
        // What a comparison of the latest dense pass cost, in float32 comparisons.
        var denseComparisonCost = 1.0
        var fellBackAfter: Int?
        var consideredPruningAt: Int?
        let totalDistances = Double(rowCount) * Double(clusterCount)

        for iteration in firstIteration...configuration.maxIterations {
            let started = DispatchTime.now().uptimeNanoseconds
            let exchangedBefore = ranks?.distribution.communicationSeconds
            // Kept only for a checkpoint: steady iterations otherwise allocate nothing.
            let usedCentroids = checkpoint == nil ? [] : centroids
            let outcome = try centroids.withUnsafeBufferPointer {
                try pass.run(centroids: $0.baseAddress!, accumulateSums: true, pruning: pruning)
            }
            var stats = IterationStats(
                iteration: iteration, inertia: outcome.inertia, reassigned: outcome.reassigned,
                ambiguousRows: outcome.counters.ambiguousRows, emptyClustersReseeded: 0, maxCentroidShift: 0,
                distanceFraction: Double(outcome.counters.distanceEvaluations) / totalDistances,
                examinedPoints: outcome.counters.examinedPoints, pruning: pruning, boundBytes: step.boundBytes,
                screenedCandidates: outcome.counters.screenedCandidates, screenedRows: outcome.counters.screenedRows,
                screeningFallbacks: outcome.counters.screeningFallbacks, prefixScreenedRows: outcome.counters.prefixScreenedRows,
                invariantChecks: outcome.counters.invariantChecks, seconds: 0)
            observer?(stats, UnsafeBufferPointer(pass.labels), centroids)

            // `auto` considers pruning once few labels change: a sample of rows predicts, across
            // this update, what a pruned pass would save, before the bounds are paid for.
            // The sample costs about 5% of a pass, so it is taken every third iteration.
            if !pruning { denseComparisonCost = PassCost.denseComparison(outcome.counters) }
            let considersPruning = fallsBackWhenSlower && !pruning && pruningAllowed
                && Double(outcome.reassigned) < configuration.pruningStartFraction * Double(rowCount)
                && consideredPruningAt.map { iteration - $0 >= 3 } ?? true
            if considersPruning { consideredPruningAt = iteration }
            if considersPruning {
                try centroids.withUnsafeBufferPointer {
                    try step.sampleBounds(centroids: $0.baseAddress!, source: source, labels: UnsafeBufferPointer(pass.labels))
                }
            }

            let labelsStable = outcome.reassigned == 0
            let smallDecrease = previousInertia.map { $0 - outcome.inertia <= configuration.tolerance * $0 } ?? false
            if labelsStable || smallDecrease {
                stopReason = labelsStable ? .converged : .tolerance
            } else {
                try pass.combineSums(into: sums, counts: counts)
                if let ranks {
                    stats.emptyClustersReseeded = try EmptyClusterReseeding.reseed(
                        labels: UnsafeBufferPointer(pass.labels), squaredDistances: UnsafeBufferPointer(pass.squaredDistances),
                        firstRow: ranks.rows.lowerBound, across: ranks.distribution, rows: ranks.allRows,
                        sums: sums, counts: counts, clusterCount: clusterCount)
                } else {
                    stats.emptyClustersReseeded = try EmptyClusterReseeding.reseed(
                        labels: UnsafeBufferPointer(pass.labels), squaredDistances: UnsafeBufferPointer(pass.squaredDistances),
                        rows: source, sums: sums, counts: counts, clusterCount: clusterCount)
                }
                updateCentroids(&centroids, drifts: &drifts, sums: sums, counts: counts, dimension: dimension)
                stats.maxCentroidShift = drifts.max() ?? 0
                step.centroidsMoved(drifts)
                previousInertia = outcome.inertia
            }
            stats.seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
            if let exchangedBefore, let ranks { stats.exchangeSeconds = ranks.distribution.communicationSeconds - exchangedBefore }
            // Steady iterations allocate nothing, so memory is read where it can change: after
            // the first iteration, when bounds are built or dropped, after a re-seeding. Reading
            // /proc/self/status every iteration took 15% of a 1,000-row elbow run.
            if iteration == firstIteration || stats.pruning != (iterations.last?.pruning ?? false) || stats.emptyClustersReseeded > 0 {
                peakAnonymous = max(peakAnonymous, ProcessMemory.read().anonymous)
            }
            iterations.append(stats)
            progress(stats)
            if stopReason != .maxIterations { break }
            if iteration < configuration.maxIterations {
                let state = { DriverState(
                    completedIterations: iteration, previousCentroids: usedCentroids, centroids: centroids, iterations: iterations) }
                if let ranks {
                    // The ranks that keep checkpoints save theirs; a failed save stops every rank.
                    try ranks.distribution.agreeing { try checkpoint?(state()) }
                } else if let checkpoint {
                    try checkpoint(state())
                }
            }

            // Decide the next iteration's mode.
            if pruning {
                prunedIterations += 1
                var giveUp = false
                let rows = rowCount
                let denseCost = PassCost.dense(rows: rows, clusterCount: clusterCount, comparisonCost: denseComparisonCost)
                if fallsBackWhenSlower, prunedIterations == 1 {
                    // The first pruned pass only built the bounds: predict the next one from a
                    // sample of them.
                    let predicted = try centroids.withUnsafeBufferPointer {
                        try step.predictedDistanceFraction(
                            centroids: $0.baseAddress!, source: source, labels: UnsafeBufferPointer(pass.labels))
                    }
                    let comparisons = (predicted ?? 0) * Double(rows) * Double(clusterCount)
                    giveUp = PassCost.pruned(rows: rows, clusterCount: clusterCount, comparisons: comparisons) > denseCost
                }
                // From the second pruned pass on, the comparisons it made decide.
                if fallsBackWhenSlower, prunedIterations >= 2 {
                    let comparisons = Double(outcome.counters.distanceEvaluations)
                    giveUp = PassCost.pruned(rows: rows, clusterCount: clusterCount, comparisons: comparisons) > denseCost
                }
                if giveUp {
                    pruning = false
                    pruningAllowed = false
                    fellBackAfter = iteration
                    step.discardBounds()
                }
            } else if considersPruning {
                // Building the bounds costs a float32 pass with every group: start only when the
                // predicted saving over the passes left (ten at most: bounds decay) repays it.
                // Where a prefix screen builds them instead (``GroupedStep``), the pass costs less
                // but the bounds are looser than the sample's float32 estimates: the float32
                // price keeps the start as late as those estimates can be trusted (priced at a
                // prefix pass, pruning started at the 12th of 53 iterations on 100,000 sentence
                // embeddings, its first pass predicted more work than a dense one, and `auto`
                // gave pruning up for the run: 7.2 s instead of 5.4).
                let passesLeft = min(10, configuration.maxIterations - iteration)
                let predicted = centroids.withUnsafeBufferPointer {
                    step.predictedFractionsFromSample(drifts: drifts, centroids: $0.baseAddress!, passes: passesLeft)
                }
                let rows = rowCount
                if let predicted {
                    let dense = PassCost.dense(rows: rows, clusterCount: clusterCount, comparisonCost: denseComparisonCost)
                    let building = PassCost.boundBuilding * PassCost.dense(rows: rows, clusterCount: clusterCount, comparisonCost: 1) - dense
                    // A pass that would cost more than a dense one would run dense instead.
                    let saving = predicted.reduce(0.0) { total, fraction in
                        let comparisons = fraction * Double(rows) * Double(clusterCount)
                        return total + max(0, dense - PassCost.pruned(rows: rows, clusterCount: clusterCount, comparisons: comparisons))
                    }
                    pruning = passesLeft > 0 && saving > building
                } else {
                    pruning = true
                }
            } else if !fallsBackWhenSlower, pruningAllowed,
                      Double(outcome.reassigned) < configuration.pruningStartFraction * Double(rowCount) {
                pruning = true
            }
        }

        peakAnonymous = max(peakAnonymous, ProcessMemory.read().anonymous)
        var inertia = iterations.last!.inertia
        if stopReason == .maxIterations {
            let outcome = try centroids.withUnsafeBufferPointer {
                try pass.run(centroids: $0.baseAddress!, accumulateSums: false, pruning: pruning)
            }
            inertia = outcome.inertia
        }
        return IterationOutcome(
            centroids: centroids, labels: Array(pass.labels), inertia: inertia, iterations: iterations,
            stopReason: stopReason, peakAnonymousBytes: peakAnonymous, workingBytes: pass.workingBytes,
            fellBackAfter: fellBackAfter)
    }

    /// Step 2: each centroid becomes the mean of its rows (for cosine, its unit
    /// direction); a cluster left empty (no row could be spared to re-seed it) keeps its centroid.
    /// - Parameter drifts: Receives how far each centroid moved, computed in float64 from
    ///   the float32 centroids (pruning steps subtract it from their bounds).
    private func updateCentroids(
        _ centroids: inout [Float], drifts: inout [Double], sums: UnsafePointer<Double>, counts: UnsafePointer<Int>, dimension: Int
    ) {
        for cluster in 0..<configuration.clusterCount {
            drifts[cluster] = 0
            guard counts[cluster] > 0 else { continue }
            // Spherical k-means: the mean's direction, i.e. the sum scaled to unit length. A
            // sum of zero has no direction; that centroid stays where it was.
            var divisor = Double(counts[cluster])
            if configuration.metric == .cosine {
                var squared = 0.0
                for index in 0..<dimension { squared += sums[cluster * dimension + index] * sums[cluster * dimension + index] }
                guard squared > 0 else { continue }
                divisor = squared.squareRoot()
            }
            var squaredShift = 0.0
            for index in 0..<dimension {
                let slot = cluster * dimension + index
                let mean = Float(sums[slot] / divisor)
                let step = Double(mean) - Double(centroids[slot])
                squaredShift += step * step
                centroids[slot] = mean
            }
            drifts[cluster] = squaredShift.squareRoot()
        }
    }
}

/// Seen after each assignment: the stats, the labels just computed, and the centroids
/// they were computed with. Tests use it to compare every iteration.
typealias IterationObserver = (IterationStats, UnsafeBufferPointer<Int32>, [Float]) -> Void

/// Where a run stands after a completed iteration: enough to continue it exactly.
struct DriverState {
    var completedIterations: Int
    /// The centroids that iteration's assignment used.
    var previousCentroids: [Float]
    /// The centroids after its update.
    var centroids: [Float]
    var iterations: [IterationStats]
}

/// What ``IterationDriver`` returns.
struct IterationOutcome {
    var centroids: [Float]
    var labels: [Int32]
    var inertia: Double
    var iterations: [IterationStats]
    var stopReason: StopReason
    var peakAnonymousBytes: Int
    var workingBytes: Int
    /// The iteration after which `auto` stopped pruning, if it did.
    var fellBackAfter: Int?
}

/// The cost of a pass, in units of one float32 point–centroid comparison of the dense
/// kernel, from counts alone, so that `auto` makes the same choice on the same data every
/// run. Measured on 43,742 × 384 sentence embeddings and 1M × 128 blobs, k = 1024
/// (2026-11-21, Zen 4): a screened dense pass costs 0.4 of a float32 one (integer
/// products run 4.4 times as fast, the screen and candidates take the rest); a pruned
/// pass costs about 6% of a dense row per row (bounds, its own distance, the gathers) plus
/// 1.85 per comparison it makes (survivors are compared in small, gathered `sgemm` calls).
/// A prefix-screened pass (2026-11-22, the same sets of 384-d embeddings, k = 1024) took 0.7
/// of a screened one: 0.28.
enum PassCost {
    static let screenedComparison = 0.4
    static let prefixScreenedComparison = 0.28
    static let prunedRow = 0.06
    static let prunedComparison = 1.85
    /// The pass that builds Yinyang's bounds compares every row with every group in float32,
    /// folding group by group: 1.1 float32 dense passes.
    static let boundBuilding = 1.1

    /// A dense pass over `rows` rows against `clusterCount` centroids.
    static func dense(rows: Int, clusterCount: Int, comparisonCost: Double) -> Double {
        Double(rows) * Double(clusterCount) * comparisonCost
    }

    /// A row that falls back from the screen to float32 costs the screen and about 1.5
    /// float32 rows (it is compared in a small gathered tile).
    static let fallbackRow = 1.5

    /// The cost of one comparison of a dense pass that made `counters`: prefix-screened rows
    /// at ``prefixScreenedComparison``, rows through the full screen (those the prefix
    /// passed on too) at ``screenedComparison``, the rest (slices that gave the screen up) at
    /// 1, plus the fallbacks.
    static func denseComparison(_ counters: StepCounters) -> Double {
        let rows = Double(max(1, counters.examinedPoints))
        let prefix = Double(counters.prefixScreenedRows) / rows
        let full = Double(counters.screenedRows - counters.prefixScreenedRows) / rows
        let unscreened = max(0, 1 - (Double(counters.screenedRows - counters.prefixOverflows) / rows))
        return prefix * prefixScreenedComparison + full * screenedComparison + unscreened
            + Double(counters.screeningFallbacks) / rows * fallbackRow
    }

    /// A pruned pass that makes `comparisons` comparisons.
    static func pruned(rows: Int, clusterCount: Int, comparisons: Double) -> Double {
        Double(rows) * Double(clusterCount) * prunedRow + comparisons * prunedComparison
    }
}

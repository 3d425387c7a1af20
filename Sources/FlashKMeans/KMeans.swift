import Dispatch

/// Exact k-means over embedding files that are streamed, never loaded.
///
/// ```swift
/// let source = try openEmbeddings(at: "vectors.npy")
/// var configuration = KMeans.Configuration(clusterCount: 1024)
/// configuration.seed = 7
/// let result = try KMeans.fit(source, configuration: configuration)
/// ```
public enum KMeans {
    /// Clusters every row of `source`.
    ///
    /// The result is that of Lloyd's algorithm run exactly from the same start: every
    /// ``Algorithm`` gives the same labels, centroids, inertia and iteration count, bit for
    /// bit, and so does every thread count (<doc:Exactness>).
    ///
    /// - Parameters:
    ///   - source: The rows; read tile by tile, once per iteration.
    ///   - configuration: k and the run's settings; validated before any work.
    ///   - progress: Called on the calling thread after each iteration. The default does nothing.
    /// - Returns: Centroids, labels matching them, and per-iteration statistics.
    /// - Throws: ``KMeansError`` for a configuration that cannot run on this data;
    ///   ``DatasetError`` for bad rows (non-finite values, inconsistent headers).
    /// - Complexity: O(iterations · n · k · d) time; O(n + threads · tile scratch +
    ///   k · d) anonymous memory.
    public static func fit(
        _ source: any EmbeddingSource, configuration: Configuration,
        progress: (IterationStats) -> Void = { _ in }
    ) throws -> KMeansResult {
        try fit(source, configuration: configuration, progress: progress, observer: nil)
    }

    /// Clusters every row of `source`, saving a ``Checkpoint`` after each iteration, or
    /// continuing from one: the result is the same, bit for bit, as that of a run never
    /// interrupted, with any algorithm and thread count.
    ///
    /// - Parameters:
    ///   - source: The rows; read tile by tile, once per iteration.
    ///   - configuration: k and the run's settings, which must give the same result as the
    ///     interrupted run's (the caller checks them; see ``Checkpoint/parameters``).
    ///   - progress: Called on the calling thread after each iteration.
    ///   - resume: Where an earlier run of the same job stopped; `nil` to start afresh.
    ///     Resuming costs one pass, which recovers the last iteration's labels.
    ///   - checkpoint: Called on the calling thread after every iteration the run continues
    ///     from (not after the last), before the next starts.
    /// - Returns: As ``fit(_:configuration:progress:)``; a resumed run's statistics include
    ///   the iterations before the interruption.
    /// - Throws: As ``fit(_:configuration:progress:)``, ``KMeansError/checkpointMismatch(_:)``
    ///   for a checkpoint of other data, and whatever `checkpoint` throws.
    public static func fit(
        _ source: any EmbeddingSource, configuration: Configuration, progress: (IterationStats) -> Void = { _ in },
        resumingFrom resume: Checkpoint?, checkpoint: ((Checkpoint) throws -> Void)?
    ) throws -> KMeansResult {
        try fit(source, configuration: configuration, progress: progress, observer: nil, resume: resume, checkpoint: checkpoint)
    }

    /// The centroids a run with `configuration` would start from (k-means++, random rows,
    /// or the given ones), so that several runs can share one start.
    ///
    /// Pass them back as ``Initialization/centroids(_:)``. Like a run, they are chosen
    /// from the training sample when `maxPointsPerCentroid` asks for one.
    /// - Parameters:
    ///   - source: The rows to be clustered.
    ///   - configuration: k, the initialization, the seed and the metric.
    /// - Returns: `k × d`, row-major (unit vectors under ``Metric/cosine``).
    /// - Throws: ``KMeansError`` for a configuration that cannot run on this data;
    ///   ``DatasetError`` for bad rows.
    public static func initialCentroids(for source: any EmbeddingSource, configuration: Configuration) throws -> [Float] {
        // A bad setting fails before the data are read.
        try configuration.validate(pointCount: source.rowCount, dimension: source.dimension)
        let (allRows, configuration, scale, _) = try scaledForRange(source, configuration: configuration)
        let source = trainingRows(of: allRows, configuration: configuration) ?? allRows
        let plan = try configuration.prepareRun(on: source)
        return scale.unscaled(try configuration.metric.prepared(
            InitialCentroids.choose(for: source, configuration: configuration, plan: plan).centroids, dimension: source.dimension))
    }

    /// The rows the engine computes on (normalized under cosine; scaled by a power of two
    /// when their magnitudes are extreme, ``DataScale``), the configuration with given
    /// initial centroids in the same units, and the grid that holds their exact sums.
    static func scaledForRange(
        _ source: any EmbeddingSource, configuration: Configuration, distribution: Distribution? = nil
    ) throws -> (rows: any EmbeddingSource, configuration: Configuration, scale: DataScale, grid: SumGrid) {
        let rows = configuration.metric.rows(of: source)
        // Unit rows need no scaling.
        guard configuration.metric == .l2 else { return (rows, configuration, .identity, SumGrid(largestMagnitude: 1)) }
        var given: [Float] = []
        if case let .centroids(centroids) = configuration.initialization { given = centroids }
        let largest: Float
        if let distribution {
            // Each rank measures its own part; the largest of all is the one process's.
            let local = RowRangeSource(rows, rows: distribution.ownRows(rowCount: rows.rowCount))
            let mine = try distribution.agreeing {
                try DataScale.largestMagnitude(of: local, centroids: given, plan: configuration.tilePlan(for: local))
            }
            largest = try distribution.allGather([mine]).map { $0[0] }.reduce(0, largerMagnitude)
        } else {
            largest = try DataScale.largestMagnitude(of: rows, centroids: given, plan: configuration.tilePlan(for: rows))
        }
        let scale = DataScale(largestMagnitude: largest)
        guard !scale.isIdentity else { return (rows, configuration, scale, SumGrid(largestMagnitude: largest)) }
        var configuration = configuration
        if case let .centroids(centroids) = configuration.initialization { configuration.initialization = .centroids(scale.scaled(centroids)) }
        return (ScaledSource(rows, scale: scale), configuration, scale, SumGrid(largestMagnitude: Float(Double(largest) * scale.factor)))
    }

    /// The rows to train on when `maxPointsPerCentroid` asks for a sample smaller than
    /// the input; `nil` to train on every row.
    static func trainingRows(of source: any EmbeddingSource, configuration: Configuration) -> SampledSource? {
        guard let perCentroid = configuration.maxPointsPerCentroid else { return nil }
        let (size, overflow) = configuration.clusterCount.multipliedReportingOverflow(by: perCentroid)
        guard !overflow, size < source.rowCount else { return nil }
        // A generator of its own, so that sampling does not shift the initialization's draws.
        var generator = SeededGenerator(seed: configuration.seed ^ samplingSeedTag)
        return SampledSource(source, sampledRows: generator.sortedSample(count: size, from: source.rowCount))
    }

    /// Refuses a checkpoint of other data, another shape or scale, or one past this run's end.
    static func check(
        _ checkpoint: Checkpoint, against input: InputFingerprint, configuration: Configuration, dimension: Int, scale: DataScale
    ) throws(KMeansError) {
        if let difference = input.difference(from: checkpoint.input) { throw .checkpointMismatch("the input changed: \(difference)") }
        guard checkpoint.clusterCount == configuration.clusterCount, checkpoint.dimension == dimension else {
            throw .checkpointMismatch("it has k = \(checkpoint.clusterCount) and d = \(checkpoint.dimension)")
        }
        guard checkpoint.scaleExponent == scale.exponent else { throw .checkpointMismatch("its data were scaled otherwise") }
        guard checkpoint.completedIterations < configuration.maxIterations else {
            throw .invalidSetting(.maxIterations, value: .integer(configuration.maxIterations),
                                  requirement: .atLeast(checkpoint.completedIterations + 1))
        }
    }

    /// Mixed into the seed of the training-sample generator (the bytes spell "ZMPLES"), so
    /// that its draws differ from the initialization's for the same seed.
    static let samplingSeedTag: UInt64 = 0x5A4D_504C_4553_0000

    /// Clusters every row of `source` as one rank of an SPMD job (`mpirun`): every rank
    /// calls this with the same source and configuration, computes on its own share of the
    /// rows (an even split), and the ranks add up their exact sums through `ranks`. The result,
    /// on every rank, is that of one process, bit for bit, for any number of ranks and threads.
    ///
    /// - Parameters:
    ///   - source: All the rows; each rank reads its share, and the initialization's sample.
    ///   - configuration: The same on every rank.
    ///   - ranks: The job's processes.
    ///   - progress: Called on the calling thread after each iteration.
    /// - Returns: As ``fit(_:configuration:progress:)``, with every row's label on every
    ///   rank and ``KMeansResult/ranks`` filled in.
    ///   - resume: A checkpoint to continue from, the same on every rank (one rank reads it
    ///     and sends it to the others), as in ``fit(_:configuration:progress:resumingFrom:checkpoint:)``.
    ///   - checkpoint: Called after every iteration the run continues from, on the ranks that
    ///     pass it (usually rank 0 alone, which writes it); when it throws on any rank, every
    ///     rank stops.
    /// - Throws: As ``fit(_:configuration:progress:)``, on every rank when any rank fails
    ///   (``RankFailure`` on the others).
    public static func fit(
        _ source: any EmbeddingSource, configuration: Configuration, across ranks: RankGroup,
        progress: (IterationStats) -> Void = { _ in }, resumingFrom resume: Checkpoint? = nil,
        checkpoint: ((Checkpoint) throws -> Void)? = nil
    ) throws -> KMeansResult {
        try fit(
            source, configuration: configuration, progress: progress, observer: nil, resume: resume, checkpoint: checkpoint,
            distribution: Distribution(ranks))
    }

    static func fit(
        _ source: any EmbeddingSource, configuration: Configuration,
        progress: (IterationStats) -> Void, observer: IterationObserver?,
        resume: Checkpoint? = nil, checkpoint: ((Checkpoint) throws -> Void)? = nil, distribution: Distribution? = nil
    ) throws -> KMeansResult {
        let started = DispatchTime.now().uptimeNanoseconds
        // Across ranks, every rank takes part in the agreement (the ones that neither resume nor
        // keep checkpoints with nothing to read), so that a rank that cannot read its sample
        // stops the others instead of leaving them waiting.
        let needsFingerprint = resume != nil || checkpoint != nil
        let takeFingerprint = { needsFingerprint ? try InputFingerprint(of: source) : nil }
        let fingerprint = try distribution.map { try $0.agreeing(takeFingerprint) } ?? takeFingerprint()
        try configuration.validate(pointCount: source.rowCount, dimension: source.dimension)
        let (allRows, configuration, scale, grid) = try scaledForRange(source, configuration: configuration, distribution: distribution)
        // Progress is reported in the data's units, whatever scale the engine computes in.
        let progress = scale.isIdentity ? progress : { progress(scale.unscaled($0)) }
        let training = trainingRows(of: allRows, configuration: configuration)
        let source = training ?? allRows
        let plan = try configuration.prepareRun(on: source)
        let initialCentroids: [Float]
        let sampleSize: Int
        var initializationAnonymous = 0
        let initializationSeconds: Double
        var resumeState: DriverState?
        if let resume, let fingerprint {
            // Every rank checks its own view of the input: one whose copy differs stops them all.
            if let distribution {
                try distribution.agreeing {
                    try check(resume, against: fingerprint, configuration: configuration, dimension: source.dimension, scale: scale)
                }
            } else {
                try check(resume, against: fingerprint, configuration: configuration, dimension: source.dimension, scale: scale)
            }
            initialCentroids = resume.centroids
            sampleSize = resume.initializationSampleSize
            initializationSeconds = resume.initializationSeconds
            resumeState = DriverState(
                completedIterations: resume.completedIterations, previousCentroids: resume.previousCentroids,
                centroids: resume.centroids, iterations: resume.iterations)
        } else {
            let chosen = try InitialCentroids.choose(for: source, configuration: configuration, plan: plan)
            initialCentroids = try configuration.metric.prepared(chosen.centroids, dimension: source.dimension)
            sampleSize = chosen.sampleSize
            initializationAnonymous = chosen.peakAnonymousBytes
            initializationSeconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        }
        let saveState: ((DriverState) throws -> Void)? = checkpoint.map { save in
            { state in
                try save(Checkpoint(
                    completedIterations: state.completedIterations, parameters: resume?.parameters ?? [:], input: fingerprint!,
                    clusterCount: configuration.clusterCount, dimension: source.dimension, scaleExponent: scale.exponent,
                    initializationSampleSize: sampleSize, initializationSeconds: initializationSeconds,
                    previousCentroids: state.previousCentroids, centroids: state.centroids, iterations: state.iterations))
            }
        }

        var choice = try configuration.chooseAlgorithm(pointCount: source.rowCount, dimension: source.dimension)
        // One rank computes on its share of the rows only; bounds are per row, so its own.
        let ownRows = distribution.map { $0.ownRows(rowCount: source.rowCount) }
        let rows = ownRows.map { RowRangeSource(source, rows: $0) } ?? source
        // The one place the algorithm is dispatched: each branch runs a specialised driver.
        let iterationOutcome: IterationOutcome
        func run<Step: AssignmentStep>(_ step: Step) throws -> IterationOutcome {
            try IterationDriver(
                source: rows, configuration: configuration, plan: plan, step: step, grid: grid,
                fallsBackWhenSlower: configuration.algorithm == .auto,
                ranks: distribution.map { ($0, ownRows!, source) }
            ).run(from: initialCentroids, progress: progress, observer: observer, resume: resumeState, checkpoint: saveState)
        }
        let planner = AlgorithmPlanner(
            pointCount: source.rowCount, clusterCount: configuration.clusterCount, dimension: source.dimension,
            memoryBudget: configuration.memoryBudget ?? AlgorithmPlanner.defaultMemoryBudget)
        switch choice.algorithm {
        case .lloyd, .auto:
            iterationOutcome = try run(DenseStep())
        case .hamerly:
            iterationOutcome = try run(HamerlyStep(pointCount: rows.rowCount, clusterCount: configuration.clusterCount))
        case .yinyang:
            iterationOutcome = try run(GroupedStep<YinyangBounds>(
                groups: CentroidGrouping.groups(of: initialCentroids, dimension: source.dimension, groupCount: planner.groupCount),
                pointCount: rows.rowCount, pointTile: plan.pointTile))
        case .elkan:
            iterationOutcome = try run(GroupedStep<ElkanBounds>(
                groups: CentroidGrouping.groups(of: initialCentroids, dimension: source.dimension, groupCount: planner.groupCount),
                pointCount: rows.rowCount, pointTile: plan.pointTile))
        }
        var outcome = iterationOutcome
        if let distribution {
            outcome.labels = try distribution.allGather(outcome.labels).flatMap { $0 }
        }
        if training != nil {
            // Trained on a sample: one more pass labels every row with the final centroids.
            let everyRow = try assignEveryRow(
                of: allRows, to: outcome.centroids, plan: configuration.tilePlan(for: allRows), distribution: distribution)
            outcome.labels = everyRow.labels
            outcome.inertia = everyRow.inertia
        }
        if let iteration = outcome.fellBackAfter {
            choice.reason += "; its bounds proved too loose to pay on this data, so Lloyd ran from iteration \(iteration + 1) on"
        } else if configuration.algorithm == .auto, choice.algorithm != .lloyd, !outcome.iterations.contains(where: \.pruning) {
            choice.reason += "; a sample of its bounds predicted too little saving, so every pass ran dense"
        }
        let memory = ProcessMemory.read()
        return KMeansResult(
            centroids: scale.unscaled(outcome.centroids), labels: outcome.labels, inertia: scale.unscaled(squaredDistance: outcome.inertia),
            clusterCount: configuration.clusterCount, dimension: source.dimension,
            iterations: outcome.iterations.map(scale.unscaled), stopReason: outcome.stopReason,
            initializationSampleSize: sampleSize, initializationSeconds: initializationSeconds,
            totalSeconds: Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9,
            plan: plan, scratchBytesPerThread: plan.scratchBytes(dimension: source.dimension),
            memory: MemoryReport(
                peakResidentBytes: memory.peakResident,
                peakAnonymousBytes: max(initializationAnonymous, outcome.peakAnonymousBytes, memory.anonymous),
                fileBackedBytes: memory.fileBacked, engineWorkingBytes: outcome.workingBytes),
            blasCore: BLAS.coreName, algorithm: choice, trainingRowCount: source.rowCount,
            ranks: distribution.map { $0.report(rowCount: source.rowCount) })
    }
}

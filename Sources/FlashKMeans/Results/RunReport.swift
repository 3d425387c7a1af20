/// The contents of `report.json`: what was run, on what, and what it cost.
public struct RunReport: Codable, Sendable {
    public struct Parameters: Codable, Sendable {
        public var clusterCount: Int
        public var metric: Metric
        public var maxPointsPerCentroid: Int?
        public var initialization: String
        public var initializationFile: String?
        public var initializationSampleSize: Int
        public var seed: UInt64
        public var maxIterations: Int
        public var tolerance: Double
        public var threads: Int
        public var pointTile: Int
        public var centroidTile: Int
        public var accumulationSlices: Int
        public var memoryBudget: Int?
        public var pruningStartFraction: Double
    }

    public struct Timing: Codable, Sendable {
        public var totalSeconds: Double
        public var initializationSeconds: Double
        /// Median seconds of one Lloyd iteration.
        public var medianIterationSeconds: Double
    }

    public var version: String
    public var input: EmbeddingDescription
    public var parameters: Parameters
    /// The algorithm used and why `auto` chose it.
    public var algorithm: AlgorithmChoice
    public var stopReason: StopReason
    public var inertia: Double
    public var iterations: [IterationStats]
    public var emptyClustersReseeded: Int
    public var balance: ClusterBalance
    /// Rows the centroids were trained on (a sample with `--max-points-per-centroid`).
    public var trainingRows: Int
    public var timing: Timing
    public var memory: MemoryReport
    public var scratchBytesPerThread: Int
    public var blasCore: String

    public init(input: EmbeddingDescription, configuration: KMeans.Configuration, initializationFile: String?, result: KMeansResult) {
        version = FlashKMeansVersion.current
        self.input = input
        parameters = Parameters(
            clusterCount: result.clusterCount, metric: configuration.metric,
            maxPointsPerCentroid: configuration.maxPointsPerCentroid, initialization: configuration.initialization.name,
            initializationFile: initializationFile, initializationSampleSize: result.initializationSampleSize,
            seed: configuration.seed, maxIterations: configuration.maxIterations, tolerance: configuration.tolerance,
            threads: result.plan.threadCount, pointTile: result.plan.pointTile, centroidTile: result.plan.centroidTile,
            accumulationSlices: result.plan.sliceCount, memoryBudget: configuration.memoryBudget,
            pruningStartFraction: configuration.pruningStartFraction)
        algorithm = result.algorithm
        stopReason = result.stopReason
        inertia = result.inertia
        iterations = result.iterations
        emptyClustersReseeded = result.emptyClustersReseeded
        balance = result.balance
        trainingRows = result.trainingRowCount
        let seconds = result.iterations.map(\.seconds).sorted()
        timing = Timing(
            totalSeconds: result.totalSeconds, initializationSeconds: result.initializationSeconds,
            medianIterationSeconds: seconds.isEmpty ? 0 : seconds[seconds.count / 2])
        memory = result.memory
        scratchBytesPerThread = result.scratchBytesPerThread
        blasCore = result.blasCore
    }
}

public enum FlashKMeansVersion {
    public static let current = "0.1.0"
}

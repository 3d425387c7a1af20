/// A request the engine cannot run: a setting out of range, or centroids of the wrong shape.
///
/// Every case carries what was wrong, the value found and the limit it broke, so that a
/// caller can word the message in its own terms (the command line names its flags);
/// ``description`` words it in the library's terms.
public enum KMeansError: Error, CustomStringConvertible, Equatable, Sendable {
    /// k is larger than the number of rows.
    case tooManyClusters(clusterCount: Int, pointCount: Int)
    /// More training rows than the exact cluster sums hold (``KMeans/Configuration/maximumTrainingRows``).
    case tooManyRows(pointCount: Int, limit: Int)
    /// A setting is outside what it allows.
    case invalidSetting(Setting, value: Value, requirement: Requirement)
    /// An explicitly chosen algorithm needs more memory for its bounds than the budget allows.
    case boundsExceedBudget(algorithm: Algorithm, boundBytes: Int, budgetBytes: Int)
    /// Centroids given as `valueCount` floats, which is not `expectedRows × dimension`
    /// (`expectedRows` is `nil` when any whole number of rows would do).
    case centroidShape(valueCount: Int, expectedRows: Int?, dimension: Int)
    /// Centroid `index` is all zeros and has no direction under ``Metric/cosine``.
    case zeroCentroid(index: Int)
    /// A ``Checkpoint`` that does not belong to this run: another input, shape or scale; why.
    case checkpointMismatch(String)

    /// A setting of ``KMeans/Configuration`` or of a call, by its name in the library.
    public enum Setting: String, Sendable, CaseIterable {
        /// The ``KMeans/Configuration`` property of this name.
        case clusterCount, maxIterations, tolerance, threadCount, pointTile, centroidTile, maxPointsPerCentroid
        /// The ``KMeans/Configuration`` property of this name.
        case memoryBudget, pruningStartFraction, initializationSampleSize
        /// The number of nearest centroids asked of ``KMeans/nearest(_:centroids:count:metric:threadCount:pointTile:)``.
        case nearestCount
    }

    /// The value found.
    public enum Value: Equatable, Sendable, CustomStringConvertible {
        /// A count, size or number of bytes.
        case integer(Int)
        /// A fraction or tolerance.
        case real(Double)

        /// The number as Swift prints it.
        public var description: String {
            switch self {
            case let .integer(value): "\(value)"
            case let .real(value): "\(value)"
            }
        }
    }

    /// What the setting allows.
    public enum Requirement: Equatable, Sendable, CustomStringConvertible {
        /// At least the given number.
        case atLeast(Int)
        /// At most the number of clusters, given.
        case atMostClusterCount(Int)
        /// At least the number of clusters, given.
        case atLeastClusterCount(Int)
        /// A finite number, zero or more.
        case nonNegative
        /// Between 0 and 1.
        case fraction

        /// The requirement as the end of a sentence, such as `must be at least 1`.
        public var description: String {
            switch self {
            case let .atLeast(minimum): "must be at least \(minimum)"
            case let .atMostClusterCount(clusterCount): "must be at most k = \(clusterCount)"
            case let .atLeastClusterCount(clusterCount): "must be at least k = \(clusterCount)"
            case .nonNegative: "must be a non-negative number"
            case .fraction: "must be between 0 and 1"
            }
        }
    }

    /// One line in the library's terms, such as `maxIterations must be at least 1, got 0`.
    public var description: String {
        switch self {
        case let .tooManyClusters(clusterCount, pointCount):
            "k (\(clusterCount)) is larger than the number of rows (\(pointCount))"
        case let .tooManyRows(pointCount, limit):
            "\(pointCount) rows to train on, more than the \(limit) that exact cluster sums hold; train on a sample"
        case let .invalidSetting(setting, value, requirement):
            "\(setting.rawValue) \(requirement), got \(value)"
        case let .boundsExceedBudget(algorithm, boundBytes, budgetBytes):
            "\(algorithm.rawValue) needs \(megabytes(boundBytes)) of bounds, more than the memory budget of \(megabytes(budgetBytes))"
        case let .centroidShape(valueCount, expectedRows?, dimension):
            "centroids hold \(valueCount) values; expected k × d = \(expectedRows) × \(dimension)"
        case let .centroidShape(valueCount, nil, dimension):
            "centroids hold \(valueCount) values, not a whole number of rows of \(dimension)"
        case let .zeroCentroid(index):
            "centroid \(index) is all zeros and has no direction for cosine similarity"
        case let .checkpointMismatch(why):
            "the checkpoint belongs to another run: \(why)"
        }
    }
}

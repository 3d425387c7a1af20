/// How the first centroids are chosen.
public enum Initialization: Sendable, Equatable {
    /// Greedy k-means++ (Arthur and Vassilvitskii 2007) with `2 + ⌊ln k⌋` local
    /// trials per step, as scikit-learn does, run on a seeded sample of rows.
    case kMeansPlusPlus
    /// `k` distinct rows chosen uniformly at random.
    case random
    /// Centroids given by the caller: `k × d` float32, row-major.
    case centroids([Float])

    /// The name used in reports and on the command line.
    public var name: String {
        switch self {
        case .kMeansPlusPlus: "kmeans++"
        case .random: "random"
        case .centroids: "file"
        }
    }
}

/// Loads centroids (initial ones, or trained ones to assign with) from any supported file
/// and checks them against the data.
///
/// - Parameters:
///   - path: A file in any format ``openEmbeddings(at:options:)`` reads.
///   - options: How to open it; a raw file's row length defaults to `dimension`.
///   - dimension: The data's dimension; the file must match it.
///   - clusterCount: When given, the file must hold exactly this many rows.
/// - Returns: The centroids, `rows × d`, and their count.
/// - Throws: ``DatasetError`` for an unreadable file, a dimension or count mismatch,
///   or non-finite values.
public func loadInitialCentroids(
    at path: String, options: EmbeddingOpenOptions, dimension: Int, clusterCount: Int?
) throws -> (centroids: [Float], count: Int) {
    var options = options
    if options.dimension == nil { options.dimension = dimension }
    let source = try openEmbeddings(at: path, options: options)
    guard source.dimension == dimension else {
        throw DatasetError(path: path, .centroidDimension(found: source.dimension, expected: dimension))
    }
    if let clusterCount, source.rowCount != clusterCount {
        throw DatasetError(path: path, .centroidCount(found: source.rowCount, expected: clusterCount))
    }
    let values = try source.readAll()
    let firstBadRow = values.withUnsafeBufferPointer { buffer in
        (0..<source.rowCount).first { !squaredNorm(buffer.baseAddress! + $0 * dimension, dimension: dimension).isFinite }
    }
    if let firstBadRow { throw DatasetError(path: path, .nonFiniteValue(row: firstBadRow)) }
    return (values, source.rowCount)
}

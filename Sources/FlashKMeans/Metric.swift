/// What "nearest" means.
public enum Metric: String, CaseIterable, Sendable, Codable {
    /// Squared Euclidean distance.
    case l2
    /// Cosine similarity; every pruning algorithm supports it exactly, since on unit
    /// vectors the most similar centroid is the one at the smallest Euclidean distance.
    case cosine

    /// The rows as this metric sees them: for cosine, each scaled to unit length as it is read.
    ///
    /// The file is never rewritten: a cosine source normalizes each tile, in float64 and
    /// rounded once, into the reader's scratch.
    /// - Parameter source: The rows as stored.
    /// - Returns: `source` itself for ``l2``; for ``cosine``, a source whose tiles are unit
    ///   vectors and which throws ``DatasetError/Problem/zeroNorm(row:)`` for an all-zero row.
    public func rows(of source: any EmbeddingSource) -> any EmbeddingSource {
        self == .cosine ? NormalizedSource(source) : source
    }

    /// The cosine similarity of two unit vectors whose squared distance is `squaredDistance`:
    /// `1 − ‖x − c‖² / 2`.
    static func cosineSimilarity(squaredDistance: Float) -> Float {
        1 - squaredDistance / 2
    }

    /// For cosine, the similarity of each pair whose squared distance is given; `nil` for L2.
    func similarities(_ squaredDistances: [Float]) -> [Float]? {
        self == .cosine ? squaredDistances.map(Self.cosineSimilarity(squaredDistance:)) : nil
    }

    /// Initial centroids ready for this metric: for cosine, each scaled to unit length.
    /// - Throws: ``KMeansError`` for an all-zero centroid under cosine.
    func prepared(_ centroids: [Float], dimension: Int) throws(KMeansError) -> [Float] {
        guard self == .cosine else { return centroids }
        var normalized = centroids
        for row in 0..<(centroids.count / dimension) {
            var squared = 0.0
            for index in 0..<dimension { squared += Double(centroids[row * dimension + index]) * Double(centroids[row * dimension + index]) }
            guard squared > 0 else { throw .zeroCentroid(index: row) }
            for index in 0..<dimension {
                normalized[row * dimension + index] = Float(Double(centroids[row * dimension + index]) / squared.squareRoot())
            }
        }
        return normalized
    }
}

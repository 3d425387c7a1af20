/// Minimum, mean and maximum row norm over a bounded, evenly spaced sample of rows.
///
/// `flashkmeans inspect` shows them: the scale of the data, and whether the rows are
/// already unit vectors, read from a huge file in moments.
public struct NormStatistics: Codable, Sendable, Equatable {
    /// The smallest Euclidean norm `‖x‖` among the sampled rows (not squared).
    public var minimum: Double
    /// The mean norm of the sampled rows.
    public var mean: Double
    /// The largest norm among the sampled rows.
    public var maximum: Double
    /// Rows read: `min(n, max(1, sampleRows))`.
    public var sampledRows: Int

    /// Reads at most `sampleRows` rows, evenly spaced over the file.
    ///
    /// Norms and their sum are computed in float64.
    ///
    /// - Parameters:
    ///   - source: The rows.
    ///   - sampleRows: The most rows to read; at least one is read.
    /// - Throws: ``DatasetError`` for a non-finite row (naming the first one in the file).
    public init(source: any EmbeddingSource, sampleRows: Int) throws {
        let rowCount = source.rowCount
        let count = min(rowCount, max(1, sampleRows))
        // In full width: `index × n` overflows for n beyond 2⁶³ / sampleRows.
        let indices = (0..<count).map { count.dividingFullWidth($0.multipliedFullWidth(by: rowCount)).quotient }
        var rows = [Float](repeating: 0, count: count * source.dimension)
        try rows.withUnsafeMutableBufferPointer { try source.gatherRows(indices, into: $0.baseAddress!) }
        var minimum = Double.infinity
        var maximum = 0.0
        var total = 0.0
        rows.withUnsafeBufferPointer { buffer in
            for row in 0..<count {
                var squared = 0.0
                for index in 0..<source.dimension {
                    let value = Double(buffer[row * source.dimension + index])
                    squared += value * value
                }
                let norm = squared.squareRoot()
                minimum = Swift.min(minimum, norm)
                maximum = Swift.max(maximum, norm)
                total += norm
            }
        }
        self.minimum = minimum
        self.maximum = maximum
        mean = total / Double(count)
        sampledRows = count
    }
}

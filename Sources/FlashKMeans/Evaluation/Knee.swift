/// Finds the knee ("elbow") of inertia against k: the k after which more clusters stop
/// paying much.
///
/// The method is the core of Kneedle (Satopää, Albrecht, Irwin and Raghavan, "Finding a
/// 'Kneedle' in a Haystack", ICDCS workshops 2011): both axes are scaled to `[0, 1]`
/// (k by its first and last values, inertia by its smallest and largest), and the knee
/// is the point lying farthest below the chord that joins the first and last points.
/// Kneedle's later steps (smoothing, its sensitivity threshold, looking for more than one
/// knee) are left out: a curve of a few dozen exact fits is not noisy in the way they
/// guard against, and one answer is what a user asks for.
///
/// Since both axes are scaled, the vertical gap to the chord orders the points as the
/// perpendicular distance does; k is taken as given, so for doubling values such as
/// 2, 4, 8, 16 the chord is drawn against k, not log k.
public enum Knee {
    /// The index of the knee in `clusterCounts`, or `nil` when there is none.
    ///
    /// - Parameters:
    ///   - clusterCounts: The k values, strictly ascending.
    ///   - inertias: The inertia of each, finite; usually falling as k grows.
    /// - Returns: The index of the point farthest below the chord (the lowest k among equals).
    ///
    /// *Edge cases*: fewer than three points, equal inertias, or a curve with no point
    /// below its chord by more than rounding (a straight line, or a concave one) have no knee.
    /// - Complexity: O(points).
    public static func index(clusterCounts: [Int], inertias: [Double]) -> Int? {
        precondition(clusterCounts.count == inertias.count, "one inertia per k")
        guard clusterCounts.count >= 3, let low = inertias.min(), let high = inertias.max(), high > low else { return nil }
        let firstK = Double(clusterCounts.first!)
        let kSpan = Double(clusterCounts.last!) - firstK
        guard kSpan > 0 else { return nil }
        let scaled = inertias.map { ($0 - low) / (high - low) }
        let chordStart = scaled.first!
        let chordEnd = scaled.last!
        var best: (index: Int, gap: Double)?
        for index in 1..<(clusterCounts.count - 1) {
            let x = (Double(clusterCounts[index]) - firstK) / kSpan
            let gap = chordStart + (chordEnd - chordStart) * x - scaled[index]
            // Only a point below the chord bends the curve (a gap within `straightness` is the
            // rounding of a straight line); ties keep the lower k.
            if gap > straightness, gap > (best?.gap ?? 0) { best = (index, gap) }
        }
        return best?.index
    }

    /// Gaps to the chord at most this large, in the scaled units, count as none: scaling
    /// a straight line of float64 values leaves its points about 1e-16 off the chord.
    static let straightness = 1e-9
}

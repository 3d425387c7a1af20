/// Makes every label the exact nearest centroid, independent of how `sgemm` rounds.
///
/// The kernel ranks centroids by the float32 score `‖c‖² − 2x·c`. Its rounding error
/// is bounded (Higham, *Accuracy and Stability of Numerical Algorithms*, §3.1: a dot
/// product of length d in floating point is off by at most `γ_d Σ|x_i c_i| ≤ γ_d ‖x‖‖c‖`,
/// `γ_d = d u / (1 − d u)`, `u = 2⁻²⁴`, whatever the summation order or FMA use):
///
///     |score error| ≤ E(x) = 2.1 u C² + (2 γ_d + 2.1 u) ‖x‖ C,    C = max_j ‖c_j‖.
///
/// When the second-best score exceeds the best by more than `2.5 E(x)`, the float32
/// winner is provably the exact nearest centroid. Otherwise the row is re-ranked in
/// float64, `Σ (x_i − c_i)²` in index order, ties to the lowest index, among the
/// centroids that can still be nearest. Labels are therefore the float64 argmin for the given centroids, the
/// same for any tile shape, thread count, BLAS build or pruning algorithm.
struct ExactLabels {
    /// `E(x) = scoreErrorConstant + scoreErrorPerNorm · ‖x‖`: the most one float32 score can be off.
    let scoreErrorConstant: Double
    let scoreErrorPerNorm: Double

    init(dimension: Int, largestCentroidNorm: Double) {
        let unitRoundoff = 0x1p-24
        let gamma = Double(dimension) * unitRoundoff / (1 - Double(dimension) * unitRoundoff)
        scoreErrorConstant = 2.1 * unitRoundoff * largestCentroidNorm * largestCentroidNorm
        scoreErrorPerNorm = (2 * gamma + 2.1 * unitRoundoff) * largestCentroidNorm
    }

    /// The bounds for a pass over `centroids`.
    ///
    /// `C` comes from the largest float32 `‖c‖²`, which is within 2⁻²⁴ (relative) of the
    /// true value; its float64 square root is then raised by 2⁻²⁰, far more than those
    /// roundings, so that `C` is never below the true largest norm.
    init(centroids: CentroidTable) {
        var largestSquaredNorm: Float = 0
        for label in 0..<centroids.count { largestSquaredNorm = max(largestSquaredNorm, centroids.squaredNorm(label)) }
        self.init(dimension: centroids.dimension, largestCentroidNorm: Double(largestSquaredNorm).squareRoot() * Self.normAllowance)
    }

    /// Raises the largest centroid norm over its float32 rounding (see ``init(centroids:)``).
    static let normAllowance = 1 + 0x1p-20

    /// The most a float32 score of a row with squared norm `pointSquaredNorm` can be off.
    @inline(__always)
    func scoreError(pointSquaredNorm: Float) -> Double {
        scoreErrorConstant + scoreErrorPerNorm * Double(pointSquaredNorm).squareRoot()
    }

    /// Whether the float32 scores of a row with squared norm `pointSquaredNorm` are too
    /// close to tell apart: within `2.5 E(x)`, twice the error of one score with a 25% reserve.
    @inline(__always)
    func isAmbiguous(best: Float, second: Float, pointSquaredNorm: Float) -> Bool {
        Double(second) - Double(best) <= 2.5 * scoreError(pointSquaredNorm: pointSquaredNorm)
    }

    /// The float64 squared distance `Σ (x_i − c_i)²`, summed in index order.
    @inline(__always)
    static func squaredDistance64(_ row: UnsafePointer<Float>, _ centroid: UnsafePointer<Float>, dimension: Int) -> Double {
        var distance = 0.0
        for index in 0..<dimension {
            let difference = Double(row[index]) - Double(centroid[index])
            distance += difference * difference
        }
        return distance
    }

    /// The float64 nearest centroid of `row`, ties to the lowest index.
    ///
    /// Only centroids whose float32 score (from a direct dot product, with the same error
    /// bound as the kernel's) is within `2.5 E(x)` of the smallest can be the nearest, so
    /// only those are measured in float64: usually two or three of the k.
    /// - Complexity: O(k · d) in float32, plus O(d) in float64 per close centroid.
    func nearest(_ row: UnsafePointer<Float>, pointSquaredNorm: Float, centroids: CentroidTable) -> Int32 {
        var smallest = Float.infinity
        for centroid in 0..<centroids.count {
            smallest = min(smallest, directScore(
                row, centroids.row(centroid), centroidSquaredNorm: centroids.squaredNorm(centroid), dimension: centroids.dimension))
        }
        let threshold = Double(smallest) + 2.5 * scoreError(pointSquaredNorm: pointSquaredNorm)
        var best = Double.infinity
        var label: Int32 = 0
        for centroid in 0..<centroids.count {
            let score = directScore(
                row, centroids.row(centroid), centroidSquaredNorm: centroids.squaredNorm(centroid), dimension: centroids.dimension)
            guard Double(score) <= threshold else { continue }
            let distance = Self.squaredDistance64(row, centroids.row(centroid), dimension: centroids.dimension)
            if distance < best {
                best = distance
                label = Int32(centroid)
            }
        }
        return label
    }
}

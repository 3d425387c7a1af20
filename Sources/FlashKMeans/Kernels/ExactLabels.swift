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
/// winner is provably the exact nearest centroid. Otherwise the row is re-ranked
/// against every centroid in float64, `Σ (x_i − c_i)²` in index order, ties to the
/// lowest index. Labels are therefore the float64 argmin for the given centroids, the
/// same for any tile shape, thread count, BLAS build or pruning algorithm.
struct ExactLabels {
    /// `2.5 × 2.1 u` and `2.5 × (2 γ_d + 2.1 u)`: the two coefficients of the margin.
    let centroidTerm: Double
    let crossTerm: Double
    let largestCentroidNorm: Double

    init(dimension: Int, largestCentroidNorm: Double) {
        let unitRoundoff = 0x1p-24
        let gamma = Double(dimension) * unitRoundoff / (1 - Double(dimension) * unitRoundoff)
        centroidTerm = 2.5 * 2.1 * unitRoundoff * largestCentroidNorm * largestCentroidNorm
        crossTerm = 2.5 * (2 * gamma + 2.1 * unitRoundoff) * largestCentroidNorm
        self.largestCentroidNorm = largestCentroidNorm
    }

    /// Whether the float32 scores of a row with squared norm `pointSquaredNorm` are too
    /// close to tell apart.
    @inline(__always)
    func isAmbiguous(best: Float, second: Float, pointSquaredNorm: Float) -> Bool {
        Double(second) - Double(best) <= centroidTerm + crossTerm * Double(pointSquaredNorm).squareRoot()
    }

    /// The float64 nearest centroid of `row` among `clusterCount` centroids, ties to the lowest index.
    /// - Complexity: O(k · d).
    static func nearest(_ row: UnsafePointer<Float>, centroids: UnsafePointer<Float>, clusterCount: Int, dimension: Int) -> Int32 {
        var best = Double.infinity
        var label: Int32 = 0
        for centroid in 0..<clusterCount {
            let values = centroids + centroid * dimension
            var distance = 0.0
            for index in 0..<dimension {
                let difference = Double(row[index]) - Double(values[index])
                distance += difference * difference
            }
            if distance < best {
                best = distance
                label = Int32(centroid)
            }
        }
        return label
    }
}

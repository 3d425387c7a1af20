/// The nearest-centroid search for one tile of points, double-chunked over centroids.
///
/// For each centroid tile, `sgemm` writes `x · c` into the L2-resident block, then one
/// sweep turns it into the score `‖c‖² − 2 x · c` (the squared distance less the constant
/// `‖x‖²`) and folds it into a running best and second-best score per point. The
/// `n × k` distance matrix never exists: only `pointTile × centroidTile`.
///
/// - Parameters:
///   - tile: The points (in).
///   - centroids: `k × d`, row-major (in).
///   - centroidSquaredNorms: `k` values of `‖c‖²` (in).
///   - scratch: Receives `bestScores`, `secondScores` and `bestLabels` for the tile's rows (out).
/// - Postcondition: `scratch.bestLabels[i]` is the first `j` minimizing the float32 score;
///   `scratch.secondScores[i]` is the smallest score of any other centroid (equal to the
///   best on a tie). ``ExactLabels`` turns these into labels that do not depend on how
///   `sgemm` rounded.
/// - Complexity: O(m · k · d) in `sgemm`, plus O(m · k) for the sweep.
func findNearestCentroids(
    tile: RowTile,
    centroids: UnsafePointer<Float>,
    centroidSquaredNorms: UnsafePointer<Float>,
    clusterCount: Int,
    centroidTile: Int,
    scratch: KernelScratch
) {
    let rowCount = tile.rowCount
    scratch.bestScores.update(repeating: .infinity, count: rowCount)
    scratch.secondScores.update(repeating: .infinity, count: rowCount)
    scratch.bestLabels.update(repeating: 0, count: rowCount)
    var firstCentroid = 0
    while firstCentroid < clusterCount {
        let count = min(centroidTile, clusterCount - firstCentroid)
        computeCrossProducts(
            points: tile, centroids: centroids + firstCentroid * tile.dimension, count: count,
            output: scratch.crossProducts)
        for row in 0..<rowCount {
            foldMinimum(
                crossProducts: scratch.crossProducts + row * count,
                squaredNorms: centroidSquaredNorms + firstCentroid,
                count: count, firstLabel: firstCentroid,
                best: &scratch.bestScores[row], second: &scratch.secondScores[row], label: &scratch.bestLabels[row])
        }
        firstCentroid += count
    }
}

/// Folds one row of the cross-product block into the running best and second-best
/// scores, keeping the lowest index on ties.
///
/// `2 x · c` is exact in float32 (a power-of-two scaling), so each score has a single
/// rounding whether or not the compiler fuses it into an FMA.
@inline(__always)
func foldMinimum(
    crossProducts: UnsafePointer<Float>, squaredNorms: UnsafePointer<Float>, count: Int, firstLabel: Int,
    best: inout Float, second: inout Float, label: inout Int32
) {
    typealias Lanes = SIMD16<Float>
    let width = Lanes.scalarCount
    var index = 0
    if count >= width {
        // Each lane keeps its own best (first on ties) and second best.
        var laneBest = Lanes(repeating: .infinity)
        var laneSecond = Lanes(repeating: .infinity)
        var laneLabel = SIMD16<Int32>(repeating: 0)
        var labels = SIMD16<Int32>(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15) &+ Int32(firstLabel)
        let crossRaw = UnsafeRawPointer(crossProducts)
        let normsRaw = UnsafeRawPointer(squaredNorms)
        while index + width <= count {
            let cross = crossRaw.loadUnaligned(fromByteOffset: index * 4, as: Lanes.self)
            let norms = normsRaw.loadUnaligned(fromByteOffset: index * 4, as: Lanes.self)
            let scores = norms - (cross + cross)
            let better = scores .< laneBest
            // Masked selects only: `pointwiseMin` does not vectorize here.
            laneSecond.replace(with: scores, where: scores .< laneSecond)
            laneSecond.replace(with: laneBest, where: better)
            laneBest.replace(with: scores, where: better)
            laneLabel.replace(with: labels, where: better)
            labels &+= Int32(width)
            index += width
        }
        // Across lanes: the smallest best, the lowest label among lanes holding it, and
        // as second the smallest of every other lane's best and every lane's second.
        let tileBest = laneBest.min()
        var winningLane = 0
        var tileLabel = Int32.max
        for lane in 0..<width where laneBest[lane] == tileBest && laneLabel[lane] < tileLabel {
            tileLabel = laneLabel[lane]
            winningLane = lane
        }
        var others = laneBest
        others[winningLane] = .infinity
        let tileSecond = min(others.min(), laneSecond.min())
        merge(score: tileBest, runnerUp: tileSecond, label: tileLabel, into: &best, &second, &label)
    }
    while index < count {
        let score = squaredNorms[index] - (crossProducts[index] + crossProducts[index])
        merge(score: score, runnerUp: .infinity, label: Int32(firstLabel + index), into: &best, &second, &label)
        index += 1
    }
}

/// Merges a candidate (with its own runner-up) into the running best. Candidates come
/// in increasing label order, so an equal score never replaces the best.
@inline(__always)
private func merge(score: Float, runnerUp: Float, label candidate: Int32, into best: inout Float, _ second: inout Float, _ label: inout Int32) {
    if score < best {
        second = min(best, runnerUp)
        best = score
        label = candidate
    } else {
        second = min(second, score)
    }
}

/// Adds one float32 row into float64 cluster sums.
///
/// Sums are kept in float64 so that centroids stay accurate when the data share a
/// large common offset (rows near (1000, …, 1000) lose about 3 significant digits per
/// 1,000 rows summed in float32; float64 leaves them exact to float32 precision).
@inline(__always)
func addRow(_ row: UnsafePointer<Float>, to sums: UnsafeMutablePointer<Double>, dimension: Int) {
    var index = 0
    let rowRaw = UnsafeRawPointer(row)
    let sumsRaw = UnsafeMutableRawPointer(sums)
    while index + 8 <= dimension {
        let values = SIMD8<Double>(rowRaw.loadUnaligned(fromByteOffset: index * 4, as: SIMD8<Float>.self))
        let total = sumsRaw.loadUnaligned(fromByteOffset: index * 8, as: SIMD8<Double>.self) + values
        sumsRaw.storeBytes(of: total, toByteOffset: index * 8, as: SIMD8<Double>.self)
        index += 8
    }
    while index < dimension {
        sums[index] += Double(row[index])
        index += 1
    }
}

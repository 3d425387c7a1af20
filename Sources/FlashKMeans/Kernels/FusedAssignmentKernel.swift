/// The nearest-centroid search for one tile of points, double-chunked over centroids.
///
/// For each centroid tile, `sgemm` writes `x · c` into the L2-resident block, then one
/// sweep turns it into `‖c‖² − 2 x · c` and folds it into a running min/argmin per
/// point. The `n × k` distance matrix never exists: only `pointTile × centroidTile`.
///
/// Ties go to the lowest centroid index, as in a plain scan from 0 to k − 1.
/// `2 x · c` is exact in float32 (a power-of-two scaling), so the score has a single
/// rounding whether or not the compiler fuses it into an FMA: labels do not depend on
/// the build's CPU flags.
///
/// - Parameters:
///   - tile: The points (in).
///   - centroids: `k × d`, row-major (in).
///   - centroidSquaredNorms: `k` values of `‖c‖²` (in).
///   - scratch: Receives `bestScores` and `bestLabels` for the tile's rows (out).
/// - Postcondition: `scratch.bestLabels[i]` is the first `j` minimizing
///   `‖c_j‖² − 2 x_i · c_j` as computed in float32.
/// - Complexity: O(m · k · d) in `sgemm`, plus O(m · k) for the scan.
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
                bestScore: &scratch.bestScores[row], bestLabel: &scratch.bestLabels[row])
        }
        firstCentroid += count
    }
}

/// Folds `min_j (squaredNorms[j] − 2 crossProducts[j])` over one row of the block into
/// the running best, keeping the lowest index on ties.
@inline(__always)
func foldMinimum(
    crossProducts: UnsafePointer<Float>, squaredNorms: UnsafePointer<Float>, count: Int, firstLabel: Int,
    bestScore: inout Float, bestLabel: inout Int32
) {
    typealias Lanes = SIMD16<Float>
    let width = Lanes.scalarCount
    var index = 0
    if count >= width {
        // Each lane keeps its own first minimum; the lane reduction below then picks
        // the smallest value and, among equal values, the smallest index.
        var laneBest = Lanes(repeating: .infinity)
        var laneLabel = SIMD16<Int32>(repeating: 0)
        var labels = SIMD16<Int32>(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15) &+ Int32(firstLabel)
        let crossRaw = UnsafeRawPointer(crossProducts)
        let normsRaw = UnsafeRawPointer(squaredNorms)
        while index + width <= count {
            let cross = crossRaw.loadUnaligned(fromByteOffset: index * 4, as: Lanes.self)
            let norms = normsRaw.loadUnaligned(fromByteOffset: index * 4, as: Lanes.self)
            let scores = norms - (cross + cross)
            let better = scores .< laneBest
            laneBest.replace(with: scores, where: better)
            laneLabel.replace(with: labels, where: better)
            labels &+= Int32(width)
            index += width
        }
        let tileBest = laneBest.min()
        var tileLabel = Int32.max
        for lane in 0..<width where laneBest[lane] == tileBest {
            tileLabel = min(tileLabel, laneLabel[lane])
        }
        if tileBest < bestScore {
            bestScore = tileBest
            bestLabel = tileLabel
        }
    }
    while index < count {
        let score = squaredNorms[index] - (crossProducts[index] + crossProducts[index])
        if score < bestScore {
            bestScore = score
            bestLabel = Int32(firstLabel + index)
        }
        index += 1
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

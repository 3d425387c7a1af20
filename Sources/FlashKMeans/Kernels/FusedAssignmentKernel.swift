import CKMeansKernels

/// The nearest-centroid search for one tile of points, double-chunked over centroids.
///
/// For each centroid tile, `sgemm` writes `c · x` into the L2-resident block, then one
/// sweep turns it into the score `‖c‖² − 2 x · c` (the squared distance less the
/// constant `‖x‖²`) and folds it into each point's running best and second-best score.
/// The `n × k` distance matrix never exists: only `centroidTile × pointTile`.
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
    scratch.resetBest()
    var firstCentroid = 0
    while firstCentroid < clusterCount {
        let count = min(centroidTile, clusterCount - firstCentroid)
        computeCrossProducts(
            points: tile, centroids: centroids + firstCentroid * tile.dimension, count: count,
            output: scratch.crossProducts, outputStride: scratch.blockStride)
        foldMinimum(
            scratch: scratch, squaredNorms: centroidSquaredNorms + firstCentroid, count: count,
            firstLabel: firstCentroid, rowCount: tile.rowCount)
        firstCentroid += count
    }
}

/// Folds `count` rows of the centroid-major block, from row `firstBlockRow` on, into the
/// running best and second best of every point, 16 points at a time.
///
/// Centroids arrive in increasing label order and only a strictly smaller score
/// replaces the best, so float32 ties keep the lowest label. `2 x · c` is exact in
/// float32 (a power-of-two scaling), so each score has a single rounding whether or
/// not the compiler fuses it into an FMA.
@inline(__always)
func foldMinimum(
    scratch: KernelScratch, squaredNorms: UnsafePointer<Float>, count: Int, firstLabel: Int, rowCount: Int, firstBlockRow: Int = 0
) {
    // Padding slots past rowCount hold stale but finite values and are never read back.
    let paddedRows = (rowCount + 15) / 16 * 16
    fk_fold_minimum(
        scratch.crossProducts + firstBlockRow * scratch.blockStride, scratch.blockStride, squaredNorms, count, Int32(firstLabel),
        paddedRows, scratch.bestScores, scratch.secondScores, scratch.bestLabels)
}

/// Adds one float32 row into float64 cluster sums.
///
/// Sums are kept in float64 so that centroids stay accurate when the data share a
/// large common offset (rows near (1000, …, 1000) lose about 3 significant digits per
/// 1,000 rows summed in float32; float64 leaves them exact to float32 precision).
@inline(__always)
func addRow(_ row: UnsafePointer<Float>, to sums: UnsafeMutablePointer<Double>, dimension: Int) {
    fk_add_row(row, sums, dimension)
}

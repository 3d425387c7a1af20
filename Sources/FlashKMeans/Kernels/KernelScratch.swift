/// One thread's working memory for the fused kernel, allocated once per run and
/// reused for every tile, so the hot loop never allocates.
final class KernelScratch: @unchecked Sendable {
    /// `pointTile × centroidTile` cross products `x · c` from `sgemm`.
    let crossProducts: UnsafeMutablePointer<Float>
    /// Running `min_j (‖c_j‖² − 2 x · c_j)` per row: the distance without the constant `‖x‖²`.
    let bestScores: UnsafeMutablePointer<Float>
    /// Running smallest score of any centroid but the best, per row.
    let secondScores: UnsafeMutablePointer<Float>
    /// `‖x‖²` of each row of the tile, for the rounding margin.
    let pointSquaredNorms: UnsafeMutablePointer<Float>
    /// Running argmin per row.
    let bestLabels: UnsafeMutablePointer<Int32>
    /// `pointTile × d` floats for rows that must be converted (float16, uint8, HDF5 chunks…).
    let convertedRows: UnsafeMutablePointer<Float>

    init(plan: TilePlan, dimension: Int) {
        crossProducts = .allocate(capacity: plan.pointTile * plan.centroidTile)
        bestScores = .allocate(capacity: plan.pointTile)
        secondScores = .allocate(capacity: plan.pointTile)
        pointSquaredNorms = .allocate(capacity: plan.pointTile)
        bestLabels = .allocate(capacity: plan.pointTile)
        convertedRows = .allocate(capacity: plan.pointTile * dimension)
    }

    deinit {
        crossProducts.deallocate()
        bestScores.deallocate()
        secondScores.deallocate()
        pointSquaredNorms.deallocate()
        bestLabels.deallocate()
        convertedRows.deallocate()
    }
}

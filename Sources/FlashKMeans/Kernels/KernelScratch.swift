/// One thread's working memory for the fused kernel, allocated once per run and
/// reused for every tile, so the hot loop never allocates.
///
/// Per-point arrays are `blockStride` long (the point tile rounded up to 16) and
/// 64-byte aligned, so the sweep loads whole SIMD16 vectors.
final class KernelScratch: @unchecked Sendable {
    /// Points per block row: the point tile rounded up to a whole SIMD16 vector.
    let blockStride: Int
    /// `centroidTile × blockStride` cross products `c · x` from `sgemm`.
    let crossProducts: UnsafeMutablePointer<Float>
    /// Running `min_j (‖c_j‖² − 2 x · c_j)` per row: the distance without the constant `‖x‖²`.
    let bestScores: UnsafeMutablePointer<Float>
    /// Running smallest score of any centroid but the best, per row.
    let secondScores: UnsafeMutablePointer<Float>
    /// `‖x‖²` of each row of the tile, for the rounding margin.
    let pointSquaredNorms: UnsafeMutablePointer<Float>
    /// Running argmin per row.
    let bestLabels: UnsafeMutablePointer<Int32>
    /// The settled label of each tile row (output of a step).
    let finalLabels: UnsafeMutablePointer<Int32>
    /// ``squaredDistance(_:_:dimension:)`` of each tile row to its settled label (output of a step).
    let labelDistances: UnsafeMutablePointer<Float>
    /// `pointTile × d` floats into which pruning steps gather the rows they examine.
    let gatheredRows: UnsafeMutablePointer<Float>
    /// For each gathered slot, its row in the tile.
    let gatheredSlots: UnsafeMutablePointer<Int32>
    /// `pointTile × d` floats for rows that must be converted (float16, uint8, HDF5 chunks…).
    let convertedRows: UnsafeMutablePointer<Float>

    init(plan: TilePlan, dimension: Int) {
        blockStride = (plan.pointTile + 15) / 16 * 16
        crossProducts = Self.allocateZeroed(plan.centroidTile * blockStride, as: Float.self)
        bestScores = Self.allocateZeroed(blockStride, as: Float.self)
        secondScores = Self.allocateZeroed(blockStride, as: Float.self)
        pointSquaredNorms = Self.allocateZeroed(blockStride, as: Float.self)
        bestLabels = Self.allocateZeroed(blockStride, as: Int32.self)
        finalLabels = Self.allocateZeroed(blockStride, as: Int32.self)
        labelDistances = Self.allocateZeroed(blockStride, as: Float.self)
        gatheredRows = Self.allocateZeroed(plan.pointTile * dimension, as: Float.self)
        gatheredSlots = Self.allocateZeroed(blockStride, as: Int32.self)
        convertedRows = Self.allocateZeroed(plan.pointTile * dimension, as: Float.self)
    }

    /// Zeroed so that padding slots never hold denormals or NaN, which would slow the sweep.
    static func allocateZeroed<T: BitwiseCopyable>(_ count: Int, as type: T.Type) -> UnsafeMutablePointer<T> {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(1, count) * MemoryLayout<T>.stride, alignment: 64)
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: max(1, count) * MemoryLayout<T>.stride)
        return raw.bindMemory(to: T.self, capacity: max(1, count))
    }

    /// Starts every row of a tile (and its padding) with no candidate yet.
    func resetBest() {
        bestScores.update(repeating: .infinity, count: blockStride)
        secondScores.update(repeating: .infinity, count: blockStride)
        bestLabels.update(repeating: 0, count: blockStride)
    }

    deinit {
        for pointer in [UnsafeMutableRawPointer(crossProducts), UnsafeMutableRawPointer(bestScores),
                        UnsafeMutableRawPointer(secondScores), UnsafeMutableRawPointer(pointSquaredNorms),
                        UnsafeMutableRawPointer(bestLabels), UnsafeMutableRawPointer(convertedRows),
                        UnsafeMutableRawPointer(finalLabels), UnsafeMutableRawPointer(labelDistances),
                        UnsafeMutableRawPointer(gatheredRows), UnsafeMutableRawPointer(gatheredSlots)] {
            pointer.deallocate()
        }
    }
}

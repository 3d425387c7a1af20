/// One thread's working memory for the fused kernel and the steps, allocated once per run
/// and reused for every tile, so the hot loop never allocates.
///
/// Two indexings appear. *Tile rows* are the rows of the tile being assigned (`0..<m`).
/// *Kernel slots* are the points the kernel compared: the tile rows themselves for a dense
/// pass, or the rows a pruning step gathered, slot `s` holding tile row
/// `gathered.tileRows[s]`. Per-point buffers are `blockStride` long, the point tile
/// rounded up to 16 so that the SIMD sweep reads whole vectors.
package final class KernelScratch {
    /// Points per block row: the point tile rounded up to a whole 16-lane vector.
    let blockStride: Int
    /// `centroidTile × blockStride`: row `j` holds `c_j · x_s` for every kernel slot `s`
    /// (written by `sgemm`, read by the sweep).
    package let crossProducts: ScratchMatrix<Float>
    /// The running nearest centroid of every kernel slot.
    let nearest: RunningNearest
    /// `‖x‖²` of every tile row (written by the pass before the step runs).
    let pointSquaredNorms: ScratchVector<Float>
    /// Every tile row's label as settled by the step: the step's output.
    let settled: SettledLabels
    /// Rows a pruning step copied out of the tile to compare them densely.
    let gathered: GatheredRows
    /// Buffers of the integer screen, when the plan screens.
    let screening: ScreeningScratch?
    private let storage = ScratchStorage()

    /// Allocates every buffer, zeroed and 64-byte aligned, for tiles of `plan.pointTile` rows.
    /// - Parameters:
    ///   - plan: The point and centroid tiles.
    ///   - dimension: d, for the gathered rows.
    package init(plan: TilePlan, dimension: Int) {
        blockStride = (plan.pointTile + 15) / 16 * 16
        crossProducts = storage.matrix(rows: plan.centroidTile, columns: blockStride, of: Float.self)
        nearest = RunningNearest(
            bestScores: storage.vector(blockStride, of: Float.self), secondScores: storage.vector(blockStride, of: Float.self),
            bestLabels: storage.vector(blockStride, of: Int32.self))
        pointSquaredNorms = storage.vector(blockStride, of: Float.self)
        settled = SettledLabels(
            labels: storage.vector(blockStride, of: Int32.self), squaredDistances: storage.vector(blockStride, of: Float.self))
        gathered = GatheredRows(
            values: storage.matrix(rows: plan.pointTile, columns: dimension, of: Float.self),
            tileRows: storage.vector(blockStride, of: Int32.self))
        screening = plan.integerScreening
            ? ScreeningScratch(blockStride: blockStride, centroidTile: plan.centroidTile, dimension: dimension) : nil
    }
}

/// Per kernel slot: the smallest float32 score `‖c‖² − 2x·c` so far, the smallest of any
/// other centroid, and the label of the smallest.
struct RunningNearest {
    let bestScores: ScratchVector<Float>
    let secondScores: ScratchVector<Float>
    let bestLabels: ScratchVector<Int32>

    /// Starts every slot (and the padding) with no candidate yet.
    func reset() {
        bestScores.fill(with: .infinity)
        secondScores.fill(with: .infinity)
        bestLabels.fill(with: 0)
    }
}

/// A step's output per tile row: the exact nearest centroid and the float32 squared
/// distance to it (``squaredDistance(_:_:dimension:)``).
struct SettledLabels {
    let labels: ScratchVector<Int32>
    let squaredDistances: ScratchVector<Float>

    @inline(__always)
    func settle(_ row: Int, label: Int32, squaredDistance: Float) {
        labels[row] = label
        squaredDistances[row] = squaredDistance
    }
}

/// Tile rows copied into a dense block of their own: slot `s` holds tile row `tileRows[s]`.
struct GatheredRows {
    /// `pointTile × d`.
    let values: ScratchMatrix<Float>
    let tileRows: ScratchVector<Int32>

    /// Copies tile row `row` into slot `slot`.
    @inline(__always)
    func gather(_ tile: RowTile, row: Int, into slot: Int) {
        values.row(slot).update(from: tile.row(row), count: tile.dimension)
        tileRows[slot] = Int32(truncatingIfNeeded: row)
    }

    /// The first `count` slots as a tile (numbered like `tile` for error messages).
    func tile(count: Int, like tile: RowTile) -> RowTile {
        assert(count <= values.rowCount)
        return RowTile(base: values.base, rowStride: values.columnCount, rowCount: count, dimension: tile.dimension, firstRow: tile.firstRow)
    }

    /// Marks slot `s` as tile row `s` for the first `count` slots: a comparison of the whole tile in place.
    func useWholeTile(count: Int) {
        for slot in 0..<count { tileRows[slot] = Int32(truncatingIfNeeded: slot) }
    }
}

import CKMeansKernels

/// Squared Euclidean norm of one row, summed in float32 in a fixed order.
///
/// The order (16 lane sums, then the lanes, then the tail) is the same everywhere the
/// engine needs `‖x‖²` and at every SIMD level, so equal rows always give equal norms.
/// - Parameter row: `d` floats (in).
/// - Complexity: O(d).
@inline(__always)
func squaredNorm(_ row: UnsafePointer<Float>, dimension: Int) -> Float {
    fk_squared_norm(row, dimension)
}

/// Squared norms of `count` contiguous rows of length `dimension`, each computed in
/// float64 and rounded once, for centroids whose norms steer every label.
func computeCentroidSquaredNorms(_ centroids: UnsafePointer<Float>, count: Int, dimension: Int, into output: UnsafeMutablePointer<Float>) {
    for centroid in 0..<count {
        let row = centroids + centroid * dimension
        var total = 0.0
        for index in 0..<dimension { total += Double(row[index]) * Double(row[index]) }
        output[centroid] = Float(total)
    }
}

/// `‖a − b‖²` summed directly in float32, in the same fixed lane order as
/// ``squaredNorm(_:dimension:)``.
///
/// The kernel picks labels with the expanded form `‖x‖² + ‖c‖² − 2x·c`, whose
/// rounding error grows with `‖x‖²`; the winning distance is then recomputed here,
/// so reported distances and inertia are accurate relative to themselves (and never negative).
/// - Complexity: O(d).
@inline(__always)
func squaredDistance(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, dimension: Int) -> Float {
    fk_squared_distance(a, b, dimension)
}

/// `‖x‖²` of every row of `tile` into `norms` (out, one per tile row), checking each row on
/// the way: NaN, Inf, or values whose squares overflow float32 would poison every distance.
/// - Throws: ``DatasetError/Problem/nonFiniteValue(row:)`` for the tile's first bad row,
///   named by its row in the whole input (`path`).
func checkedSquaredNorms(of tile: RowTile, into norms: ScratchVector<Float>, path: String) throws {
    fk_squared_norms(tile.base, tile.rowStride, tile.rowCount, tile.dimension, norms.pointer(at: 0, length: tile.rowCount))
    for row in 0..<tile.rowCount where !norms[row].isFinite {
        throw DatasetError(path: path, .nonFiniteValue(row: tile.firstRow + row))
    }
}

import COpenBLAS

/// Computes the cross term `C · Xᵀ` of a tile of centroids against a tile of points
/// with OpenBLAS's `cblas_sgemm`, centroid-major: row `j` of the output holds
/// `c_j · x_i` for every point `i` of the tile, so the sweep that follows runs along
/// contiguous points, 16 at a time, with no per-point reduction.
///
/// - Parameters:
///   - points: `m × d` rows (in); the tile's row stride is passed to BLAS as `ldb`, so
///     strided fvecs rows need no copy.
///   - centroids: `count × d`, row-major, contiguous (in).
///   - count: Number of centroids, at most `output.rowCount`.
///   - output: `output[j, i] = c_j · x_i` for `j < count`, `i < m` (out); `m ≤ output.columnCount`.
/// - Complexity: O(m · count · d).
@inline(__always)
package func computeCrossProducts(points: RowTile, centroids: UnsafePointer<Float>, count: Int, output: ScratchMatrix<Float>) {
    assert(output.columnCount >= points.rowCount && count <= output.rowCount)
    cblas_sgemm(
        CblasRowMajor, CblasNoTrans, CblasTrans,
        blasint(count), blasint(points.rowCount), blasint(points.dimension),
        1, centroids, blasint(points.dimension),
        points.base, blasint(points.rowStride),
        0, output.base, blasint(output.columnCount))
}

/// Process-wide OpenBLAS settings.
public enum BLAS {
    /// Keeps OpenBLAS single-threaded: FlashKMeans runs its own threads over point
    /// tiles, and BLAS threads inside them would oversubscribe the cores.
    public static func useSingleThreadedKernels() {
        openblas_set_num_threads(1)
    }

    /// The kernel family OpenBLAS picked for this CPU (for example `Haswell` or `SkylakeX`).
    public static var coreName: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }
}

import COpenBLAS

/// Computes the cross term `X · Cᵀ` of a tile of points against a tile of
/// centroids with OpenBLAS's `cblas_sgemm`.
///
/// - Parameters:
///   - points: `m × d` rows; the tile's row stride is passed to BLAS as `lda`, so
///     strided fvecs rows need no copy.
///   - centroids: `count × d`, row-major, contiguous (in).
///   - count: Number of centroids in the tile.
///   - output: `m × count`, row-major (out); `output[i * count + j] = x_i · c_j`.
/// - Complexity: O(m · count · d).
@inline(__always)
func computeCrossProducts(
    points: RowTile, centroids: UnsafePointer<Float>, count: Int, output: UnsafeMutablePointer<Float>
) {
    cblas_sgemm(
        CblasRowMajor, CblasNoTrans, CblasTrans,
        blasint(points.rowCount), blasint(count), blasint(points.dimension),
        1, points.base, blasint(points.rowStride),
        centroids, blasint(points.dimension),
        0, output, blasint(count))
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

import COpenBLAS

/// Computes the cross term `C · Xᵀ` of a tile of centroids against a tile of points
/// with OpenBLAS's `cblas_sgemm`, centroid-major: row `j` of the output holds
/// `c_j · x_i` for every point `i` of the tile, so the sweep that follows runs along
/// contiguous points, 16 at a time, with no per-point reduction.
///
/// - Parameters:
///   - points: `m × d` rows; the tile's row stride is passed to BLAS as `ldb`, so
///     strided fvecs rows need no copy.
///   - centroids: `count × d`, row-major, contiguous (in).
///   - count: Number of centroids in the tile.
///   - output: `count × outputStride`, row-major (out);
///     `output[j * outputStride + i] = c_j · x_i` for `i < m`.
///   - outputStride: At least `m`.
/// - Complexity: O(m · count · d).
@inline(__always)
func computeCrossProducts(
    points: RowTile, centroids: UnsafePointer<Float>, count: Int,
    output: UnsafeMutablePointer<Float>, outputStride: Int
) {
    assert(outputStride >= points.rowCount)
    cblas_sgemm(
        CblasRowMajor, CblasNoTrans, CblasTrans,
        blasint(count), blasint(points.rowCount), blasint(points.dimension),
        1, centroids, blasint(points.dimension),
        points.base, blasint(points.rowStride),
        0, output, blasint(outputStride))
}

/// The cross term point-major, `output[i * count + j] = x_i · c_j` (`m × count`), for a
/// handful of centroids (k-means++ compares a tile with `2 + ⌊ln k⌋` candidates).
///
/// Each row is read once and dotted with every candidate while the candidates stay in
/// L1 (9 × 512 bytes at d = 128). `sgemm` repacks the whole point tile on every call,
/// and with so few candidates that copy dominated: on 1M × 128, k = 1024, seeding took
/// 3.0 s through `sgemm`, a fifth of it in OpenBLAS's packing.
///
/// - Parameters:
///   - points: The rows (in).
///   - centroids: `count × d`, row-major (in).
///   - output: `points.rowCount × count` (out).
/// - Postcondition: each value is the float32 dot product summed in a fixed order, so it
///   does not depend on tiles or threads; its error obeys the same bound as `sgemm`'s.
func computeCrossProductsPointMajor(
    points: RowTile, centroids: UnsafePointer<Float>, count: Int, output: UnsafeMutablePointer<Float>
) {
    typealias Lanes = SIMD16<Float>
    let dimension = points.dimension
    let vectorEnd = dimension / Lanes.scalarCount * Lanes.scalarCount
    for row in 0..<points.rowCount {
        let x = points.row(row)
        let rawX = UnsafeRawPointer(x)
        for slot in 0..<count {
            let centroid = centroids + slot * dimension
            let rawCentroid = UnsafeRawPointer(centroid)
            // Two accumulators so consecutive multiply-adds do not wait on each other.
            var even = Lanes()
            var odd = Lanes()
            var index = 0
            while index + 2 * Lanes.scalarCount <= vectorEnd {
                even += rawX.loadUnaligned(fromByteOffset: index * 4, as: Lanes.self)
                    * rawCentroid.loadUnaligned(fromByteOffset: index * 4, as: Lanes.self)
                odd += rawX.loadUnaligned(fromByteOffset: (index + 16) * 4, as: Lanes.self)
                    * rawCentroid.loadUnaligned(fromByteOffset: (index + 16) * 4, as: Lanes.self)
                index += 2 * Lanes.scalarCount
            }
            if index < vectorEnd {
                even += rawX.loadUnaligned(fromByteOffset: index * 4, as: Lanes.self)
                    * rawCentroid.loadUnaligned(fromByteOffset: index * 4, as: Lanes.self)
                index += Lanes.scalarCount
            }
            // A pairwise reduction: `sum()` adds the lanes one after another.
            let sum16 = even + odd
            let sum8 = sum16.lowHalf + sum16.highHalf
            let sum4 = sum8.lowHalf + sum8.highHalf
            let sum2 = sum4.lowHalf + sum4.highHalf
            var dot = sum2[0] + sum2[1]
            while index < dimension {
                dot += x[index] * centroid[index]
                index += 1
            }
            output[row * count + slot] = dot
        }
    }
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

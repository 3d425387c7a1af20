/// Tile sizes, accumulation slices and threads for one run.
///
/// Points are processed `pointTile` rows at a time against `centroidTile`
/// centroids at a time, so the kernel's working set is bounded for any `k`.
public struct TilePlan: Sendable, Equatable, Codable {
    /// Rows of the point tile. The default, 512, keeps a tile of d = 128 float32 rows
    /// at 256 KiB, small next to L2, and halves `sgemm`'s per-call packing of the
    /// centroid tile compared with 256 rows.
    public static let defaultPointTile = 512
    /// Centroids per tile. The default, 512, makes the `pointTile × centroidTile`
    /// float32 cross-product block 1 MiB, the L2 size per core on Zen 4 and current
    /// Xeons (1–2 MiB): `sgemm` writes it and the argmin sweep reads it back while it is
    /// still in L2. Measured on 1M × 128, k = 1024 (2 cores): 512 × 512 ran 1.59 s per
    /// iteration, 256 × 256 1.65–1.70 s, 1024 × 1024 1.75 s.
    public static let defaultCentroidTile = 512
    /// The most slices a run uses: 16 keep up to 16 threads busy.
    public static let maximumSliceCount = 16
    /// Fewer rows than this per slice are not worth a slice: each decides on its own rows
    /// whether screening pays.
    public static let minimumSliceRows = 1024

    /// Rows per point tile: the rows one thread reads, converts and assigns at a time.
    public var pointTile: Int
    /// Centroids per `sgemm` call, at most k.
    public var centroidTile: Int
    /// Contiguous ranges of rows, each run by one thread in row order.
    public var sliceCount: Int
    /// Threads that run a pass, the calling one included; at most ``sliceCount``, since
    /// each slice runs on one thread.
    public var threadCount: Int
    /// Whether dense comparisons rank centroids with exact 8-bit integer products first
    /// (`KMeans.Configuration.screening`); every result is the same either way.
    public var integerScreening: Bool
    /// Whether each slice stops screening, for the rest of a pass, once more than
    /// ``Screening/giveUpFallbackFraction`` of its screened rows fell back to float32
    /// (`Screening.auto`); `Screening.on` screens every row regardless.
    public var screeningGivesUp: Bool

    /// Plans a run over `pointCount` rows of `dimension` values with `clusterCount` centroids.
    ///
    /// The slices depend only on the row count, never on the tile sizes or `threadCount`, so
    /// that what a slice decides from its own rows (whether screening pays) and the report's
    /// counters are the same for any number of threads. Results never depend on them: sums
    /// are exact.
    ///
    /// - Parameters:
    ///   - pointCount: n, the rows of the pass.
    ///   - clusterCount: k.
    ///   - dimension: d.
    ///   - pointTile: Rows per point tile. The default, `nil`, is ``defaultPointTile``;
    ///     the plan clamps it to `1...max(1, n)`, as a tile never holds more rows than the pass.
    ///   - centroidTile: Centroids per tile. The default, `nil`, is ``defaultCentroidTile``;
    ///     the plan clamps it to `1...k`.
    ///   - threadCount: Threads wanted; the plan uses at most ``sliceCount`` of them.
    ///   - integerScreening: Whether dense comparisons screen with 8-bit products first.
    ///   - screeningGivesUp: Whether slices stop screening where it does not narrow.
    public init(
        pointCount: Int, clusterCount: Int, dimension: Int, pointTile: Int?, centroidTile: Int?, threadCount: Int,
        integerScreening: Bool = false, screeningGivesUp: Bool = true
    ) {
        self.integerScreening = integerScreening
        self.screeningGivesUp = screeningGivesUp
        self.pointTile = max(1, min(pointTile ?? Self.defaultPointTile, pointCount))
        self.centroidTile = max(1, min(centroidTile ?? Self.defaultCentroidTile, clusterCount))
        let bySize = (pointCount + Self.minimumSliceRows - 1) / Self.minimumSliceRows
        sliceCount = max(1, min(Self.maximumSliceCount, bySize))
        self.threadCount = max(1, min(threadCount, sliceCount))
    }

    /// Bytes of per-thread kernel scratch: the cross-product block, seven per-point
    /// arrays (scores, norms, labels, distances, gather slots), and a converted and a
    /// gathered point tile.
    ///
    /// - Parameter dimension: d.
    /// - Returns: Bytes per thread, independent of n and k (beyond `centroidTile ≤ k`).
    public func scratchBytes(dimension: Int) -> Int {
        let blockStride = (pointTile + 15) / 16 * 16
        let screening = integerScreening
            ? ScreeningScratch.byteCount(blockStride: blockStride, centroidTile: centroidTile, dimension: dimension) : 0
        return (centroidTile * blockStride + 7 * blockStride + 2 * pointTile * dimension) * 4 + screening
    }

    /// The rows of slice `slice`.
    func rows(ofSlice slice: Int, pointCount: Int) -> Range<Int> {
        (slice * pointCount / sliceCount)..<((slice + 1) * pointCount / sliceCount)
    }
}

/// What one Lloyd iteration did.
public struct IterationStats: Sendable, Codable, Equatable {
    /// 1-based.
    public var iteration: Int
    /// `Σ ‖x − c(x)‖²` with the centroids this iteration started from.
    public var inertia: Double
    /// Rows whose label changed in this iteration's assignment.
    public var reassigned: Int
    /// Rows whose two nearest centroids were within float32 rounding of each other and
    /// were re-ranked in float64 (<doc:Exactness>).
    public var ambiguousRows: Int
    /// Empty clusters re-seeded in this iteration's update.
    public var emptyClustersReseeded: Int
    /// Largest distance any centroid moved in this iteration's update (0 when the run stopped here).
    public var maxCentroidShift: Double
    /// Fraction of the `n × k` point–centroid distances computed (1 for Lloyd).
    public var distanceFraction: Double
    /// Points that passed the global filter and were compared with some centroids (n for Lloyd).
    public var examinedPoints: Int
    /// Whether bound pruning was on in this iteration (off in the first iterations,
    /// while many labels still change, and for Lloyd).
    public var pruning: Bool
    /// Bytes of bounds held: 0 for Lloyd and after `auto` fell back to it.
    public var boundBytes: Int
    /// With integer screening: the centroids left to compare exactly, summed over the rows
    /// screened (about one per row when the screen decides alone); 0 without.
    public var screenedCandidates: Int
    /// With integer screening: rows that went through the screen. Fewer than the rows
    /// compared when a slice gave the screen up because too many of its rows fell back.
    public var screenedRows: Int
    /// With integer screening: rows the screen could not narrow to 16 candidates, which
    /// were compared with every centroid in float32.
    public var screeningFallbacks: Int
    /// With integer screening: of the rows screened, those screened by a prefix of their
    /// coordinates rotated to the centroids' principal axes (labelled rows of real
    /// embeddings, after the first iteration); `nil` in reports from before it existed.
    public var prefixScreenedRows: Int? = nil
    /// Bound invariants verified in this iteration; non-zero only in debug builds,
    /// which check every bound before it is used (`KMEANS_INTERNAL_CHECKS`).
    public var invariantChecks: Int
    /// Wall-clock seconds of the iteration: its assignment pass and, unless the run
    /// stopped here, the update (re-seeding included).
    public var seconds: Double
    /// For a run across ranks, the part of `seconds` this rank spent exchanging results with
    /// the others, waiting for slower ranks included; `nil` for one process.
    public var exchangeSeconds: Double? = nil
}

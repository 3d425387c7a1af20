/// Memory figures of a run, in bytes, read from `/proc/self/status` (zero where it is
/// unavailable, as on macOS), except ``engineWorkingBytes``, which is computed.
///
/// They show what streaming buys: the mapped input counts in ``peakResidentBytes`` and
/// ``fileBackedBytes`` only for the rows in flight, while ``peakAnonymousBytes`` is what
/// the process allocated.
public struct MemoryReport: Sendable, Codable, Equatable {
    /// `VmHWM`: the peak resident set, mapped file pages included.
    public var peakResidentBytes: Int
    /// The largest `RssAnon` seen at the checkpoints (after initialization and after each pass).
    public var peakAnonymousBytes: Int
    /// `RssFile` at the end: pages of the mapped input (and libraries) in memory.
    public var fileBackedBytes: Int
    /// Anonymous memory the engine itself holds, computed from the shapes rather than
    /// measured: labels and distances (8 bytes per row), every thread's scratch, the
    /// exact cluster sums (24 bytes a value; twice on a rank of a job), and the bounds.
    public var engineWorkingBytes: Int
}

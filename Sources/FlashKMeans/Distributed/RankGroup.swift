import Dispatch

/// The processes of one SPMD job, such as the ranks `mpirun` starts: each runs the same
/// fit over its own share of the rows, and they exchange partial results through this.
///
/// The library calls these from the calling thread only, in the same order on every rank.
public protocol RankGroup: AnyObject {
    /// This process's index, `0..<size`.
    var rank: Int { get }
    /// Processes in the job.
    var size: Int { get }
    /// Every rank's `local` bytes, in rank order, on every rank.
    func allGather(_ local: [UInt8]) throws -> [[UInt8]]
}

extension RankGroup {
    /// Throws on every rank when any rank failed: the failing rank its own error, the others
    /// the lowest failing rank's message (``RankFailure``). Every rank must call it at the
    /// same point, failed or not, so that none is left waiting for another.
    /// - Parameter describe: The one-line message other ranks report for `failure`.
    public func agree(_ failure: (any Error)?, describe: (any Error) -> String = { "\($0)" }) throws {
        let messages = try allGather(failure.map { Array(describe($0).utf8) } ?? [])
        guard let first = messages.firstIndex(where: { !$0.isEmpty }) else { return }
        if let failure { throw failure }
        throw RankFailure(rank: first, message: String(decoding: messages[first], as: UTF8.self))
    }
}

/// What another rank failed with; every rank of the job stops with it.
public struct RankFailure: Error, CustomStringConvertible, Sendable {
    /// The lowest rank that failed.
    public var rank: Int
    /// Its error's message.
    public var message: String
    public var description: String { "rank \(rank): \(message)" }

    public init(rank: Int, message: String) {
        self.rank = rank
        self.message = message
    }
}

/// A ``RankGroup`` with the bookkeeping the engine needs: typed exchanges, the time they
/// take, and failures that stop every rank instead of leaving the others waiting.
final class Distribution {
    let group: RankGroup
    var rank: Int { group.rank }
    var size: Int { group.size }
    /// Seconds spent in exchanges (waiting for slower ranks included).
    private(set) var communicationSeconds = 0.0
    private(set) var exchangedBytes = 0

    init(_ group: RankGroup) { self.group = group }

    /// Every rank's values, in rank order.
    func allGather<Value: BitwiseCopyable>(_ values: [Value]) throws -> [[Value]] {
        let started = DispatchTime.now().uptimeNanoseconds
        defer { communicationSeconds += Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9 }
        let bytes = values.withUnsafeBytes { Array($0) }
        let gathered = try group.allGather(bytes)
        exchangedBytes += gathered.reduce(0) { $0 + $1.count }
        return gathered.map { part in
            part.withUnsafeBytes { raw in
                Array(UnsafeBufferPointer(
                    start: raw.baseAddress?.assumingMemoryBound(to: Value.self), count: raw.count / MemoryLayout<Value>.stride))
            }
        }
    }

    /// ``RankGroup/agree(_:describe:)``, timed with the other exchanges.
    func agree(_ failure: (any Error)?) throws {
        let started = DispatchTime.now().uptimeNanoseconds
        defer { communicationSeconds += Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9 }
        try group.agree(failure)
    }

    /// Runs `body`, then ``agree(_:)`` on its outcome.
    func agreeing<Result>(_ body: () throws -> Result) throws -> Result {
        var result: Result?
        var failure: (any Error)?
        do { result = try body() } catch { failure = error }
        try agree(failure)
        return result!
    }

    /// The slices of a pass over `rowCount` rows split as one process would (`plan`), dealt
    /// to the ranks as runs of whole slices: rank r takes slices `r·S/R ..< (r+1)·S/R`.
    func share(of plan: TilePlan, rowCount: Int) throws -> RankShare {
        let sliceCount = plan.sliceCount
        guard size <= sliceCount else {
            throw KMeansError.tooManyRanks(ranks: size, slices: sliceCount)
        }
        let slices = self.slices(ofRank: rank, sliceCount: sliceCount)
        let starts = (0...sliceCount).map { plan.rows(ofSlice: min($0, sliceCount - 1), pointCount: rowCount).lowerBound }
        var globalStarts = starts
        globalStarts[sliceCount] = rowCount
        let rows = globalStarts[slices.lowerBound]..<globalStarts[slices.upperBound]
        var local = plan
        local.sliceCount = slices.count
        local.threadCount = max(1, min(plan.threadCount, slices.count))
        local.sliceStarts = globalStarts[slices.lowerBound...slices.upperBound].map { $0 - rows.lowerBound }
        return RankShare(
            slices: slices, rows: rows, plan: local,
            slicesOfRank: (0..<size).map { self.slices(ofRank: $0, sliceCount: sliceCount) }, globalSliceCount: sliceCount)
    }

    /// Rank `rank`'s run of whole slices: `rank·S/R ..< (rank+1)·S/R`.
    func slices(ofRank rank: Int, sliceCount: Int) -> Range<Int> {
        (rank * sliceCount / size)..<((rank + 1) * sliceCount / size)
    }
}

extension Distribution {
    /// Rows per rank of a pass split by `plan`, with the exchanges' cost so far.
    func report(of plan: TilePlan, rowCount: Int) -> RankReport {
        RankReport(
            ranks: size,
            rowsPerRank: (0..<size).map { rank in
                let slices = self.slices(ofRank: rank, sliceCount: plan.sliceCount)
                guard !slices.isEmpty else { return 0 }
                return plan.rows(ofSlice: slices.upperBound - 1, pointCount: rowCount).upperBound
                    - plan.rows(ofSlice: slices.lowerBound, pointCount: rowCount).lowerBound
            },
            communicationSeconds: communicationSeconds, exchangedBytes: exchangedBytes)
    }
}

/// One rank's part of a pass: whole slices of the single-process split.
struct RankShare {
    /// This rank's slices, as indices of the single-process split.
    var slices: Range<Int>
    /// Their rows.
    var rows: Range<Int>
    /// The plan for a pass over just those rows, with the same slice boundaries.
    var plan: TilePlan
    /// Every rank's slices.
    var slicesOfRank: [Range<Int>]
    var globalSliceCount: Int
}

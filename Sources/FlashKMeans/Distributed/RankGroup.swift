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
    /// The sum over ranks of each of `local`'s values, into `total` (of the same count) on
    /// every rank. The values' sums must fit an `Int64`.
    func allReduceSum(_ local: UnsafeBufferPointer<Int64>, into total: UnsafeMutableBufferPointer<Int64>) throws
}

extension RankGroup {
    /// Through ``allGather(_:)``: every rank receives every rank's values.
    public func allReduceSum(_ local: UnsafeBufferPointer<Int64>, into total: UnsafeMutableBufferPointer<Int64>) throws {
        precondition(local.count == total.count)
        let parts = try allGather(Array(UnsafeRawBufferPointer(local)))
        _ = total.initialize(from: repeatElement(0, count: total.count))
        for part in parts {
            part.withUnsafeBytes { raw in
                for index in 0..<total.count { total[index] += raw.loadUnaligned(fromByteOffset: index * 8, as: Int64.self) }
            }
        }
    }

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

    /// Every rank's exact sums added up, into `total`, on every rank.
    func allReduceSum(_ local: ClusterSums, into total: ClusterSums) throws {
        let started = DispatchTime.now().uptimeNanoseconds
        defer { communicationSeconds += Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9 }
        try group.allReduceSum(
            UnsafeBufferPointer(start: local.words, count: local.wordCount),
            into: UnsafeMutableBufferPointer(start: total.words, count: total.wordCount))
        try UnsafeMutableRawPointer(local.counts).withMemoryRebound(to: Int64.self, capacity: local.clusterCount) { localCounts in
            try UnsafeMutableRawPointer(total.counts).withMemoryRebound(to: Int64.self, capacity: total.clusterCount) { totalCounts in
                try group.allReduceSum(
                    UnsafeBufferPointer(start: localCounts, count: local.clusterCount),
                    into: UnsafeMutableBufferPointer(start: totalCounts, count: total.clusterCount))
            }
        }
        exchangedBytes += size * (local.wordCount + local.clusterCount) * 8
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

    /// Rank `rank`'s run of rows: `rank·n/R ..< (rank+1)·n/R`. Sums and inertia are exact, so
    /// how the rows are split never changes a result.
    func rows(ofRank rank: Int, rowCount: Int) -> Range<Int> {
        (rank * rowCount / size)..<((rank + 1) * rowCount / size)
    }

    /// This rank's rows of a pass over `rowCount` rows.
    func ownRows(rowCount: Int) -> Range<Int> { rows(ofRank: rank, rowCount: rowCount) }
}

extension Distribution {
    /// Rows per rank of a pass, with the exchanges' cost so far.
    func report(rowCount: Int) -> RankReport {
        RankReport(
            ranks: size, rowsPerRank: (0..<size).map { rows(ofRank: $0, rowCount: rowCount).count },
            communicationSeconds: communicationSeconds, exchangedBytes: exchangedBytes)
    }
}

import FlashKMeans
import Foundation

/// The ranks of an SPMD job as threads of one process, exchanging through shared memory:
/// lets the tests run `KMeans.fit(_:configuration:across:)` for several rank counts without
/// `mpirun`. Each rank's calls must come from its own thread, as with MPI.
public final class ThreadRanks: @unchecked Sendable {
    public let size: Int
    private let condition = NSCondition()
    private var deposited: [[UInt8]?]
    private var generation = 0
    private var collected = 0

    public init(size: Int) {
        self.size = size
        deposited = Array(repeating: nil, count: size)
    }

    /// One rank's handle.
    public func rank(_ rank: Int) -> RankGroup { Member(group: self, rank: rank) }

    /// Runs `body` once per rank, each on its own thread, and returns their results in rank order.
    public func run<Result>(_ body: @escaping @Sendable (RankGroup) -> Result) -> [Result] {
        let results = UnsafeMutableBufferPointer<Result?>.allocate(capacity: size)
        results.initialize(repeating: nil)
        defer { results.deallocate() }
        let box = UnsafeSendable(results)
        let done = DispatchGroup()
        for rank in 0..<size {
            done.enter()
            let thread = Thread {
                box.value[rank] = body(self.rank(rank))
                done.leave()
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        done.wait()
        return results.map { $0! }
    }

    fileprivate func allGather(_ local: [UInt8], rank: Int) -> [[UInt8]] {
        condition.lock()
        defer { condition.unlock() }
        // Wait until the previous exchange has been read by everyone.
        while deposited[rank] != nil { condition.wait() }
        let myGeneration = generation
        deposited[rank] = local
        condition.broadcast()
        while deposited.contains(where: { $0 == nil }) && generation == myGeneration { condition.wait() }
        let all = deposited.map { $0! }
        collected += 1
        if collected == size {
            collected = 0
            generation += 1
            deposited = Array(repeating: nil, count: size)
            condition.broadcast()
        } else {
            while generation == myGeneration { condition.wait() }
        }
        return all
    }

    private final class Member: RankGroup {
        let group: ThreadRanks
        let rank: Int
        var size: Int { group.size }
        init(group: ThreadRanks, rank: Int) {
            self.group = group
            self.rank = rank
        }
        func allGather(_ local: [UInt8]) throws -> [[UInt8]] { group.allGather(local, rank: rank) }
    }
}

private struct UnsafeSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

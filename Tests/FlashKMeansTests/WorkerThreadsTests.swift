import Testing
@testable import FlashKMeans

@Suite struct WorkerThreadsTests {
    /// Counts, per participant, how often it was called.
    final class Tally: ParallelWork, @unchecked Sendable {
        let counts: UnsafeMutableBufferPointer<Int>
        init(participants: Int) { counts = .allocate(capacity: participants); counts.initialize(repeating: 0) }
        deinit { counts.deallocate() }
        // Each participant writes only its own slot.
        func work(participant: Int) { counts[participant] += 1 }
        var calls: [Int] { Array(counts) }
    }

    /// Every participant runs exactly once per loop, and `run` returns only after all have:
    /// the tallies read right after each loop are complete.
    @Test(arguments: [1, 2, 5])
    func everyParticipantRunsOncePerLoop(participants: Int) {
        let team = WorkerThreads(count: participants)
        defer { team.stop() }
        let tally = Tally(participants: participants)
        for loop in 1...500 {
            team.run(tally)
            #expect(tally.calls == [Int](repeating: loop, count: participants))
            if tally.calls != [Int](repeating: loop, count: participants) { break }
        }
    }
}

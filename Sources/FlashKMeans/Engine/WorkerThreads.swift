#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A fixed team of threads that runs one parallel loop at a time, for the passes that
/// repeat every iteration.
///
/// `DispatchQueue.concurrentPerform` allocates on every call (its closure context and
/// libdispatch's own bookkeeping), and so would a closure handed to other threads; this
/// team takes an object instead and allocates only when it is created, so steady-state
/// iterations make no allocations. The caller's thread takes part as participant 0.
final class WorkerThreads: @unchecked Sendable {
    /// Participants, counting the calling thread.
    let count: Int
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let jobPosted: UnsafeMutablePointer<pthread_cond_t>
    private let jobFinished: UnsafeMutablePointer<pthread_cond_t>
    // Guarded by `mutex`.
    private var job: (any ParallelWork)?
    private var generation = 0
    private var unfinished = 0
    private var stopping = false
    private var threads: [pthread_t] = []

    init(count: Int) {
        self.count = max(1, count)
        mutex = .allocate(capacity: 1)
        jobPosted = .allocate(capacity: 1)
        jobFinished = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(jobPosted, nil)
        pthread_cond_init(jobFinished, nil)
        for participant in 1..<self.count {
            let start = UnsafeMutablePointer<WorkerStart>.allocate(capacity: 1)
            start.initialize(to: WorkerStart(team: Unmanaged.passUnretained(self), participant: participant))
            var thread = pthread_t()
            let status = pthread_create(&thread, nil, { argument in
                let start = argument!.assumingMemoryBound(to: WorkerStart.self)
                let (team, participant) = (start.pointee.team, start.pointee.participant)
                start.deinitialize(count: 1)
                start.deallocate()
                team.takeUnretainedValue().serve(participant)
                return nil
            }, start)
            precondition(status == 0, "could not start a worker thread (error \(status))")
            threads.append(thread)
        }
    }

    /// Stops and joins the workers. Must be called before the team is released.
    func stop() {
        pthread_mutex_lock(mutex)
        stopping = true
        pthread_cond_broadcast(jobPosted)
        pthread_mutex_unlock(mutex)
        for thread in threads { pthread_join(thread, nil) }
        threads.removeAll()
    }

    deinit {
        precondition(threads.isEmpty, "WorkerThreads released without stop()")
        pthread_cond_destroy(jobPosted)
        pthread_cond_destroy(jobFinished)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        jobPosted.deallocate()
        jobFinished.deallocate()
    }

    /// Calls `work.work(participant:)` once for each participant, concurrently, and
    /// returns when all calls have returned.
    func run(_ work: some ParallelWork) {
        guard count > 1 else {
            work.work(participant: 0)
            return
        }
        pthread_mutex_lock(mutex)
        job = work
        unfinished = count - 1
        generation &+= 1
        pthread_cond_broadcast(jobPosted)
        pthread_mutex_unlock(mutex)

        work.work(participant: 0)

        pthread_mutex_lock(mutex)
        while unfinished > 0 { pthread_cond_wait(jobFinished, mutex) }
        job = nil
        pthread_mutex_unlock(mutex)
    }

    private func serve(_ participant: Int) {
        var seenGeneration = 0
        pthread_mutex_lock(mutex)
        while true {
            while generation == seenGeneration && !stopping { pthread_cond_wait(jobPosted, mutex) }
            if stopping { break }
            seenGeneration = generation
            let work = job!
            pthread_mutex_unlock(mutex)
            work.work(participant: participant)
            pthread_mutex_lock(mutex)
            unfinished -= 1
            if unfinished == 0 { pthread_cond_signal(jobFinished) }
        }
        pthread_mutex_unlock(mutex)
    }
}

/// A parallel loop body for ``WorkerThreads``.
protocol ParallelWork: AnyObject {
    func work(participant: Int)
}

private struct WorkerStart {
    let team: Unmanaged<WorkerThreads>
    let participant: Int
}

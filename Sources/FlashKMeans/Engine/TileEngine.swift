/// How the rows of a pass are split: into `sliceCount` fixed ranges of consecutive rows,
/// each cut into tiles of `tileRows` rows.
///
/// Slices depend only on the row count, never on threads: each slice is processed by one
/// thread, tile after tile in row order, so anything a slice keeps or decides from its own
/// rows is the same whatever the thread count. (The slice count itself comes from
/// ``TilePlan``.)
package struct TileSchedule: Sendable, Equatable {
    /// n, the rows of the pass.
    package let rowCount: Int
    /// Rows per tile: the most one ``TileOperation/process(_:slice:scratch:reader:)`` call receives.
    package let tileRows: Int
    /// Fixed row ranges, each processed by one thread; at most one thread works per slice.
    package let sliceCount: Int
    /// Whether slices start on tile boundaries, so that every tile is a whole `tileRows`
    /// (but the last), for operations that keep results per tile. Assignment passes split
    /// by rows, which keeps slices even for any tile size.
    let slicesAlignedToTiles: Bool

    /// Splits `rowCount` rows into `sliceCount` slices of tiles.
    ///
    /// - Parameters:
    ///   - rowCount: n, zero or more.
    ///   - tileRows: Rows per tile, at least 1.
    ///   - sliceCount: Slices, at least 1 (a slice may be empty when there are fewer rows).
    ///   - slicesAlignedToTiles: Whether slices start on tile boundaries. The default,
    ///     `false`, splits rows evenly.
    package init(rowCount: Int, tileRows: Int, sliceCount: Int, slicesAlignedToTiles: Bool = false) {
        precondition(rowCount >= 0 && tileRows >= 1 && sliceCount >= 1)
        self.rowCount = rowCount
        self.tileRows = tileRows
        self.sliceCount = sliceCount
        self.slicesAlignedToTiles = slicesAlignedToTiles
    }

    /// The rows of a run's assignment passes: the plan's point tile and slices.
    /// - Parameters:
    ///   - plan: The run's plan.
    ///   - rowCount: n.
    package init(plan: TilePlan, rowCount: Int) {
        self.rowCount = rowCount
        tileRows = plan.pointTile
        sliceCount = plan.sliceCount
        slicesAlignedToTiles = false
    }

    /// The rows of slice `slice`.
    func rows(ofSlice slice: Int) -> Range<Int> {
        guard slicesAlignedToTiles else { return (slice * rowCount / sliceCount)..<((slice + 1) * rowCount / sliceCount) }
        let tileCount = (rowCount + tileRows - 1) / tileRows
        let firstTile = slice * tileCount / sliceCount
        let endTile = (slice + 1) * tileCount / sliceCount
        return min(rowCount, firstTile * tileRows)..<min(rowCount, endTile * tileRows)
    }
}

/// One kind of pass over the rows: what to do with each tile. The ``TileEngine`` does the
/// rest (threads, slices, reading and releasing the rows, failures).
///
/// Contract: ``process(_:slice:scratch:reader:)`` is called once per tile, from several
/// threads at once, but the tiles of one slice arrive on one thread, in row order. It may
/// write only what belongs to its rows and its slice, and its thread's scratch.
package protocol TileOperation: AnyObject {
    /// One thread's working memory: made once per engine and reused for every tile, so
    /// passes allocate nothing.
    associatedtype ThreadScratch

    /// One participant's scratch; the engine calls it once per participant, when it is made.
    func makeThreadScratch() -> ThreadScratch

    /// Handles rows `rows` of slice `slice`. Operations over a source read them through
    /// `reader`; others ignore it.
    /// - Parameters:
    ///   - rows: One tile: at most ``TileSchedule/tileRows`` consecutive rows of the slice.
    ///   - slice: The slice the rows belong to, for per-slice results.
    ///   - scratch: The calling participant's scratch.
    ///   - reader: The calling participant's reader.
    /// - Throws: Stops the slice; the engine reports the failure of the lowest slice.
    func process(_ rows: Range<Int>, slice: Int, scratch: ThreadScratch, reader: TileReader) throws

    /// Called on the slice's thread before its first tile, to reset what the slice
    /// accumulates there rather than on the calling thread. The default does nothing.
    func beginSlice(_ slice: Int)
}

extension TileOperation {
    package func beginSlice(_ slice: Int) {}
}

/// The one loop that streams tiles of rows through an operation on a fixed team of threads.
///
/// Participant `t` of `T` handles slices `t, t + T, t + 2T, …` and each slice tile by tile
/// (``TileSchedule``). Each participant reads through its own ``TileReader``, which gives a
/// mapped file's pages back as it goes. A failure stops its slice; ``run()`` then throws the
/// failure of the lowest failing slice, so the error names the first bad row whatever the
/// thread count.
///
/// Made once per kind of pass and run as often as needed: a run allocates nothing.
package final class TileEngine<Operation: TileOperation>: ParallelWork, @unchecked Sendable {
    let operation: Operation
    let schedule: TileSchedule
    let workers: WorkerThreads
    private let ownsWorkers: Bool
    private let scratches: [Operation.ThreadScratch]
    private let readers: [TileReader]
    /// One slot per slice, written only by the participant that owns the slice.
    private let failures: UnsafeMutableBufferPointer<(any Error)?>

    /// Starts the team's threads and makes each participant's scratch and reader.
    ///
    /// - Parameters:
    ///   - operation: What to do with each tile.
    ///   - schedule: How the rows are split into slices and tiles.
    ///   - threadCount: Participants, the calling thread included (at most one per slice).
    ///   - source: The rows the readers lend; `nil` for operations over rows they hold themselves.
    package convenience init(operation: Operation, schedule: TileSchedule, threadCount: Int, source: (any EmbeddingSource)?) {
        self.init(operation: operation, schedule: schedule, threadCount: threadCount, source: source, sharedWorkers: nil)
    }

    /// Like the public initializer, or, given `sharedWorkers` (another engine's team), runs on
    /// those threads instead of starting its own; the other engine stops them.
    init(
        operation: Operation, schedule: TileSchedule, threadCount: Int, source: (any EmbeddingSource)?,
        sharedWorkers: WorkerThreads?
    ) {
        self.operation = operation
        self.schedule = schedule
        if let sharedWorkers {
            workers = sharedWorkers
            ownsWorkers = false
        } else {
            workers = WorkerThreads(count: max(1, min(threadCount, schedule.sliceCount)))
            ownsWorkers = true
        }
        let participants = workers.count
        scratches = (0..<participants).map { _ in operation.makeThreadScratch() }
        readers = (0..<participants).map { _ in TileReader(source: source, tileRows: schedule.tileRows) }
        failures = .allocate(capacity: schedule.sliceCount)
        failures.initialize(repeating: nil)
    }

    deinit {
        if ownsWorkers { workers.stop() }
        failures.deinitialize().deallocate()
    }

    /// Participants, the calling thread included.
    var threadCount: Int { workers.count }

    /// Sends every tile through the operation.
    /// - Throws: The failure of the lowest slice that failed.
    package func run() throws {
        for slice in 0..<schedule.sliceCount { failures[slice] = nil }
        workers.run(self)
        for slice in 0..<schedule.sliceCount {
            if let failure = failures[slice] { throw failure }
        }
    }

    func work(participant: Int) {
        let scratch = scratches[participant]
        let reader = readers[participant]
        var slice = participant
        while slice < schedule.sliceCount {
            operation.beginSlice(slice)
            do {
                try runSlice(slice, scratch: scratch, reader: reader)
            } catch {
                failures[slice] = error
            }
            reader.releaseRemaining()
            slice += workers.count
        }
    }

    private func runSlice(_ slice: Int, scratch: Operation.ThreadScratch, reader: TileReader) throws {
        let rows = schedule.rows(ofSlice: slice)
        var tileStart = rows.lowerBound
        while tileStart < rows.upperBound {
            let tile = tileStart..<min(tileStart + schedule.tileRows, rows.upperBound)
            try operation.process(tile, slice: slice, scratch: scratch, reader: reader)
            tileStart = tile.upperBound
        }
    }
}

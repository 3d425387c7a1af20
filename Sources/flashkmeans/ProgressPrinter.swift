import Dispatch
import FlashKMeans
import Foundation

/// Prints one line per iteration on standard error (with the pass's rows per second) and,
/// when standard error is a terminal, keeps a progress bar on the line below: the share of
/// the current pass read, its speed, and the time left of the pass and of the run if it goes
/// to `--max-iter` (``ProgressText/statusLine(_:)``), redrawn twice a second.
final class ProgressPrinter: @unchecked Sendable {
    private let quiet: Bool
    private let showsBar: Bool
    private let maxIterations: Int
    /// Guards everything below and every write, so the bar's redraws from the timer's thread
    /// never interleave with the lines the calling thread prints.
    private let lock = NSLock()
    private var rowsPerPass: Int?
    private var counter: RowCounter?
    /// The iteration whose pass is under way.
    private var passIteration = 1
    private var passStarted = DispatchTime.now().uptimeNanoseconds
    private var lastIterationSeconds: Double?
    private var barDrawn = false
    private var timer: DispatchSourceTimer?

    /// How often the bar is redrawn while a pass runs.
    static let redrawInterval = DispatchTimeInterval.milliseconds(500)

    init(quiet: Bool, maxIterations: Int) {
        self.quiet = quiet
        self.maxIterations = maxIterations
        showsBar = !quiet && isatty(2) == 1
    }

    /// Follows a run over `source`: the per-iteration lines then give rows per second and,
    /// on a terminal, the returned source counts the rows read so the bar can follow each
    /// pass. Without a terminal `source` itself comes back, and reads cost nothing more.
    ///
    /// - Parameters:
    ///   - firstIteration: The iteration the run starts with: after the checkpoint's, when resuming.
    ///   - countsReads: `false` where the rows read are not the run's (an MPI rank reads
    ///     only its share): the bar then shows iterations alone.
    func watching(_ source: any EmbeddingSource, firstIteration: Int = 1, countsReads: Bool = true) -> any EmbeddingSource {
        lock.withLock {
            rowsPerPass = source.rowCount
            passIteration = firstIteration
            passStarted = DispatchTime.now().uptimeNanoseconds
        }
        guard showsBar, countsReads else { return source }
        let counter = RowCounter()
        lock.withLock { self.counter = counter }
        startRedrawing()
        return CountingSource(source, counter: counter)
    }

    func message(_ text: String) {
        guard !quiet else { return }
        lock.withLock { write(text + "\n") }
    }

    func iteration(_ stats: IterationStats) {
        guard !quiet else { return }
        var line = String(
            format: "iter %3d  inertia %.6e  reassigned %d  %.3f s",
            stats.iteration, stats.inertia, stats.reassigned, stats.seconds)
        lock.withLock {
            if let rowsPerPass, stats.seconds > 0 {
                line += "  " + ProgressText.rate(rowsPerSecond: Double(rowsPerPass) / stats.seconds)
            }
        }
        if stats.pruning {
            line += String(
                format: "  distances %.1f%%  examined %d  bounds %.1f MB",
                100 * stats.distanceFraction, stats.examinedPoints, Double(stats.boundBytes) / 1_048_576)
        }
        if stats.ambiguousRows > 0 { line += "  float64 re-ranked \(stats.ambiguousRows)" }
        if stats.emptyClustersReseeded > 0 { line += "  re-seeded \(stats.emptyClustersReseeded) empty" }
        if let exchange = stats.exchangeSeconds { line += String(format: "  exchanging %.3f s", exchange) }
        lock.withLock {
            write(line + "\n")
            // The next pass starts now.
            passIteration = stats.iteration + 1
            lastIterationSeconds = stats.seconds
            passStarted = DispatchTime.now().uptimeNanoseconds
            counter?.reset()
            drawBar()
        }
    }

    func finish() {
        lock.withLock {
            timer?.cancel()
            timer = nil
            if barDrawn { writeToStandardError("\r\u{1B}[K") }
            barDrawn = false
        }
    }

    /// Writes `text` over the bar, if one is drawn. Called with ``lock`` held.
    private func write(_ text: String) {
        writeToStandardError((barDrawn ? "\r\u{1B}[K" : "") + text)
        barDrawn = false
    }

    /// Called with ``lock`` held.
    private func drawBar() {
        guard showsBar, passIteration <= maxIterations else { return }
        let status = ProgressText.Status(
            iteration: passIteration, maxIterations: maxIterations, rowsPerPass: rowsPerPass ?? 0, rowsRead: counter?.count,
            passSeconds: Double(DispatchTime.now().uptimeNanoseconds - passStarted) / 1e9,
            lastIterationSeconds: lastIterationSeconds)
        write(ProgressText.statusLine(status))
        barDrawn = true
    }

    private func startRedrawing() {
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "flashkmeans.progress"))
        timer.schedule(deadline: .now() + Self.redrawInterval, repeating: Self.redrawInterval)
        timer.setEventHandler { [weak self] in
            guard let self else { return }
            self.lock.withLock { if self.timer != nil { self.drawBar() } }
        }
        lock.withLock {
            self.timer?.cancel()
            self.timer = timer
        }
        timer.resume()
    }
}

/// Rows read since the last reset, from every worker thread.
final class RowCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var rows = 0

    var count: Int { lock.withLock { rows } }

    func add(_ count: Int) { lock.withLock { rows += count } }

    func reset() { lock.withLock { rows = 0 } }
}

/// `source`, counting the rows read through it: one locked addition per tile, which is
/// thousands of rows.
final class CountingSource: EmbeddingSource, @unchecked Sendable {
    private let base: any EmbeddingSource
    private let counter: RowCounter

    init(_ base: any EmbeddingSource, counter: RowCounter) {
        self.base = base
        self.counter = counter
    }

    var description: EmbeddingDescription { base.description }

    func withRows<R>(
        _ rows: Range<Int>, scratch: UnsafeMutablePointer<Float>, _ body: (RowTile) throws -> R
    ) throws -> R {
        counter.add(rows.count)
        return try base.withRows(rows, scratch: scratch, body)
    }

    func releaseRows(_ rows: Range<Int>) { base.releaseRows(rows) }
}

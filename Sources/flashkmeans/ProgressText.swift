import FlashKMeans

/// The words and numbers of the progress display, as pure functions of counts and times,
/// so that they are tested without a terminal or a clock.
enum ProgressText {
    /// What the bar knows at one moment of a run.
    struct Status: Equatable {
        /// The iteration whose pass is under way (1-based).
        var iteration: Int
        var maxIterations: Int
        /// Rows in one pass over the input.
        var rowsPerPass: Int
        /// Rows read since the pass began; `nil` when reads are not counted (MPI ranks).
        var rowsRead: Int?
        /// Seconds since the pass began.
        var passSeconds: Double
        /// Seconds of the latest completed iteration; `nil` before the first one ends, while
        /// initialization may still be reading rows too.
        var lastIterationSeconds: Double?
    }

    /// Rows per second in three significant digits with an SI prefix: "850 rows/s",
    /// "12.4k rows/s", "3.61M rows/s".
    static func rate(rowsPerSecond: Double) -> String {
        guard rowsPerSecond.isFinite, rowsPerSecond >= 0 else { return "? rows/s" }
        let prefixes = ["", "k", "M", "G", "T"]
        var value = rowsPerSecond
        var prefix = 0
        // Rounding first, so that 999,999 reads "1.00M", not "1000k".
        while prefix < prefixes.count - 1, significant(value) >= 999.5 {
            value /= 1000
            prefix += 1
        }
        if prefix == 0 { return "\(Int(value.rounded())) rows/s" }
        let decimals = value >= 99.95 ? 0 : value >= 9.995 ? 1 : 2
        return fixedDecimals(value, places: decimals) + prefixes[prefix] + " rows/s"
    }

    /// A time left, to the second below ten minutes and coarser above: "< 1 s", "42 s",
    /// "3 min 05 s", "2 h 07 min", "4 d 03 h"; "> 99 d" beyond.
    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "?" }
        if seconds < 1 { return "< 1 s" }
        if seconds >= 100 * 86_400 { return "> 99 d" }
        let whole = Int(seconds.rounded())
        func twoDigits(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        switch whole {
        case ..<60: return "\(whole) s"
        case ..<3_600: return "\(whole / 60) min \(twoDigits(whole % 60)) s"
        case ..<86_400: return "\(whole / 3_600) h \(twoDigits(whole / 60 % 60)) min"
        default: return "\(whole / 86_400) d \(twoDigits(whole / 3_600 % 24)) h"
        }
    }

    /// Seconds until a pass of `total` rows ends, `done` of them read at `rowsPerSecond`;
    /// `nil` without a rate to go by.
    static func passSecondsLeft(done: Int, total: Int, rowsPerSecond: Double) -> Double? {
        guard rowsPerSecond > 0, rowsPerSecond.isFinite else { return nil }
        return Double(max(0, total - done)) / rowsPerSecond
    }

    /// Seconds until the run ends if it goes to `maxIterations`: the rest of this pass, then
    /// every iteration left as long as the latest. Runs usually converge sooner, so it is a
    /// bound; the bar says "at most".
    static func runSecondsLeft(passSecondsLeft: Double, iteration: Int, maxIterations: Int, iterationSeconds: Double) -> Double {
        passSecondsLeft + Double(max(0, maxIterations - iteration)) * iterationSeconds
    }

    /// `[#####.....]`, `width` characters between the brackets, `fraction` of them filled.
    static func bar(fraction: Double, width: Int = 20) -> String {
        let clamped = fraction.isFinite ? min(1, max(0, fraction)) : 0
        let filled = Int((clamped * Double(width)).rounded(.down))
        return "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "]"
    }

    /// The bar's line: the run's iterations (at most), then this pass's share, speed and
    /// time left and the run's, e.g.
    /// `[####................] iter 4/100 (at most)  pass 62%  3.61M rows/s  pass 2 s  run ≤ 5 min 10 s`.
    static func statusLine(_ status: Status) -> String {
        let iterations = status.maxIterations > 0 ? Double(status.iteration - 1) / Double(status.maxIterations) : 0
        var line = bar(fraction: iterations) + " iter \(status.iteration)/\(status.maxIterations) (at most)"
        guard let rowsRead = status.rowsRead, status.passSeconds > 0 else { return line }
        guard let lastIterationSeconds = status.lastIterationSeconds else {
            // Initialization reads rows too, so no share of a pass can be told yet.
            return line + "  starting" + (rowsRead > 0 ? "  " + rate(rowsPerSecond: Double(rowsRead) / status.passSeconds) : "")
        }
        let done = min(rowsRead, status.rowsPerPass)
        let percent = status.rowsPerPass > 0 ? 100 * done / status.rowsPerPass : 100
        // Until rows are read, the latest pass's speed stands for this one's; the iterations
        // left are taken as long as the longer of the latest and this one, for a bound.
        let rowsPerSecond = rowsRead > 0
            ? Double(rowsRead) / status.passSeconds : Double(status.rowsPerPass) / max(lastIterationSeconds, 1e-9)
        line += "  pass \(percent)%  \(rate(rowsPerSecond: rowsPerSecond))"
        guard let passLeft = passSecondsLeft(done: done, total: status.rowsPerPass, rowsPerSecond: rowsPerSecond) else { return line }
        let runLeft = runSecondsLeft(
            passSecondsLeft: passLeft, iteration: status.iteration, maxIterations: status.maxIterations,
            iterationSeconds: max(lastIterationSeconds, status.passSeconds + passLeft))
        return line + "  pass \(duration(passLeft))  run ≤ \(duration(runLeft))"
    }

    /// The rounding `rate` would show `value` with (three significant digits).
    private static func significant(_ value: Double) -> Double {
        value >= 99.95 ? value.rounded() : value >= 9.995 ? (value * 10).rounded() / 10 : (value * 100).rounded() / 100
    }
}

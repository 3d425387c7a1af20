import FlashKMeans
import Foundation

/// Prints one line per iteration on standard error and, when standard error is a
/// terminal, keeps a progress bar on the line below.
final class ProgressPrinter {
    private let quiet: Bool
    private let showsBar: Bool
    private let maxIterations: Int

    init(quiet: Bool, maxIterations: Int) {
        self.quiet = quiet
        self.maxIterations = maxIterations
        showsBar = !quiet && isatty(2) == 1
    }

    func message(_ text: String) {
        guard !quiet else { return }
        writeToStandardError(clearBar + text + "\n")
    }

    func iteration(_ stats: IterationStats) {
        guard !quiet else { return }
        var line = String(
            format: "iter %3d  inertia %.6e  reassigned %d  %.3f s",
            stats.iteration, stats.inertia, stats.reassigned, stats.seconds)
        if stats.pruning {
            line += String(
                format: "  distances %.1f%%  examined %d  bounds %.1f MB",
                100 * stats.distanceFraction, stats.examinedPoints, Double(stats.boundBytes) / 1_048_576)
        }
        if stats.ambiguousRows > 0 { line += "  float64 re-ranked \(stats.ambiguousRows)" }
        if stats.emptyClustersReseeded > 0 { line += "  re-seeded \(stats.emptyClustersReseeded) empty" }
        if let exchange = stats.exchangeSeconds { line += String(format: "  exchanging %.3f s", exchange) }
        writeToStandardError(clearBar + line + "\n")
        if showsBar {
            let width = 30
            let filled = min(width, width * stats.iteration / max(1, maxIterations))
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            writeToStandardError("[\(bar)] \(stats.iteration)/\(maxIterations) iterations (at most)")
        }
    }

    func finish() {
        if showsBar { writeToStandardError(clearBar) }
    }

    private var clearBar: String { showsBar ? "\r\u{1B}[K" : "" }
}

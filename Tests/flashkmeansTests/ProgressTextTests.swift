import Testing

@testable import flashkmeans

/// The progress bar's words and numbers, as pure functions (the bar itself needs a terminal).
struct ProgressTextTests {
    @Test(arguments: [
        (0.0, "0 rows/s") as (Double, String), (850.4, "850 rows/s"), (999.4, "999 rows/s"), (999.6, "1.00k rows/s"),
        (12_449, "12.4k rows/s"), (123_456, "123k rows/s"), (999_999, "1.00M rows/s"), (3_614_000, "3.61M rows/s"),
        (2.5e9, "2.50G rows/s"),
    ])
    func rate(rowsPerSecond: Double, expected: String) {
        #expect(ProgressText.rate(rowsPerSecond: rowsPerSecond) == expected)
    }

    @Test func rateOfNothingMeasurable() {
        #expect(ProgressText.rate(rowsPerSecond: .infinity) == "? rows/s")
        #expect(ProgressText.rate(rowsPerSecond: .nan) == "? rows/s")
    }

    static let durations: [(Double, String)] = [
        (0.2, "< 1 s"), (1.0, "1 s"), (42.4, "42 s"), (59.6, "1 min 00 s"), (185, "3 min 05 s"), (3_599, "59 min 59 s"),
        (7_620, "2 h 07 min"), (86_399, "23 h 59 min"), (273_600, "3 d 04 h"), (1e12, "> 99 d"),
    ]

    @Test(arguments: durations)
    func duration(seconds: Double, expected: String) {
        #expect(ProgressText.duration(seconds) == expected)
    }

    @Test func durationNotFinite() {
        #expect(ProgressText.duration(.infinity) == "?")
    }

    @Test func timesLeft() {
        #expect(ProgressText.passSecondsLeft(done: 250, total: 1_000, rowsPerSecond: 50) == 15)
        // Reads beyond the pass (initialization's) leave nothing of it.
        #expect(ProgressText.passSecondsLeft(done: 1_500, total: 1_000, rowsPerSecond: 50) == 0)
        #expect(ProgressText.passSecondsLeft(done: 0, total: 1_000, rowsPerSecond: 0) == nil)
        // The rest of iteration 4's pass, then iterations 5 to 10 at 2 s each.
        #expect(ProgressText.runSecondsLeft(passSecondsLeft: 1.5, iteration: 4, maxIterations: 10, iterationSeconds: 2) == 13.5)
        #expect(ProgressText.runSecondsLeft(passSecondsLeft: 1.5, iteration: 10, maxIterations: 10, iterationSeconds: 2) == 1.5)
    }

    @Test func bar() {
        #expect(ProgressText.bar(fraction: 0, width: 4) == "[....]")
        #expect(ProgressText.bar(fraction: 0.5, width: 4) == "[##..]")
        #expect(ProgressText.bar(fraction: 0.74, width: 4) == "[##..]")
        #expect(ProgressText.bar(fraction: 2, width: 4) == "[####]")
        #expect(ProgressText.bar(fraction: .nan, width: 4) == "[....]")
    }

    @Test func statusLineDuringAPass() {
        // Iteration 4 of at most 10; a quarter of 1M rows read in 0.5 s (500k rows/s):
        // 1.5 s left of the pass, then 6 iterations as long as the latest (2 s).
        let status = ProgressText.Status(
            iteration: 4, maxIterations: 10, rowsPerPass: 1_000_000, rowsRead: 250_000, passSeconds: 0.5,
            lastIterationSeconds: 2)
        #expect(
            ProgressText.statusLine(status)
                == "[######..............] iter 4/10 (at most)  pass 25%  500k rows/s  pass 2 s  run ≤ 14 s")
    }

    @Test func statusLineAsAPassBegins() {
        // Nothing read yet: the latest pass's speed (1M rows in 2 s) stands for this one's.
        let status = ProgressText.Status(
            iteration: 2, maxIterations: 3, rowsPerPass: 1_000_000, rowsRead: 0, passSeconds: 0.01, lastIterationSeconds: 2)
        #expect(ProgressText.statusLine(status) == "[######..............] iter 2/3 (at most)  pass 0%  500k rows/s  pass 2 s  run ≤ 4 s")
    }

    @Test func statusLineBeforeTheFirstIterationEnds() {
        let status = ProgressText.Status(
            iteration: 1, maxIterations: 100, rowsPerPass: 1_000, rowsRead: 3_000, passSeconds: 2, lastIterationSeconds: nil)
        #expect(ProgressText.statusLine(status) == "[....................] iter 1/100 (at most)  starting  1.50k rows/s")
    }

    @Test func statusLineWithoutCountedReads() {
        let status = ProgressText.Status(
            iteration: 3, maxIterations: 4, rowsPerPass: 1_000, rowsRead: nil, passSeconds: 2, lastIterationSeconds: 1)
        #expect(ProgressText.statusLine(status) == "[##########..........] iter 3/4 (at most)")
    }
}

import Dispatch
import Testing
@testable import FlashKMeans

/// What the engine uses instead of Foundation's formatting (it keeps to
/// FoundationEssentials) gives what that gave. Paths: PathComponentsTests.
struct FoundationFreeHelpersTests {
    @Test(arguments: [
        (0.0, 1, "0.0"), (12.25, 1, "12.2"), (12.35, 1, "12.3"), (0.05, 1, "0.1"), (3, 2, "3.00"), (0.07, 2, "0.07"),
        (41.6, 0, "42"), (-1.25, 1, "-1.2"), (-0.04, 1, "-0.0"), (1536.0 / 1024, 1, "1.5"),
    ] as [(Double, Int, String)])
    func fixedDecimalsRoundLikePrintf(value: Double, places: Int, expected: String) {
        #expect(fixedDecimals(value, places: places) == expected)
    }

    @Test func megabytes() {
        #expect(FlashKMeans.megabytes(3 * 1_048_576 / 2) == "1.5 MB")
        #expect(FlashKMeans.megabytes(0) == "0.0 MB")
    }

    @Test func trimming() {
        #expect("  vendor_id\t".trimmingWhitespace == "vendor_id")
        #expect("   ".trimmingWhitespace == "")
        #expect("x".trimmingWhitespace == "x")
    }

    @Test func lockExcludes() throws {
        final class Counter: @unchecked Sendable {
            let lock = Lock()
            var total = 0
        }
        let counter = Counter()
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            for _ in 0..<1000 { counter.lock.withLock { counter.total += 1 } }
        }
        #expect(counter.total == 8000)
    }
}

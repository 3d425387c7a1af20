/// xoshiro256** seeded through SplitMix64: a small generator whose output is the
/// same on every platform and Swift version, so a seed always gives the same run.
///
/// Integer and floating-point draws use the methods below rather than the standard
/// library's `random(in:using:)`, whose algorithm is not promised to stay fixed.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: (UInt64, UInt64, UInt64, UInt64)

    /// A generator whose whole output is fixed by `seed`.
    /// - Parameter seed: Any value, zero included: SplitMix64 spreads it over the
    ///   256-bit state, which is never all zero.
    public init(seed: UInt64) {
        var mixer = seed
        func splitMix() -> UInt64 {
            mixer &+= 0x9E37_79B9_7F4A_7C15
            var z = mixer
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (splitMix(), splitMix(), splitMix(), splitMix())
    }

    /// The next 64 random bits (xoshiro256**'s output function `rotl(s₁ · 5, 7) · 9`).
    public mutating func next() -> UInt64 {
        let result = ((state.1 &* 5) << 7 | (state.1 &* 5) >> 57) &* 9
        let shifted = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= shifted
        state.3 = state.3 << 45 | state.3 >> 19
        return result
    }

    /// A uniform double in `[0, 1)` with 53 random bits.
    public mutating func nextUnitDouble() -> Double {
        Double(next() >> 11) * 0x1p-53
    }

    /// A uniform integer in `0..<bound` (Lemire's multiply-shift with rejection).
    /// - Parameter bound: At least 1.
    public mutating func nextIndex(below bound: Int) -> Int {
        precondition(bound > 0)
        let limit = UInt64(bound)
        var product = next().multipliedFullWidth(by: limit)
        if product.low < limit {
            let threshold = (0 &- limit) % limit
            while product.low < threshold { product = next().multipliedFullWidth(by: limit) }
        }
        return Int(product.high)
    }

    /// `count` distinct indices from `0..<population`, in ascending order, by
    /// selection sampling (Knuth's Algorithm S): one pass, O(population) time,
    /// O(count) memory, and rows are then read front to back.
    /// - Parameters:
    ///   - count: Indices to draw, `0...population`.
    ///   - population: The range drawn from, `0..<population`.
    /// - Returns: `count` ascending indices; every subset of that size is equally likely.
    public mutating func sortedSample(count: Int, from population: Int) -> [Int] {
        precondition(count >= 0 && count <= population)
        if count == population { return Array(0..<population) }
        var chosen: [Int] = []
        chosen.reserveCapacity(count)
        var index = 0
        while chosen.count < count {
            let remaining = Double(population - index)
            let needed = Double(count - chosen.count)
            if remaining * nextUnitDouble() < needed { chosen.append(index) }
            index += 1
        }
        return chosen
    }
}

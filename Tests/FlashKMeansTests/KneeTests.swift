import FlashKMeans
import Testing

@Suite struct KneeTests {
    /// A sharp bend at k = 3: scaled, the points lie 0.34, 0.59, 0.44, 0.29, 0.15 below the chord.
    @Test func findsTheSharpestBend() {
        let index = Knee.index(clusterCounts: Array(1...7), inertias: [100, 50, 10, 8, 6, 4, 2])
        #expect(index == 2)
    }

    /// 1/k at doubling k: with k taken linearly, the chord is farthest from k = 8.
    @Test func usesTheValuesOfKAsGiven() {
        let counts = [2, 4, 8, 16, 32]
        #expect(Knee.index(clusterCounts: counts, inertias: counts.map { 1 / Double($0) }) == 2)
    }

    @Test func noKneeWithoutABend() {
        // A straight line, a concave curve, flat, and too few points.
        #expect(Knee.index(clusterCounts: [1, 2, 3, 4], inertias: [40, 30, 20, 10]) == nil)
        #expect(Knee.index(clusterCounts: [1, 2, 3, 4], inertias: [40, 39, 35, 10]) == nil)
        #expect(Knee.index(clusterCounts: [1, 2, 3], inertias: [5, 5, 5]) == nil)
        #expect(Knee.index(clusterCounts: [1, 2], inertias: [10, 1]) == nil)
        #expect(Knee.index(clusterCounts: [], inertias: []) == nil)
    }

    /// Two points exactly 0.25 below the chord (binary fractions, so no rounding): the lower k.
    @Test func tiesKeepTheLowerK() {
        #expect(Knee.index(clusterCounts: [1, 3, 5, 7, 9], inertias: [8, 4, 2, 1, 0]) == 1)
    }
}

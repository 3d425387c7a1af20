import CKMeansKernels
import Testing
@testable import FlashKMeans
import _FlashKMeansTestSupport

/// Cluster sums and inertia are exact integers on a grid, so they are the same to the bit
/// however rows are split over threads, tiles and ranks, and rows can move between clusters
/// pass after pass without drifting from a fresh sum.
@Suite struct ExactSumsTests {
    /// The kernel's words against a 128-bit reference: every value times the grid's scale,
    /// truncated toward zero, summed by label. Values span the grid: the largest, ones 2^60
    /// times smaller, subnormals, zeros and negatives.
    @Test(arguments: [1, 7, 16, 33])
    func rowsMoveExactlyOnTheGrid(dimension: Int) {
        let rowCount = 90, clusterCount = 5, stride = dimension + 2
        var rows = Fixtures.gaussian(pointCount: rowCount, dimension: stride, seed: UInt64(dimension))
        for index in rows.indices {
            switch index % 6 {
            case 1: rows[index] *= 0x1p-60
            case 2: rows[index] = index % 12 == 2 ? .leastNonzeroMagnitude : -.leastNormalMagnitude
            case 3: rows[index] = 0
            default: break
            }
        }
        let largest = rows.map(abs).max()!
        let grid = SumGrid(largestMagnitude: largest)
        let firstLabels = (0..<rowCount).map { Int32(($0 * 7) % clusterCount) }
        // Every third row changes cluster.
        let secondLabels = firstLabels.enumerated().map { $0 % 3 == 0 ? ($1 + 2) % Int32(clusterCount) : $1 }
        var words = [Int64](repeating: 0, count: clusterCount * 3 * dimension)
        var counts = [Int](repeating: 0, count: clusterCount)
        #expect(fk_move_rows_exact(rows, stride, rowCount, dimension, nil, firstLabels, grid.scale, &words, &counts) == 0)
        #expect(fk_move_rows_exact(rows, stride, rowCount, dimension, firstLabels, secondLabels, grid.scale, &words, &counts) == 0)
        fk_normalize_exact(&words, dimension, clusterCount)
        // A value of 2^top is past the grid, and said to be.
        var past = [Float](repeating: 0, count: dimension)
        past[dimension - 1] = Float(sign: .plus, exponent: grid.top, significand: 1)
        var scratchWords = [Int64](repeating: 0, count: 3 * dimension)
        var scratchCount = [0]
        #expect(fk_move_rows_exact(past, dimension, 1, dimension, nil, [0], grid.scale, &scratchWords, &scratchCount) == 1)

        var expected = [Int128](repeating: 0, count: clusterCount * dimension)
        var expectedCounts = [Int](repeating: 0, count: clusterCount)
        for row in 0..<rowCount {
            let label = Int(secondLabels[row])
            expectedCounts[label] += 1
            for index in 0..<dimension {
                let onGrid = Double(rows[row * stride + index]) * grid.scale
                #expect(abs(onGrid) < 0x1p92)
                expected[label * dimension + index] += Int128(onGrid)
            }
        }
        #expect(counts == expectedCounts)
        for cluster in 0..<clusterCount {
            for index in 0..<dimension {
                let low = words[cluster * 3 * dimension + index]
                let middle = words[(cluster * 3 + 1) * dimension + index]
                let high = words[(cluster * 3 + 2) * dimension + index]
                #expect((0..<(1 << 31)).contains(low) && (0..<(1 << 31)).contains(middle))
                #expect(Int128(high) << 62 + Int128(middle) << 31 + Int128(low) == expected[cluster * dimension + index],
                        "d = \(dimension), cluster \(cluster), value \(index)")
            }
        }
    }

    /// Rows with NaN stop a run, but other slices sum their rows meanwhile: a NaN among the
    /// measured values gives a grid that holds every finite float32.
    @Test func aNaNInTheDataLeavesRoomForEveryFiniteValue() {
        let grid = SumGrid(largestMagnitude: .nan)
        var words = [Int64](repeating: 0, count: 3)
        var counts = [0]
        #expect(fk_move_rows_exact([.greatestFiniteMagnitude], 1, 1, 1, nil, [0], grid.scale, &words, &counts) == 0)
        #expect(SumGrid(largestMagnitude: .infinity) == grid)
    }

    /// The inertia's total keeps what float64 rounds away, in any order.
    @Test func floatTotalsAreExactInAnyOrder() {
        let ones = [Float](repeating: 1, count: 256)
        var values = [Float(0x1p60)] + ones
        var forward = ExactFloatTotal()
        forward.add(values, count: values.count)
        #expect(forward.value == 0x1p60 + 256)
        #expect(values.reduce(0.0) { $0 + Double($1) } == 0x1p60, "float64 in order loses the ones")
        values.reverse()
        var backward = ExactFloatTotal()
        for value in values { backward.add([value], count: 1) }
        #expect(backward.value == forward.value)

        var tiny = ExactFloatTotal()
        tiny.add([.leastNonzeroMagnitude, .leastNonzeroMagnitude, 0x1p100, -0x1p100, .greatestFiniteMagnitude], count: 5)
        var split = ExactFloatTotal()
        split.add([.greatestFiniteMagnitude], count: 1)
        var rest = ExactFloatTotal()
        rest.add([0x1p-148], count: 1)
        split += rest
        #expect(tiny.value == Double(Float.greatestFiniteMagnitude) + 0x1p-148)
        #expect(split.value == tiny.value)
    }

    static let rowCount = 16 * 1024
    static let dimension = 8
    static let clusterCount = 12
    /// Multiples of 2⁻¹⁰ below 2⁶ in magnitude: their float64 sums are exact, so a float64
    /// reference is the true sum.
    static let values = Fixtures.gaussian(pointCount: rowCount, dimension: dimension, seed: 31).map { ($0 * 1024).rounded() / 1024 }

    static func centroids(seed: UInt64) -> [Float] {
        Fixtures.rows(Fixtures.distinctRows(clusterCount, of: rowCount, seed: seed), of: values, dimension: dimension)
    }

    static func pass(threads: Int) -> AssignmentPass<DenseStep> {
        let plan = TilePlan(
            pointCount: rowCount, clusterCount: clusterCount, dimension: dimension, pointTile: 100, centroidTile: nil,
            threadCount: threads)
        return AssignmentPass(
            source: ArraySource(values, dimension: dimension), step: DenseStep(), clusterCount: clusterCount, plan: plan,
            grid: SumGrid(largestMagnitude: values.map(abs).max()!))
    }

    static func sums(of pass: AssignmentPass<DenseStep>) throws -> (sums: [Double], counts: [Int]) {
        var sums = [Double](repeating: .nan, count: clusterCount * dimension)
        var counts = [Int](repeating: -1, count: clusterCount)
        try pass.combineSums(into: &sums, counts: &counts)
        return (sums, counts)
    }

    static func run(_ pass: AssignmentPass<DenseStep>, _ centroids: [Float], accumulate: Bool = true) throws {
        _ = try centroids.withUnsafeBufferPointer { try pass.run(centroids: $0.baseAddress!, accumulateSums: accumulate, pruning: false) }
    }

    /// Sums moved row by row over passes equal the true sums of the latest labels, for any
    /// thread count; a pass without sums in between (the last assignment, a resumed run's
    /// first) makes the next one sum every row again. The pass holds one set of sums.
    @Test(arguments: [1, 2, 3, 8])
    func movedSumsAreTheSumsOfTheLatestLabels(threads: Int) throws {
        let pass = Self.pass(threads: threads)
        try Self.run(pass, Self.centroids(seed: 3))
        let firstLabels = Array(pass.labels)
        try Self.run(pass, Self.centroids(seed: 4))
        #expect(Array(pass.labels) != firstLabels, "rows changed cluster")
        let moved = try Self.sums(of: pass)
        try Self.run(pass, Self.centroids(seed: 5), accumulate: false)
        try Self.run(pass, Self.centroids(seed: 4))
        let again = try Self.sums(of: pass)

        var expected = [Double](repeating: 0, count: Self.clusterCount * Self.dimension)
        var expectedCounts = [Int](repeating: 0, count: Self.clusterCount)
        for row in 0..<Self.rowCount {
            let label = Int(pass.labels[row])
            expectedCounts[label] += 1
            for index in 0..<Self.dimension { expected[label * Self.dimension + index] += Double(Self.values[row * Self.dimension + index]) }
        }
        #expect(moved.counts == expectedCounts)
        #expect(moved.sums.map(\.bitPattern) == expected.map(\.bitPattern))
        #expect(again.counts == expectedCounts)
        #expect(again.sums.map(\.bitPattern) == expected.map(\.bitPattern))
        let sumsBytes = Self.clusterCount * (Self.dimension * 24 + 8)
        #expect(pass.workingBytes - pass.pointCount * 8 - pass.plan.threadCount * pass.plan.scratchBytes(dimension: Self.dimension)
                    - Self.clusterCount * 4 == sumsBytes)
    }

    /// Large values that cancel and small ones, where float64 sums depend on the order (in
    /// this order they keep the small ones; reversed, the small ones are rounded away next to
    /// 4,000 × 2³¹): centroids are the same however the rows are ordered and split, and are
    /// the true means.
    @Test func centroidsOfCancellingRowsAreTheTrueMeans() throws {
        let values = [Float](repeating: 0x1p31, count: 4000) + [Float](repeating: -0x1p31, count: 4000)
            + [Float](repeating: 0x1p-24, count: 8000)
        #expect(values.reduce(0.0) { $0 + Double($1) } == 8000 * 0x1p-24)
        #expect(values.reversed().reduce(0.0) { $0 + Double($1) } != 8000 * 0x1p-24)
        var configuration = configuration(k: 1, initial: [0], maxIterations: 1, threads: 1, pointTile: 7)
        let one = try KMeans.fit(ArraySource(values, dimension: 1), configuration: configuration)
        configuration.threadCount = 3
        configuration.pointTile = 256
        let other = try KMeans.fit(ArraySource(values.reversed(), dimension: 1), configuration: configuration)
        #expect(one.centroids == [0x1p-25])
        #expect(other.centroids == one.centroids)
        #expect(one.inertia == other.inertia)
    }

    /// Past 2^33 training rows a sum's top word could overflow: such a run is refused before any
    /// work, unless it trains on a sample.
    @Test func moreRowsThanTheSumsHoldAreRefused() throws {
        let limit = KMeans.Configuration.maximumTrainingRows
        var configuration = KMeans.Configuration(clusterCount: 8)
        try configuration.validate(pointCount: limit, dimension: 4)
        #expect(throws: KMeansError.tooManyRows(pointCount: limit + 1, limit: limit)) {
            try configuration.validate(pointCount: limit + 1, dimension: 4)
        }
        configuration.maxPointsPerCentroid = 1000
        try configuration.validate(pointCount: limit + 1, dimension: 4)
    }
}

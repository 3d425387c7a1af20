import Testing
@testable import FlashKMeans
import _FlashKMeansTestSupport

/// The prefix screen ranks centroids by the first p coordinates after a rotation to the
/// centroids' principal axes, and bounds the rest by their norms. Its bounds must hold for
/// every row, the ones far outside those axes included, so labels stay the float64 nearest.
@Suite struct PrefixScreeningTests {
    static let dimension = 64

    /// Rows near an 8-dimensional subspace of 64 (as real embeddings concentrate their
    /// energy), plus rows the subspace misses: orthogonal to it, zero, repeated, and far out.
    static let points: [Float] = {
        var generator = SeededGenerator(seed: 41)
        let directions = Fixtures.gaussian(pointCount: 8, dimension: dimension, seed: 42)
        var points: [Float] = []
        for row in 0..<3000 {
            var values = [Float](repeating: 0, count: dimension)
            for direction in 0..<8 {
                let weight = Float(Fixtures.normal(&generator)) * Float(8 - direction)
                for index in 0..<dimension { values[index] += weight * directions[direction * dimension + index] }
            }
            for index in 0..<dimension { values[index] += Float(Fixtures.normal(&generator)) * 0.05 }
            switch row % 50 {
            case 0: values = values.map { $0 * 40 }
            case 1: values = [Float](repeating: 0, count: dimension)
            case 2: values = Array(points[0..<dimension])
            case 3:
                // Only the last coordinates: mostly outside the principal axes.
                values = (0..<dimension).map { $0 >= 48 ? Float(Fixtures.normal(&generator)) * 6 : 0 }
            default: break
            }
            points += values
        }
        return points
    }()

    func run(
        _ points: [Float], k: Int, algorithm: Algorithm, screening: Screening, threads: Int = 2
    ) throws -> (KMeansResult, [RecordedIteration]) {
        let source = ArraySource(points, dimension: Self.dimension)
        var configuration = configuration(k: k, maxIterations: 10, threads: threads, pointTile: 96, screening: screening)
        configuration.initialization = .kMeansPlusPlus
        configuration.seed = 7
        configuration.algorithm = algorithm
        // Late enough that several dense passes follow the first.
        configuration.pruningStartFraction = 0.02
        return try fitRecording(source, configuration)
    }

    /// Every iteration's labels are the float64 reference's for the centroids it used, and the
    /// run is the same bytes as without screening, for every algorithm and thread count.
    @Test(arguments: [Algorithm.lloyd, .yinyang, .hamerly])
    func prefixScreenedRunsAreExact(algorithm: Algorithm) throws {
        let (screened, iterations) = try run(Self.points, k: 40, algorithm: algorithm, screening: .on)
        let (plain, _) = try run(Self.points, k: 40, algorithm: algorithm, screening: .off)
        let (oneThread, _) = try run(Self.points, k: 40, algorithm: algorithm, screening: .on, threads: 1)
        #expect(screened.labels == plain.labels)
        #expect(screened.centroids == plain.centroids)
        #expect(oneThread.centroids == screened.centroids && oneThread.labels == screened.labels)
        for iteration in iterations {
            let exact = ReferenceLloyd.assign(
                points: Self.points, dimension: Self.dimension, centroids: iteration.centroids.map(Double.init), previous: nil)
            #expect(iteration.labels == exact.labels, "iteration \(iteration.stats.iteration)")
        }
        // The first pass has no labels to start from; every dense pass after it screens by prefix.
        #expect(iterations[0].stats.prefixScreenedRows == 0)
        let later = iterations.dropFirst().filter { !$0.stats.pruning }
        #expect(!later.isEmpty)
        for iteration in later { #expect(iteration.stats.prefixScreenedRows == Self.points.count / Self.dimension) }
    }

    /// Rows whose energy lies past the prefix get bounds too loose to narrow them to the 64
    /// candidates a list holds: they go to the full screen (counted as screened twice) and
    /// are still exact.
    @Test func rowsOutsideThePrincipalAxesTakeTheFullScreen() throws {
        let dimension = Self.dimension
        var generator = SeededGenerator(seed: 9)
        // 80 centroids of about equal norm near an 8-dimensional subspace, each a little off
        // it (more than a list holds), and rows far outside it: for those, the products past
        // the prefix outweigh every difference between the centroids.
        let directions = Fixtures.gaussian(pointCount: 8, dimension: dimension, seed: 42)
        var centroids: [Float] = []
        for _ in 0..<80 {
            let weights = (0..<8).map { _ in Float(Fixtures.normal(&generator)) }
            var row = (0..<dimension).map { index in (0..<8).reduce(Float(0)) { $0 + weights[$1] * directions[$1 * dimension + index] } }
            let norm = row.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
            row = row.map { $0 * 10 / norm + Float(Fixtures.normal(&generator)) * 0.3 }
            centroids += row
        }
        var points = Self.points
        for _ in 0..<300 { points += (0..<dimension).map { _ in Float(Fixtures.normal(&generator)) * 5 } }
        let source = ArraySource(points, dimension: dimension)
        var plan = TilePlan(
            pointCount: points.count / dimension, clusterCount: 80, dimension: dimension, pointTile: 128, centroidTile: 48,
            threadCount: 2)
        plan.integerScreening = true
        plan.screeningGivesUp = false
        let pass = AssignmentPass(source: source, step: DenseStep(), clusterCount: 80, plan: plan, prefixBudget: 1 << 30)
        let exact = ReferenceLloyd.assign(points: points, dimension: dimension, centroids: centroids.map(Double.init), previous: nil)
        var outcomes: [PassOutcome] = []
        for _ in 0..<2 {
            outcomes.append(try centroids.withUnsafeBufferPointer {
                try pass.run(centroids: $0.baseAddress!, accumulateSums: false, pruning: false)
            })
            #expect(Array(pass.labels) == exact.labels)
        }
        let rows = points.count / dimension
        #expect(outcomes[0].counters.prefixScreenedRows == 0)
        #expect(outcomes[1].counters.prefixScreenedRows == rows)
        #expect(outcomes[1].counters.screenedRows > rows)
        #expect(outcomes[1].inertia == outcomes[0].inertia)
    }

    /// Yinyang's bounds built by the integer screen (8-bit lower bounds on every centroid's
    /// score, folded per group), over kept prefixes or over whole rows, bound every row's
    /// distances, the rows far outside the principal axes included: the next pruned passes
    /// keep the float64 labels, and debug builds check each bound against float64 distances there.
    @Test(arguments: [true, false]) func yinyangBoundsBuiltByTheIntegerScreenHold(keepingPrefixes: Bool) throws {
        let dimension = Self.dimension
        var generator = SeededGenerator(seed: 13)
        var points = Self.points
        for _ in 0..<300 { points += (0..<dimension).map { _ in Float(Fixtures.normal(&generator)) * 5 } }
        let rows = points.count / dimension
        let centroids = Fixtures.rows(Fixtures.distinctRows(48, of: rows, seed: 6), of: points, dimension: dimension)
        let groups = try CentroidGrouping.groups(of: centroids, dimension: dimension, groupCount: 6)
        var plan = TilePlan(
            pointCount: rows, clusterCount: 48, dimension: dimension, pointTile: 128, centroidTile: 32, threadCount: 2)
        plan.integerScreening = true
        plan.screeningGivesUp = false
        let step = GroupedStep<YinyangBounds>(groups: groups, pointCount: rows, pointTile: plan.pointTile)
        let pass = AssignmentPass(source: ArraySource(points, dimension: dimension), step: step, clusterCount: 48, plan: plan,
                                  prefixBudget: keepingPrefixes ? 1 << 30 : 0)
        let exact = ReferenceLloyd.assign(points: points, dimension: dimension, centroids: centroids.map(Double.init), previous: nil)
        // Two dense passes (the second keeps the prefixes), one that builds the bounds, two pruned.
        var outcomes: [PassOutcome] = []
        for pruning in [false, false, true, true, true] {
            outcomes.append(try centroids.withUnsafeBufferPointer {
                try pass.run(centroids: $0.baseAddress!, accumulateSums: false, pruning: pruning)
            })
            #expect(Array(pass.labels) == exact.labels)
        }
        // The building pass went through the screen, not float32 scores of every group.
        #expect(outcomes[2].counters.prefixScreenedRows == (keepingPrefixes ? rows : 0))
        #expect(outcomes[2].counters.screenedRows >= rows)
        // The centroids did not move: the bounds alone must settle most rows.
        #expect(outcomes[3].counters.examinedPoints < rows / 2)
        #if DEBUG
        #expect(outcomes[3].counters.invariantChecks > 0)
        #endif
    }

    /// The kept prefixes stay within their budget (a quarter of the memory budget in a run):
    /// a budget too small for 16 values a row means no prefix screen, and the same labels.
    /// Rows longer than ``PrincipalPrefix/longestRow`` get none either.
    @Test func aPrefixScreenStaysWithinItsLimits() throws {
        let dimension = Self.dimension
        let rowCount = Self.points.count / dimension
        let centroids = Fixtures.rows(Fixtures.distinctRows(40, of: rowCount, seed: 5), of: Self.points, dimension: dimension)
        let source = ArraySource(Self.points, dimension: dimension)
        var plan = TilePlan(pointCount: rowCount, clusterCount: 40, dimension: dimension, pointTile: 128, centroidTile: nil, threadCount: 2)
        plan.integerScreening = true
        var labels: [[Int32]] = []
        // Each kept row takes p + 21 bytes: 35 a row cannot hold a 16-value prefix, 37 can.
        for (budget, keeps) in [(rowCount * 32, false), (rowCount * 35, false), (rowCount * 37, true), (1 << 30, true)] {
            let pass = AssignmentPass(source: source, step: DenseStep(), clusterCount: 40, plan: plan, prefixBudget: budget)
            var second = PassOutcome(inertia: 0, reassigned: 0, counters: StepCounters())
            for _ in 0..<2 {
                second = try centroids.withUnsafeBufferPointer {
                    try pass.run(centroids: $0.baseAddress!, accumulateSums: false, pruning: false)
                }
            }
            #expect(second.counters.prefixScreenedRows == (keeps ? rowCount : 0), "budget \(budget / rowCount) bytes a row")
            #expect(pass.workingBytes < budget || budget < 1 << 30)
            labels.append(Array(pass.labels))
        }
        #expect(labels.allSatisfy { $0 == labels[0] })

        let long = PrincipalPrefix.longestRow + 16
        let wide = (0..<(8 * long)).map { Float($0 % long == $0 / long ? 1 : 0) }
        var norms = [Float](repeating: 0, count: 8)
        computeCentroidSquaredNorms(wide, count: 8, dimension: long, into: &norms)
        let found = wide.withUnsafeBufferPointer { values in
            norms.withUnsafeBufferPointer { squared in
                PrincipalPrefix.fromCentroids(
                    CentroidTable(values: values.baseAddress!, squaredNorms: squared.baseAddress!, count: 8, dimension: long),
                    longest: long / 2)
            }
        }
        #expect(found == nil)
    }

    /// Where the centroids' energy is spread evenly (isotropic Gaussian data, more centroids
    /// than half the dimensions), no short prefix holds enough of it and runs keep the full screen.
    @Test func evenlySpreadDataKeepsTheFullScreen() throws {
        let points = Fixtures.gaussian(pointCount: 2000, dimension: Self.dimension, seed: 3)
        let (_, iterations) = try run(points, k: 60, algorithm: .lloyd, screening: .on)
        #expect(iterations.count > 2)
        #expect(iterations.allSatisfy { $0.stats.prefixScreenedRows == 0 && $0.stats.screenedRows == 2000 })
    }

    /// The axes are orthonormal to within the bound the screen relies on, and the kept
    /// prefixes' error and residual bounds hold for every row, checked in float64.
    @Test func prefixBoundsHoldForEveryRow() throws {
        let dimension = Self.dimension
        let rowCount = Self.points.count / dimension
        let centroids = Fixtures.rows(Fixtures.distinctRows(40, of: rowCount, seed: 5), of: Self.points, dimension: dimension)
        var norms = [Float](repeating: 0, count: 40)
        computeCentroidSquaredNorms(centroids, count: 40, dimension: dimension, into: &norms)
        let prefix = try centroids.withUnsafeBufferPointer { values in
            try norms.withUnsafeBufferPointer { squared in
                try #require(PrincipalPrefix.fromCentroids(
                    CentroidTable(values: values.baseAddress!, squaredNorms: squared.baseAddress!, count: 40, dimension: dimension),
                    longest: dimension / 2))
            }
        }
        #expect(prefix.length % 16 == 0 && prefix.length <= dimension / 2)
        #expect(prefix.rotationError > 0 && prefix.rotationError < 1e-4)
        let axes = (0..<(prefix.length * dimension)).map { Double(prefix.axes[$0]) }
        for first in 0..<prefix.length {
            for second in 0..<prefix.length {
                let product = (0..<dimension).reduce(0.0) { $0 + axes[first * dimension + $1] * axes[second * dimension + $1] }
                #expect(abs(product - (first == second ? 1 : 0)) <= prefix.rotationError)
            }
        }

        var plan = TilePlan(pointCount: rowCount, clusterCount: 40, dimension: dimension, pointTile: 256, centroidTile: nil, threadCount: 1)
        plan.integerScreening = true
        let scratch = KernelScratch(plan: plan, dimension: dimension)
        let screening = try #require(scratch.screening)
        let cache = PrefixRows(prefix: prefix, rowCount: rowCount)
        try Self.points.withUnsafeBufferPointer { buffer in
            for first in stride(from: 0, to: rowCount, by: 256) {
                let count = min(256, rowCount - first)
                let tile = RowTile(
                    base: buffer.baseAddress! + first * dimension, rowStride: dimension, rowCount: count, dimension: dimension,
                    firstRow: first)
                try checkedSquaredNorms(of: tile, into: scratch.pointSquaredNorms, path: "rows")
                cache.fill(tile, pointSquaredNorms: scratch.pointSquaredNorms, scratch: screening)
            }
        }
        for row in 0..<rowCount {
            let x = (0..<dimension).map { Double(Self.points[row * dimension + $0]) }
            var projected = 0.0
            var error = 0.0
            for axis in 0..<prefix.length {
                let coordinate = (0..<dimension).reduce(0.0) { $0 + axes[axis * dimension + $1] * x[$1] }
                projected += coordinate * coordinate
                let quantized = Double(cache.scales[row]) * Double(cache.values[row * prefix.length + axis])
                error += (quantized - coordinate) * (quantized - coordinate)
            }
            let squaredNorm = x.reduce(0.0) { $0 + $1 * $1 }
            // Against the float32 axes in float64, which are within η of orthonormal ones Q̂:
            // ‖Qx‖ and ‖Q̂x‖ differ by at most η‖x‖, so the squared residuals by 3η‖x‖².
            let norm = squaredNorm.squareRoot()
            #expect(error.squareRoot() <= Double(cache.errors[row]) + prefix.rotationError * norm + 1e-12, "row \(row)")
            #expect(
                max(0, squaredNorm - projected).squareRoot()
                    <= Double(cache.residuals[row]) + (3 * prefix.rotationError).squareRoot() * norm + 1e-12, "row \(row)")
        }
        // Later passes take each row's ‖x‖² from the cache: the same floats the rows give.
        let keptStorage = ScratchStorage()
        let kept = keptStorage.vector(256, of: Float.self)
        try Self.points.withUnsafeBufferPointer { buffer in
            for first in stride(from: 0, to: rowCount, by: 256) {
                let tile = RowTile(
                    base: buffer.baseAddress! + first * dimension, rowStride: dimension, rowCount: min(256, rowCount - first),
                    dimension: dimension, firstRow: first)
                #expect(cache.copySquaredNorms(of: tile, into: kept))
                try checkedSquaredNorms(of: tile, into: scratch.pointSquaredNorms, path: "rows")
                for row in 0..<tile.rowCount { #expect(kept[row] == scratch.pointSquaredNorms[row], "row \(first + row)") }
            }
        }
        let unkept = PrefixRows(prefix: prefix, rowCount: rowCount)
        try Self.points.withUnsafeBufferPointer { buffer in
            let tile = RowTile(base: buffer.baseAddress!, rowStride: dimension, rowCount: 16, dimension: dimension, firstRow: 0)
            #expect(!unkept.copySquaredNorms(of: tile, into: kept))
        }
    }
}

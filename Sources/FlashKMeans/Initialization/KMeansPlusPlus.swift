import CKMeansKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Greedy k-means++ seeding (Arthur and Vassilvitskii 2007, with the greedy local
/// trials scikit-learn uses): each new centroid is the best of a few candidates drawn with
/// probability proportional to D², the squared distance to the nearest centroid chosen so
/// far.
///
/// Every step compares the whole sample with its candidates, so it is the cost of the
/// start: it reads the sample once per centroid. The sample is therefore centred and
/// quantized to 8 bits once (a quarter of the bytes to read), and each step's distances
/// come from exact integer products (``fk_int8_products``, AVX-512 VNNI where present):
/// `D² ≈ ‖x‖² + ‖c‖² − 2 x̃·c̃` for the centred rows. Seeding needs no exact distances, only
/// the same ones every run: integer sums are exact and the rest is evaluated row by row in
/// a fixed order, so the start depends on the seed alone, never on threads or tiles.
/// Centring first keeps the quantization error relative to the spread of the data, not to
/// its offset (rows near (1000, …, 1000) would otherwise lose every difference).
///
/// `2 + ⌊ln k⌋` candidates per step, as scikit-learn: fewer cost quality where k is close to
/// the number of natural clusters (three made the final inertia 3% worse on 100 Gaussian
/// blobs with k = 100).
struct KMeansPlusPlus: @unchecked Sendable {
    /// `m × d` sample rows, row-major (in).
    let rows: UnsafePointer<Float>
    let rowCount: Int
    let dimension: Int
    let threadCount: Int

    /// Rows per tile of work and of partial sums: 32 blocks of the quantized layout.
    static let tileRows = 512

    private var tileRows: Int { Self.tileRows }

    /// Picks `clusterCount` rows of the sample.
    /// - Returns: Indices into the sample, in the order chosen.
    /// - Complexity: O(k · trials · m · d) integer products.
    func chooseRows(clusterCount: Int, generator: inout SeededGenerator) throws -> [Int] {
        let trials = 2 + Int(log(Double(clusterCount)))
        let tileCount = (rowCount + tileRows - 1) / tileRows
        let distances = CandidateDistances(seeding: self, maximumCandidates: trials)
        let engine = TileEngine(
            operation: distances,
            schedule: TileSchedule(
                rowCount: rowCount, tileRows: tileRows, sliceCount: min(TilePlan.maximumSliceCount, tileCount), slicesAlignedToTiles: true),
            threadCount: threadCount, source: nil)
        // D² of each row to its nearest chosen centroid, and its per-tile sums for sampling.
        let closest = distances.closest
        var tileSums = [Double](repeating: 0, count: tileCount)

        var chosen = [generator.nextIndex(below: rowCount)]
        chosen.reserveCapacity(clusterCount)
        distances.prepare(candidates: chosen, againstClosest: false)
        try engine.run()
        for row in 0..<rowCount { closest[row] = distances.distances[distances.index(row: row, slot: 0)] }
        // A chosen row is a centroid: quantization must not leave it a chance of being drawn again.
        closest[chosen[0]] = 0
        refreshTileSums(closest, into: &tileSums)

        while chosen.count < clusterCount {
            let potential = tileSums.reduce(0, +)
            var candidates: [Int] = []
            for _ in 0..<trials {
                candidates.append(sampleIndex(target: generator.nextUnitDouble() * potential, closest: closest, tileSums: tileSums, chosen: chosen))
            }
            distances.prepare(candidates: candidates, againstClosest: true)
            try engine.run()
            // Greedy step: keep the candidate whose addition leaves the smallest potential.
            var best = 0
            var bestPotential = Double.infinity
            for trial in 0..<candidates.count {
                var total = 0.0
                for tile in 0..<tileCount { total += distances.partialPotentials[tile * trials + trial] }
                if total < bestPotential {
                    bestPotential = total
                    best = trial
                }
            }
            chosen.append(candidates[best])
            for row in 0..<rowCount {
                closest[row] = min(closest[row], distances.distances[distances.index(row: row, slot: best)])
            }
            closest[candidates[best]] = 0
            refreshTileSums(closest, into: &tileSums)
        }
        return chosen
    }

    private func refreshTileSums(_ closest: UnsafeMutableBufferPointer<Float>, into tileSums: inout [Double]) {
        for tile in 0..<tileSums.count {
            var total = 0.0
            for row in (tile * tileRows)..<min((tile + 1) * tileRows, rowCount) { total += Double(closest[row]) }
            tileSums[tile] = total
        }
    }

    /// The first row whose running D² total exceeds `target`, found tile by tile.
    /// When every row has D² = 0 (all rows already coincide with a centroid), it
    /// falls back to the lowest row not chosen yet.
    private func sampleIndex(target: Double, closest: UnsafeMutableBufferPointer<Float>, tileSums: [Double], chosen: [Int]) -> Int {
        var running = 0.0
        var lastPositive: Int?
        for tile in 0..<tileSums.count {
            if tileSums[tile] > 0, running + tileSums[tile] <= target {
                running += tileSums[tile]
                let tileRange = (tile * tileRows)..<min((tile + 1) * tileRows, rowCount)
                lastPositive = tileRange.last { closest[$0] > 0 }
                continue
            }
            for row in (tile * tileRows)..<min((tile + 1) * tileRows, rowCount) where closest[row] > 0 {
                running += Double(closest[row])
                lastPositive = row
                if running > target { return row }
            }
        }
        if let lastPositive { return lastPositive }
        let taken = Set(chosen)
        return (0..<rowCount).first { !taken.contains($0) } ?? 0
    }
}

/// One k-means++ step's distance work, as a ``TileOperation`` over the quantized sample:
/// D² from every sample row to each candidate, and per 512-row tile the sums of
/// `min(closest, D²)` that the greedy choice compares.
final class CandidateDistances: TileOperation {
    struct ThreadScratch {
        /// `maximumCandidates × tileRows` integer products of one tile.
        let products: ScratchMatrix<Int32>
        /// Per candidate, the running potential of the current tile.
        let sums: ScratchVector<Double>
        let storage: ScratchStorage
    }

    let seeding: KMeansPlusPlus
    let maximumCandidates: Int
    let groups: Int
    /// The centred sample quantized in blocks of 16 rows (`fk_quantize_points`'s layout).
    private let packed: UnsafeMutablePointer<UInt8>
    private let rowScales: UnsafeMutablePointer<Float>
    private let rowErrors: UnsafeMutablePointer<Float>
    private let rowNorms: UnsafeMutablePointer<Float>
    /// `m` squared norms of the centred sample rows.
    let norms: UnsafeMutablePointer<Float>
    /// The sample's mean, subtracted from every row before quantizing.
    private let mean: UnsafeMutablePointer<Float>
    /// `maximumCandidates × m`: D² of each row to each candidate (out, see ``index(row:slot:)``).
    let distances: UnsafeMutableBufferPointer<Float>
    /// `tiles × maximumCandidates`: the potential each tile would have with each candidate added (out).
    let partialPotentials: UnsafeMutableBufferPointer<Double>
    /// `m`: D² of each row to its nearest chosen centroid, kept by the seeding between steps
    /// (in during a run).
    let closest: UnsafeMutableBufferPointer<Float>
    /// This step's candidates, quantized.
    private let candidates: QuantizedCentroids
    private let candidateRows: UnsafeMutablePointer<Float>
    private var candidateCount = 0
    /// Whether this run sums `min(closest, D²)` (every step but the first).
    private var againstClosest = false

    init(seeding: KMeansPlusPlus, maximumCandidates: Int) {
        self.seeding = seeding
        self.maximumCandidates = maximumCandidates
        let rowCount = seeding.rowCount
        let dimension = seeding.dimension
        groups = (dimension + 3) / 4
        let blocks = (rowCount + 15) / 16
        packed = .allocate(capacity: max(1, blocks * groups * 64))
        rowScales = .allocate(capacity: max(1, rowCount))
        rowErrors = .allocate(capacity: max(1, rowCount))
        rowNorms = .allocate(capacity: max(1, rowCount))
        norms = .allocate(capacity: max(1, rowCount))
        mean = .allocate(capacity: dimension)
        var total = [Double](repeating: 0, count: dimension)
        for row in 0..<rowCount {
            for index in 0..<dimension { total[index] += Double(seeding.rows[row * dimension + index]) }
        }
        for index in 0..<dimension { mean[index] = Float(total[index] / Double(max(1, rowCount))) }
        // Centre and quantize one tile at a time, through a tile-sized buffer.
        let centred = UnsafeMutablePointer<Float>.allocate(capacity: KMeansPlusPlus.tileRows * dimension)
        defer { centred.deallocate() }
        var first = 0
        while first < rowCount {
            let count = min(KMeansPlusPlus.tileRows, rowCount - first)
            for row in 0..<count {
                var squared = 0.0
                for index in 0..<dimension {
                    let value = seeding.rows[(first + row) * dimension + index] - mean[index]
                    centred[row * dimension + index] = value
                    squared += Double(value) * Double(value)
                }
                norms[first + row] = Float(squared)
            }
            fk_quantize_points(
                centred, dimension, count, dimension, groups, packed + first / 16 * groups * 64, rowScales + first, rowErrors + first,
                rowNorms + first)
            first += count
        }
        distances = .allocate(capacity: max(1, rowCount * maximumCandidates))
        distances.initialize(repeating: 0)
        let tileCount = (rowCount + KMeansPlusPlus.tileRows - 1) / KMeansPlusPlus.tileRows
        partialPotentials = .allocate(capacity: max(1, tileCount * maximumCandidates))
        partialPotentials.initialize(repeating: 0)
        closest = .allocate(capacity: max(1, rowCount))
        closest.initialize(repeating: 0)
        candidates = QuantizedCentroids(clusterCount: maximumCandidates, dimension: dimension)
        candidateRows = .allocate(capacity: maximumCandidates * dimension)
    }

    deinit {
        for pointer in [UnsafeMutableRawPointer(packed), UnsafeMutableRawPointer(rowScales), UnsafeMutableRawPointer(rowErrors),
                        UnsafeMutableRawPointer(rowNorms), UnsafeMutableRawPointer(norms), UnsafeMutableRawPointer(mean),
                        UnsafeMutableRawPointer(candidateRows)] {
            pointer.deallocate()
        }
        distances.deallocate()
        partialPotentials.deallocate()
        closest.deallocate()
    }

    /// Where the distance of `row` to candidate `slot` sits: candidate-major, `slot × m + row`.
    func index(row: Int, slot: Int) -> Int {
        slot * seeding.rowCount + row
    }

    /// Sets up the next run: `candidates` are sample rows; `againstClosest` is false for the
    /// first centroid, when ``closest`` holds nothing yet.
    func prepare(candidates chosen: [Int], againstClosest: Bool) {
        precondition(chosen.count <= maximumCandidates)
        candidateCount = chosen.count
        let dimension = seeding.dimension
        for (slot, row) in chosen.enumerated() {
            for index in 0..<dimension {
                candidateRows[slot * dimension + index] = seeding.rows[row * dimension + index] - mean[index]
            }
        }
        fk_quantize_centroids(
            candidateRows, candidateCount, dimension, groups, candidates.values, candidates.scales, candidates.errors,
            candidates.norms, candidates.sums)
        for (slot, row) in chosen.enumerated() { candidates.squaredNorms[slot] = norms[row] }
        self.againstClosest = againstClosest
    }

    func makeThreadScratch() -> ThreadScratch {
        let storage = ScratchStorage()
        return ThreadScratch(
            products: storage.matrix(rows: maximumCandidates, columns: KMeansPlusPlus.tileRows, of: Int32.self),
            sums: storage.vector(maximumCandidates, of: Double.self), storage: storage)
    }

    func process(_ rows: Range<Int>, slice: Int, scratch: ThreadScratch, reader: TileReader) throws {
        let count = candidateCount
        let sums = scratch.sums
        // Tiles start on multiples of 512 rows, so on whole 16-row blocks.
        fk_int8_products(
            packed + rows.lowerBound / 16 * groups * 64, (rows.count + 15) / 16, groups, candidates.values, count,
            scratch.products.base, scratch.products.columnCount)
        fk_candidate_distances(
            scratch.products.base, scratch.products.columnCount, count, rows.count, rowScales + rows.lowerBound,
            norms + rows.lowerBound, candidates.sums, candidates.scales, candidates.squaredNorms,
            againstClosest ? UnsafePointer(closest.baseAddress! + rows.lowerBound) : nil,
            distances.baseAddress! + index(row: rows.lowerBound, slot: 0), seeding.rowCount, sums.base)
        if againstClosest {
            let tile = rows.lowerBound / KMeansPlusPlus.tileRows
            for slot in 0..<count { partialPotentials[tile * maximumCandidates + slot] = sums[slot] }
        }
    }
}

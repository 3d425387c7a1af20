import CKMeansKernels
import Foundation

/// Greedy k-means++ seeding (Arthur and Vassilvitskii 2007, with the greedy local
/// trials scikit-learn uses): each new centroid is the best of `2 + ⌊ln k⌋`
/// candidates drawn with probability proportional to D², the squared distance to
/// the nearest centroid chosen so far.
///
/// Every step compares the whole sample with a handful of candidates, so the sample is
/// rearranged, for the duration, into blocks of 16 rows stored dimension by dimension:
/// one 16-lane multiply then serves 16 rows, with no horizontal sums and no repacking
/// (through `sgemm`, OpenBLAS copied the whole sample on every step). Tiles of 512 rows
/// go through the ``TileEngine`` and their partial sums are combined in tile order, so
/// the choice is the same for any thread count and any point tile size.
struct KMeansPlusPlus: @unchecked Sendable {
    /// `m × d` sample rows, contiguous, with room for ``paddedRowCount(_:)`` rows whose
    /// padding is zero (inout: rearranged while seeding, restored before returning).
    let rows: UnsafeMutablePointer<Float>
    let rowCount: Int
    let dimension: Int
    let threadCount: Int

    /// Rows per block: one AVX-512 register of float32.
    static let blockRows = 16
    /// Rows per tile of work and of partial sums: 32 blocks, 256 KiB at d = 128.
    static let tileRows = 512

    /// Rows the sample buffer must have room for.
    static func paddedRowCount(_ rowCount: Int) -> Int {
        (rowCount + blockRows - 1) / blockRows * blockRows
    }

    private var tileRows: Int { Self.tileRows }

    /// Picks `clusterCount` rows of the sample.
    /// - Returns: Indices into the sample, in the order chosen.
    /// - Complexity: O(k · (2 + ln k) · m · d).
    func chooseRows(clusterCount: Int, generator: inout SeededGenerator) throws -> [Int] {
        let trials = 2 + Int(log(Double(clusterCount)))
        let tileCount = (rowCount + tileRows - 1) / tileRows
        // Norms first, while the sample is still row-major.
        let distances = CandidateDistances(seeding: self, maximumCandidates: trials)
        rearrange(intoBlocks: true)
        defer { rearrange(intoBlocks: false) }
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

    /// Switches the sample between row-major and blocks of 16 rows stored dimension by
    /// dimension (row `r`, dimension `j` at `(r / 16) × 16 d + 16 j + r % 16`).
    private func rearrange(intoBlocks: Bool) {
        let blockSize = Self.blockRows * dimension
        let copy = UnsafeMutablePointer<Float>.allocate(capacity: blockSize)
        defer { copy.deallocate() }
        for block in 0..<(Self.paddedRowCount(rowCount) / Self.blockRows) {
            let base = rows + block * blockSize
            copy.update(from: base, count: blockSize)
            for lane in 0..<Self.blockRows {
                for index in 0..<dimension {
                    if intoBlocks {
                        base[index * Self.blockRows + lane] = copy[lane * dimension + index]
                    } else {
                        base[lane * dimension + index] = copy[index * Self.blockRows + lane]
                    }
                }
            }
        }
    }

    /// Value `index` of sample row `row` while the sample is in blocks.
    func blockedValue(row: Int, index: Int) -> Float {
        rows[(row / Self.blockRows) * Self.blockRows * dimension + index * Self.blockRows + row % Self.blockRows]
    }

    /// The first value of block `block` (16 rows, stored dimension by dimension).
    func block(_ block: Int) -> UnsafePointer<Float> {
        UnsafePointer(rows + block * Self.blockRows * dimension)
    }
}

/// One k-means++ step's distance work, as a ``TileOperation`` over the blocked sample:
/// D² from every sample row to each candidate, and per 512-row tile the sums of
/// `min(closest, D²)` that the greedy choice compares.
final class CandidateDistances: TileOperation {
    struct ThreadScratch {
        /// `16 × maximumCandidates` dot products of one block.
        let dots: ScratchVector<Float>
        /// Per candidate, the running potential of the current tile.
        let sums: ScratchVector<Double>
        let storage: ScratchStorage
    }

    let seeding: KMeansPlusPlus
    let maximumCandidates: Int
    /// `m` squared norms of the sample rows.
    let norms: UnsafeMutableBufferPointer<Float>
    /// `m × candidateCount`, row-major: D² of each row to each candidate (out, see ``index(row:slot:)``).
    let distances: UnsafeMutableBufferPointer<Float>
    /// `tiles × maximumCandidates`: the potential each tile would have with each candidate added (out).
    let partialPotentials: UnsafeMutableBufferPointer<Double>
    /// This step's candidates, `candidateCount × d` (copied out of the blocks), and their norms.
    private let candidateRows: UnsafeMutablePointer<Float>
    private let candidateNorms: UnsafeMutablePointer<Float>
    private var candidateCount = 0
    /// `m`: D² of each row to its nearest chosen centroid, kept by the seeding between steps
    /// (in during a run).
    let closest: UnsafeMutableBufferPointer<Float>
    /// Whether this run sums `min(closest, D²)` (every step but the first).
    private var againstClosest = false

    /// Call while the sample is row-major: the norms are computed here.
    init(seeding: KMeansPlusPlus, maximumCandidates: Int) {
        self.seeding = seeding
        self.maximumCandidates = maximumCandidates
        let rowCount = seeding.rowCount
        norms = .allocate(capacity: rowCount)
        for row in 0..<rowCount { norms[row] = squaredNorm(seeding.rows + row * seeding.dimension, dimension: seeding.dimension) }
        distances = .allocate(capacity: rowCount * maximumCandidates)
        distances.initialize(repeating: 0)
        closest = .allocate(capacity: rowCount)
        closest.initialize(repeating: 0)
        let tileCount = (rowCount + KMeansPlusPlus.tileRows - 1) / KMeansPlusPlus.tileRows
        partialPotentials = .allocate(capacity: tileCount * maximumCandidates)
        partialPotentials.initialize(repeating: 0)
        candidateRows = .allocate(capacity: maximumCandidates * seeding.dimension)
        candidateNorms = .allocate(capacity: maximumCandidates)
    }

    deinit {
        norms.deallocate()
        distances.deallocate()
        closest.deallocate()
        partialPotentials.deallocate()
        candidateRows.deallocate()
        candidateNorms.deallocate()
    }

    /// Where the distance of `row` to candidate `slot` sits: row-major, `m × candidateCount`.
    func index(row: Int, slot: Int) -> Int {
        row * candidateCount + slot
    }

    /// Sets up the next run: `candidates` are sample rows; `againstClosest` is false for the
    /// first centroid, when ``closest`` holds nothing yet.
    func prepare(candidates: [Int], againstClosest: Bool) {
        precondition(candidates.count <= maximumCandidates)
        candidateCount = candidates.count
        let dimension = seeding.dimension
        for (slot, row) in candidates.enumerated() {
            for index in 0..<dimension { candidateRows[slot * dimension + index] = seeding.blockedValue(row: row, index: index) }
            candidateNorms[slot] = norms[row]
        }
        self.againstClosest = againstClosest
    }

    func makeThreadScratch() -> ThreadScratch {
        let storage = ScratchStorage()
        return ThreadScratch(
            dots: storage.vector(KMeansPlusPlus.blockRows * maximumCandidates, of: Float.self),
            sums: storage.vector(maximumCandidates, of: Double.self), storage: storage)
    }

    func process(_ rows: Range<Int>, slice: Int, scratch: ThreadScratch, reader: TileReader) throws {
        let count = candidateCount
        let blockRows = KMeansPlusPlus.blockRows
        let dots = scratch.dots
        let sums = scratch.sums
        sums.fill(with: 0)
        for blockStart in stride(from: rows.lowerBound, to: rows.upperBound, by: blockRows) {
            fk_block_dot_products(
                seeding.block(blockStart / blockRows), candidateRows, count, seeding.dimension,
                dots.pointer(at: 0, length: blockRows * count))
            // Rows in order, so each partial sum adds them in row order.
            for row in blockStart..<min(blockStart + blockRows, rows.upperBound) {
                let lane = row - blockStart
                let output = distances.baseAddress! + index(row: row, slot: 0)
                let closestDistance = againstClosest ? closest[row] : 0
                for slot in 0..<count {
                    let cross = dots[slot * blockRows + lane]
                    let distance = max(0, norms[row] + candidateNorms[slot] - (cross + cross))
                    output[slot] = distance
                    sums[slot] += Double(min(closestDistance, distance))
                }
            }
        }
        if againstClosest {
            let tile = rows.lowerBound / KMeansPlusPlus.tileRows
            for slot in 0..<count { partialPotentials[tile * maximumCandidates + slot] = sums[slot] }
        }
    }
}

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
/// come from exact integer products (``fk_int8_products``, AVX-512 VNNI or AVX2 where present):
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
        let potentials = CandidatePotentials(seeding: self, maximumCandidates: trials)
        let engine = TileEngine(
            operation: potentials,
            schedule: TileSchedule(
                rowCount: rowCount, tileRows: tileRows, sliceCount: min(TilePlan.maximumSliceCount, tileCount), slicesAlignedToTiles: true),
            threadCount: threadCount, source: nil)
        // Each row's D² to its nearest chosen centroid, brought up to date with the centroid
        // chosen last tile by tile: in the next step's parallel pass, or first where a draw
        // lands (see ``CandidatePotentials``). `tileSums` always holds the current potentials.
        var tileSums = [Double](repeating: 0, count: tileCount)
        /// After a pass: the tiles' potentials with the centroid in `slot` added, and that
        /// centroid, sample row `row`, the one chosen last.
        func keep(_ row: Int, fromSlot slot: Int) {
            for tile in 0..<tileCount { tileSums[tile] = potentials.partialPotentials[tile * potentials.slots + slot] }
            tileSums[row / tileRows] = potentials.markChosen(row)
        }

        var chosen = [generator.nextIndex(below: rowCount)]
        chosen.reserveCapacity(clusterCount)
        potentials.choose(chosen[0])
        potentials.setCandidates([])
        try engine.run()
        keep(chosen[0], fromSlot: 0)

        while chosen.count < clusterCount {
            let potential = tileSums.reduce(0, +)
            var candidates: [Int] = []
            for _ in 0..<trials {
                candidates.append(
                    sampleIndex(target: generator.nextUnitDouble() * potential, potentials: potentials, tileSums: tileSums, chosen: chosen))
            }
            potentials.setCandidates(candidates)
            try engine.run()
            // Greedy step: keep the candidate whose addition leaves the smallest potential.
            var best = 0
            var bestPotential = Double.infinity
            for trial in 0..<candidates.count {
                var total = 0.0
                for tile in 0..<tileCount { total += potentials.partialPotentials[tile * potentials.slots + 1 + trial] }
                if total < bestPotential {
                    bestPotential = total
                    best = trial
                }
            }
            chosen.append(candidates[best])
            keep(candidates[best], fromSlot: 1 + best)
        }
        return chosen
    }

    /// The first row whose running D² total exceeds `target`, found tile by tile.
    /// When every row has D² = 0 (all rows already coincide with a centroid), it
    /// falls back to the lowest row not chosen yet.
    private func sampleIndex(target: Double, potentials: CandidatePotentials, tileSums: [Double], chosen: [Int]) -> Int {
        var running = 0.0
        var lastPositive: Int?
        let closest = potentials.closest
        for tile in 0..<tileSums.count {
            // A tile of potential 0 has no row to draw (nor to bring up to date for nothing).
            guard tileSums[tile] > 0 else { continue }
            if running + tileSums[tile] <= target {
                running += tileSums[tile]
                lastPositive = nil
                continue
            }
            potentials.bringUpToDate(tile: tile)
            for row in (tile * tileRows)..<min((tile + 1) * tileRows, rowCount) where closest[row] > 0 {
                running += Double(closest[row])
                lastPositive = row
                if running > target { return row }
            }
        }
        if let lastPositive { return lastPositive }
        // Rounding left the target past the last row counted: the last row with D² > 0.
        for tile in (0..<tileSums.count).reversed() where tileSums[tile] > 0 {
            potentials.bringUpToDate(tile: tile)
            if let row = (tile * tileRows..<min((tile + 1) * tileRows, rowCount)).last(where: { closest[$0] > 0 }) { return row }
        }
        let taken = Set(chosen)
        return (0..<rowCount).first { !taken.contains($0) } ?? 0
    }
}

/// One k-means++ step's distance work, as a ``TileOperation`` over the quantized sample:
/// D² from every sample row to each candidate, and per 512-row tile the sums of
/// `min(closest, D²)` that the greedy choice compares.
///
/// The centroid chosen last rides along as slot 0: each tile first lowers its rows' `closest`
/// to it, then compares the candidates (slots 1...) with the lowered values, so no step stores
/// the candidates' distances or walks every row on one thread. A tile a draw lands in before
/// that pass is brought up to date on the spot (``bringUpToDate(tile:)``); lowering twice
/// changes nothing.
final class CandidatePotentials: TileOperation {
    struct ThreadScratch {
        /// `slots × tileRows` integer products of one tile.
        let products: ScratchMatrix<Int32>
        /// Per slot, the potential of the current tile.
        let sums: ScratchVector<Double>
        let storage: ScratchStorage
    }

    let seeding: KMeansPlusPlus
    /// The chosen centroid and up to `maximumCandidates` candidates.
    let slots: Int
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
    /// `tiles × slots`: each tile's potential with the chosen centroid (slot 0) and with each
    /// candidate added as well (out).
    let partialPotentials: UnsafeMutableBufferPointer<Double>
    /// `m`: D² of each row to its nearest chosen centroid, +∞ before the first; a tile's rows may
    /// still wait for the centroid chosen last (see the class comment).
    let closest: UnsafeMutableBufferPointer<Float>
    /// Slot 0: the centroid chosen last; then this step's candidates, quantized.
    private let candidates: QuantizedCentroids
    private let candidateRows: UnsafeMutablePointer<Float>
    private var candidateCount = 0
    /// The calling thread's products, for tiles brought up to date between passes.
    private let serialProducts: UnsafeMutablePointer<Int32>
    private let serialSums: UnsafeMutablePointer<Double>

    init(seeding: KMeansPlusPlus, maximumCandidates: Int) {
        self.seeding = seeding
        slots = maximumCandidates + 1
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
        let tileCount = (rowCount + KMeansPlusPlus.tileRows - 1) / KMeansPlusPlus.tileRows
        partialPotentials = .allocate(capacity: max(1, tileCount * slots))
        partialPotentials.initialize(repeating: 0)
        closest = .allocate(capacity: max(1, rowCount))
        closest.initialize(repeating: .infinity)
        candidates = QuantizedCentroids(clusterCount: slots, dimension: dimension)
        candidateRows = .allocate(capacity: dimension)
        serialProducts = .allocate(capacity: KMeansPlusPlus.tileRows)
        serialSums = .allocate(capacity: 1)
    }

    deinit {
        for pointer in [UnsafeMutableRawPointer(packed), UnsafeMutableRawPointer(rowScales), UnsafeMutableRawPointer(rowErrors),
                        UnsafeMutableRawPointer(rowNorms), UnsafeMutableRawPointer(norms), UnsafeMutableRawPointer(mean),
                        UnsafeMutableRawPointer(candidateRows), UnsafeMutableRawPointer(serialProducts),
                        UnsafeMutableRawPointer(serialSums)] {
            pointer.deallocate()
        }
        partialPotentials.deallocate()
        closest.deallocate()
    }

    /// Quantizes sample row `row`, centred, into candidate slot `slot`.
    private func quantize(row: Int, into slot: Int) {
        let dimension = seeding.dimension
        for index in 0..<dimension { candidateRows[index] = seeding.rows[row * dimension + index] - mean[index] }
        fk_quantize_centroids(
            candidateRows, 1, dimension, groups, candidates.values + slot * groups * 4, candidates.scales + slot,
            candidates.errors + slot, candidates.norms + slot, candidates.sums + slot)
        candidates.squaredNorms[slot] = norms[row]
    }

    /// Makes sample row `row` the centroid chosen last (slot 0), which every tile's `closest`
    /// is lowered to in the next pass or on demand.
    func choose(_ row: Int) {
        quantize(row: row, into: 0)
    }

    /// Sets the candidates the next pass compares.
    func setCandidates(_ rows: [Int]) {
        precondition(rows.count < slots)
        candidateCount = rows.count
        for (index, row) in rows.enumerated() { quantize(row: row, into: 1 + index) }
    }

    /// Lowers the `closest` values of `tile`'s rows to the centroid chosen last, on the calling
    /// thread; returns the tile's potential.
    @discardableResult
    func bringUpToDate(tile: Int) -> Double {
        let rows = rowsOf(tile: tile)
        fk_int8_products(
            packed + rows.lowerBound / 16 * groups * 64, (rows.count + 15) / 16, groups, candidates.values, 1, serialProducts,
            rows.count)
        return lowerToChosen(rows)
    }

    /// Makes sample row `row` the centroid chosen last, which quantization must not leave a
    /// chance of being drawn again: brings its tile up to date, sets the row's D² to 0 and
    /// returns the tile's potential, summed as `fk_candidate_potentials` sums.
    func markChosen(_ row: Int) -> Double {
        choose(row)
        let tile = row / KMeansPlusPlus.tileRows
        bringUpToDate(tile: tile)
        closest[row] = 0
        // Lowering again changes nothing; the kernel sums the tile in its own order.
        return lowerToChosen(rowsOf(tile: tile))
    }

    private func rowsOf(tile: Int) -> Range<Int> {
        (tile * KMeansPlusPlus.tileRows)..<min((tile + 1) * KMeansPlusPlus.tileRows, seeding.rowCount)
    }

    /// `closest` lowered to slot 0 over `rows`, from `serialProducts`; the rows' potential.
    private func lowerToChosen(_ rows: Range<Int>) -> Double {
        fk_candidate_potentials(
            serialProducts, rows.count, 1, rows.count, rowScales + rows.lowerBound, norms + rows.lowerBound, candidates.sums,
            candidates.scales, candidates.squaredNorms, 1, closest.baseAddress! + rows.lowerBound, serialSums)
        return serialSums[0]
    }

    func makeThreadScratch() -> ThreadScratch {
        let storage = ScratchStorage()
        return ThreadScratch(
            products: storage.matrix(rows: slots, columns: KMeansPlusPlus.tileRows, of: Int32.self),
            sums: storage.vector(slots, of: Double.self), storage: storage)
    }

    func process(_ rows: Range<Int>, slice: Int, scratch: ThreadScratch, reader: TileReader) throws {
        let count = 1 + candidateCount
        let sums = scratch.sums
        // Tiles start on multiples of 512 rows, so on whole 16-row blocks.
        fk_int8_products(
            packed + rows.lowerBound / 16 * groups * 64, (rows.count + 15) / 16, groups, candidates.values, count,
            scratch.products.base, scratch.products.columnCount)
        fk_candidate_potentials(
            scratch.products.base, scratch.products.columnCount, count, rows.count, rowScales + rows.lowerBound,
            norms + rows.lowerBound, candidates.sums, candidates.scales, candidates.squaredNorms, 1,
            closest.baseAddress! + rows.lowerBound, sums.base)
        let tile = rows.lowerBound / KMeansPlusPlus.tileRows
        for slot in 0..<count { partialPotentials[tile * slots + slot] = sums[slot] }
    }
}

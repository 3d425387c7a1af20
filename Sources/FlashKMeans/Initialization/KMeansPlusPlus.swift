import CKMeansKernels
import Dispatch
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
/// are split over threads and their partial sums combined in tile order, so the choice
/// is the same for any thread count and any `--tile-points`.
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
    func chooseRows(clusterCount: Int, generator: inout SeededGenerator) -> [Int] {
        let trials = 2 + Int(log(Double(clusterCount)))
        let tileCount = (rowCount + tileRows - 1) / tileRows
        var norms = [Float](repeating: 0, count: rowCount)
        for row in 0..<rowCount { norms[row] = squaredNorm(rows + row * dimension, dimension: dimension) }
        rearrange(intoBlocks: true)
        defer { rearrange(intoBlocks: false) }
        // D² of each row to its nearest chosen centroid, and its per-tile sums for sampling.
        var closest = [Float](repeating: 0, count: rowCount)
        var tileSums = [Double](repeating: 0, count: tileCount)
        var candidateDistances = [Float](repeating: 0, count: rowCount * trials)
        var partialPotentials = [Double](repeating: 0, count: tileCount * trials)

        var chosen = [generator.nextIndex(below: rowCount)]
        chosen.reserveCapacity(clusterCount)
        squaredDistances(to: chosen, norms: norms, closest: nil, output: &candidateDistances, partials: &partialPotentials)
        for row in 0..<rowCount { closest[row] = candidateDistances[blockIndex(row: row, slot: 0, slots: 1)] }
        refreshTileSums(closest, into: &tileSums)

        while chosen.count < clusterCount {
            let potential = tileSums.reduce(0, +)
            var candidates: [Int] = []
            for _ in 0..<trials {
                candidates.append(sampleIndex(target: generator.nextUnitDouble() * potential, closest: closest, tileSums: tileSums, chosen: chosen))
            }
            squaredDistances(to: candidates, norms: norms, closest: closest, output: &candidateDistances, partials: &partialPotentials)
            // Greedy step: keep the candidate whose addition leaves the smallest potential.
            var best = 0
            var bestPotential = Double.infinity
            for trial in 0..<candidates.count {
                var total = 0.0
                for tile in 0..<tileCount { total += partialPotentials[tile * trials + trial] }
                if total < bestPotential {
                    bestPotential = total
                    best = trial
                }
            }
            chosen.append(candidates[best])
            for row in 0..<rowCount {
                closest[row] = min(closest[row], candidateDistances[blockIndex(row: row, slot: best, slots: candidates.count)])
            }
            refreshTileSums(closest, into: &tileSums)
        }
        return chosen
    }

    /// Where the distance of `row` to candidate `slot` sits: row-major, `m × slots`.
    private func blockIndex(row: Int, slot: Int, slots: Int) -> Int {
        row * slots + slot
    }

    private func refreshTileSums(_ closest: [Float], into tileSums: inout [Double]) {
        for tile in 0..<tileSums.count {
            var total = 0.0
            for row in (tile * tileRows)..<min((tile + 1) * tileRows, rowCount) { total += Double(closest[row]) }
            tileSums[tile] = total
        }
    }

    /// The first row whose running D² total exceeds `target`, found tile by tile.
    /// When every row has D² = 0 (all rows already coincide with a centroid), it
    /// falls back to the lowest row not chosen yet.
    private func sampleIndex(target: Double, closest: [Float], tileSums: [Double], chosen: [Int]) -> Int {
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
    private func blockedValue(row: Int, index: Int) -> Float {
        rows[(row / Self.blockRows) * Self.blockRows * dimension + index * Self.blockRows + row % Self.blockRows]
    }

    /// D² from every sample row to each of `candidates` into `output` (see ``blockIndex(row:slot:slots:)``),
    /// and per-tile sums of `min(closest, D²)` into `partials` when `closest` is given.
    private func squaredDistances(
        to candidates: [Int], norms: [Float], closest: [Float]?, output: inout [Float], partials: inout [Double]
    ) {
        let count = candidates.count
        var candidateRows = [Float](repeating: 0, count: count * dimension)
        var candidateNorms = [Float](repeating: 0, count: count)
        for (slot, row) in candidates.enumerated() {
            for index in 0..<dimension { candidateRows[slot * dimension + index] = blockedValue(row: row, index: index) }
            candidateNorms[slot] = norms[row]
        }
        let tileCount = (rowCount + tileRows - 1) / tileRows
        let threads = max(1, min(threadCount, tileCount))
        let candidateSquaredNorms = candidateNorms
        nonisolated(unsafe) let outputBase = output.withUnsafeMutableBufferPointer { $0.baseAddress! }
        nonisolated(unsafe) let partialBase = partials.withUnsafeMutableBufferPointer { $0.baseAddress! }
        let this = self
        candidateRows.withUnsafeBufferPointer { candidateBuffer in
            nonisolated(unsafe) let candidateBase = candidateBuffer.baseAddress!
            DispatchQueue.concurrentPerform(iterations: threads) { thread in
                let dots = UnsafeMutablePointer<Float>.allocate(capacity: Self.blockRows * count)
                let sums = UnsafeMutablePointer<Double>.allocate(capacity: count)
                defer {
                    dots.deallocate()
                    sums.deallocate()
                }
                var tile = thread
                while tile < tileCount {
                    sums.initialize(repeating: 0, count: count)
                    let first = tile * this.tileRows
                    let end = min(first + this.tileRows, this.rowCount)
                    for blockStart in stride(from: first, to: end, by: Self.blockRows) {
                        this.blockDotProducts(block: blockStart / Self.blockRows, candidates: candidateBase, count: count, output: dots)
                        // Rows in order, so each partial sum adds them in row order.
                        for row in blockStart..<min(blockStart + Self.blockRows, end) {
                            let lane = row - blockStart
                            let output = outputBase + this.blockIndex(row: row, slot: 0, slots: count)
                            let closestDistance = closest?[row] ?? 0
                            for slot in 0..<count {
                                let cross = dots[slot * Self.blockRows + lane]
                                let distance = max(0, norms[row] + candidateSquaredNorms[slot] - (cross + cross))
                                output[slot] = distance
                                sums[slot] += Double(min(closestDistance, distance))
                            }
                        }
                    }
                    if closest != nil {
                        for slot in 0..<count { partialBase[tile * count + slot] = sums[slot] }
                    }
                    tile += threads
                }
            }
        }
    }

    /// `x · c` for the 16 rows of `block` and each of `count` candidates (`count × d`,
    /// row-major) into `output[slot × 16 + lane]`, four candidates at a time so that
    /// four independent sums hide the adder's latency.
    private func blockDotProducts(block: Int, candidates: UnsafePointer<Float>, count: Int, output: UnsafeMutablePointer<Float>) {
        fk_block_dot_products(rows + block * Self.blockRows * dimension, candidates, count, dimension, output)
    }
}

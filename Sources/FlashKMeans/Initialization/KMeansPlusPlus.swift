import Dispatch
import Foundation

/// Greedy k-means++ seeding (Arthur and Vassilvitskii 2007, with the greedy local
/// trials scikit-learn uses): each new centroid is the best of `2 + ⌊ln k⌋`
/// candidates drawn with probability proportional to D², the squared distance to
/// the nearest centroid chosen so far.
///
/// D² updates run through the same `sgemm` cross-product kernel as Lloyd, a tile of
/// sample rows against the candidates at a time, split over threads by tile. Per-tile
/// partial sums are combined in tile order, so the choice is the same for any thread count.
struct KMeansPlusPlus: @unchecked Sendable {
    /// `m × d` sample rows, contiguous (in).
    let rows: UnsafePointer<Float>
    let rowCount: Int
    let dimension: Int
    let tileRows: Int
    let threadCount: Int

    /// Picks `clusterCount` rows of the sample.
    /// - Returns: Indices into the sample, in the order chosen.
    /// - Complexity: O(k · (2 + ln k) · m · d).
    func chooseRows(clusterCount: Int, generator: inout SeededGenerator) -> [Int] {
        let trials = 2 + Int(log(Double(clusterCount)))
        let tileCount = (rowCount + tileRows - 1) / tileRows
        var norms = [Float](repeating: 0, count: rowCount)
        for row in 0..<rowCount { norms[row] = squaredNorm(rows + row * dimension, dimension: dimension) }
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

    /// D² from every sample row to each of `candidates` into `output` (see ``blockIndex(row:slot:slots:)``),
    /// and per-tile sums of `min(closest, D²)` into `partials` when `closest` is given.
    private func squaredDistances(
        to candidates: [Int], norms: [Float], closest: [Float]?, output: inout [Float], partials: inout [Double]
    ) {
        let count = candidates.count
        var candidateRows = [Float](repeating: 0, count: count * dimension)
        var candidateNorms = [Float](repeating: 0, count: count)
        for (slot, row) in candidates.enumerated() {
            for index in 0..<dimension { candidateRows[slot * dimension + index] = rows[row * dimension + index] }
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
                var tile = thread
                while tile < tileCount {
                    let first = tile * this.tileRows
                    let rowsInTile = min(this.tileRows, this.rowCount - first)
                    let block = outputBase + first * count
                    let points = RowTile(
                        base: this.rows + first * this.dimension, rowStride: this.dimension,
                        rowCount: rowsInTile, dimension: this.dimension, firstRow: first)
                    computeCrossProductsPointMajor(points: points, centroids: candidateBase, count: count, output: block)
                    for slot in 0..<count { partialBase[tile * count + slot] = 0 }
                    for row in 0..<rowsInTile {
                        for slot in 0..<count {
                            let cross = block[row * count + slot]
                            let distance = max(0, norms[first + row] + candidateSquaredNorms[slot] - (cross + cross))
                            block[row * count + slot] = distance
                            if let closest {
                                partialBase[tile * count + slot] += Double(min(closest[first + row], distance))
                            }
                        }
                    }
                    tile += threads
                }
            }
        }
    }
}

extension EmbeddingSource {
    /// Copies the rows at `indices` into `destination`, in the order given
    /// (`indices.count × d`, row-major). Runs of consecutive indices are read as one tile.
    ///
    /// - Throws: ``DatasetError``; a non-finite row is reported as the first
    ///   non-finite row of the whole file, which may come before the gathered one.
    func gatherRows(_ indices: [Int], into destination: UnsafeMutablePointer<Float>) throws {
        let dimension = self.dimension
        // No more scratch rows than are gathered: a file of a few huge rows must not cost 256 of them.
        let longestRun = max(1, min(256, indices.count))
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: longestRun * dimension)
        defer { scratch.deallocate() }
        // As in a pass, a mapped file's pages are given back every 8 MiB of rows spanned:
        // a sample spread over the whole file would otherwise map all of it.
        let releaseRowCount = max(1, (8 << 20) / max(1, dimension * 4))
        var spanned = Int.max..<Int.max
        defer { if !spanned.isEmpty { releaseRows(spanned) } }
        var position = 0
        while position < indices.count {
            var runEnd = position + 1
            while runEnd < indices.count, runEnd - position < longestRun, indices[runEnd] == indices[runEnd - 1] + 1 {
                runEnd += 1
            }
            let rows = indices[position]..<(indices[runEnd - 1] + 1)
            try withRows(rows, scratch: scratch) { tile in
                for row in 0..<tile.rowCount {
                    (destination + (position + row) * dimension).update(from: tile.row(row), count: dimension)
                }
            }
            for slot in position..<runEnd
            where !squaredNorm(destination + slot * dimension, dimension: dimension).isFinite {
                throw DatasetError(path: path, .nonFiniteValue(row: try firstNonFiniteRow(upTo: indices[slot])))
            }
            position = runEnd
            spanned = spanned.isEmpty ? rows : min(spanned.lowerBound, rows.lowerBound)..<max(spanned.upperBound, rows.upperBound)
            if spanned.count >= releaseRowCount {
                releaseRows(spanned)
                spanned = Int.max..<Int.max
            }
        }
    }

    /// The lowest row in `0...last` whose squared norm is not finite (`last` itself is known to be bad).
    func firstNonFiniteRow(upTo last: Int) throws -> Int {
        try firstRow(upTo: last) { !squaredNorm($0, dimension: dimension).isFinite }
    }

    /// The lowest row in `0...last` that `isBad` (`last` itself is known to be): error
    /// messages name the first bad row of the file, not the first one a thread met.
    func firstRow(upTo last: Int, where isBad: (UnsafePointer<Float>) -> Bool) throws -> Int {
        let tileRows = 256
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: tileRows * dimension)
        defer { scratch.deallocate() }
        var start = 0
        while start < last {
            let rows = start..<min(start + tileRows, last)
            let bad: Int? = try withRows(rows, scratch: scratch) { tile in
                (0..<tile.rowCount).first { isBad(tile.row($0)) }.map { rows.lowerBound + $0 }
            }
            if let bad { return bad }
            start = rows.upperBound
        }
        return last
    }
}

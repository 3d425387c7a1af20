import CKMeansKernels
import Testing
@testable import FlashKMeans
import _FlashKMeansTestSupport

/// The integer products run on VNNI, on AVX2 or in plain C, whichever the CPU has; every
/// kernel must give the same exact sums and, from them, the same screen, bit for bit, since
/// the screen's candidates decide which distances a pass computes.
@Suite struct IntegerKernelTests {
    static let kernels = [FK_INT8_SLOW, FK_INT8_AVX2, FK_INT8_VNNI]

    /// Sizes around every kernel's tiling: odd centroid counts (AVX2 takes two at a time,
    /// VNNI six), 1-5 blocks of 16 points (VNNI takes four), and more groups than a block
    /// buffer on the stack holds (256).
    @Test(arguments: [(1, 1, 1), (3, 7, 2), (25, 13, 5), (96, 6, 4), (257, 5, 3)])
    func everyKernelGivesTheExactSums(groups: Int, count: Int, blocks: Int) throws {
        var generator = SeededGenerator(seed: UInt64(groups * 1000 + count))
        // Every byte value, the extremes included, on both sides.
        var packed = (0..<(blocks * groups * 64)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        var centroids = (0..<(count * groups * 4)).map { _ in Int8.random(in: -128...127, using: &generator) }
        packed[0] = 255
        centroids[0] = -128
        if packed.count > 1 { packed[1] = 255; centroids[1] = -128 }
        var expected = [Int32](repeating: 0, count: count * blocks * 16)
        for centroid in 0..<count {
            for point in 0..<(blocks * 16) {
                let block = point / 16, lane = point % 16
                var sum = 0
                for group in 0..<groups {
                    for value in 0..<4 {
                        let byte = packed[block * groups * 64 + group * 64 + lane * 4 + value]
                        sum += Int(byte) * Int(centroids[centroid * groups * 4 + group * 4 + value])
                    }
                }
                expected[centroid * blocks * 16 + point] = Int32(sum)
            }
        }
        var ran = 0
        for kernel in Self.kernels {
            var out = [Int32](repeating: -1, count: count * blocks * 16)
            let available = fk_int8_products_using(kernel, packed, blocks, groups, centroids, count, &out, blocks * 16)
            guard available != 0 else { continue }
            ran += 1
            #expect(out == expected, "kernel \(kernel.rawValue)")
        }
        #expect(ran >= 1)
    }

    /// The fused screens against the plain one on quantized Gaussian rows, both ways a screen
    /// keeps its candidates: sorted from an infinite upper bound, and appended from seeded ones;
    /// and with the residual terms of a prefix screen (the coordinates past the prefix), which
    /// enter VNNI's quick test of a whole register tile.
    @Test(arguments: [(100, 37, 70, false), (384, 64, 40, false), (40, 13, 17, false), (100, 37, 70, true), (64, 50, 33, true)])
    func everyKernelScreensAlike(dimension: Int, clusterCount: Int, pointCount: Int, withResiduals: Bool) throws {
        let points = Fixtures.gaussian(pointCount: pointCount, dimension: dimension, seed: UInt64(dimension))
        let centroidValues = UnsafeMutablePointer<Float>.allocate(capacity: clusterCount * dimension)
        let norms = UnsafeMutablePointer<Float>.allocate(capacity: clusterCount)
        defer {
            centroidValues.deallocate()
            norms.deallocate()
        }
        let drawn = Fixtures.gaussian(pointCount: clusterCount, dimension: dimension, seed: 7)
        for index in drawn.indices { centroidValues[index] = drawn[index] * 0.3 }
        computeCentroidSquaredNorms(centroidValues, count: clusterCount, dimension: dimension, into: norms)
        let quantized = QuantizedCentroids(clusterCount: clusterCount, dimension: dimension)
        quantized.load(CentroidTable(values: centroidValues, squaredNorms: norms, count: clusterCount, dimension: dimension))
        let groups = quantized.groups
        let padded = (pointCount + 15) / 16 * 16
        var packed = [UInt8](repeating: 0, count: padded / 16 * groups * 64)
        var scales = [Float](repeating: 0, count: padded), errors = scales, pointNorms = scales
        fk_quantize_points(points, dimension, pointCount, dimension, groups, &packed, &scales, &errors, &pointNorms)
        // Residual norms of a prefix screen: a share of each row's and centroid's norm (any
        // non-negative values make a screen that every kernel must run alike).
        var generator = SeededGenerator(seed: 77)
        let residuals = (0..<padded).map { row in
            withResiduals && row < pointCount ? pointNorms[row] * Float.random(in: 0...0.4, using: &generator) : 0
        }
        let centroidResiduals = (0..<clusterCount).map { label in
            withResiduals ? 2 * norms[label].squareRoot() * Float.random(in: 0...0.3, using: &generator) : 0
        }

        struct Outcome: Equatable {
            var upper: [UInt32], lower: [UInt32], labels: [Int32], overflow: [UInt32], counts: [Int32]
        }
        func screen(_ kernel: fk_int8_speed_class, appended: Bool, seeds: [Float]) -> Outcome? {
            let capacity = Int(appended ? FK_PREFIX_SCREEN_CANDIDATES : FK_SCREEN_CANDIDATES)
            var upper = seeds
            var lower = [Float](repeating: .infinity, count: padded * capacity)
            var labels = [Int32](repeating: -1, count: padded * capacity)
            var overflow = [Float](repeating: .infinity, count: padded)
            var counts = [Int32](repeating: 0, count: padded)
            var products = [Int32](repeating: 0, count: clusterCount * padded)
            let ran = counts.withUnsafeMutableBufferPointer { countsBuffer in
                centroidResiduals.withUnsafeBufferPointer { centroidResiduals in
                    var terms = quantized.screenTerms(from: 0)
                    if withResiduals { terms.residuals = centroidResiduals.baseAddress! }
                    return fk_screen_tile_using(
                        kernel, packed, padded / 16, groups, quantized.values, clusterCount, 0, terms, scales, errors, pointNorms,
                        residuals, capacity, appended ? countsBuffer.baseAddress : nil, &upper, &lower, &labels, &overflow,
                        &products, padded)
                }
            }
            guard ran != 0 else { return nil }
            return Outcome(
                upper: upper.map(\.bitPattern), lower: lower.map(\.bitPattern), labels: labels,
                overflow: overflow.map(\.bitPattern), counts: counts)
        }
        let plain = try #require(screen(FK_INT8_SLOW, appended: false, seeds: [Float](repeating: .infinity, count: padded)))
        // Seeds a little above the best upper bounds, as a previous centroid's score would be.
        let seeds = plain.upper.map { Float(bitPattern: $0) }.map { $0 + abs($0) * 0.01 + 0.05 }
        let plainAppended = try #require(screen(FK_INT8_SLOW, appended: true, seeds: seeds))
        #expect(plain.labels.contains { $0 >= 0 } && plainAppended.counts.contains { $0 > 0 })
        for kernel in Self.kernels.dropFirst() {
            if let outcome = screen(kernel, appended: false, seeds: [Float](repeating: .infinity, count: padded)) {
                #expect(outcome == plain, "kernel \(kernel.rawValue), sorted")
            }
            if let outcome = screen(kernel, appended: true, seeds: seeds) {
                #expect(outcome == plainAppended, "kernel \(kernel.rawValue), appended")
            }
        }
    }
}

import Testing
@testable import FlashKMeans
import _FlashKMeansTestSupport

/// `--metric cosine`: spherical k-means against a float64 reference spherical Lloyd.
@Suite struct SphericalTests {
    /// Unit rows exactly as the engine makes them (float64 norm, multiply by its reciprocal).
    static func normalized(_ points: [Float], dimension: Int) -> [Float] {
        var result = points
        for row in 0..<(points.count / dimension) {
            var squared = 0.0
            for index in 0..<dimension { squared += Double(points[row * dimension + index]) * Double(points[row * dimension + index]) }
            let scale = 1 / squared.squareRoot()
            for index in 0..<dimension { result[row * dimension + index] = Float(Double(points[row * dimension + index]) * scale) }
        }
        return result
    }

    @Test(arguments: [Algorithm.lloyd, .yinyang, .hamerly, .elkan])
    func matchesReferenceSphericalLloyd(algorithm: Algorithm) throws {
        let dimension = 12
        let raw = Fixtures.separatedBlobs(pointCount: 900, dimension: dimension, blobCount: 20, scale: 3, spread: 1, seed: 61).points
        let initialRaw = Fixtures.rows(Fixtures.distinctRows(25, of: 900, seed: 62), of: raw, dimension: dimension)
        var config = configuration(k: 25, initial: initialRaw, maxIterations: 40, pointTile: 64, centroidTile: 32)
        config.metric = .cosine
        config.algorithm = algorithm
        config.pruningStartFraction = 1
        let (result, iterations) = try fitRecording(ArraySource(raw, dimension: dimension), config)

        let unitInitial = try Metric.cosine.prepared(initialRaw, dimension: dimension)
        let reference = ReferenceLloyd(
            points: Self.normalized(raw, dimension: dimension), dimension: dimension, initialCentroids: unitInitial,
            maxIterations: 40, tolerance: 0, spherical: true)
        #expect(iterations.count == reference.iterations.count)
        for (engine, judge) in zip(iterations, reference.iterations) {
            #expect(engine.labels == judge.labels, "iteration \(engine.stats.iteration)")
            #expect(engine.centroids.map(Double.init) == judge.centroids)
            // Unit centroids after every update.
            for centroid in 0..<25 {
                let norm = (0..<dimension).reduce(0.0) { $0 + Double(engine.centroids[centroid * dimension + $1]) * Double(engine.centroids[centroid * dimension + $1]) }
                #expect(abs(norm.squareRoot() - 1) < 1e-6)
            }
        }
        #expect(result.labels == reference.labels)
    }

    @Test func zeroRowsAreRefusedNamingTheFirst() throws {
        var points = Fixtures.gaussian(pointCount: 3000, dimension: 4, seed: 63)
        for row in [1234, 2000, 2999] { for index in 0..<4 { points[row * 4 + index] = 0 } }
        var config = configuration(k: 40, maxIterations: 3)
        config.metric = .cosine
        config.initialization = .kMeansPlusPlus
        do {
            _ = try KMeans.fit(ArraySource(points, dimension: 4, name: "rows.npy"), configuration: config)
            Issue.record("expected a zero-norm error")
        } catch let error as DatasetError {
            #expect(error.problem == .zeroNorm(row: 1234))
            #expect(error.description == "rows.npy: row 1234 is all zeros and has no direction for cosine similarity")
        }
    }

    /// Cosine assignment reports similarities: the best similarity of each row.
    @Test func assignReportsSimilarity() throws {
        let points = Fixtures.gaussian(pointCount: 500, dimension: 6, seed: 64)
        let centroids = Fixtures.rows(Fixtures.distinctRows(10, of: 500, seed: 65), of: points, dimension: 6)
        let assignment = try KMeans.assign(ArraySource(points, dimension: 6), centroids: centroids, metric: .cosine)
        let top = try KMeans.nearest(ArraySource(points, dimension: 6), centroids: centroids, count: 3, metric: .cosine)
        let similarity = try #require(assignment.cosineSimilarities)
        let topSimilarity = try #require(top.cosineSimilarities)
        for row in 0..<500 {
            let x = Self.normalized(Array(points[(row * 6)..<((row + 1) * 6)]), dimension: 6)
            let similarities = (0..<10).map { centroid -> Double in
                let c = Self.normalized(Array(centroids[(centroid * 6)..<((centroid + 1) * 6)]), dimension: 6)
                return (0..<6).reduce(0.0) { $0 + Double(x[$1]) * Double(c[$1]) }
            }
            let best = similarities.indices.max { similarities[$0] < similarities[$1] }!
            #expect(Int(assignment.labels[row]) == best)
            #expect(abs(Double(similarity[row]) - similarities[best]) < 1e-5)
            // The squared distance between unit vectors is 2 − 2 cos.
            #expect(abs(Double(assignment.squaredDistances[row]) - (2 - 2 * similarities[best])) < 1e-5)
            #expect(top.labels[row * 3] == assignment.labels[row])
            #expect(topSimilarity[row * 3] >= topSimilarity[row * 3 + 1])
            #expect(top.squaredDistances[row * 3] <= top.squaredDistances[row * 3 + 1])
        }
    }
}

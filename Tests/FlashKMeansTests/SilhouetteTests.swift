import FlashKMeans
import Foundation
import Testing
import _FlashKMeansTestSupport

/// The silhouette against scikit-learn's values and against a brute-force float64
/// reference written here from the definition.
@Suite struct SilhouetteTests {
    /// The definition, term by term: pairwise distances by direct differences in float64,
    /// clusters taken as they occur among the rows, scikit-learn's conventions for single
    /// rows and for 0/0.
    static func reference(_ values: [Float], dimension: Int, labels: [Int32], metric: Metric) -> Double? {
        let count = labels.count
        func distance(_ i: Int, _ j: Int) -> Double {
            let x = (0..<dimension).map { Double(values[i * dimension + $0]) }
            let y = (0..<dimension).map { Double(values[j * dimension + $0]) }
            switch metric {
            case .l2:
                return zip(x, y).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
            case .cosine:
                let dot = zip(x, y).map { $0 * $1 }.reduce(0, +)
                let lengths = (x.map { $0 * $0 }.reduce(0, +) * y.map { $0 * $0 }.reduce(0, +)).squareRoot()
                return min(2, max(0, 1 - dot / lengths))
            }
        }
        let clusters = Set(labels)
        guard clusters.count >= 2, clusters.count <= count - 1 else { return nil }
        var total = 0.0
        for i in 0..<count {
            let own = labels[i]
            let mates = (0..<count).filter { $0 != i && labels[$0] == own }
            guard !mates.isEmpty else { continue }
            let a = mates.map { distance(i, $0) }.reduce(0, +) / Double(mates.count)
            let b = clusters.subtracting([own]).map { cluster in
                let members = (0..<count).filter { labels[$0] == cluster }
                return members.map { distance(i, $0) }.reduce(0, +) / Double(members.count)
            }.min()!
            if max(a, b) > 0 { total += (b - a) / max(a, b) }
        }
        return total / Double(count)
    }

    @Test(arguments: SilhouetteReferenceValues.cases.indices)
    func matchesScikitLearn(caseIndex: Int) {
        let reference = SilhouetteReferenceValues.cases[caseIndex]
        for (metric, expected) in [(Metric.l2, reference.euclidean), (.cosine, reference.cosine)] {
            let sample = SilhouetteSample(everyRowOf: reference.values, dimension: reference.dimension, metric: metric)
            let score = sample.score(sampleLabels: reference.labels)
            #expect(score != nil, "\(reference.name) \(metric)")
            #expect(abs((score ?? .nan) - expected) < 1e-12, "\(reference.name) \(metric): \(score ?? .nan) against \(expected)")
        }
    }

    @Test(arguments: [Metric.l2, .cosine])
    func matchesTheDefinitionOnASampleOfAFile(metric: Metric) throws {
        // Rows far from the origin: the expanded formula would lose digits without centring.
        var values = Fixtures.gaussian(pointCount: 700, dimension: 5, seed: 3)
        for index in values.indices where index % 5 == 0 { values[index] += 1000 }
        let source = ArraySource(values, dimension: 5)
        let sample = try SilhouetteSample(source: source, size: 150, seed: 9, metric: metric)
        #expect(sample.rows.count == 150)
        #expect(sample.rows == sample.rows.sorted() && Set(sample.rows).count == 150)
        var generator = SeededGenerator(seed: 4)
        let clusterings: [[Int32]] = [3, 7, 40].map { clusters in
            sample.rows.map { _ in Int32(generator.nextIndex(below: clusters)) }
        }
        let scores = sample.scores(sampleLabels: clusterings)
        let rows = Fixtures.rows(sample.rows, of: values, dimension: 5)
        for (labels, score) in zip(clusterings, scores) {
            let expected = Self.reference(rows, dimension: 5, labels: labels, metric: metric)!
            #expect(abs(score! - expected) < 1e-9, "\(score!) against \(expected)")
            #expect(sample.score(sampleLabels: labels) == score)
        }
    }

    @Test func theSameSeedDrawsTheSameRows() throws {
        let source = ArraySource(Fixtures.gaussian(pointCount: 5000, dimension: 3, seed: 1), dimension: 3)
        let first = try SilhouetteSample(source: source, size: 100, seed: 2, metric: .l2)
        let again = try SilhouetteSample(source: source, size: 100, seed: 2, metric: .l2)
        let other = try SilhouetteSample(source: source, size: 100, seed: 3, metric: .l2)
        #expect(first.rows == again.rows)
        #expect(first.rows != other.rows)
        // No more rows than the source has.
        #expect(try SilhouetteSample(source: source, size: 9000, seed: 2, metric: .l2).rows == Array(0..<5000))
    }

    @Test func threadsDoNotChangeTheScore() {
        let values = Fixtures.gaussian(pointCount: 1000, dimension: 8, seed: 5)
        let sample = SilhouetteSample(everyRowOf: values, dimension: 8, metric: .l2)
        let labels = (0..<1000).map { Int32($0 % 6) }
        let one = sample.scores(sampleLabels: [labels], threadCount: 1)[0]!
        for threads in [2, 3, 16] {
            #expect(sample.scores(sampleLabels: [labels], threadCount: threads)[0]!.bitPattern == one.bitPattern)
        }
    }

    /// scikit-learn refuses fewer than 2 clusters or as many clusters as rows.
    @Test func undefinedForOneClusterOrOneRowPerCluster() {
        let values: [Float] = [0, 0, 1, 0, 0, 1, 5, 5]
        let sample = SilhouetteSample(everyRowOf: values, dimension: 2, metric: .l2)
        #expect(sample.score(sampleLabels: [3, 3, 3, 3]) == nil)
        #expect(sample.score(sampleLabels: [0, 1, 2, 3]) == nil)
        let threeClusters = sample.score(sampleLabels: [0, 0, 1, 2])
        #expect(threeClusters == Self.reference(values, dimension: 2, labels: [0, 0, 1, 2], metric: .l2).map { _ in threeClusters! })
        #expect(abs(threeClusters! - Self.reference(values, dimension: 2, labels: [0, 0, 1, 2], metric: .l2)!) < 1e-12)
        #expect(sample.scores(sampleLabels: [[1, 1, 1, 1], [0, 0, 1, 1]]).map { $0 == nil } == [true, false])
    }
}

import Foundation
import Testing
@testable import FlashKMeans
import _FlashKMeansTestSupport

@Suite struct InvertedListsTests {
    @Test func listsHoldEveryRowOnceUnderItsLabel() {
        var generator = SeededGenerator(seed: 81)
        let labels = (0..<5000).map { _ in Int32(generator.nextIndex(below: 37)) }
        let lists = InvertedLists(labels: labels, clusterCount: 40)
        #expect(lists.offsets.count == 41)
        #expect(lists.offsets.first == 0 && lists.offsets.last == 5000)
        #expect(zip(lists.offsets, lists.offsets.dropFirst()).allSatisfy { $0 <= $1 })
        #expect(lists.ids.sorted() == (0..<5000).map(Int64.init))
        for list in 0..<40 {
            #expect(lists.list(list).allSatisfy { labels[Int($0)] == Int32(list) })
            #expect(Array(lists.list(list)) == lists.list(list).sorted())
        }
        #expect(lists.list(38).isEmpty && lists.list(39).isEmpty)
    }

    /// The faiss file round-trips through our own reader, with the dense ("full") and the
    /// sparse ("sprs") list encodings, for both metrics.
    @Test(arguments: [(12, Metric.l2), (12, .cosine), (400, .l2)])
    func faissFileRoundTrips(clusterCount: Int, metric: Metric) throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let dimension = 6
        let points = Fixtures.gaussian(pointCount: 300, dimension: dimension, seed: 82)
        // With 400 lists, 250 centroids lie far from every row: at most 150 lists hold rows.
        let nearCount = clusterCount == 400 ? 150 : clusterCount
        let centroids = Fixtures.rows(Fixtures.distinctRows(nearCount, of: 300, seed: 83), of: points, dimension: dimension)
            + Fixtures.gaussian(pointCount: clusterCount - nearCount, dimension: dimension, seed: 84).map { $0 + 50 }
        let source = ArraySource(points, dimension: dimension)
        let labels = try KMeans.assign(source, centroids: centroids, metric: metric).labels
        let lists = InvertedLists(labels: labels, clusterCount: clusterCount)
        let stored = metric.rows(of: source)
        let path = directory.file("index.faiss")
        try FaissIndexFile.writeIVFFlat(to: path, dimension: dimension, metric: metric, centroids: centroids, lists: lists) { id, vector in
            try stored.copyRows(id..<(id + 1), into: vector)
        }
        let read = try FaissIndexFile.readIVFFlat(at: path)
        #expect(read.dimension == dimension)
        #expect(read.metric == metric)
        #expect(read.centroids == centroids)
        #expect(read.lists == lists)
        let expectedVectors = try lists.ids.flatMap { id -> [Float] in
            var row = [Float](repeating: 0, count: dimension)
            try row.withUnsafeMutableBufferPointer { try stored.copyRows(Int(id)..<(Int(id) + 1), into: $0.baseAddress!) }
            return row
        }
        #expect(read.vectors == expectedVectors)
        // The sparse encoding is used when at most half the lists hold rows.
        let encoding = try String(decoding: Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self).contains("sprs")
        #expect(encoding == (clusterCount == 400))
    }
}

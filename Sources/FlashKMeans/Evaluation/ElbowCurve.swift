#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The fits of an elbow run, one per k, with the knee marked: what `flashkmeans elbow`
/// writes to `elbow.csv`, prints as a table and draws.
public struct ElbowCurve: Sendable {
    /// One fit.
    public struct Point: Sendable, Equatable {
        /// k.
        public var clusterCount: Int
        /// The fit's inertia, ``KMeansResult/inertia``.
        public var inertia: Double
        /// Lloyd iterations run.
        public var iterations: Int
        /// Wall-clock seconds of the fit, ``KMeansResult/totalSeconds``.
        public var seconds: Double
        /// The silhouette score on the shared sample; `nil` where it is undefined (k = 1).
        public var silhouette: Double?

        /// A fit's figures, each as described on its property.
        public init(clusterCount: Int, inertia: Double, iterations: Int, seconds: Double, silhouette: Double?) {
            self.clusterCount = clusterCount
            self.inertia = inertia
            self.iterations = iterations
            self.seconds = seconds
            self.silhouette = silhouette
        }
    }

    /// The fits, by ascending k.
    public let points: [Point]
    /// The index in ``points`` of the knee found by ``Knee/index(clusterCounts:inertias:)``,
    /// or `nil` when the curve has none.
    public let kneeIndex: Int?

    /// The header of ``csv``.
    public static let csvHeader = "k,inertia,iterations,seconds,silhouette,knee"

    /// - Parameter points: One per k, by strictly ascending k.
    public init(points: [Point]) {
        precondition(zip(points, points.dropFirst()).allSatisfy { $0.clusterCount < $1.clusterCount }, "points by ascending k")
        self.points = points
        kneeIndex = Knee.index(clusterCounts: points.map(\.clusterCount), inertias: points.map(\.inertia))
    }

    /// The k at the knee, if any.
    public var kneeClusterCount: Int? { kneeIndex.map { points[$0].clusterCount } }

    /// The curve as CSV: ``csvHeader``, then one line per k. Numbers are written in full
    /// (the shortest text that reads back as the same double); an undefined silhouette is
    /// an empty field; `knee` is 1 on the knee's line and 0 elsewhere.
    public var csv: String {
        var text = Self.csvHeader + "\n"
        for (index, point) in points.enumerated() {
            text += "\(point.clusterCount),\(point.inertia),\(point.iterations),\(point.seconds),"
                + (point.silhouette.map { "\($0)" } ?? "") + ",\(index == kneeIndex ? 1 : 0)\n"
        }
        return text
    }

    /// The curve as a compact table for a terminal, the knee's line marked `<- knee`.
    public var table: String {
        func right(_ text: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - text.count)) + text }
        var lines = [[right("k", 6), right("inertia", 14), right("iterations", 10), right("seconds", 9), right("silhouette", 10)]
            .joined(separator: "  ")]
        for (index, point) in points.enumerated() {
            let silhouette = point.silhouette.map { fixedDecimals($0, places: 4) } ?? "-"
            var line = cFormatted(
                "%6ld  %14.6e  %10ld  %9.3f  ", point.clusterCount, point.inertia, point.iterations, point.seconds)
                + right(silhouette, 10)
            if index == kneeIndex { line += "  <- knee" }
            lines.append(line)
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

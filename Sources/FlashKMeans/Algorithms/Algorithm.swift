#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// How each iteration finds the nearest centroids. Every choice gives the same labels,
/// centroids, inertia and iteration count; they differ in how much distance work they skip.
public enum Algorithm: String, CaseIterable, Sendable, Codable {
    /// Every point against every centroid, through the fused `sgemm` kernel.
    case lloyd
    /// Hamerly (2010): one lower bound per point on the second-closest centroid; a point
    /// whose bound exceeds its distance to its own centroid keeps its label unexamined.
    case hamerly
    /// Elkan (2003): a lower bound per point and centroid, plus centroid–centroid half
    /// distances. Needs `n × k` floats of bounds.
    case elkan
    /// Yinyang (Ding et al. 2015): centroids grouped once; one lower bound per point and
    /// group prunes whole points (global filter) or whole groups (group filter).
    case yinyang
    /// Picks one of the above from n, k, d and the memory budget, and falls back to
    /// Lloyd if pruning turns out slower on the data.
    case auto
}

/// The algorithm a run uses, and why.
///
/// ``KMeans/Configuration/chooseAlgorithm(pointCount:dimension:)`` returns it before a run,
/// and ``KMeansResult/algorithm`` after, with any fallback to Lloyd added to the reason.
public struct AlgorithmChoice: Sendable, Codable, Equatable {
    /// ``KMeans/Configuration/algorithm`` as configured.
    public var requested: Algorithm
    /// Never `.auto`.
    public var algorithm: Algorithm
    /// One sentence for people: `requested`, or what decided `auto`'s choice (the cluster
    /// count, or which bounds fit the memory budget), and whether it fell back to Lloyd.
    public var reason: String
    /// Bytes of bounds the chosen algorithm keeps over the training rows (at the start:
    /// the figure does not drop after a fallback).
    public var boundBytes: Int
}

/// Sizes that decide which pruning algorithm can run.
struct AlgorithmPlanner {
    let pointCount: Int
    let clusterCount: Int
    let dimension: Int
    let memoryBudget: Int

    /// Yinyang's group count: about one group per 16 centroids, and at most d. The paper
    /// suggests k / 10; slightly larger groups keep each group's `sgemm` wide enough to run
    /// near full speed (measured: 16 centroids per call reach about 85% of the 512-wide rate).
    /// The cap keeps the float16 bounds at half the bytes of the float32 rows they bound, so
    /// that memory follows the data, not k: at k = 4096, d = 128 (262,144 token embeddings)
    /// 128 groups take 64 MB where 256 took 128 MB, for a pruned pass 0.02-0.04 s slower
    /// (1-5% of distances computed instead of 0.5-3%).
    var groupCount: Int { max(1, min((clusterCount + 15) / 16, dimension)) }

    func boundBytes(_ algorithm: Algorithm) -> Int {
        switch algorithm {
        case .lloyd, .auto: 0
        case .hamerly: pointCount * 4
        case .yinyang: pointCount * groupCount * 2
        case .elkan: (pointCount * clusterCount + 2 * clusterCount * clusterCount) * 4
        }
    }

    /// Resolves `requested`.
    /// - Throws: ``KMeansError`` when an explicitly requested algorithm's bounds exceed the budget.
    func choose(_ requested: Algorithm) throws(KMeansError) -> AlgorithmChoice {
        func choice(_ algorithm: Algorithm, _ reason: String) -> AlgorithmChoice {
            AlgorithmChoice(requested: requested, algorithm: algorithm, reason: reason, boundBytes: boundBytes(algorithm))
        }
        let budgetText = "the memory budget of \(megabytes(memoryBudget))"
        if requested != .auto {
            guard boundBytes(requested) <= memoryBudget else {
                throw .boundsExceedBudget(algorithm: requested, boundBytes: boundBytes(requested), budgetBytes: memoryBudget)
            }
            return choice(requested, "requested")
        }
        if clusterCount < 8 {
            return choice(.lloyd, "k = \(clusterCount) is too small for bounds to save work")
        }
        if dimension * clusterCount <= Self.smallestPrunedProducts {
            return choice(.lloyd, "d × k = \(dimension * clusterCount) products per row are too few for bounds to save work")
        }
        if dimension <= Self.longestHamerlyRows, boundBytes(.hamerly) <= memoryBudget {
            return choice(.hamerly, "one bound per point costs least on rows of \(dimension) values")
        }
        if boundBytes(.yinyang) <= memoryBudget {
            return choice(.yinyang, "\(groupCount) group bounds per point fit \(budgetText)")
        }
        if boundBytes(.hamerly) <= memoryBudget {
            return choice(.hamerly, "Yinyang's \(megabytes(boundBytes(.yinyang))) of bounds exceed \(budgetText)")
        }
        return choice(.lloyd, "even one bound per point exceeds \(budgetText)")
    }

    /// Up to this many products per row (d × k), a dense row costs less than the bookkeeping
    /// of a pruned one. 64,000 blobs, k = 32, 100 iterations, whole run: at d = 8 Lloyd
    /// 0.10 s, Hamerly 0.15 s, Yinyang 0.24 s; at d = 32 0.23, 0.23 and 0.35 s.
    static let smallestPrunedProducts = 1024
    /// Up to this many values per row, Hamerly's one bound per point beats Yinyang's groups:
    /// 64,000 blobs, 60 iterations, whole run, Hamerly against Yinyang: d = 2 0.07 against
    /// 0.15 s (k = 128), 0.16 against 0.23 s (k = 512); d = 8 0.16 against 0.22 s (k = 128),
    /// 0.28 against 0.31 s (k = 512). At d = 32, k = 512 Yinyang wins, 0.47 against 0.76 s.
    static let longestHamerlyRows = 16

    /// A quarter of physical memory.
    static var defaultMemoryBudget: Int { Int(ProcessInfo.processInfo.physicalMemory / 4) }
}

func megabytes(_ bytes: Int) -> String {
    fixedDecimals(Double(bytes) / 1_048_576, places: 1) + " MB"
}

import ArgumentParser
import FlashKMeans
import Foundation

/// A problem the command itself found, worded for the user.
struct CommandError: Error, CustomStringConvertible {
    var path: String
    var message: String

    var description: String { "\(path): \(message)" }
}

/// The files a command reads, so that an error can name the one at fault.
struct ErrorContext {
    /// The embedding file.
    var input: String?
    /// The centroid file given with `--init` or `--centroids`.
    var centroids: String?
    /// The files of an input read as a set of shards, once it is open, so that a bad row,
    /// which the library numbers through the whole set, can also be found in its file.
    var shards: [EmbeddingDescription.Shard]?
}

/// Library errors in the command line's words: the library reports what was wrong in its
/// own terms (setting names, no flags); the command names its flags and says what to do.
enum ErrorMessages {
    /// One line, without the `error: ` prefix.
    static func line(for error: any Error, context: ErrorContext) -> String {
        switch error {
        case let error as ResumableFailure:
            return line(for: error.underlying, context: context) + "; " + error.note
        case let error as KMeansError:
            return line(for: error, context: context)
        case let error as DatasetError:
            return "\(error.path): \(detail(for: error))" + shardLocation(of: error, context: context)
        case let error as OutputError:
            if case .existingResults = error.problem { return "\(error); pass --force to replace them" }
            return error.description
        case let error as CocoaError:
            return error.localizedDescription
        default:
            return "\(error)"
        }
    }

    private static func line(for error: KMeansError, context: ErrorContext) -> String {
        let input = context.input.map { "\($0): " } ?? ""
        // Centroid problems concern the file they came from.
        let centroidFile = (context.centroids ?? context.input).map { "\($0): " } ?? ""
        switch error {
        case let .invalidSetting(setting, value, requirement):
            return input + "\(flag(for: setting)) \(requirement), got \(shown(value, of: setting))"
        case let .boundsExceedBudget(algorithm, boundBytes, budgetBytes):
            return input + "\(algorithm.rawValue) needs \(megabytes(boundBytes)) of bounds, more than the memory budget of "
                + "\(megabytes(budgetBytes)); raise --memory-budget or choose another --algorithm"
        case let .zeroCentroid(index):
            return centroidFile + "centroid \(index) is all zeros and has no direction for --metric cosine"
        case .centroidShape:
            return centroidFile + error.description
        case .tooManyClusters, .checkpointMismatch:
            return input + error.description
        case .tooManyRows:
            return input + error.description + " with --max-points-per-centroid"
        }
    }

    /// For a bad row of a set of shards, which shard holds it and as which of its rows.
    private static func shardLocation(of error: DatasetError, context: ErrorContext) -> String {
        guard error.path == context.input, let shards = context.shards else { return "" }
        let row: Int
        switch error.problem {
        case let .nonFiniteValue(bad), let .zeroNorm(bad): row = bad
        default: return ""
        }
        guard let shard = shards.first(where: { $0.firstRow <= row && row < $0.firstRow + $0.rowCount }) else { return "" }
        return "; it is row \(row - shard.firstRow) of \(shard.path)"
    }

    /// A dataset problem, with the flag that fixes it where there is one.
    private static func detail(for error: DatasetError) -> String {
        let text = error.problemDescription
        switch error.problem {
        case .unknownFormat:
            return text + "; pass --format (\(EmbeddingFormat.allCases.map(\.rawValue).joined(separator: ", ")))"
        case .missingDimension:
            return "headerless raw float32 needs --dim"
        case let .invalidDimension(dimension):
            return "--dim must be positive, got \(dimension)"
        case let .rowLongerThanFile(dimension, fileBytes):
            return "--dim \(dimension) is longer than the whole file (\(fileBytes) bytes, \(fileBytes / 4) float32 values)"
        case let .centroidCount(found, expected):
            return "holds \(found) centroids, but -k is \(expected)"
        case let .zeroNorm(row):
            return "row \(row) is all zeros and has no direction for --metric cosine"
        case let .missingDataset(name):
            return "no dataset '\(name)' (choose one with --dataset)"
        case let .parquetColumn(_, candidates) where !candidates.isEmpty:
            return text.replacingOccurrences(of: "; name the one to read", with: "") + "; choose one with --column"
        case let .headerLine(line, column, found):
            return "line \(line), column \(column): '\(found)' is not a number; pass --header if the first line names the columns"
        case let .noValueColumns(line, fieldCount, skipped):
            return "line \(line) has \(fieldCount) field\(fieldCount == 1 ? "" : "s"), all skipped by --skip-columns \(skipped)"
        default:
            return text
        }
    }

    /// The flag that sets a library setting.
    static func flag(for setting: KMeansError.Setting) -> String {
        switch setting {
        case .clusterCount: "-k"
        case .maxIterations: "--max-iter"
        case .tolerance: "--tol"
        case .threadCount: "--threads"
        case .pointTile: "--tile-points"
        case .centroidTile: "--tile-centroids"
        case .maxPointsPerCentroid: "--max-points-per-centroid"
        case .memoryBudget: "--memory-budget"
        case .pruningStartFraction: "the pruning start fraction"
        case .initializationSampleSize: "--init-sample"
        case .nearestCount: "--top"
        }
    }

    /// A value as the user typed it: the memory budget in MB.
    private static func shown(_ value: KMeansError.Value, of setting: KMeansError.Setting) -> String {
        if setting == .memoryBudget, case let .integer(bytes) = value { return "\(bytes >> 20) MB" }
        return value.description
    }

    private static func megabytes(_ bytes: Int) -> String {
        String(format: "%.1f MB", Double(bytes) / 1_048_576)
    }
}

/// Reports an error as one line on standard error and returns the exit code to throw:
/// every subcommand treats bad input this way. File names and anything else quoted in
/// the line have their control characters escaped, so the line stays one line.
func fail(_ error: any Error, context: ErrorContext = ErrorContext()) -> ExitCode {
    if let exit = error as? ExitCode { return exit }
    printError("error: " + DatasetError.oneLine(ErrorMessages.line(for: error, context: context)))
    return ExitCode.failure
}

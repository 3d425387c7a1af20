import ArgumentParser

/// `--init`: a method name or a file of centroids.
enum InitializationChoice: ExpressibleByArgument, Equatable {
    case kMeansPlusPlus
    case random
    case file(String)

    init?(argument: String) {
        switch argument.lowercased() {
        case "kmeans++", "k-means++": self = .kMeansPlusPlus
        case "random": self = .random
        default: self = .file(argument)
        }
    }

    var defaultValueDescription: String {
        switch self {
        case .kMeansPlusPlus: "kmeans++"
        case .random: "random"
        case let .file(path): path
        }
    }
}

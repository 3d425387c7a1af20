import ArgumentParser
import FlashKMeans
import Foundation

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Describe an embedding file: format, shape, type, layout and norms.",
        discussion: "Norms come from up to --sample evenly spaced rows, so inspecting a huge file stays quick."
    )

    @OptionGroup var input: InputOptions

    @Option(help: "Rows to read for the norm statistics.")
    var sample: Int = 10_000

    @Flag(help: "Print JSON instead of text.")
    var json = false

    func validate() throws {
        guard sample >= 1 else { throw ValidationError("--sample must be at least 1") }
    }

    func run() throws {
        var context = ErrorContext(input: input.input)
        do {
            let source = try input.open()
            context.shards = source.description.shards
            let statistics = try NormStatistics(source: source, sampleRows: sample)
            let summary = Summary(file: source.description, norms: statistics)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(summary), as: UTF8.self))
            } else {
                let file = source.description
                print("file       \(file.path)")
                if let shards = file.shards, let first = shards.first, let last = shards.last {
                    print("shards     \(shards.count)" + (shards.count == 1 ? "  (\(first.path))" : "  (first \(first.path), last \(last.path))"))
                }
                print("""
                    format     \(file.format.rawValue)
                    rows       \(file.rowCount)
                    dimension  \(file.dimension)
                    dtype      \(file.dataType)
                    layout     \(file.layout.rawValue)
                    bytes      \(file.byteCount)
                    norm       min \(format(statistics.minimum))  mean \(format(statistics.mean))  max \(format(statistics.maximum))  (\(statistics.sampledRows) rows sampled)
                    """)
            }
        } catch {
            throw fail(error, context: context)
        }
    }

    private func format(_ value: Double) -> String { String(format: "%.6g", value) }

    struct Summary: Encodable {
        var file: EmbeddingDescription
        var norms: NormStatistics
    }
}

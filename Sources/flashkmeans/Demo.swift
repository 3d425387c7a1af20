import ArgumentParser
import FlashKMeans
import Foundation

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a clustered float32 demo set (Gaussian blobs) to try FlashKMeans on.",
        discussion: "Rows are generated and written in blocks, so any size fits in little memory. The format follows the extension: .npy, .fbin, .fvecs or raw .f32."
    )

    @Option(name: .shortAndLong, help: "File to write.")
    var output: String

    @Flag(help: "Replace the file if it exists.")
    var force = false

    @Option(help: "Number of rows.")
    var points: Int = 200_000

    @Option(help: "Dimension of each row.")
    var dim: Int = 128

    @Option(help: "Number of blobs the rows are drawn around.")
    var blobs: Int = 100

    @Option(help: "Standard deviation of each blob, relative to the spread of the blob centers.")
    var spread: Float = 1.0

    @Option(help: "Random seed.")
    var seed: UInt64 = 0

    func validate() throws {
        guard points >= 1, dim >= 1, blobs >= 1 else { throw ValidationError("--points, --dim and --blobs must be at least 1") }
        guard spread >= 0, spread.isFinite else { throw ValidationError("--spread must be a non-negative number") }
        let (values, overflow) = points.multipliedReportingOverflow(by: dim)
        guard !overflow, values <= Int.max / 8 else { throw ValidationError("--points × --dim is too large to write, got \(points) × \(dim)") }
    }

    func run() throws {
        do {
            let name = output.split(separator: "/").last.map(String.init) ?? output
            let ext = name.contains(".") ? String(name.split(separator: ".").last!) : ""
            guard let format = EmbeddingFormat(pathExtension: ext), [.npy, .fbin, .fvecs, .raw].contains(format) else {
                throw CommandError(path: output, message: "use a .npy, .fbin, .fvecs or .f32 name for the demo set")
            }
            // The writer opens the temporary before a signal's cleanup can remove it: opening it
            // later could create it again after the cleanup.
            let (staged, writer) = try Interruption.registering {
                let staged = try StagedFile(destination: output, overwrite: force)
                staged.willReplace = OutputOptions.pauseBeforeReplacing
                let writer = try MatrixWriter(path: staged.temporaryPath, format: format, rows: points, columns: dim)
                Interruption.protect(staged)
                return (staged, writer)
            }
            do {
                let generator = BlobGenerator(dimension: dim, blobCount: blobs, spread: spread, seed: seed)
                var block: [Float] = []
                var written = 0
                while written < points {
                    let count = min(8192, points - written)
                    generator.fill(&block, rows: written..<(written + count))
                    try writer.append(block)
                    written += count
                }
                try writer.close()
                try staged.commit()
            } catch var error as OutputError {
                staged.abandon()
                // The temporary's name means nothing to the user: name the file.
                if error.path == staged.temporaryPath { error.path = output }
                throw error
            } catch {
                staged.abandon()
                throw error
            }
            print("wrote \(points) × \(dim) float32 rows around \(blobs) blobs to \(output)")
        } catch let error as OutputError where error.problem == .fileExists {
            throw fail(CommandError(path: output, message: "already exists; pass --force to replace it"))
        } catch {
            throw fail(error, context: ErrorContext(input: output))
        }
    }
}

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

    /// Rows generated and written at a time.
    static let blockRows = 8192

    func validate() throws {
        guard points >= 1, dim >= 1, blobs >= 1 else { throw ValidationError("--points, --dim and --blobs must be at least 1") }
        guard spread >= 0, spread.isFinite else { throw ValidationError("--spread must be a non-negative number") }
        let (values, overflow) = points.multipliedReportingOverflow(by: dim)
        guard !overflow, values <= Int.max / 8 else { throw ValidationError("--points × --dim is too large to write, got \(points) × \(dim)") }
        // The headers of .fbin and .fvecs store the counts in 32 bits.
        switch EmbeddingFormat(pathExtension: Self.extensionOf(output)) {
        case .fbin?:
            guard points <= UInt32.max else { throw ValidationError("a .fbin holds at most \(UInt32.max) rows, got --points \(points)") }
            guard dim <= UInt32.max else { throw ValidationError("a .fbin holds rows of at most \(UInt32.max) values, got --dim \(dim)") }
        case .fvecs?:
            guard dim <= Int32.max else { throw ValidationError("a .fvecs holds rows of at most \(Int32.max) values, got --dim \(dim)") }
        default:
            break
        }
        // Held at once: the blob centers and one block of rows, float32.
        let physical = Int(clamping: ProcessInfo.processInfo.physicalMemory)
        let (heldRows, rowsOverflow) = blobs.addingReportingOverflow(min(points, Self.blockRows))
        let (heldValues, valuesOverflow) = heldRows.multipliedReportingOverflow(by: dim)
        let (heldBytes, bytesOverflow) = heldValues.multipliedReportingOverflow(by: 4)
        guard !rowsOverflow, !valuesOverflow, !bytesOverflow, heldBytes <= physical else {
            throw ValidationError(
                "--blobs \(blobs) and --dim \(dim) need more than this machine's memory (\(physical >> 20) MB) "
                    + "for the blob centers and a block of \(min(points, Self.blockRows)) rows")
        }
    }

    /// The extension of `path`'s file name, without its dot; empty when there is none.
    static func extensionOf(_ path: String) -> String {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        return name.contains(".") ? String(name.split(separator: ".").last!) : ""
    }

    func run() throws {
        do {
            guard let format = EmbeddingFormat(pathExtension: Self.extensionOf(output)), [.npy, .fbin, .fvecs, .raw].contains(format) else {
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
                    let count = min(Self.blockRows, points - written)
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

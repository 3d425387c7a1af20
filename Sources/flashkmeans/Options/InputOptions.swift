import ArgumentParser
import FlashKMeans

/// How to read the input file: every subcommand that reads embeddings.
struct InputOptions: ParsableArguments {
    @Argument(help: """
        Embedding file: .npy, .fvecs, .bvecs, .fbin (also .u8bin, .i8bin, .f16bin), raw \
        float32 (.f32/.raw/.bin), HDF5 (.hdf5/.h5), Parquet (.parquet) or numbers in .csv/.tsv. \
        Or shard files read as one matrix, in order: a quoted pattern such as \
        'emb/part-*.npy', a directory, or a .txt/.list file of paths, one a line.
        """)
    var input: String

    @Option(help: "Input format, overriding the file extension.")
    var format: EmbeddingFormat?

    @Option(help: "Row length for headerless raw float32 files.")
    var dim: Int?

    @Option(help: "Dataset to read from an HDF5 file (also for --init and --centroids files).")
    var dataset: String = "train"

    @Option(help: "Column of float lists to read from a Parquet file (default: the only one).")
    var column: String?

    @Flag(help: "The first line of a CSV/TSV input names the columns: skip it.")
    var header = false

    @Option(help: ArgumentHelp("Leading columns of a CSV/TSV input to skip, such as an id column.", valueName: "n"))
    var skipColumns: Int = 0

    func validate() throws {
        guard skipColumns >= 0 else { throw ValidationError("--skip-columns must not be negative, got \(skipColumns)") }
    }

    var openOptions: EmbeddingOpenOptions {
        EmbeddingOpenOptions(
            format: format, dimension: dim, dataset: dataset, column: column, hasHeaderLine: header, skippedColumns: skipColumns)
    }

    func open() throws -> any EmbeddingSource {
        try openEmbeddings(at: input, options: openOptions)
    }

    /// Reads a small file of centroids (`--init`, `--centroids`) against the input's dimension.
    func loadCentroids(at path: String, dimension: Int, count: Int?) throws -> (centroids: [Float], count: Int) {
        try loadInitialCentroids(at: path, options: EmbeddingOpenOptions(dataset: dataset), dimension: dimension, clusterCount: count)
    }
}

extension EmbeddingFormat: ExpressibleByArgument {}

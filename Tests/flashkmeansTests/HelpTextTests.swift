import Foundation
import Testing

/// The full help of every command, compared as argument-parser's own example tests do:
/// a change to an option, its help or its default shows up here and must be meant.
/// Regenerate after a deliberate change with `flashkmeans help COMMAND` (80 columns).
@Suite struct HelpTextTests {
    @Test(arguments: HelpTextTests.expected.keys.sorted())
    func helpText(command: String) throws {
        let run = try CommandRun(["help"] + (command.isEmpty ? [] : [command]), environment: ["COLUMNS": "80"])
        #expect(run.status == 0)
        // A multi-line literal leaves out the final line break that the command prints.
        #expect(run.standardOutput == HelpTextTests.expected[command].map { $0 + "\n" }, "help \(command)")
    }

    static let expected: [String: String] = [
        "": #"""
OVERVIEW: Exact k-means for large float32 embedding files, streamed from disk.

USAGE: flashkmeans <subcommand>

OPTIONS:
  --version               Show the version.
  -h, --help              Show help information.

SUBCOMMANDS:
  cluster                 Cluster an embedding file with exact k-means (Lloyd
                          iterations).
  assign                  Assign every row to its nearest centroids.
  ivf                     Train an IVF coarse quantizer and write the inverted
                          lists and a faiss IndexIVFFlat.
  elbow                   Fit several values of k and mark the knee of inertia
                          against k.
  inspect                 Describe an embedding file: format, shape, type,
                          layout and norms.
  sweep                   Measure time and memory against tile sizes.
  demo                    Write a clustered float32 demo set (Gaussian blobs)
                          to try FlashKMeans on.

  See 'flashkmeans help <subcommand>' for detailed help.
"""#,
        "cluster": #"""
OVERVIEW: Cluster an embedding file with exact k-means (Lloyd iterations).

Writes centroids.npy (k x d float32), labels.npy (n int32) and report.json to
the output directory, all at once when the run succeeds and nothing otherwise.

USAGE: flashkmeans cluster [<options>] <input> --output <output>

ARGUMENTS:
  <input>                 Embedding file: .npy, .fvecs, .bvecs, .fbin (also
                          .u8bin, .i8bin, .f16bin), raw float32
                          (.f32/.raw/.bin), HDF5 (.hdf5/.h5), Parquet
                          (.parquet) or numbers in .csv/.tsv. Or shard files
                          read as one matrix, in order: a quoted pattern such
                          as 'emb/part-*.npy', a directory, or a .txt/.list
                          file of paths, one a line.

OPTIONS:
  --format <format>       Input format, overriding the file extension. (values:
                          npy, fvecs, bvecs, fbin, u8bin, i8bin, f16bin, raw,
                          hdf5, parquet, csv, tsv)
  --dim <dim>             Row length for headerless raw float32 files.
  --dataset <dataset>     Dataset to read from an HDF5 file (also for --init
                          and --centroids files). (default: train)
  --column <column>       Column of float lists to read from a Parquet file
                          (default: the only one).
  --header                The first line of a CSV/TSV input names the columns:
                          skip it.
  --skip-columns <n>      Leading columns of a CSV/TSV input to skip, such as
                          an id column. (default: 0)
  -k <k>                  Number of clusters. With --init FILE it defaults to
                          the file's row count.
  --init <init>           kmeans++, random, or a file of k x d initial
                          centroids in any supported format. (default: kmeans++)
  --init-sample <init-sample>
                          Rows k-means++ runs on (default: n/24, at least 16
                          per cluster; about two Lloyd iterations of work).
  --max-iter <max-iter>   Most Lloyd iterations (default: 100 for cluster, 25
                          for ivf).
        ivf stops earlier by default, as faiss does when it trains IVF
        quantizers: list quality settles within a few dozen iterations.
  --tol <tol>             Stop when the inertia falls by less than this
                          fraction in one iteration (0: run until labels stop
                          changing). (default: 0.0001)
  --algorithm <algorithm> lloyd, hamerly, elkan, yinyang or auto. All give
                          identical results; they differ in the distance work
                          they skip. (values: lloyd, hamerly, elkan, yinyang,
                          auto; default: auto)
  --memory-budget <memory-budget>
                          Most memory for pruning bounds, in MB (default: a
                          quarter of physical memory).
        auto picks an algorithm whose bounds fit; an explicit algorithm that
        does not fit is refused.
  --max-points-per-centroid <max-points-per-centroid>
                          Train on a seeded sample of k x this many rows (as
                          faiss does), then label every row.
        Off by default: training then uses every row and stays exact Lloyd.
  --resume                Continue an interrupted run of the same command from
                          its checkpoint.
        The result is the same, bit for bit, as if the run had not been
        interrupted. --max-iter, --algorithm, --threads and the tile sizes may
        differ.
  --metric <metric>       l2 (squared Euclidean) or cosine (spherical k-means:
                          rows normalized on the fly, unit centroids). (values:
                          l2, cosine; default: l2)
        With cosine, assign's distances.npy holds cosine similarities.
  -o, --output <output>   Directory for the results.
  --force                 Replace results already in the output directory.
  --quiet                 Print nothing on standard error while running.
  --threads <threads>     Worker threads (default: all cores).
  --tile-points <tile-points>
                          Rows per point tile (default 512).
  --tile-centroids <tile-centroids>
                          Centroids per centroid tile (default 512).
  --seed <seed>           Random seed; the same seed and input give the same
                          result for any thread count. (default: 0)
  --version               Show the version.
  -h, --help              Show help information.

"""#,
        "assign": #"""
OVERVIEW: Assign every row to its nearest centroids.

Streams the input through the fused kernel and writes labels.npy (int32) and
distances.npy (float32 squared L2) to the output directory; with --top M, the M
nearest centroids of every row (n x M, nearest first, ties to the lower label),
as IVF multi-probe assignment needs.

USAGE: flashkmeans assign [<options>] <input> --centroids <centroids> --output <output>

ARGUMENTS:
  <input>                 Embedding file: .npy, .fvecs, .bvecs, .fbin (also
                          .u8bin, .i8bin, .f16bin), raw float32
                          (.f32/.raw/.bin), HDF5 (.hdf5/.h5), Parquet
                          (.parquet) or numbers in .csv/.tsv. Or shard files
                          read as one matrix, in order: a quoted pattern such
                          as 'emb/part-*.npy', a directory, or a .txt/.list
                          file of paths, one a line.

OPTIONS:
  --format <format>       Input format, overriding the file extension. (values:
                          npy, fvecs, bvecs, fbin, u8bin, i8bin, f16bin, raw,
                          hdf5, parquet, csv, tsv)
  --dim <dim>             Row length for headerless raw float32 files.
  --dataset <dataset>     Dataset to read from an HDF5 file (also for --init
                          and --centroids files). (default: train)
  --column <column>       Column of float lists to read from a Parquet file
                          (default: the only one).
  --header                The first line of a CSV/TSV input names the columns:
                          skip it.
  --skip-columns <n>      Leading columns of a CSV/TSV input to skip, such as
                          an id column. (default: 0)
  --centroids <centroids> k x d centroids, in any supported format.
  --top <top>             How many nearest centroids to write per row.
                          (default: 1)
  --metric <metric>       l2 (squared Euclidean) or cosine (spherical k-means:
                          rows normalized on the fly, unit centroids). (values:
                          l2, cosine; default: l2)
        With cosine, assign's distances.npy holds cosine similarities.
  -o, --output <output>   Directory for the results.
  --force                 Replace results already in the output directory.
  --quiet                 Print nothing on standard error while running.
  --threads <threads>     Worker threads (default: all cores).
  --tile-points <tile-points>
                          Rows per point tile (default 512).
  --tile-centroids <tile-centroids>
                          Centroids per centroid tile (default 512).
  --version               Show the version.
  -h, --help              Show help information.

"""#,
        "ivf": #"""
OVERVIEW: Train an IVF coarse quantizer and write the inverted lists and a
faiss IndexIVFFlat.

Trains k centroids (or takes --centroids), assigns every row, and writes
centroids.npy, list_offsets.npy (k + 1 int64), ids.npy (row ids grouped by
list, int64) and index.ivfflat.faiss, which faiss.read_index opens and searches
(L2, or inner product with --metric cosine, whose stored vectors are
normalized).

USAGE: flashkmeans ivf [<options>] <input> --output <output>

ARGUMENTS:
  <input>                 Embedding file: .npy, .fvecs, .bvecs, .fbin (also
                          .u8bin, .i8bin, .f16bin), raw float32
                          (.f32/.raw/.bin), HDF5 (.hdf5/.h5), Parquet
                          (.parquet) or numbers in .csv/.tsv. Or shard files
                          read as one matrix, in order: a quoted pattern such
                          as 'emb/part-*.npy', a directory, or a .txt/.list
                          file of paths, one a line.

OPTIONS:
  --format <format>       Input format, overriding the file extension. (values:
                          npy, fvecs, bvecs, fbin, u8bin, i8bin, f16bin, raw,
                          hdf5, parquet, csv, tsv)
  --dim <dim>             Row length for headerless raw float32 files.
  --dataset <dataset>     Dataset to read from an HDF5 file (also for --init
                          and --centroids files). (default: train)
  --column <column>       Column of float lists to read from a Parquet file
                          (default: the only one).
  --header                The first line of a CSV/TSV input names the columns:
                          skip it.
  --skip-columns <n>      Leading columns of a CSV/TSV input to skip, such as
                          an id column. (default: 0)
  --centroids <centroids> Use these k x d centroids instead of training.
  -k <k>                  Number of clusters. With --init FILE it defaults to
                          the file's row count.
  --init <init>           kmeans++, random, or a file of k x d initial
                          centroids in any supported format. (default: kmeans++)
  --init-sample <init-sample>
                          Rows k-means++ runs on (default: n/24, at least 16
                          per cluster; about two Lloyd iterations of work).
  --max-iter <max-iter>   Most Lloyd iterations (default: 100 for cluster, 25
                          for ivf).
        ivf stops earlier by default, as faiss does when it trains IVF
        quantizers: list quality settles within a few dozen iterations.
  --tol <tol>             Stop when the inertia falls by less than this
                          fraction in one iteration (0: run until labels stop
                          changing). (default: 0.0001)
  --algorithm <algorithm> lloyd, hamerly, elkan, yinyang or auto. All give
                          identical results; they differ in the distance work
                          they skip. (values: lloyd, hamerly, elkan, yinyang,
                          auto; default: auto)
  --memory-budget <memory-budget>
                          Most memory for pruning bounds, in MB (default: a
                          quarter of physical memory).
        auto picks an algorithm whose bounds fit; an explicit algorithm that
        does not fit is refused.
  --max-points-per-centroid <max-points-per-centroid>
                          Train on a seeded sample of k x this many rows (as
                          faiss does), then label every row.
        Off by default: training then uses every row and stays exact Lloyd.
  --resume                Continue an interrupted run of the same command from
                          its checkpoint.
        The result is the same, bit for bit, as if the run had not been
        interrupted. --max-iter, --algorithm, --threads and the tile sizes may
        differ.
  --metric <metric>       l2 (squared Euclidean) or cosine (spherical k-means:
                          rows normalized on the fly, unit centroids). (values:
                          l2, cosine; default: l2)
        With cosine, assign's distances.npy holds cosine similarities.
  -o, --output <output>   Directory for the results.
  --force                 Replace results already in the output directory.
  --quiet                 Print nothing on standard error while running.
  --threads <threads>     Worker threads (default: all cores).
  --tile-points <tile-points>
                          Rows per point tile (default 512).
  --tile-centroids <tile-centroids>
                          Centroids per centroid tile (default 512).
  --seed <seed>           Random seed; the same seed and input give the same
                          result for any thread count. (default: 0)
  --version               Show the version.
  -h, --help              Show help information.

"""#,
        "elbow": #"""
OVERVIEW: Fit several values of k and mark the knee of inertia against k.

Fits every k of -k on the same input in one process, each from its own
k-means++ start: the same k and seed give the same centroids and inertia as
cluster. Writes elbow.csv (k, inertia, iterations, seconds, silhouette, knee)
and elbow-centroids.npy (every k's centroids stacked in the order of k: sum of
k rows x d) to the output directory, all at once, and prints the table.

The silhouette score is computed exactly, from every pairwise distance
(Euclidean, or 1 - cos under --metric cosine), on one seeded sample of rows
shared by every k; it is undefined, and left empty, for k = 1.

The knee is the k whose inertia lies farthest below the straight line joining
the first and last points, with k and inertia each scaled to [0, 1] (the
difference curve of Kneedle, Satopaa et al. 2011); a curve with fewer than
three points, or none below that line, has no knee.

USAGE: flashkmeans elbow [<options>] <input> -k <list> --output <output>

ARGUMENTS:
  <input>                 Embedding file: .npy, .fvecs, .bvecs, .fbin (also
                          .u8bin, .i8bin, .f16bin), raw float32
                          (.f32/.raw/.bin), HDF5 (.hdf5/.h5), Parquet
                          (.parquet) or numbers in .csv/.tsv. Or shard files
                          read as one matrix, in order: a quoted pattern such
                          as 'emb/part-*.npy', a directory, or a .txt/.list
                          file of paths, one a line.

OPTIONS:
  --format <format>       Input format, overriding the file extension. (values:
                          npy, fvecs, bvecs, fbin, u8bin, i8bin, f16bin, raw,
                          hdf5, parquet, csv, tsv)
  --dim <dim>             Row length for headerless raw float32 files.
  --dataset <dataset>     Dataset to read from an HDF5 file (also for --init
                          and --centroids files). (default: train)
  --column <column>       Column of float lists to read from a Parquet file
                          (default: the only one).
  --header                The first line of a CSV/TSV input names the columns:
                          skip it.
  --skip-columns <n>      Leading columns of a CSV/TSV input to skip, such as
                          an id column. (default: 0)
  -k <list>               Values of k: a list such as 2,4,8,16, a range 1...32,
                          or a range with a step 2...32:2.
  --plot <file.png>       Also draw inertia and silhouette against k into this
                          PNG file, once the results are in place.
  --silhouette-sample <silhouette-sample>
                          Rows the silhouette score is computed on, sampled
                          with the seed; 0 leaves it out. (default: 10000)
  --save-starts           Also write elbow-starts.npy: each k's k-means++
                          start, stacked as in elbow-centroids.npy.
        For comparisons that start another engine from the same centroids;
        chosen again for the file, so each k's initialization runs twice.
  --init-sample <init-sample>
                          Rows k-means++ runs on (default: n/24, at least 16
                          per cluster; about two Lloyd iterations of work).
  --max-iter <max-iter>   Most Lloyd iterations for each k (default: 100, as
                          for cluster).
  --tol <tol>             Stop when the inertia falls by less than this
                          fraction in one iteration (0: run until labels stop
                          changing). (default: 0.0001)
  --algorithm <algorithm> lloyd, hamerly, elkan, yinyang or auto. All give
                          identical results; they differ in the distance work
                          they skip. (values: lloyd, hamerly, elkan, yinyang,
                          auto; default: auto)
  --memory-budget <memory-budget>
                          Most memory for pruning bounds, in MB (default: a
                          quarter of physical memory).
  --max-points-per-centroid <max-points-per-centroid>
                          Train each k on a seeded sample of k x this many rows
                          (as cluster does), then label every row.
  --metric <metric>       l2 (squared Euclidean) or cosine (spherical k-means:
                          rows normalized on the fly, unit centroids). (values:
                          l2, cosine; default: l2)
        With cosine, assign's distances.npy holds cosine similarities.
  -o, --output <output>   Directory for the results.
  --force                 Replace results already in the output directory.
  --quiet                 Print nothing on standard error while running.
  --threads <threads>     Worker threads (default: all cores).
  --tile-points <tile-points>
                          Rows per point tile (default 512).
  --tile-centroids <tile-centroids>
                          Centroids per centroid tile (default 512).
  --seed <seed>           Random seed; the same seed and input give the same
                          result for any thread count. (default: 0)
  --version               Show the version.
  -h, --help              Show help information.

"""#,
        "sweep": #"""
OVERVIEW: Measure time and memory against tile sizes.

Runs a few Lloyd iterations for every combination of point and centroid tile
sizes, each in a fresh child process so that peak memory figures are clean, all
from the same initial centroids. Writes sweep.csv (time per iteration, peak
RSS, peak RssAnon, kernel scratch per thread) to the output directory and, with
--plot, sweep.png (needs python3 with matplotlib).

USAGE: flashkmeans sweep [<options>] <input> -k <k> --output <output>

ARGUMENTS:
  <input>                 Embedding file: .npy, .fvecs, .bvecs, .fbin (also
                          .u8bin, .i8bin, .f16bin), raw float32
                          (.f32/.raw/.bin), HDF5 (.hdf5/.h5), Parquet
                          (.parquet) or numbers in .csv/.tsv. Or shard files
                          read as one matrix, in order: a quoted pattern such
                          as 'emb/part-*.npy', a directory, or a .txt/.list
                          file of paths, one a line.

OPTIONS:
  --format <format>       Input format, overriding the file extension. (values:
                          npy, fvecs, bvecs, fbin, u8bin, i8bin, f16bin, raw,
                          hdf5, parquet, csv, tsv)
  --dim <dim>             Row length for headerless raw float32 files.
  --dataset <dataset>     Dataset to read from an HDF5 file (also for --init
                          and --centroids files). (default: train)
  --column <column>       Column of float lists to read from a Parquet file
                          (default: the only one).
  --header                The first line of a CSV/TSV input names the columns:
                          skip it.
  --skip-columns <n>      Leading columns of a CSV/TSV input to skip, such as
                          an id column. (default: 0)
  -k <k>                  Number of clusters.
  --tile-points <tile-points>
                          Point tile sizes to try, comma-separated. (default:
                          256,1024,4096,16384)
  --tile-centroids <tile-centroids>
                          Centroid tile sizes to try, comma-separated.
                          (default: 256,1024,4096)
  --iterations <iterations>
                          Lloyd iterations per combination. (default: 3)
  --plot                  Also draw the results into sweep.png.
  -o, --output <output>   Directory for the results.
  --force                 Replace results already in the output directory.
  --quiet                 Print nothing on standard error while running.
  --threads <threads>     Worker threads (default: all cores).
  --seed <seed>           Random seed; the same seed and input give the same
                          result for any thread count. (default: 0)
  --version               Show the version.
  -h, --help              Show help information.

"""#,
        "inspect": #"""
OVERVIEW: Describe an embedding file: format, shape, type, layout and norms.

Norms come from up to --sample evenly spaced rows, so inspecting a huge file
stays quick.

USAGE: flashkmeans inspect <input> [--format <format>] [--dim <dim>] [--dataset <dataset>] [--column <column>] [--header] [--skip-columns <n>] [--sample <sample>] [--json]

ARGUMENTS:
  <input>                 Embedding file: .npy, .fvecs, .bvecs, .fbin (also
                          .u8bin, .i8bin, .f16bin), raw float32
                          (.f32/.raw/.bin), HDF5 (.hdf5/.h5), Parquet
                          (.parquet) or numbers in .csv/.tsv. Or shard files
                          read as one matrix, in order: a quoted pattern such
                          as 'emb/part-*.npy', a directory, or a .txt/.list
                          file of paths, one a line.

OPTIONS:
  --format <format>       Input format, overriding the file extension. (values:
                          npy, fvecs, bvecs, fbin, u8bin, i8bin, f16bin, raw,
                          hdf5, parquet, csv, tsv)
  --dim <dim>             Row length for headerless raw float32 files.
  --dataset <dataset>     Dataset to read from an HDF5 file (also for --init
                          and --centroids files). (default: train)
  --column <column>       Column of float lists to read from a Parquet file
                          (default: the only one).
  --header                The first line of a CSV/TSV input names the columns:
                          skip it.
  --skip-columns <n>      Leading columns of a CSV/TSV input to skip, such as
                          an id column. (default: 0)
  --sample <sample>       Rows to read for the norm statistics. (default: 10000)
  --json                  Print JSON instead of text.
  --version               Show the version.
  -h, --help              Show help information.

"""#,
        "demo": #"""
OVERVIEW: Write a clustered float32 demo set (Gaussian blobs) to try
FlashKMeans on.

Rows are generated and written in blocks, so any size fits in little memory.
The format follows the extension: .npy, .fbin, .fvecs or raw .f32.

USAGE: flashkmeans demo --output <output> [--force] [--points <points>] [--dim <dim>] [--blobs <blobs>] [--spread <spread>] [--seed <seed>]

OPTIONS:
  -o, --output <output>   File to write.
  --force                 Replace the file if it exists.
  --points <points>       Number of rows. (default: 200000)
  --dim <dim>             Dimension of each row. (default: 128)
  --blobs <blobs>         Number of blobs the rows are drawn around. (default:
                          100)
  --spread <spread>       Standard deviation of each blob, relative to the
                          spread of the blob centers. (default: 1.0)
  --seed <seed>           Random seed. (default: 0)
  --version               Show the version.
  -h, --help              Show help information.

"""#,
    ]
}

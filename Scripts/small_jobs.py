#!/usr/bin/env python3
"""Small jobs: the whole-process time of fitting every k of a range, for three engines.

    python3 Scripts/small_jobs.py [--quick] [--binary .build/release/flashkmeans] [--out small-jobs]

Reproduces the grid of a published comparison of k-means engines, where a run is small
enough that an interpreter's start-up and a BLAS library's fixed costs dominate:

- sizes n = 1k, 2k, 4k, ... 256k rows (1,000 × 2^i), doubling;
- d = 2, 8 and 32 features;
- two ranges of k: every k in 1...8, and every k in 1...32, fitted one after another;
- Gaussian blobs (8 centres, standard deviation 1, centres uniform in [-10, 10]^d,
  seeded), written once per (n, d) as float32 .npy before any timing.

What is timed: the wall-clock time of one whole process, from its start to its exit, as
`time` would report it: start-up (loading the binary, or the interpreter and its
imports), reading the .npy file, fitting every k of the range, and writing each k's
inertia and centroids. Each cell is run `--repeats` times (3 by default), engines
interleaved, and the median is reported.

The engines:

- `flashkmeans elbow FILE -k 1...K --silhouette-sample 0`, the release binary
  (silhouettes are left out: the others compute none);
- scikit-learn's `KMeans(n_clusters=k, init=START, n_init=1, algorithm="lloyd",
  tol=0, max_iter=100)` for each k, in a fresh `python3`;
- a plain NumPy Lloyd written below (expanded squared distances, `argmin`, `bincount`
  updates), for each k, in a fresh `python3`; only up to `--numpy-up-to` rows (64k by
  default), as one cell above that takes several minutes.

The same start: before timing, `flashkmeans elbow --save-starts` writes each k's
k-means++ start (elbow-starts.npy, the starts stacked in k order); scikit-learn and the
NumPy Lloyd are given exactly those centroids (`init=`), and flashkmeans's timed runs
choose the same starts from the same seed. Every engine then runs exact Lloyd iterations
until no label changes (flashkmeans `--tol 0`, scikit-learn `tol=0`, which it treats as
"stop when labels are unchanged") or 100 iterations, so the three do the same work up to
ties broken differently in float32 and float64; the CSV keeps each engine's total
iteration count so that this can be checked. Read the ratios with that in mind: the
initialization itself is not timed for the Python engines (they are handed the start),
but is for flashkmeans.

Threads: every engine gets `--threads` (default: all cores) through its own setting and
OMP_NUM_THREADS / OPENBLAS_NUM_THREADS.

Start-up is measured on its own, as rows of the table: `flashkmeans --version`, a
1k × 8, k = 8 `flashkmeans cluster`, and `python3 -c "import numpy"` / `"import
sklearn.cluster"`.

Writes OUT/small_jobs.csv (one line per engine and cell: medians, each repeat, ratios to
flashkmeans, iterations) and OUT/small_jobs.png (log-log time against n, one panel per d
and k range); prints the table. `--quick` runs only n = 1k and 2k, for smoke tests. Run the
full grid on quiet cores: the point is small times, which other load distorts most.
"""
import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

SIZES = [1000 * 2**power for power in range(9)]  # 1k ... 256k
QUICK_SIZES = [1000, 2000]
DIMENSIONS = [2, 8, 32]
K_RANGES = [8, 32]
ENGINES = ["flashkmeans", "sklearn", "numpy"]
MAX_ITERATIONS = 100
SEED = 7


def make_blobs(rows, dimension, seed):
    generator = np.random.default_rng(seed)
    centres = generator.uniform(-10, 10, size=(8, dimension))
    labels = generator.integers(0, len(centres), size=rows)
    return (centres[labels] + generator.standard_normal((rows, dimension))).astype(np.float32)


# MARK: Workers (run in a fresh interpreter, so that its start-up and imports are timed)

def starts_by_k(path, largest_k):
    """The stacked elbow-starts.npy split into one k × d array per k = 1...largest_k."""
    stacked = np.load(path)
    offsets = np.cumsum([0] + list(range(1, largest_k + 1)))
    return {k: stacked[offsets[k - 1]:offsets[k]] for k in range(1, largest_k + 1)}


def numpy_lloyd(points, centroids):
    """Exact Lloyd from `centroids` until no label changes (or MAX_ITERATIONS): an empty
    cluster keeps its centroid. Returns centroids, inertia and iterations."""
    points64 = points.astype(np.float64)
    centroids = centroids.astype(np.float64)
    squared_norms = np.einsum("ij,ij->i", points64, points64)
    labels = None
    iterations = 0
    for iterations in range(1, MAX_ITERATIONS + 1):
        distances = squared_norms[:, None] - 2 * points64 @ centroids.T + np.einsum("ij,ij->i", centroids, centroids)[None, :]
        new_labels = np.argmin(distances, axis=1)
        counts = np.bincount(new_labels, minlength=len(centroids))
        sums = np.zeros_like(centroids)
        np.add.at(sums, new_labels, points64)
        filled = counts > 0
        centroids[filled] = sums[filled] / counts[filled, None]
        if labels is not None and np.array_equal(new_labels, labels):
            labels = new_labels
            break
        labels = new_labels
    inertia = float(np.sum((points64 - centroids[labels]) ** 2))
    return centroids, inertia, iterations


def worker(engine, data_path, starts_path, largest_k, output_directory, threads):
    points = np.load(data_path)
    starts = starts_by_k(starts_path, largest_k)
    lines = ["k,inertia,iterations"]
    all_centroids = []
    if engine == "sklearn":
        from sklearn.cluster import KMeans
        from threadpoolctl import threadpool_limits
        with threadpool_limits(limits=threads):
            for k in range(1, largest_k + 1):
                model = KMeans(n_clusters=k, init=starts[k], n_init=1, algorithm="lloyd", tol=0, max_iter=MAX_ITERATIONS)
                model.fit(points)
                lines.append(f"{k},{model.inertia_!r},{model.n_iter_}")
                all_centroids.append(model.cluster_centers_.astype(np.float32))
    else:
        for k in range(1, largest_k + 1):
            centroids, inertia, iterations = numpy_lloyd(points, starts[k])
            lines.append(f"{k},{inertia!r},{iterations}")
            all_centroids.append(centroids.astype(np.float32))
    os.makedirs(output_directory, exist_ok=True)
    with open(os.path.join(output_directory, "elbow.csv"), "w") as handle:
        handle.write("\n".join(lines) + "\n")
    np.save(os.path.join(output_directory, "centroids.npy"), np.concatenate(all_centroids))


# MARK: The driver

def timed(command, environment):
    started = time.perf_counter()
    completed = subprocess.run(command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - started
    if completed.returncode != 0:
        sys.exit(f"error: {' '.join(command)} failed:\n{completed.stderr}")
    return elapsed


def total_iterations(output_directory):
    with open(os.path.join(output_directory, "elbow.csv")) as handle:
        return sum(int(row["iterations"]) for row in csv.DictReader(handle))


def command_for(engine, binary, data_path, starts_path, largest_k, output_directory, threads):
    if engine == "flashkmeans":
        return [binary, "elbow", data_path, "-k", f"1...{largest_k}", "-o", output_directory, "--force", "--quiet",
                "--silhouette-sample", "0", "--tol", "0", "--max-iter", str(MAX_ITERATIONS), "--seed", str(SEED),
                "--threads", str(threads)]
    return [sys.executable, os.path.abspath(__file__), "--worker", engine, data_path, starts_path, str(largest_k),
            output_directory, "--threads", str(threads)]


def measure_startup(binary, work, environment, repeats):
    """Rows for the start-up of each engine's process, without clustering (or with a tiny job)."""
    tiny = os.path.join(work, "startup-1000x8.npy")
    np.save(tiny, make_blobs(1000, 8, SEED))
    commands = {
        "flashkmeans --version": [binary, "--version"],
        "flashkmeans cluster 1k x 8, k = 8": [binary, "cluster", tiny, "-k", "8", "-o", os.path.join(work, "startup"),
                                              "--force", "--quiet"],
        "python3 -c 'import numpy'": [sys.executable, "-c", "import numpy"],
        "python3 -c 'import sklearn.cluster'": [sys.executable, "-c", "import sklearn.cluster"],
    }
    rows = []
    for name, command in commands.items():
        times = [timed(command, environment) for _ in range(repeats)]
        rows.append({"what": name, "median_seconds": statistics.median(times), "seconds": times})
    return rows


def plot(rows, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(len(K_RANGES), len(DIMENSIONS), figsize=(12, 7), sharex=True, squeeze=False)
    for row_index, largest_k in enumerate(K_RANGES):
        for column_index, dimension in enumerate(DIMENSIONS):
            axis = axes[row_index][column_index]
            for engine in ENGINES:
                cells = sorted((row["n"], row["median_seconds"]) for row in rows
                               if row["engine"] == engine and row["d"] == dimension and row["k_max"] == largest_k)
                if cells:
                    axis.plot([n for n, _ in cells], [seconds for _, seconds in cells], marker="o", label=engine)
            axis.set_xscale("log")
            axis.set_yscale("log")
            sizes = sorted({row["n"] for row in rows})
            axis.set_xticks(sizes, [f"{n // 1000}k" for n in sizes])
            axis.minorticks_off()
            axis.set_title(f"d = {dimension}, every k in 1...{largest_k}")
            axis.grid(True, which="both", alpha=0.3)
            if row_index == len(K_RANGES) - 1:
                axis.set_xlabel("rows n")
            if column_index == 0:
                axis.set_ylabel("whole process, seconds (median)")
    axes[0][0].legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="only n = 1k and 2k (a smoke test of the script)")
    parser.add_argument("--sizes", help="comma-separated row counts instead of the full grid, e.g. 1000,4000,16000")
    parser.add_argument("--binary", default=".build/release/flashkmeans", help="the flashkmeans release binary")
    parser.add_argument("--out", default="small-jobs", help="directory for small_jobs.csv and small_jobs.png")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--no-plot", action="store_true")
    parser.add_argument("--numpy-up-to", type=int, default=64000,
                        help="run the NumPy Lloyd only up to this many rows (default 64000: above it one cell takes minutes)")
    parser.add_argument("--worker", nargs=5, metavar=("ENGINE", "DATA", "STARTS", "K", "OUT"), help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.worker:
        engine, data_path, starts_path, largest_k, output_directory = arguments.worker
        worker(engine, data_path, starts_path, int(largest_k), output_directory, arguments.threads)
        return

    binary = os.path.abspath(arguments.binary)
    if not os.access(binary, os.X_OK):
        sys.exit(f"error: {binary} is not an executable; build it with swift build -c release --product flashkmeans")
    threads = str(arguments.threads)
    environment = dict(os.environ, OMP_NUM_THREADS=threads, OPENBLAS_NUM_THREADS=threads, MKL_NUM_THREADS=threads)
    os.makedirs(arguments.out, exist_ok=True)
    sizes = QUICK_SIZES if arguments.quick else SIZES
    if arguments.sizes:
        sizes = [int(size) for size in arguments.sizes.split(",")]
    rows = []
    with tempfile.TemporaryDirectory(prefix="small-jobs-") as work:
        startup = measure_startup(binary, work, environment, arguments.repeats)
        for dimension in DIMENSIONS:
            for n in sizes:
                data_path = os.path.join(work, f"blobs-{n}x{dimension}.npy")
                np.save(data_path, make_blobs(n, dimension, SEED + n + dimension))
                for largest_k in K_RANGES:
                    # The starts, untimed: flashkmeans's own k-means++ for every k, from the seed.
                    prepared = os.path.join(work, "starts")
                    subprocess.run(command_for("flashkmeans", binary, data_path, None, largest_k, prepared, threads)
                                   + ["--save-starts"], env=environment, check=True, stdout=subprocess.DEVNULL)
                    starts_path = os.path.join(work, f"starts-{n}x{dimension}-{largest_k}.npy")
                    os.replace(os.path.join(prepared, "elbow-starts.npy"), starts_path)
                    engines = [engine for engine in ENGINES if engine != "numpy" or n <= arguments.numpy_up_to]
                    times = {engine: [] for engine in engines}
                    for _ in range(arguments.repeats):
                        for engine in engines:
                            output_directory = os.path.join(work, f"out-{engine}")
                            command = command_for(engine, binary, data_path, starts_path, largest_k, output_directory, threads)
                            times[engine].append(timed(command, environment))
                    reference = statistics.median(times["flashkmeans"])
                    for engine in engines:
                        median = statistics.median(times[engine])
                        rows.append({
                            "engine": engine, "n": n, "d": dimension, "k_max": largest_k, "median_seconds": median,
                            "ratio_to_flashkmeans": median / reference, "seconds": times[engine],
                            "iterations": total_iterations(os.path.join(work, f"out-{engine}")),
                        })
                    print(f"n = {n:>6}  d = {dimension:>2}  k = 1...{largest_k:<2}  " + "  ".join(
                        f"{engine} {statistics.median(times[engine]):.3f} s" for engine in engines), file=sys.stderr)

    csv_path = os.path.join(arguments.out, "small_jobs.csv")
    with open(csv_path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["engine", "n", "d", "k_max", "median_seconds", "ratio_to_flashkmeans", "total_iterations",
                         "seconds_each_repeat", "threads"])
        for row in startup:
            writer.writerow([row["what"], "", "", "", f"{row['median_seconds']:.4f}", "", "",
                             " ".join(f"{value:.4f}" for value in row["seconds"]), threads])
        for row in rows:
            writer.writerow([row["engine"], row["n"], row["d"], row["k_max"], f"{row['median_seconds']:.4f}",
                             f"{row['ratio_to_flashkmeans']:.2f}", row["iterations"],
                             " ".join(f"{value:.4f}" for value in row["seconds"]), threads])

    print(f"start-up (median of {arguments.repeats}, {threads} threads)")
    for row in startup:
        print(f"  {row['what']:<38} {row['median_seconds']:8.4f} s")
    print()
    print(f"whole process, median of {arguments.repeats} (seconds; ratio to flashkmeans; total Lloyd iterations)")
    print(f"{'n':>7} {'d':>3} {'k':>6} | {'flashkmeans':>11} | {'sklearn':>8} {'ratio':>6} | {'numpy':>8} {'ratio':>6} |"
          f" {'iterations f/s/n':>17}")
    by_cell = {}
    for row in rows:
        by_cell.setdefault((row["d"], row["k_max"], row["n"]), {})[row["engine"]] = row
    for (dimension, largest_k, n), cell in sorted(by_cell.items()):
        flash, learn, plain = cell["flashkmeans"], cell["sklearn"], cell.get("numpy")
        numpy_text = (f" {plain['median_seconds']:8.3f} {plain['ratio_to_flashkmeans']:6.1f} |" if plain
                      else f" {'-':>8} {'-':>6} |")
        print(f"{n:>7} {dimension:>3} {'1...' + str(largest_k):>6} | {flash['median_seconds']:11.3f} |"
              f" {learn['median_seconds']:8.3f} {learn['ratio_to_flashkmeans']:6.1f} |" + numpy_text +
              f" {flash['iterations']:>5}/{learn['iterations']}/{plain['iterations'] if plain else '-'}")
    print(f"\nwrote {csv_path}", end="")
    if not arguments.no_plot:
        plot_path = os.path.join(arguments.out, "small_jobs.png")
        plot(rows, plot_path)
        print(f" and {plot_path}", end="")
    print()


if __name__ == "__main__":
    main()

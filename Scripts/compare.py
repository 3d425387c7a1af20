#!/usr/bin/env python3
"""flashkmeans, faiss, scikit-learn and scikit-learn-intelex on the same k-means job, side by side.

Every engine gets the same file, the same initial centroids (k distinct rows chosen
once with a fixed seed and written to .npy), the same number of Lloyd iterations
(no early stop, no subsampling), and the same thread count; each runs in its own
process, several times (in rounds, every engine in turn), and medians are reported, with
the median over rounds of each engine's fit time over flashkmeans's in the same round. The final inertia of every engine
is recomputed here the same way, in float64, from its centroids and labels.
`flashkmeans` is the tool as users run it (`--algorithm auto`, the default), the reference
for every ratio; `flashkmeans-lloyd` is plain Lloyd (`--algorithm lloyd`). Ratios compare
the other engine's fit time with flashkmeans's whole process (loading, fitting, writing).

`faiss-superkmeans` (faiss 1.15's SuperKMeans: ADSampling + PDX pruning, not exact) cannot
start from given centroids: it runs from its own start for the same number of
iterations, and the table shows the final inertia it reaches.

`--converge` runs flashkmeans until no label changes (`--tol 0`, at most --iterations), then
every other engine for the number of iterations flashkmeans took (faiss and oneDAL have no
test for unchanged labels; from the same start, exact engines reach the same labels there).

    pip install -r Scripts/requirements.txt      # engines that are missing are skipped
    python3 Scripts/compare.py data.npy -k 1024 --iterations 20
    python3 Scripts/compare.py --generate 1000000,128,1024 --iterations 20 --repeat 3

Supported inputs: .npy, .fvecs, .fbin, raw float32 (.f32 with --dim), HDF5 (--dataset).
Fairness: OpenBLAS reads OPENBLAS_CORETYPE and the thread settings from the environment
in every engine alike (numpy, scikit-learn and faiss bundle their own OpenBLAS); this
script passes one environment to all of them and prints it. Threads: every engine gets
--threads (default: all cores) through its own control (faiss.omp_set_num_threads,
threadpoolctl, oneDAL's daalinit), and OpenMP and BLAS thread counts are set to the same
number, so nothing runs more threads than there are cores.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

ENGINES = ["flashkmeans", "flashkmeans-lloyd", "faiss", "faiss-superkmeans", "sklearnex", "sklearn-lloyd", "sklearn-elkan"]


def load(path, dim=None, dataset="train"):
    """The rows of any supported file as a C-contiguous float32 array."""
    lower = path.lower()
    if lower.endswith(".npy"):
        return np.ascontiguousarray(np.load(path, mmap_mode="r"), dtype=np.float32)
    if lower.endswith(".fvecs"):
        raw = np.fromfile(path, dtype=np.int32)
        d = raw[0]
        return np.ascontiguousarray(raw.reshape(-1, d + 1)[:, 1:].view(np.float32))
    if lower.endswith(".fbin"):
        n, d = np.fromfile(path, dtype=np.uint32, count=2)
        return np.fromfile(path, dtype=np.float32, offset=8).reshape(n, d)
    if lower.endswith((".hdf5", ".h5")):
        import h5py
        with h5py.File(path, "r") as handle:
            return np.ascontiguousarray(handle[dataset][:], dtype=np.float32)
    if dim is None:
        sys.exit(f"{path}: raw float32 needs --dim")
    return np.fromfile(path, dtype=np.float32).reshape(-1, dim)


def run_python_engine(args):
    """Child process: one engine, one fit; writes centroids, labels and the fit time."""
    data = load(args.input, args.dim, args.dataset)
    init = np.load(args.init)
    k = init.shape[0]
    started = time.perf_counter()
    if args.run_engine == "faiss":
        import faiss
        faiss.omp_set_num_threads(args.threads)
        kmeans = faiss.Kmeans(data.shape[1], k, niter=args.iterations, seed=args.seed, verbose=False,
                              max_points_per_centroid=len(data), min_points_per_centroid=1)
        kmeans.train(data, init_centroids=init)
        _, labels = kmeans.index.search(data, 1)
        centroids, labels = kmeans.centroids, labels.ravel()
    elif args.run_engine == "faiss-superkmeans":
        import faiss
        faiss.omp_set_num_threads(args.threads)
        kmeans = faiss.SuperKmeans(data.shape[1], k, niter=args.iterations, seed=args.seed, verbose=False,
                                   max_points_per_centroid=len(data), min_points_per_centroid=1)
        kmeans.train(data)
        # Its `index` is left empty: label the rows against the centroids it returns.
        index = faiss.IndexFlatL2(data.shape[1])
        index.add(np.ascontiguousarray(kmeans.centroids, dtype=np.float32))
        _, labels = index.search(data, 1)
        centroids, labels = kmeans.centroids, labels.ravel()
    elif args.run_engine == "sklearnex":
        import daal4py
        from sklearnex.cluster import KMeans
        daal4py.daalinit(args.threads)
        model = KMeans(n_clusters=k, init=init, n_init=1, max_iter=args.iterations, tol=0, algorithm="lloyd",
                       random_state=args.seed)
        model.fit(data)
        centroids, labels = model.cluster_centers_, model.labels_
    else:
        from sklearn.cluster import KMeans
        from threadpoolctl import threadpool_limits
        with threadpool_limits(limits=args.threads):
            model = KMeans(n_clusters=k, init=init, n_init=1, max_iter=args.iterations, tol=0,
                           algorithm=args.run_engine.split("-")[1], random_state=args.seed)
            model.fit(data)
        centroids, labels = model.cluster_centers_, model.labels_
    seconds = time.perf_counter() - started
    np.save(os.path.join(args.out, "centroids.npy"), np.asarray(centroids, dtype=np.float32))
    np.save(os.path.join(args.out, "labels.npy"), np.asarray(labels, dtype=np.int32))
    with open(os.path.join(args.out, "fit.json"), "w") as handle:
        json.dump({"seconds": seconds, "peak_rss_bytes": peak_resident_bytes()}, handle)


def peak_resident_bytes():
    """VmHWM of this process. (getrusage's ru_maxrss is no use here: Linux carries it
    across fork and exec, so a child would inherit this script's own peak.)"""
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def engine_available(name):
    module = {"faiss": "faiss", "faiss-superkmeans": "faiss", "sklearnex": "sklearnex", "sklearn-lloyd": "sklearn",
              "sklearn-elkan": "sklearn"}.get(name)
    if module is None:
        return True
    try:
        __import__(module)
        return True
    except ImportError:
        return False


def run_engine(name, args, init_path, out):
    """Runs one engine in its own process; returns wall time, fit time and peak RSS (VmHWM)."""
    os.makedirs(out, exist_ok=True)
    if name.startswith("flashkmeans"):
        command = [args.binary, "cluster", args.input, "--init", init_path, "-o", out, "--force", "--quiet",
                   "--max-iter", str(args.iterations), "--tol", "0", "--threads", str(args.threads),
                   "--algorithm", "lloyd" if name.endswith("lloyd") else "auto", "--dataset", args.dataset]
        if args.dim:
            command += ["--dim", str(args.dim)]
    else:
        command = [sys.executable, os.path.abspath(__file__), "--run-engine", name, args.input, "--init", init_path,
                   "--out", out, "--iterations", str(args.iterations), "--threads", str(args.threads),
                   "--seed", str(args.seed), "--dataset", args.dataset] + (["--dim", str(args.dim)] if args.dim else [])
    started = time.perf_counter()
    environment = dict(os.environ, OMP_NUM_THREADS=str(args.threads), OPENBLAS_NUM_THREADS=str(args.threads),
                       MKL_NUM_THREADS=str(args.threads))
    subprocess.run(command, stdout=subprocess.DEVNULL, check=True, env=environment)
    wall = time.perf_counter() - started
    if name.startswith("flashkmeans"):
        with open(os.path.join(out, "report.json")) as handle:
            report = json.load(handle)
        fit, peak = report["timing"]["totalSeconds"], report["memory"]["peakResidentBytes"]
    else:
        with open(os.path.join(out, "fit.json")) as handle:
            report = json.load(handle)
        fit, peak = report["seconds"], report["peak_rss_bytes"]
    return {"wall": wall, "fit": fit, "peak_rss_mb": peak / 2**20,
            "centroids": np.load(os.path.join(out, "centroids.npy")), "labels": np.load(os.path.join(out, "labels.npy"))}


def float64_inertia(data, centroids, labels, block=65536):
    total = 0.0
    centroids = centroids.astype(np.float64)
    for start in range(0, len(data), block):
        rows = data[start:start + block].astype(np.float64)
        total += float(((rows - centroids[labels[start:start + block]]) ** 2).sum())
    return total


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("input", nargs="?")
    parser.add_argument("-k", type=int)
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--converge", action="store_true", help="run flashkmeans to convergence, the others as many iterations")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dim", type=int)
    parser.add_argument("--dataset", default="train")
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--generate", metavar="N,D,K", help="make clustered data with `flashkmeans demo` first")
    parser.add_argument("--binary", default=".build/release/flashkmeans")
    parser.add_argument("--json", default=".build/compare.json", help="where to write the results (default: .build/compare.json, outside the sources)")
    parser.add_argument("--run-engine", help=argparse.SUPPRESS)
    parser.add_argument("--init", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_engine:
        return run_python_engine(args)

    scratch = tempfile.mkdtemp(prefix="flashkmeans-compare-")
    if args.generate:
        n, d, k = (int(value) for value in args.generate.split(","))
        args.input = os.path.join(scratch, f"generated-{n}x{d}.npy")
        subprocess.run([args.binary, "demo", "-o", args.input, "--points", str(n), "--dim", str(d),
                        "--blobs", str(max(1, k // 4)), "--seed", str(args.seed)], check=True, stdout=subprocess.DEVNULL)
        args.k = args.k or k
    if not args.input or not args.k:
        parser.error("give an input file and -k, or --generate N,D,K")

    data = load(args.input, args.dim, args.dataset)
    rng = np.random.default_rng(args.seed)
    init = np.ascontiguousarray(data[np.sort(rng.choice(len(data), args.k, replace=False))])
    init_path = os.path.join(scratch, "init.npy")
    np.save(init_path, init)

    engines = [name for name in args.engines.split(",") if name]
    for name in [name for name in engines if not engine_available(name)]:
        print(f"skipping {name}: not installed (pip install -r Scripts/requirements.txt)", file=sys.stderr)
        engines.remove(name)
    runs = {name: [] for name in engines}
    if args.converge and "flashkmeans" in engines:
        runs["flashkmeans"].append(run_engine("flashkmeans", args, init_path, os.path.join(scratch, "flashkmeans")))
        with open(os.path.join(scratch, "flashkmeans", "report.json")) as handle:
            args.iterations = len(json.load(handle)["iterations"])
        print(f"flashkmeans converged after {args.iterations} iterations; the others run as many", file=sys.stderr)
    # Rounds of every engine in turn, so that a machine that slows down or speeds up during
    # the comparison weighs on every engine alike; each round also gives a paired ratio.
    for _ in range(args.repeat):
        for name in engines:
            if len(runs[name]) < args.repeat:
                runs[name].append(run_engine(name, args, init_path, os.path.join(scratch, name)))
    results = {}
    for name in engines:
        last = runs[name][-1]
        results[name] = {
            "wall_seconds": statistics.median(run["wall"] for run in runs[name]),
            "fit_seconds": statistics.median(run["fit"] for run in runs[name]),
            "peak_rss_mb": statistics.median(run["peak_rss_mb"] for run in runs[name]),
            "inertia": float64_inertia(data, last["centroids"], last["labels"]),
            "labels": last["labels"],
        }
        if "flashkmeans" in runs:
            results[name]["paired_ratio"] = statistics.median(
                run["fit"] / ours["wall"] for run, ours in zip(runs[name], runs["flashkmeans"]))
    reference = results.get("flashkmeans")
    environment = {key: os.environ[key] for key in os.environ if key.startswith(("OPENBLAS", "OMP", "MKL"))}
    print(f"\n{os.path.basename(args.input)}: {data.shape[0]} x {data.shape[1]}, k = {args.k}, {args.iterations} iterations, "
          f"{args.threads} threads, same initial centroids, median of {args.repeat}; "
          f"BLAS environment for every engine: {environment or 'defaults'}\n")
    print("| engine | whole process s | fit s | fit / flashkmeans whole process | same, median of rounds | inertia (float64) | rel. to flashkmeans | labels = flashkmeans | peak RSS MB |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, result in results.items():
        ratio = result["fit_seconds"] / reference["wall_seconds"] if reference else float("nan")
        relative = (result["inertia"] - reference["inertia"]) / reference["inertia"] if reference else float("nan")
        agreement = float((result["labels"] == reference["labels"]).mean()) if reference else float("nan")
        paired = result.get("paired_ratio", float("nan"))
        print(f"| {name} | {result['wall_seconds']:.2f} | {result['fit_seconds']:.2f} | {ratio:.2f}x | {paired:.2f}x | "
              f"{result['inertia']:.6e} | {relative:+.1e} | {agreement:.2%} | {result['peak_rss_mb']:.0f} |")
    os.makedirs(os.path.dirname(args.json) or ".", exist_ok=True)
    with open(args.json, "w") as handle:
        json.dump({"input": args.input, "rows": int(data.shape[0]), "dimension": int(data.shape[1]), "k": args.k,
                   "iterations": args.iterations, "threads": args.threads, "repeat": args.repeat,
                   "environment": environment,
                   "engines": {name: {key: value for key, value in result.items() if key != "labels"}
                               for name, result in results.items()}}, handle, indent=2)
    print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Check that `flashkmeans cluster` reaches scikit-learn's Lloyd result from the same centroids.

Both start from the same initial centroids (written once as .npy and passed to
flashkmeans with --init FILE and to KMeans(init=...)), run plain Lloyd until the
labels stop changing (tol=0), and their final inertia is recomputed here the same
way, in float64. Exits 0 when the two agree to --rtol (default 1e-4), 1 when they
do not, and 0 with a note when scikit-learn is not installed.

    python3 Scripts/compare_sklearn.py demo-data/demo.npy -k 256
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np


def float64_inertia(data, centroids, labels, block=65536):
    total = 0.0
    centroids = centroids.astype(np.float64)
    for start in range(0, len(data), block):
        rows = np.asarray(data[start:start + block], dtype=np.float64)
        total += float(((rows - centroids[labels[start:start + block]]) ** 2).sum())
    return total


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("input", help=".npy file of float32 rows")
    parser.add_argument("-k", type=int, required=True)
    parser.add_argument("--max-iter", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rtol", type=float, default=1e-4)
    parser.add_argument("--binary", default=".build/release/flashkmeans")
    args = parser.parse_args()

    try:
        from sklearn.cluster import KMeans
    except ImportError:
        print("scikit-learn is not installed (pip install scikit-learn); skipping the comparison")
        return 0

    data = np.load(args.input, mmap_mode="r")
    rng = np.random.default_rng(args.seed)
    init = np.ascontiguousarray(data[np.sort(rng.choice(len(data), args.k, replace=False))], dtype=np.float32)

    with tempfile.TemporaryDirectory() as scratch:
        init_path = os.path.join(scratch, "init.npy")
        np.save(init_path, init)
        out = os.path.join(scratch, "out")
        started = time.perf_counter()
        subprocess.run([args.binary, "cluster", args.input, "--init", init_path, "-o", out,
                        "--tol", "0", "--max-iter", str(args.max_iter), "--quiet"], check=True)
        ours_seconds = time.perf_counter() - started
        ours_centroids = np.load(os.path.join(out, "centroids.npy"))
        ours_labels = np.load(os.path.join(out, "labels.npy"))
        with open(os.path.join(out, "report.json")) as handle:
            ours_iterations = len(json.load(handle)["iterations"])

    started = time.perf_counter()
    model = KMeans(n_clusters=args.k, init=init, n_init=1, max_iter=args.max_iter, tol=0, algorithm="lloyd")
    model.fit(np.asarray(data))
    sklearn_seconds = time.perf_counter() - started

    ours = float64_inertia(data, ours_centroids, ours_labels)
    theirs = float64_inertia(data, model.cluster_centers_, model.labels_)
    relative = abs(ours - theirs) / theirs
    agreement = float((ours_labels == model.labels_).mean())
    print(f"flashkmeans : inertia {ours:.9e}  iterations {ours_iterations:3d}  {ours_seconds:7.2f} s (whole process)")
    print(f"scikit-learn: inertia {theirs:.9e}  iterations {model.n_iter_:3d}  {sklearn_seconds:7.2f} s (fit)")
    print(f"relative inertia difference {relative:.2e} (tolerance {args.rtol:.0e}); labels agree on {agreement:.4%} of rows")
    return 0 if relative <= args.rtol else 1


if __name__ == "__main__":
    sys.exit(main())

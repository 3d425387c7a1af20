#!/usr/bin/env python3
"""Wall time of each algorithm against Lloyd, side by side, on generated 384-d data.

Writes two 200,000 x 384 float32 sets with `flashkmeans demo` (clustered with realistic
overlap: 256 blobs whose spread is twice the spread of their centers; and isotropic
Gaussian: one blob), then runs `flashkmeans cluster -k 1024` for 25 iterations from the
same k-means++ start with every algorithm, and prints a Markdown table: whole-process
wall time, time in Lloyd iterations, mean fraction of distances computed, the median
pruned pass (after the one that builds the bounds) relative to a dense Lloyd pass, bound
memory, and the ratio to Lloyd. Files given as arguments (real embeddings) are run instead
of the generated sets. With --repeat N each run is repeated and medians are reported.

    python3 Scripts/bench_pruning.py [--repeat 3] [--points 200000] [--dim 384] [-k 1024]
    python3 Scripts/bench_pruning.py --repeat 3 -k 1024 --iterations 20 embeddings.npy
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ALGORITHMS = ["lloyd", "hamerly", "elkan", "yinyang", "auto"]


def run(binary, data, args, algorithm, out):
    started = time.perf_counter()
    subprocess.run([binary, "cluster", data, "-k", str(args.k), "--max-iter", str(args.iterations), "--tol", "0",
                    "--algorithm", algorithm, "-o", out, "--force", "--quiet"], check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    with open(os.path.join(out, "report.json")) as handle:
        report = json.load(handle)
    iterations = report["iterations"]
    # The first pruning pass only builds the bounds; the passes after it show what pruning costs.
    pruned = [item["seconds"] for item in iterations if item["pruning"]][1:]
    return {
        "pruned_pass": statistics.median(pruned) if pruned else None,
        "dense_pass": statistics.median(item["seconds"] for item in iterations),
        "wall": wall,
        "lloyd_seconds": sum(item["seconds"] for item in iterations),
        "fraction": sum(item["distanceFraction"] for item in iterations) / len(iterations),
        "bound_mb": report["algorithm"]["boundBytes"] / 2**20,
        "chosen": report["algorithm"]["algorithm"],
        "inertia": report["inertia"],
        "iterations": len(iterations),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("inputs", nargs="*", help="embedding files to run instead of the generated sets")
    parser.add_argument("--points", type=int, default=200_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("-k", type=int, default=1024)
    parser.add_argument("--iterations", type=int, default=25)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--binary", default=".build/release/flashkmeans")
    parser.add_argument("--data-dir", default="bench-data")
    args = parser.parse_args()

    os.makedirs(args.data_dir, exist_ok=True)
    sets = {
        "clustered (256 blobs, spread 2)": ("clustered", ["--blobs", "256", "--spread", "2.0", "--seed", "1"]),
        "isotropic Gaussian": ("isotropic", ["--blobs", "1", "--spread", "1.0", "--seed", "2"]),
    }
    failed = False
    if args.inputs:
        sets = {os.path.basename(path): (path, None) for path in args.inputs}
    for title, (name, options) in sets.items():
        data = name if options is None else os.path.join(args.data_dir, f"{name}-{args.points}x{args.dim}.npy")
        if not os.path.exists(data):
            subprocess.run([args.binary, "demo", "-o", data, "--points", str(args.points), "--dim", str(args.dim)] + options,
                           check=True, stdout=subprocess.DEVNULL)
        results = {}
        with tempfile.TemporaryDirectory() as scratch:
            for _ in range(args.repeat):
                # Interleave the algorithms so that machine noise hits them alike.
                for algorithm in ALGORITHMS:
                    results.setdefault(algorithm, []).append(run(binary=args.binary, data=data, args=args,
                                                                 algorithm=algorithm, out=os.path.join(scratch, algorithm)))
        lloyd_wall = statistics.median(r["wall"] for r in results["lloyd"])
        lloyd_iter = statistics.median(r["lloyd_seconds"] for r in results["lloyd"])
        lloyd_pass = statistics.median(r["dense_pass"] for r in results["lloyd"])
        shape = f"{args.points} x {args.dim}, " if options is not None else ""
        print(f"\n### {title}: {shape}k = {args.k}, {args.iterations} iterations, median of {args.repeat}\n")
        print("| algorithm | wall s | iterations s | vs Lloyd (wall) | vs Lloyd (iterations) | distances computed "
              "| pruned pass / dense pass | bounds MB |")
        print("|---|---|---|---|---|---|---|---|")
        for algorithm in ALGORITHMS:
            runs = results[algorithm]
            wall = statistics.median(r["wall"] for r in runs)
            iterations = statistics.median(r["lloyd_seconds"] for r in runs)
            label = algorithm if algorithm != "auto" else f"auto ({runs[0]['chosen']})"
            pruned = [r["pruned_pass"] for r in runs if r["pruned_pass"] is not None]
            relative = f"{statistics.median(pruned) / lloyd_pass:.2f}" if pruned else "-"
            print(f"| {label} | {wall:.2f} | {iterations:.2f} | {wall / lloyd_wall:.2f} | {iterations / lloyd_iter:.2f} "
                  f"| {100 * statistics.mean(r['fraction'] for r in runs):.1f}% | {relative} | {runs[0]['bound_mb']:.1f} |")
            if runs[0]["inertia"] != results["lloyd"][0]["inertia"] or runs[0]["iterations"] != results["lloyd"][0]["iterations"]:
                print(f"error: {algorithm} did not reproduce Lloyd's result", file=sys.stderr)
                failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

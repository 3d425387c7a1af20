#!/usr/bin/env python3
"""Time small flashkmeans processes from start to exit: start-up dominates them.

Runs each case --runs times (after 3 warm-up runs) and prints the median, 10th and 90th
percentile and minimum wall time in milliseconds, and the median CPU time (user + system,
which a busy machine disturbs less than wall time). Cases: `--version`; `cluster` of 1,000 ×
8 Gaussian blobs with k = 8 (written once with `demo`; load, fit, write the results); and
`inspect` of an HDF5 copy of them when --hdf5 is given (h5py needed). With several
binaries the runs are interleaved (A, B, A, B, ...), so that a busy machine slows them alike.

    python3 Scripts/startup_time.py [--runs 50] [--hdf5] BINARY [BINARY ...]
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time


def run_once(arguments):
    """Wall and CPU time of one run, in seconds; posix_spawn keeps the timer's own cost small."""
    with open(os.devnull, "wb") as null:
        started = time.perf_counter_ns()
        pid = os.posix_spawn(arguments[0], arguments, os.environ,
                             file_actions=[(os.POSIX_SPAWN_DUP2, null.fileno(), 1), (os.POSIX_SPAWN_DUP2, null.fileno(), 2)])
        _, status, usage = os.wait4(pid, 0)
        elapsed = time.perf_counter_ns() - started
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"startup_time: {' '.join(arguments)} failed")
    return elapsed / 1e9, usage.ru_utime + usage.ru_stime


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("binaries", nargs="+")
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--hdf5", action="store_true", help="also time `inspect` of an HDF5 file (needs h5py)")
    args = parser.parse_args()
    binaries = [os.path.abspath(binary) for binary in args.binaries]

    with tempfile.TemporaryDirectory() as scratch:
        data = os.path.join(scratch, "blobs.npy")
        subprocess.run([binaries[0], "demo", "-o", data, "--points", "1000", "--dim", "8", "--blobs", "8", "--seed", "1"],
                       check=True, stdout=subprocess.DEVNULL)
        cases = {
            "--version": lambda binary: [binary, "--version"],
            "cluster 1k x 8, k=8": lambda binary: [binary, "cluster", data, "-k", "8", "--seed", "1", "--quiet", "--force",
                                                   "-o", os.path.join(scratch, "out-" + str(binaries.index(binary)))],
        }
        if args.hdf5:
            import h5py
            import numpy as np
            hdf5 = os.path.join(scratch, "blobs.h5")
            with h5py.File(hdf5, "w") as file:
                file.create_dataset("train", data=np.load(data))
            cases["inspect (HDF5)"] = lambda binary: [binary, "inspect", hdf5]

        print(f"{'case':<22} {'binary':<40} {'median':>8} {'p10':>8} {'p90':>8} {'min':>8} {'cpu':>8}   (ms, {args.runs} runs)")
        for name, command in cases.items():
            for binary in binaries:
                for _ in range(3):
                    run_once(command(binary))
            times = {binary: [] for binary in binaries}
            for _ in range(args.runs):
                for binary in binaries:
                    times[binary].append(run_once(command(binary)))
            for binary in binaries:
                samples = sorted(wall for wall, _ in times[binary])
                cpu = statistics.median(cpu for _, cpu in times[binary])
                deciles = statistics.quantiles(samples, n=10)
                shown = binary if len(binary) <= 40 else "..." + binary[-37:]
                print(f"{name:<22} {shown:<40} {1e3 * statistics.median(samples):8.1f} {1e3 * deciles[0]:8.1f} "
                      f"{1e3 * deciles[-1]:8.1f} {1e3 * samples[0]:8.1f} {1e3 * cpu:8.1f}")


if __name__ == "__main__":
    main()

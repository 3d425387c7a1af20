#!/usr/bin/env python3
"""Check that HDF5 files h5py writes cluster exactly like the same rows in .npy.

Writes one set of rows as float16 and float32, each to .npy with numpy and to HDF5 with
h5py in the layouts h5py users pick (contiguous; chunked by rows, raw, gzip and
shuffle+gzip; chunked by h5py's own guess), runs `flashkmeans cluster` on every file with
the same seed, and compares labels.npy and centroids.npy byte for byte with the .npy run of
the same type. Exits 1 on any difference; 0 with a note when numpy or h5py is missing,
unless --require-packages (Scripts/test.sh) makes that a failure.

    python3 Scripts/check_hdf5_h5py.py [--binary .build/release/flashkmeans] [--require-packages]
"""
import argparse
import os
import subprocess
import sys
import tempfile


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=".build/release/flashkmeans")
    parser.add_argument("--require-packages", action="store_true", help="fail, not skip, when numpy or h5py is missing")
    args = parser.parse_args()
    try:
        import h5py
        import numpy as np
    except ImportError as error:
        if args.require_packages:
            print(f"check_hdf5_h5py: FAILED: {error.name} is not installed in {sys.executable}")
            return 1
        print(f"check_hdf5_h5py: skipped ({error.name} is not installed; pip install -r Scripts/requirements-test.txt)")
        return 0

    layouts = {
        "contiguous": {},
        "row-chunks": {"chunks": (256, None)},
        "gzip": {"chunks": (256, None), "compression": "gzip"},
        "shuffle-gzip": {"chunks": (300, None), "compression": "gzip", "shuffle": True},
        "h5py-chunks": {"chunks": True, "compression": "gzip"},
    }
    failures = 0
    with tempfile.TemporaryDirectory() as scratch:
        demo = os.path.join(scratch, "demo.npy")
        subprocess.run([args.binary, "demo", "-o", demo, "--points", "6000", "--dim", "24", "--blobs", "30", "--seed", "9"],
                       check=True, stdout=subprocess.DEVNULL)
        rows = np.load(demo)

        def cluster(path, name):
            out = os.path.join(scratch, "out-" + name)
            subprocess.run([args.binary, "cluster", path, "-k", "30", "--seed", "4", "--max-iter", "15", "-o", out, "--quiet"],
                           check=True, stdout=subprocess.DEVNULL)
            return [open(os.path.join(out, f), "rb").read() for f in ("labels.npy", "centroids.npy")]

        for dtype in ["float16", "float32"]:
            typed = rows.astype(dtype)
            npy = os.path.join(scratch, f"{dtype}.npy")
            np.save(npy, typed)
            reference = cluster(npy, dtype)
            for layout, options in layouts.items():
                path = os.path.join(scratch, f"{dtype}-{layout}.h5")
                with h5py.File(path, "w") as file:
                    chunks = options.get("chunks")
                    if isinstance(chunks, tuple):
                        options = dict(options, chunks=(chunks[0], typed.shape[1]))
                    file.create_dataset("train", data=typed, **options)
                same = cluster(path, f"{dtype}-{layout}") == reference
                print(f"{dtype} {layout}: labels and centroids identical to .npy: {same}")
                failures += 0 if same else 1
    print(f"check_hdf5_h5py (h5py {h5py.__version__}, its HDF5 {h5py.version.hdf5_version}): "
          + ("all checks passed" if failures == 0 else f"{failures} checks failed"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

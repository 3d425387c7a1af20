#!/usr/bin/env python3
"""Check that faiss opens the IndexIVFFlat `flashkmeans ivf` writes, and searches it exactly
like an IndexIVFFlat faiss builds itself from the same centroids.

For L2 and cosine (inner product on normalized rows): builds the index with
`flashkmeans ivf`, loads it with faiss.read_index, builds faiss's own IndexIVFFlat from our
centroids with the same rows added in order, and compares the files byte for byte and
the search results (distances and ids) of 300 queries at nprobe 1 and 8. Exits 0 with a
note when faiss-cpu or numpy is missing, unless --require-packages (Scripts/test.sh, whose
virtual environment has them) makes that a failure.

    python3 Scripts/check_faiss_ivf.py [--binary .build/release/flashkmeans] [--require-packages]
"""
import argparse
import os
import subprocess
import sys
import tempfile


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=".build/release/flashkmeans")
    parser.add_argument("--require-packages", action="store_true", help="fail, not skip, when numpy or faiss is missing")
    args = parser.parse_args()
    try:
        import faiss
        import numpy as np
    except ImportError as error:
        if args.require_packages:
            print(f"check_faiss_ivf: FAILED: {error.name} is not installed in {sys.executable}")
            return 1
        print(f"check_faiss_ivf: skipped ({error.name} is not installed; pip install -r Scripts/requirements-test.txt)")
        return 0

    failures = 0
    with tempfile.TemporaryDirectory() as scratch:
        data = os.path.join(scratch, "rows.npy")
        subprocess.run([args.binary, "demo", "-o", data, "--points", "20000", "--dim", "32", "--blobs", "40", "--seed", "5"],
                       check=True, stdout=subprocess.DEVNULL)
        rows = np.load(data)
        queries = rows[np.random.default_rng(1).choice(len(rows), 300, replace=False)] + 0.05
        for metric in ["l2", "cosine"]:
            out = os.path.join(scratch, metric)
            subprocess.run([args.binary, "ivf", data, "-k", "64", "-o", out, "--metric", metric, "--quiet"],
                           check=True, stdout=subprocess.DEVNULL)
            ours = faiss.read_index(os.path.join(out, "index.ivfflat.faiss"))
            centroids = np.load(os.path.join(out, "centroids.npy"))
            stored, search = rows, queries
            if metric == "cosine":
                stored = rows / np.linalg.norm(rows.astype(np.float64), axis=1, keepdims=True)
                stored = stored.astype(np.float32)
                search = (queries / np.linalg.norm(queries, axis=1, keepdims=True)).astype(np.float32)
                quantizer, faiss_metric = faiss.IndexFlatIP(rows.shape[1]), faiss.METRIC_INNER_PRODUCT
            else:
                quantizer, faiss_metric = faiss.IndexFlatL2(rows.shape[1]), faiss.METRIC_L2
            quantizer.add(centroids)
            theirs = faiss.IndexIVFFlat(quantizer, rows.shape[1], len(centroids), faiss_metric)
            theirs.is_trained = True
            theirs.add(stored)
            reference = os.path.join(scratch, f"faiss-{metric}.index")
            faiss.write_index(theirs, reference)
            same_bytes = open(reference, "rb").read() == open(os.path.join(out, "index.ivfflat.faiss"), "rb").read()
            print(f"{metric}: file byte-identical to faiss's own: {same_bytes}")
            failures += 0 if same_bytes else 1
            for nprobe in [1, 8]:
                ours.nprobe = theirs.nprobe = nprobe
                distances, ids = ours.search(search, 10)
                expected_distances, expected_ids = theirs.search(search, 10)
                same = np.array_equal(ids, expected_ids) and np.array_equal(distances, expected_distances)
                print(f"{metric}: nprobe {nprobe}: search results identical: {same}")
                failures += 0 if same else 1
    print("check_faiss_ivf: " + ("all checks passed" if failures == 0 else f"{failures} checks failed"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
